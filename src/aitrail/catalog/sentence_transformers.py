"""sentence-transformers ``modules.json`` (the pipeline of modules) and its configs."""

from __future__ import annotations

from typing import Any

from .. import jsonsafe
from ..model import ComponentType, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found
from .lineage import check_size, library_component, read_json, text


def matches(f: FileRef) -> bool:
    return f.rel.rsplit("/", 1)[-1] in (
        "modules.json",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
    )


# The pipeline_tag sentence-transformers' own card of each model class gives (its model_card.py per class).
TASKS = {
    "SentenceTransformer": "sentence-similarity",
    "SparseEncoder": "feature-extraction",
    "MultiVectorEncoder": "feature-extraction",
}


def _class_task(cls: str, f: FileRef) -> str | None:
    if cls != "CrossEncoder":
        return TASKS.get(cls)
    # a cross-encoder ranks with one label and classifies with more (its card: text-ranking if num_labels == 1)
    labels = None
    try:
        cfg = f.path.parent / "config.json"
        if cfg.is_file() and cfg.stat().st_size < (1 << 20):
            doc = jsonsafe.loads(cfg.read_text("utf-8"))
            if isinstance(doc, dict):
                labels = len(doc["id2label"]) if isinstance(doc.get("id2label"), dict) else doc.get("num_labels")
    except (OSError, ValueError, jsonsafe.ShapeError):
        labels = None  # config.json's own cataloger reports what is wrong with it
    return "text-classification" if isinstance(labels, int) and labels > 1 else "text-ranking"


def catalog(f: FileRef) -> Found:
    check_size(f, "a sentence-transformers configuration")
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    name = f.rel.rsplit("/", 1)[-1]
    ev = f.ev(key="type" if name == "modules.json" else None)
    lib = library_component("sentence-transformers", None, ev)
    if name == "config_sentence_transformers.json" and isinstance(doc, dict):
        raw = doc.get("__version__")
        versions: dict[Any, Any] = raw if isinstance(raw, dict) else {}
        v = versions.get("sentence_transformers")
        if isinstance(v, str) and v:
            lib.properties["saved_with_version"] = text(v, 40)
        out.properties.update({text(k, 60): text(v, 60) for k, v in list(versions.items())[:20]})
        # the class that saved it; before v5 (no model_type) only SentenceTransformer wrote this file
        cls = doc.get("model_type")
        cls = cls if isinstance(cls, str) and cls else "SentenceTransformer"
        where = f.ev(key="model_type" if "model_type" in doc else None, value=cls)
        out.fact("class_name", text(cls, 100), where)
        task = _class_task(cls, f)
        if task:
            out.fact("task", task, where)
    if name == "modules.json" and isinstance(doc, list):
        mods = [text(m["type"], 100) for m in doc[:50] if isinstance(m, dict) and isinstance(m.get("type"), str)]
        out.properties["modules"] = mods
        paths = [m.get("path") for m in doc[:50] if isinstance(m, dict)]
        out.properties["module_paths"] = [text(p, 200) for p in paths if isinstance(p, str) and p]
        out.fact("library", "sentence-transformers", f.ev(key="type", value=mods))
        out.fact("task", "sentence-similarity", f.ev(key="type", value=mods))
    out.components.append(lib)
    out.relationships.append(Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out
