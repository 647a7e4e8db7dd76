"""The model card: ``README.md`` YAML front matter and its prose sections.

Front matter keys follow the Hugging Face model card spec (huggingface_hub's
``modelcard.md`` template and ``ModelCardData``); the YAML is read with the safe loader.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, CatalogError, FileRef, Found, read_yaml
from .lineage import dataset_component, model_component

CARD_SPEC = "Hugging Face model card metadata (hub docs, 'Model Cards')"

# Canonical section -> words that name it in headings (lower case, matched as substrings).
SECTIONS = {
    "license": ("license", "licence", "licensing"),
    # "Usage"/"How to use" sections hold code snippets, not a statement of intended use: not matched.
    "intended_uses": ("intended use", "uses", "direct use", "downstream use", "use cases"),
    "out_of_scope_uses": ("out-of-scope", "out of scope", "misuse"),
    "limitations": ("limitation", "risks", "caveat"),
    "bias": ("bias", "fairness"),
    "training_data": ("training data", "dataset", "data"),
    "training_procedure": ("training procedure", "training", "fine-tuning", "pre-training", "hyperparameter"),
    "evaluation": ("evaluation", "results", "benchmark", "performance"),
    "environmental_impact": ("environmental impact", "carbon", "emissions", "compute infrastructure", "hardware"),
    "citation": ("citation", "bibtex", "cite", "reference"),
}
DERIVATIONS = {
    "finetune": Derivation.FINE_TUNE,
    "fine-tune": Derivation.FINE_TUNE,
    "adapter": Derivation.ADAPTER,
    "quantized": Derivation.QUANTIZATION,
    "quantization": Derivation.QUANTIZATION,
    "merge": Derivation.MERGE,
}
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return name in ("readme.md", "model_card.md", "modelcard.md") and "/" not in (f.local or f.rel)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (yaml text or None, body, line number where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise CatalogError("front matter opened with '---' on line 1 is never closed", rule="scan.card.front-matter")


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every Markdown heading outside code fences."""
    heads = []
    in_code = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        m = None if in_code else HEADING.match(line)
        if m:
            heads.append((i, len(m.group(1)), m.group(2)))
    return heads


def sections(body: str, first_line: int) -> dict[str, dict[str, Any]]:
    """Map canonical sections to their heading, line and opening text."""
    found: dict[str, dict[str, Any]] = {}
    lines = body.split("\n")
    heads = headings(lines)
    for n, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[n + 1 :] if lv <= level), len(lines))
        text = "\n".join(lines[i + 1 : end]).strip()
        low = title.lower()
        for key, words in SECTIONS.items():
            if key not in found and any(w in low for w in words):
                found[key] = {
                    "heading": title,
                    "line": first_line + i,
                    "chars": len(text),
                    "excerpt": text[:300],
                    "text": text,
                }
                break
    return found


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.DOCUMENTATION, format="model-card")
    text = f.read_text()
    try:
        yml, body, body_line = split_front_matter(text)
    except CatalogError as e:
        out.finding(Severity.MEDIUM, e.rule, f"{f.rel}: {e}", f.ev(line=1), CARD_SPEC)
        yml, body, body_line = None, text, 1
    meta: dict[str, Any] = {}
    if yml is not None:
        try:
            loaded = read_yaml(f, yml)
        except CatalogError as e:
            out.finding(
                Severity.MEDIUM, "scan.card.front-matter", f"{e} (in the front matter)", f.ev(line=1), CARD_SPEC
            )
            loaded = None
        if isinstance(loaded, dict):
            meta = loaded
        elif loaded is not None:
            out.finding(
                Severity.LOW,
                "scan.card.front-matter",
                f"{f.rel}: front matter is not a mapping of keys",
                f.ev(line=1),
                CARD_SPEC,
            )
    out.properties["has_front_matter"] = bool(meta)
    _front_matter(f, meta, out)
    secs = sections(body, body_line)
    out.properties["sections"] = {
        k: {"heading": v["heading"], "line": v["line"], "chars": v["chars"]} for k, v in secs.items()
    }
    for k, v in secs.items():
        out.fact(f"card.{k}", v["excerpt"] or v["heading"], f.ev(key=v["heading"], line=v["line"]))
    if "license" in secs:
        _license_section(f, secs["license"], out)
    title = next((t for _i, level, t in headings(body.split("\n")) if level == 1), None)
    if title:
        out.fact("card_title", title.strip(), f.ev(key="# title"))
    desc = _first_paragraph(body)
    out.fact("description", desc, f.ev(key="(first paragraph)"))
    return out


def _first_paragraph(body: str) -> str | None:
    para: list[str] = []
    for line in body.split("\n"):
        s = line.strip()
        if s.startswith(("#", "```", "<", "|", "!", "[!")) or not s:
            if para:
                break
            continue
        para.append(s)
    return " ".join(para)[:1000] or None


def _front_matter(f: FileRef, meta: dict[str, Any], out: Found) -> None:
    ev = lambda key, value=None: f.ev(key=key, value=value)  # noqa: E731
    out.properties["front_matter_keys"] = sorted(map(str, meta))
    for lic in _as_list(meta.get("license")):
        if isinstance(lic, str) and lic.strip():
            out.licenses.append(
                DeclaredLicense(
                    lic.strip(),
                    ev("license", lic),
                    name=_s(meta.get("license_name")),
                    link=_s(meta.get("license_link")),
                )
            )
    for key in ("pipeline_tag", "library_name"):
        out.fact({"pipeline_tag": "task", "library_name": "library"}[key], _s(meta.get(key)), ev(key, meta.get(key)))
    out.fact("language", [str(x) for x in _as_list(meta.get("language"))], ev("language"))
    out.fact("tags", [str(x) for x in _as_list(meta.get("tags"))], ev("tags"))
    for key in ("model_name", "model_creator", "author", "co2_eq_emissions", "inference", "thumbnail"):
        if key in meta:
            out.fact(f"card.{key}", meta[key], ev(key))
    if "model_creator" in meta or "author" in meta:
        out.fact("supplier", _s(meta.get("model_creator") or meta.get("author")), ev("model_creator"))

    for d in _as_list(meta.get("datasets")):
        if isinstance(d, str) and d.strip():
            c = dataset_component(d.strip(), ev("datasets", d))
            out.components.append(c)
            out.relationships.append(
                Relationship(MODEL, c.id, RelationshipKind.TRAINED_ON, evidence=[ev("datasets", d)])
            )

    relation = _s(meta.get("base_model_relation"))
    kind = DERIVATIONS.get((relation or "").lower(), Derivation.FINE_TUNE if relation is None else Derivation.UNKNOWN)
    bases = [b for b in _as_list(meta.get("base_model")) if isinstance(b, str) and b.strip()]
    if len(bases) > 1 and relation is None:
        kind = Derivation.MERGE  # the hub's rule: several bases without a relation is a merge
    for b in bases:
        e = ev("base_model", b)
        c = model_component(b.strip(), e)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, kind, [e]))

    results = _model_index(meta.get("model-index"), f, out)
    if results:
        out.fact("evaluation_results", results, ev("model-index"))


def _s(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _model_index(mi: Any, f: FileRef, out: Found) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for entry in _as_list(mi):
        if not isinstance(entry, dict):
            continue
        if entry.get("name"):
            out.fact("name", str(entry["name"]), f.ev(key="model-index.name"))
        for r in _as_list(entry.get("results")):
            if not isinstance(r, dict):
                continue
            task: dict[str, Any] = r["task"] if isinstance(r.get("task"), dict) else {}
            ds: dict[str, Any] = r["dataset"] if isinstance(r.get("dataset"), dict) else {}
            ds_id = _s(ds.get("type")) or _s(ds.get("name"))
            if ds_id:
                e = f.ev(key="model-index.results.dataset", value=ds_id)
                c = dataset_component(ds_id, e)
                if ds.get("name"):
                    c.properties["title"] = str(ds["name"])
                out.components.append(c)
                out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.TESTED_ON, evidence=[e]))
            for m in _as_list(r.get("metrics")):
                if isinstance(m, dict) and "value" in m:
                    results.append(
                        {
                            "task": _s(task.get("type")),
                            "dataset": ds_id,
                            "split": _s(ds.get("split")),
                            "config": _s(ds.get("config")),
                            "metric": _s(m.get("type")) or _s(m.get("name")),
                            "name": _s(m.get("name")),
                            "value": m.get("value"),
                        }
                    )
    return results


MIN_SECTION_WORDS = 120  # shorter sections name a licence ("Apache 2.0"): too little text to identify


def _license_section(f: FileRef, sec: dict[str, Any], out: Found) -> None:
    """A licence pasted into the card's "License" section is identified like a LICENSE file."""
    from ..analyze.license_text import identify_text, tokens

    text = sec["text"]
    if len(tokens(text)) < MIN_SECTION_WORDS:
        return
    ident = identify_text(text, f"{f.rel} [{sec['heading']}]")
    result = ident.to_dict()
    out.properties["license_section"] = {
        k: result[k] for k in ("known", "id", "confidence", "licenses", "closest") if k in result
    }
    for m in ident.licenses if ident.known else []:
        out.licenses.append(DeclaredLicense(m.license_id, f.ev(key=f"section: {sec['heading']}", line=sec["line"])))
