"""PEFT ``adapter_config.json``: an adapter and the base model it needs."""

from __future__ import annotations

from ..model import ComponentType, Derivation, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found, read_json
from .lineage import library_component, model_component


def matches(f: FileRef) -> bool:
    return f.rel.rsplit("/", 1)[-1] == "adapter_config.json"


def catalog(f: FileRef) -> Found:
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    if not isinstance(doc, dict):
        return out
    for k in ("peft_type", "task_type", "r", "lora_alpha", "target_modules", "peft_version"):
        if k in doc:
            out.properties[k] = doc[k]
    out.fact("adapter", doc.get("peft_type") or "unknown", f.ev(key="peft_type", value=doc.get("peft_type")))
    base = doc.get("base_model_name_or_path")
    if isinstance(base, str) and base:
        ev = f.ev(key="base_model_name_or_path", value=base)
        c = model_component(base, ev)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.ADAPTER, [ev]))
    lib = library_component("peft", None, f.ev(key="peft_type"))
    out.components.append(lib)
    out.relationships.append(Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[f.ev(key="peft_type")]))
    return out
