"""Lineage and licence facts from the organisation's registry (``--registry URL``).

Asks ``GET /api/v1/resolve?model_id=`` (the newest version labelled with that id). Unknown ids are
None; an unreachable or refusing registry is a :class:`ResolverError` naming the URL, so the hop is
"unresolved", never quietly "no facts". Answers are cached for the life of the resolver. The token
comes from the argument or ``AITRAIL_REGISTRY_TOKEN`` (needed when the registry protects reads).
"""

from __future__ import annotations

import os

from . import BaseRef, LicenceEvidence, ModelFacts, ResolverError

# The registry stores aitrail's derivation kinds; the resolver interface names relations its own way.
_RELATIONS = {"fine-tune": "finetune", "quantization": "quantized", "adapter": "adapter", "merge": "merge"}


class RegistryResolver:
    name = "registry"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token or os.environ.get("AITRAIL_REGISTRY_TOKEN") or None
        self.timeout = timeout
        self._cache: dict[tuple[str, str | None], ModelFacts | None] = {}

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        key = (model_id, revision)
        if key not in self._cache:
            self._cache[key] = self._ask(model_id, revision)
        return self._cache[key]

    def _ask(self, model_id: str, revision: str | None) -> ModelFacts | None:
        from aitrail.registry.client import RegistryError, request

        params = {"model_id": model_id}
        if revision:
            params["revision"] = revision
        try:
            data = request(self.url, "GET", "/api/v1/resolve", token=self.token, params=params, timeout=self.timeout)
        except RegistryError as e:
            if e.status == 404:
                return None
            raise ResolverError(str(e)) from None
        try:
            return ModelFacts(
                model_id=model_id,
                resolver=self.name,
                source=str(data.get("source") or f"{self.url}/api/v1/models/{data['version']}"),
                revision=revision or str(data.get("identity") or "") or None,
                licences=tuple(
                    LicenceEvidence(str(x["value"]), f"registry: {x.get('source') or 'licence'}", str(data["source"]))
                    for x in data.get("licenses") or []
                ),
                bases=tuple(
                    BaseRef(
                        str(b["base"]),
                        _RELATIONS.get(str(b.get("relation")), "unknown"),
                        f"registry: {b.get('evidence') or 'lineage'}",
                    )
                    for b in data.get("bases") or []
                ),
                datasets=tuple(str(d) for d in data.get("datasets") or []),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ResolverError(f"{self.url}: unexpected answer to /api/v1/resolve: {type(e).__name__}: {e}") from None
