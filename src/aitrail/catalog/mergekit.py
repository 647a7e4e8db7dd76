"""mergekit configurations (``mergekit_config.yml``): a merge and the models it combines."""

from __future__ import annotations

from typing import Any

from ..model import ComponentType, Derivation, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found, read_yaml
from .lineage import model_component


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return name in ("mergekit_config.yml", "mergekit_config.yaml", "merge_config.yml", "merge_config.yaml")


def _models(doc: Any) -> list[str]:
    found: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in ("model", "base_model") and isinstance(v, str):
                found.append(v)
            elif k == "model" and isinstance(v, dict) and isinstance(v.get("model"), str):
                found.append(v["model"])
            else:
                found.extend(_models(v))
    elif isinstance(doc, list):
        for v in doc:
            found.extend(_models(v))
    return found


def catalog(f: FileRef) -> Found:
    doc = read_yaml(f)
    out = Found(file_type=ComponentType.CONFIG, format="yaml")
    if not isinstance(doc, dict):
        return out
    out.properties["merge_method"] = doc.get("merge_method")
    out.fact("merge_method", doc.get("merge_method"), f.ev(key="merge_method"))
    for m in dict.fromkeys(_models(doc)):
        ev = f.ev(key="models", value=m)
        c = model_component(m, ev)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.MERGE, [ev]))
    return out
