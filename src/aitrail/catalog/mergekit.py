"""mergekit configurations (``mergekit_config.yml``): a merge and the models it combines."""

from __future__ import annotations

from typing import Any

from ..model import ComponentType, Derivation, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found, read_yaml
from .lineage import check_size, is_repo_id, model_component, text


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return name in ("mergekit_config.yml", "mergekit_config.yaml", "merge_config.yml", "merge_config.yaml")


MAX_MODELS = 1_000  # models named by one merge configuration (real ones: a handful)


def _models(doc: Any) -> list[str]:
    """Model names anywhere in the document, in order. Iterative, and each container is visited
    once however often YAML aliases share it (the document's size is bounded when it is read)."""
    found: list[str] = []
    seen: set[int] = set()
    todo: list[Any] = [doc]
    while todo and len(found) < MAX_MODELS:
        node = todo.pop()
        if not isinstance(node, (dict, list)) or id(node) in seen:
            continue
        seen.add(id(node))
        children: list[Any] = []
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("model", "base_model") and isinstance(v, str):
                    found.append(v)
                elif k == "model" and isinstance(v, dict) and isinstance(v.get("model"), str):
                    found.append(v["model"])
                else:
                    children.append(v)
        else:
            children = list(node)
        todo.extend(reversed(children))  # depth-first, in document order
    return found


def catalog(f: FileRef) -> Found:
    check_size(f, "a merge configuration", 1 << 20)
    doc = read_yaml(f)
    out = Found(file_type=ComponentType.CONFIG, format="yaml")
    if not isinstance(doc, dict):
        return out
    method = text(doc["merge_method"], 60) if isinstance(doc.get("merge_method"), str) else None
    out.properties["merge_method"] = method
    out.fact("merge_method", method, f.ev(key="merge_method"))
    for m in dict.fromkeys(m if is_repo_id(m) else text(m) for m in _models(doc)):
        ev = f.ev(key="models", value=m)
        c = model_component(m, ev)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.MERGE, [ev]))
    return out
