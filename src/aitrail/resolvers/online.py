"""The Hugging Face Hub API, asked only with ``--online``; answers cached on disk by revision.

``GET {endpoint}/api/models/{id}[/revision/{rev}]`` gives the card's front matter (``cardData``)
and the hub's ``base_model:<relation>:<id>`` tags. A cached answer is used without asking again
(delete the cache folder to refresh); a 404 is cached as "unknown to the hub". A network failure is a
``ResolverError``: the hop stays unresolved and the finding names the failure.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from . import BaseRef, LicenceEvidence, ModelFacts, ResolverError

NAME = "online"
DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_RESPONSE = 8 * 1024 * 1024  # a model's API answer is a few kB; a larger one is not an answer
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?$")
_REV = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RELATIONS = {"finetune": "fine-tune", "adapter": "adapter", "quantized": "quantization", "merge": "merge"}


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aitrail" / "hub-api"


class HubAPIResolver:
    name = NAME

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, cache_dir: Path | None = None, timeout: float = 20) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.cache_dir = cache_dir or default_cache()
        self.timeout = timeout
        self.memo: dict[tuple[str, str | None], dict[str, Any] | None] = {}

    def _cache_path(self, model_id: str, revision: str | None) -> Path:
        return self.cache_dir / model_id.replace("/", "--") / f"{revision or 'main'}.json"

    def _get(self, model_id: str, revision: str | None) -> dict[str, Any] | None:
        key = (model_id, revision)
        if key in self.memo:
            return self.memo[key]
        path = self._cache_path(model_id, revision)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            doc = self._fetch(model_id, revision)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(doc), "utf-8")
                tmp.replace(path)
            except OSError:
                pass  # an unwritable cache only costs a second request
        answer = None if doc.get("_missing") else doc
        self.memo[key] = answer
        return answer

    def _fetch(self, model_id: str, revision: str | None) -> dict[str, Any]:
        url = f"{self.endpoint}/api/models/{urllib.parse.quote(model_id)}"
        if revision:
            url += f"/revision/{urllib.parse.quote(revision, safe='')}"
        req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "aitrail"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - https or a test server
                body = resp.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as e:
            if e.code in (401, 404):  # gated repos answer 401 without a token: unknown to us
                return {"_missing": True, "status": e.code}
            raise ResolverError(f"{url}: HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise ResolverError(f"{url}: {getattr(e, 'reason', e)}") from None
        if len(body) > MAX_RESPONSE:
            raise ResolverError(f"{url}: answer larger than {MAX_RESPONSE} bytes")
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise ResolverError(f"{url}: not JSON ({e})") from None
        if not isinstance(doc, dict):
            raise ResolverError(f"{url}: not a JSON object")
        return doc

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        if not _REPO.match(model_id) or ".." in model_id or (revision and not _REV.match(revision)):
            return None  # not a hub id: nothing to ask
        doc = self._get(model_id, revision)
        if doc is None:
            return None
        return facts_from_api(model_id, doc, f"{self.endpoint}/api/models/{model_id}", revision)


def _strings(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    return []


def facts_from_api(model_id: str, doc: dict[str, Any], where: str, revision: str | None = None) -> ModelFacts:
    """ModelFacts from one /api/models answer (also the format of the hub's dataset dumps' ``infos.json``)."""
    raw = doc.get("cardData")
    card: dict[str, Any] = raw if isinstance(raw, dict) else {}
    tags = _strings(doc.get("tags"))
    name = next(iter(_strings(card.get("license_name"))), None)
    link = next(iter(_strings(card.get("license_link"))), None)
    lics = [LicenceEvidence(v, "hub card license", f"{where} cardData.license", name, link)
            for v in _strings(card.get("license"))]
    if not lics:
        lics = [LicenceEvidence(t.split(":", 1)[1], "hub license tag", f"{where} tags", name, link)
                for t in tags if t.startswith("license:")]
    bases: list[BaseRef] = []
    for t in tags:
        parts = t.split(":", 2)
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in _RELATIONS:
            bases.append(BaseRef(parts[2], _RELATIONS[parts[1]], f"{where} tags {t}"))
    if not bases:
        rel = _RELATIONS.get(str(card.get("base_model_relation") or "").replace("quantization", "quantized"), "unknown")
        bases = [BaseRef(b, rel, f"{where} cardData.base_model") for b in _strings(card.get("base_model"))]
    datasets = tuple(_strings(card.get("datasets")))
    datasets = datasets or tuple(t.split(":", 1)[1] for t in tags if t.startswith("dataset:"))
    sha = doc.get("sha") if isinstance(doc.get("sha"), str) else None
    return ModelFacts(
        model_id=model_id,
        resolver=NAME,
        source=where + (f" @ {sha}" if sha else ""),
        revision=sha or revision,
        licences=tuple(lics),
        bases=tuple(bases),  # a self-reference is kept: the walk reports it as a self-loop
        datasets=datasets,
    )
