"""Completeness: which minimum elements a scan found, and where the user could supply the rest.

The element list is data (knowledge/minimum_elements.yaml); the check for each element id is here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from .. import yamlsafe
from ..model import CompletenessItem, Component, ComponentType, Inventory, RelationshipKind

PICKLE_FORMATS = {"pytorch-zip", "pytorch-legacy", "pytorch-tar", "pickle", "joblib", "torchscript"} | {
    f"joblib-{c}" for c in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4", "zstd")  # compressed pickles are pickles
}


@lru_cache(maxsize=1)
def elements() -> dict[str, Any]:
    text = resources.files("aitrail.knowledge").joinpath("minimum_elements.yaml").read_text(encoding="utf-8")
    return yamlsafe.load(text)


def _prop(m: Component, key: str) -> Any:
    return m.properties.get(key)


_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)  # an excerpt may end inside a comment
_SUBHEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t].*$", re.M)
# a label left without its value once the placeholder is gone ("- **Hardware Type:** [More Information Needed]")
_BARE_LABEL = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?[^\n*_:]{1,60}:?(?:\*\*|__)?:?[ \t]*$", re.M)
_MARKUP = re.compile(r"[\s\-*_>#`\[\]():.!|…]+")


EXCERPT = 300  # catalog.model_card keeps this much of a section: a longer value was cut there


@lru_cache(maxsize=1)
def _placeholders() -> tuple[list[re.Pattern[str]], list[str], tuple[str, ...]]:
    spec = elements().get("placeholders", [])
    texts = [p["text"].lower() for p in spec if "text" in p]
    patterns = [re.compile(p.get("pattern") or re.escape(p["text"]), re.I | re.M) for p in spec]
    # text every rule's match holds: a value holding none of it is judged without the regexes (the hub
    # judges every card); a pattern without hints makes every value take the full path
    hints: list[str] = ["<!--", "#"]
    for p in spec:
        hints += [p["text"].lower()[:24]] if "text" in p else [str(h).lower() for h in p.get("hints") or [""]]
    return patterns, texts, tuple(hints)


def stated(value: Any) -> bool:
    """Whether a value documents something: not empty, and for text more than template placeholders
    ("More information needed", "[More Information Needed]", "TODO"), HTML comments and sub-headings
    (knowledge/minimum_elements.yaml ``placeholders``, each with its source)."""
    if value in (None, "", [], {}):
        return False
    if not isinstance(value, str):
        return True
    low = value.lower()
    if not any(h in low for h in _placeholders()[2]):
        return not _MARKUP.fullmatch(value)
    return _stated_text(value)


def _stated_text(value: str) -> bool:
    """stated() for text, every rule applied (stated() skips this when nothing could match)."""
    patterns, texts, _ = _placeholders()
    text = _SUBHEADING.sub(" ", _COMMENT.sub(" ", value))
    for p in patterns:
        text = p.sub(" ", text)
    if text != value:  # something was a placeholder: the labels it leaves bare are the template's too
        text = "\n".join(t for t in text.split("\n") if not (t.strip() and _BARE_LABEL.fullmatch(t) and ":" in t))
    if len(value) >= EXCERPT:  # cut part-way through a placeholder sentence: its start is still one
        rest = text.rstrip()
        last = rest.rsplit("\n", 1)[-1].strip().lower()
        if last and any(t.startswith(last) for t in texts):
            text = rest[: len(rest) - len(rest.rsplit("\n", 1)[-1])]
    return bool(_MARKUP.sub("", text))


def _licences(m: Component) -> tuple[bool, str | None]:
    """Licences that name something: "other" or "unknown" alone (no name, link) documents no licence."""
    non = {str(v).lower() for v in elements().get("licence_non_values", {}).get("values", [])}
    named = [lic for lic in m.licenses if lic.name or lic.link or lic.value.strip().lower() not in non]
    shown = {lic.value + (f" '{lic.name}'" if lic.name else "") + (f" <{lic.link}>" if lic.link else "")
             + f" ({lic.evidence})" for lic in named}
    return _ok(named, ", ".join(sorted(shown)))


def _where(m: Component, key: str) -> str:
    """Where a property was read (file:line [key]), from the scan's provenance."""
    ev = (m.properties.get("provenance") or {}).get(key) or []
    if not ev or not isinstance(ev[0], dict):
        return key
    e = ev[0]
    return f"{e.get('path') or '(declared)'}" + (f":{e['line']}" if e.get("line") else "") + (
        f" [{e['key']}]" if e.get("key") else ""
    )


def _text(m: Component, *keys: str) -> tuple[bool, str | None]:
    """The first of ``keys`` that states something, with where it was read."""
    for k in keys:
        if stated(_prop(m, k)):
            return True, _where(m, k)
    return False, None


def _placeholder_note(m: Component, *keys: str) -> str | None:
    """For a missing element: the properties that were given but state nothing (a template's text)."""
    given = [k for k in keys if _prop(m, k) not in (None, "", [], {}) and not stated(_prop(m, k))]
    if not given:
        return None
    first = str(_prop(m, given[0])).strip().replace("\n", " ")
    return f"{', '.join(_where(m, k) for k in given)}: only a template placeholder ({first[:60]!r})"


def _files(inv: Inventory, m: Component) -> list[Component]:
    return [c for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.path]


def _weights(inv: Inventory, m: Component) -> list[Component]:
    return [c for c in _files(inv, m) if c.type == ComponentType.WEIGHTS]


def _datasets(inv: Inventory, m: Component, kind: RelationshipKind = RelationshipKind.TRAINED_ON) -> list[Component]:
    return inv.related(m.id, kind)


def _ok(v: Any, evidence: str | None = None) -> tuple[bool, str | None]:
    return (bool(v), evidence if v else None)


def _all(items: list[Component], pred: Callable[[Component], Any], what: str) -> tuple[bool, str | None]:
    if not items:
        return False, None
    bad = [c.name for c in items if not pred(c)]
    if bad:
        return False, None
    return True, f"{len(items)} {what}{_named(items)}"


def _named(items: list[Component]) -> str:
    """": a, b (where they were read)" for the evidence of an element about several components."""
    names = ", ".join(c.name for c in items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
    where = sorted({str(e) for c in items for e in c.evidence[:1]})
    return f": {names}" + (f" ({'; '.join(where[:3])})" if where else "")


def _missing_of(items: list[Component], pred: Callable[[Component], Any]) -> str | None:
    """For an element about every dataset: which ones lack it."""
    bad = [c.name for c in items if not pred(c)]
    if not bad:
        return None
    return f"not given for {', '.join(bad[:5])}" + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")


# Elements documented by text: the properties read, in order (the card's section, aitrail.yaml's key).
TEXT_ELEMENTS = {
    "model.intended_use": ("card.intended_uses", "intended_use"),
    "model.limitations": ("card.limitations", "card.bias", "limitations"),
    "kpi.evaluation": ("evaluation_results", "evaluation"),
}

# Elements about every training dataset: what each must have (a missing one names the datasets without)
DATASET_ELEMENTS: dict[str, Callable[[Component], Any]] = {
    "dataset.license": lambda c: c.licenses,
    "dataset.location": lambda c: c.properties.get("url"),
    "dataset.digest": lambda c: c.properties.get("digest"),
}

CHECKS: dict[str, Callable[[Inventory, Component], tuple[bool, str | None]]] = {
    "sbom.author": lambda inv, m: (True, f"aitrail {inv.tool_version}"),
    "sbom.timestamp": lambda inv, m: (True, "set when a BOM is written"),
    "model.name": lambda inv, m: (True, m.name),
    "model.version": lambda inv, m: _ok(m.version, m.version),
    "model.supplier": lambda inv, m: _ok(_prop(m, "supplier"), str(_prop(m, "supplier"))),
    "model.identifier": lambda inv, m: _ok(
        m.purl or _prop(m, "download_location"), m.purl or _prop(m, "download_location")
    ),
    "model.hash": lambda inv, m: _all(_weights(inv, m), lambda c: c.sha256, "weights files hashed"),
    "model.license": lambda inv, m: _licences(m),
    "model.architecture": lambda inv, m: _ok(_prop(m, "architecture"), str(_prop(m, "architecture"))),
    "model.task": lambda inv, m: _ok(_prop(m, "task"), str(_prop(m, "task"))),
    "model.lineage": lambda inv, m: _ok(
        inv.related(m.id, RelationshipKind.DERIVED_FROM),
        ", ".join(c.name for c in inv.related(m.id, RelationshipKind.DERIVED_FROM)),
    ),
    "model.intended_use": lambda inv, m: _text(m, *TEXT_ELEMENTS["model.intended_use"]),
    "model.limitations": lambda inv, m: _text(m, *TEXT_ELEMENTS["model.limitations"]),
    "dataset.training": lambda inv, m: _all(_datasets(inv, m), lambda c: True, "datasets"),
    "dataset.license": lambda inv, m: _all(
        _datasets(inv, m), DATASET_ELEMENTS["dataset.license"], "datasets with a licence"
    ),
    "dataset.location": lambda inv, m: _all(
        _datasets(inv, m), DATASET_ELEMENTS["dataset.location"], "datasets with a location"
    ),
    "dataset.digest": lambda inv, m: _all(
        _datasets(inv, m), DATASET_ELEMENTS["dataset.digest"], "datasets with a digest"
    ),
    "infra.software": lambda inv, m: _ok(
        inv.related(m.id, RelationshipKind.DEPENDS_ON) or _prop(m, "library"),
        ", ".join(c.name for c in inv.related(m.id, RelationshipKind.DEPENDS_ON)) or str(_prop(m, "library")),
    ),
    "infra.training_code": lambda inv, m: _ok(stated(_prop(m, "training_code")), str(_prop(m, "training_code"))),
    "security.file_hashes": lambda inv, m: _all(_files(inv, m), lambda c: c.sha256, "files hashed"),
    "security.safe_formats": lambda inv, m: _ok(
        _weights(inv, m) and not any(c.format in PICKLE_FORMATS for c in _weights(inv, m)), "no pickle-based weights"
    ),
    "kpi.evaluation": lambda inv, m: _text(m, *TEXT_ELEMENTS["kpi.evaluation"]),
    "spdx.ai.releaseTime": lambda inv, m: _ok(_prop(m, "release_time"), _prop(m, "release_time")),
    "spdx.ai.suppliedBy": lambda inv, m: _ok(_prop(m, "supplier"), _prop(m, "supplier")),
    "spdx.ai.downloadLocation": lambda inv, m: _ok(_prop(m, "download_location"), _prop(m, "download_location")),
    "spdx.ai.packageVersion": lambda inv, m: _ok(m.version, m.version),
    "spdx.ai.primaryPurpose": lambda inv, m: (True, "model"),
    "spdx.ai.declaredLicense": lambda inv, m: _licences(m),
    "spdx.dataset.fields": lambda inv, m: _all(
        _datasets(inv, m) + _datasets(inv, m, RelationshipKind.TESTED_ON),
        lambda c: c.licenses and c.properties.get("url") and c.properties.get("supplier") and c.properties.get("type"),
        "datasets fully described",
    ),
}


def assess(inv: Inventory) -> None:
    """Fill ``inv.completeness`` for every scanned model (model id in each item's evidence when several)."""
    spec = elements()
    models = inv.models()
    inv.completeness = []
    for m in models:
        for el in spec["elements"]:
            present, evidence = CHECKS[el["id"]](inv, m)
            item = CompletenessItem(
                element=el["id"],
                framework=el["framework"],
                title=el["title"],
                present=bool(present),
                evidence=(f"{m.name}: {evidence}" if len(models) > 1 and evidence else evidence) if present else None,
                how_to_supply=None if present else el.get("supply"),
                model=m.id,
            )
            note = None if present else _placeholder_note(m, *TEXT_ELEMENTS.get(el["id"], ()))
            pred = DATASET_ELEMENTS.get(el["id"])
            if not present and pred is not None:
                note = _missing_of(_datasets(inv, m), pred)
            if not present and el["id"] in ("model.license", "spdx.ai.declaredLicense") and m.licenses:
                declared = ", ".join(f"'{x.value}' ({x.evidence})" for x in m.licenses)
                note = f"declared as {declared}, naming no licence"
            if note:  # given, but only a template's text: say so, and where
                item.how_to_supply = f"{note}; {item.how_to_supply or ''}".rstrip("; ")
            if len(models) > 1 and not present:
                item.how_to_supply = f"{m.name}: {el.get('supply', '')}"
            inv.completeness.append(item)
