"""sentence-transformers ``modules.json`` (the pipeline of modules) and its configs."""

from __future__ import annotations

from ..model import ComponentType, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found, read_json
from .lineage import library_component


def matches(f: FileRef) -> bool:
    return f.rel.rsplit("/", 1)[-1] in (
        "modules.json",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
    )


def catalog(f: FileRef) -> Found:
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    name = f.rel.rsplit("/", 1)[-1]
    ev = f.ev(key="type" if name == "modules.json" else None)
    lib = library_component("sentence-transformers", None, ev)
    if name == "config_sentence_transformers.json" and isinstance(doc, dict):
        v = (doc.get("__version__") or {}).get("sentence_transformers")
        if v:
            lib.properties["saved_with_version"] = v
        out.properties.update({k: v for k, v in (doc.get("__version__") or {}).items()})
    if name == "modules.json" and isinstance(doc, list):
        mods = [m.get("type") for m in doc if isinstance(m, dict)]
        out.properties["modules"] = mods
        out.fact("library", "sentence-transformers", f.ev(key="type", value=mods))
        out.fact("task", "sentence-similarity", f.ev(key="type", value=mods))
    out.components.append(lib)
    out.relationships.append(Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out
