"""PEFT ``adapter_config.json``: an adapter and the base model it needs."""

from __future__ import annotations

from ..model import ComponentType, Derivation, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found
from .hf_config import origin, scalar
from .lineage import check_size, library_component, model_component, read_json, text

# peft's TaskType -> the pipeline task of the model the adapter makes (peft docs, "TaskType"); SEQ_2_SEQ_LM
# generates whatever the fine-tune taught it and says nothing.
TASKS = {
    "CAUSAL_LM": "text-generation",
    "SEQ_CLS": "text-classification",
    "TOKEN_CLS": "token-classification",
    "QUESTION_ANS": "question-answering",
    "FEATURE_EXTRACTION": "feature-extraction",
}


def matches(f: FileRef) -> bool:
    return f.rel.rsplit("/", 1)[-1] == "adapter_config.json"


def catalog(f: FileRef) -> Found:
    check_size(f, "an adapter configuration")
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    if not isinstance(doc, dict):
        return out
    for k in ("peft_type", "task_type", "r", "lora_alpha", "peft_version"):
        if k in doc:
            out.properties[k] = scalar(doc[k])
    targets = doc.get("target_modules")
    if isinstance(targets, list):
        out.properties["target_modules"] = [text(t, 100) for t in targets[:64]]
    elif targets is not None:
        out.properties["target_modules"] = scalar(targets)
    task_type = doc.get("task_type")
    task = TASKS.get(task_type) if isinstance(task_type, str) else None
    if task:
        out.fact("task_from_architecture", task, f.ev(key="task_type", value=task_type))
    kind = text(doc["peft_type"], 40) if isinstance(doc.get("peft_type"), str) and doc["peft_type"] else "unknown"
    out.fact("adapter", kind, f.ev(key="peft_type", value=kind))
    base = doc.get("base_model_name_or_path")
    if isinstance(base, str) and base.strip():
        # A hub id (also as the HF cache snapshot path it was loaded from), or the local path the adapter was
        # trained from (kept, bounded: a base nobody can resolve, so the verdict stays unknown).
        ident = origin(base) or text(base)
        ev = f.ev(key="base_model_name_or_path", value=ident)
        c = model_component(ident, ev)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.ADAPTER, [ev]))
    lib = library_component("peft", None, f.ev(key="peft_type"))
    out.components.append(lib)
    out.relationships.append(Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[f.ev(key="peft_type")]))
    return out
