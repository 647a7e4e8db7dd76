"""Components that catalogers name but do not hold: base models, datasets, libraries."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ..model import Component, ComponentType, Evidence
from .base import CatalogError, FileRef, _short, read_json  # noqa: F401 - read_json re-exported for the catalogers

# Parsed JSON or YAML takes ~12 bytes of memory per byte of text (YAML more): metadata files are
# read up to this size so that a parse stays near 200 MB whatever the file holds.
MAX_PARSED = 16 << 20


def check_size(f: FileRef, what: str, limit: int = MAX_PARSED) -> None:
    """Refuse a metadata file larger than ``limit`` before reading it (a finding, not a silent skip)."""
    if f.size > limit:
        raise CatalogError(
            f"{f.rel}: {f.size} bytes, more than the {limit} aitrail reads for {what}; not read",
            rule="scan.limit-exceeded",
        )


# A Hugging Face repo id: "name" or "org/name" (letters, digits, - _ .), no path tricks.
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.\-]{0,95}/)?[A-Za-z0-9][\w.\-]{0,95}$")


def text(value: Any, n: int = 200) -> str:
    """A value quoted in a message or copied to the inventory: at most ``n`` characters, one line,
    always encodable (JSON strings may hold lone surrogates such as ``"\\ud800"``, which no UTF-8
    output can write: they are escaped, the rest of the text kept). Built without the value's full
    repr: a list of a million items, or an integer too long to print, costs what is shown."""
    if type(value) is str and len(value) <= n and value.isprintable():  # the usual case, cheaply
        return value
    s = _short(_bounded_repr(value, n), n).replace("\n", " ").replace("\r", " ")
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _bounded_repr(value: Any, n: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<{value.bit_length()}-bit integer>"
    if isinstance(value, (list, tuple, dict)):
        shown: list[str] = []
        size = 0
        for item in value.items() if isinstance(value, dict) else value:
            one = (
                f"{_leaf(item[0])}: {_leaf(item[1])}" if isinstance(value, dict) else _leaf(item)  # type: ignore[index]
            )
            shown.append(one[:n])
            size += len(shown[-1]) + 2
            if size > n:
                break
        more = ", …" if len(shown) < len(value) else ""
        open_, close = ("{", "}") if isinstance(value, dict) else ("[", "]")
        return open_ + ", ".join(shown) + more + close
    return _leaf(value)


def _leaf(value: Any) -> str:
    """One item of a container: nested containers are not opened (no recursion, no blow-up)."""
    if isinstance(value, (list, tuple)):
        return f"[… {len(value)}]"
    if isinstance(value, dict):
        return f"{{… {len(value)}}}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<{value.bit_length()}-bit integer>"
    return repr(value)[:200]


def is_repo_id(s: object) -> bool:
    return isinstance(s, str) and bool(_REPO_ID.match(s)) and ".." not in s and not s.endswith((".json", ".bin"))


def hub_purl(repo_id: str, revision: str | None = None, kind: str = "model") -> str | None:
    """purl for a hub repository (purl type "huggingface"); datasets are not in that type."""
    if kind != "model" or not is_repo_id(repo_id):
        return None
    ns, _, name = repo_id.rpartition("/")
    p = f"pkg:huggingface/{quote(ns)}/{quote(name)}" if ns else f"pkg:huggingface/{quote(name)}"
    return p + (f"@{revision}" if revision else "")


def model_component(ident: str, evidence: Evidence) -> Component:
    """A model known by name only (a base model, a merge input)."""
    return Component(
        id=f"model:{ident}", type=ComponentType.MODEL, name=ident, purl=hub_purl(ident), evidence=[evidence]
    )


def dataset_component(ident: str, evidence: Evidence) -> Component:
    c = Component(id=f"dataset:{ident}", type=ComponentType.DATASET, name=ident, evidence=[evidence])
    if is_repo_id(ident):
        c.properties["url"] = f"https://huggingface.co/datasets/{ident}"
    return c


def library_component(name: str, version_spec: str | None, evidence: Evidence, ecosystem: str = "pypi") -> Component:
    norm = re.sub(r"[-_.]+", "-", name).lower()
    c = Component(id=f"library:{ecosystem}:{norm}", type=ComponentType.LIBRARY, name=norm, evidence=[evidence])
    if version_spec:
        c.properties["version_spec"] = version_spec
        m = re.fullmatch(r"==\s*([\w.\-+!]+)", version_spec.strip())
        if m:
            c.version = m.group(1)
    if ecosystem == "pypi":
        c.purl = f"pkg:pypi/{norm}" + (f"@{c.version}" if c.version else "")
    elif ecosystem == "conda":
        c.purl = f"pkg:conda/{norm}" + (f"@{c.version}" if c.version else "")
    return c


# The sentence the Hugging Face trainers write into every card they generate: transformers'
# TrainingSummary.to_model_card (modelcard.py) and TRL's templates (lm_model_card.md, rm_model_card.md):
# "This model is a fine-tuned version of [{base}](https://huggingface.co/{base})". Cards written before
# transformers put `base_model` into the front matter (2023) state their base only there.
_GENERATED_BASE = re.compile(
    r"\bis a fine-tuned version of\s+\[([^\[\]\n]{1,200})\]\(https://huggingface\.co/([^()\s]{1,200})\)"
)


def generated_base(body: str, first_line: int = 1) -> tuple[str, int, str] | None:
    """The base model named by the trainers' generated card sentence: (repo id, line, the sentence), or None.
    The link is the repo; the bracket text (the same id, as the trainers write it) must agree with it, so
    prose linking some other page is not read as lineage."""
    m = _GENERATED_BASE.search(body)
    if m is None:
        return None
    shown, target = m.group(1).strip(), m.group(2).strip().rstrip("/")
    if not is_repo_id(target) or shown.lower() not in (target.lower(), target.rpartition("/")[2].lower()):
        return None
    return target, first_line + body.count("\n", 0, m.start()), text(m.group(0))
