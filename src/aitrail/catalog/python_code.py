"""Python source files: what they import and whether they train or run a model.

Parsed with ``ast`` (which builds a syntax tree and never executes anything).
"""

from __future__ import annotations

import ast

from ..model import ComponentType
from .base import FileRef, Found

TRAIN_CALLS = {"backward", "Trainer", "SFTTrainer", "fit", "train", "step", "zero_grad"}
INFER_CALLS = {"generate", "pipeline", "predict", "encode", "from_pretrained", "forward", "InferenceSession"}
MAX_SOURCE = 4 << 20


def matches(f: FileRef) -> bool:
    return f.rel.endswith(".py") and f.size <= MAX_SOURCE


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CODE, format="python")
    text = f.read_text(MAX_SOURCE)
    try:
        tree = ast.parse(text, filename=f.rel)
    except SyntaxError as e:
        out.properties["syntax_error"] = f"line {e.lineno}: {e.msg}"
        return out
    imports: set[str] = set()
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            fn = node.func
            calls.add(fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else "")
    roles = []
    if calls & TRAIN_CALLS and imports & {
        "torch",
        "transformers",
        "trl",
        "tensorflow",
        "keras",
        "jax",
        "sklearn",
        "peft",
        "accelerate",
        "lightning",
        "pytorch_lightning",
    }:
        roles.append("training")
    if calls & INFER_CALLS:
        roles.append("inference")
    name = f.rel.rsplit("/", 1)[-1]
    if name.startswith(("modeling_", "configuration_", "tokenization_")):
        roles.append("model-definition")
    out.properties.update({"imports": sorted(imports), "roles": roles, "lines": text.count("\n") + 1})
    if "training" in roles:
        out.fact("training_code", f.rel, f.ev(key="calls", value=sorted(calls & TRAIN_CALLS)))
    if "inference" in roles:
        out.fact("inference_code", f.rel, f.ev(key="calls", value=sorted(calls & INFER_CALLS)))
    return out
