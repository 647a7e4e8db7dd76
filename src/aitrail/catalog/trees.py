"""Gradient-boosted tree models in their libraries' own formats (data only: loading runs no code).

- XGBoost ``save_model``: JSON (``{"learner": {...}, "version": [3, 2, 0]}``) or UBJSON (the same
  document, binary: ``{L<len>learner``); XGBoost docs, "Introduction to Model IO".
- LightGBM ``save_model``: text that opens ``tree\\nversion=v4`` and holds ``objective=`` and
  ``Tree=<i>`` sections; LightGBM ``Booster.save_model``.
- CatBoost ``save_model`` (``.cbm``): a flatbuffer that opens with ``CBM1``.

A folder holding only such a file is a model, not "nothing recognisable".
"""

from __future__ import annotations

import re
from typing import Any

from .. import jsonsafe
from ..model import ComponentType, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found
from .lineage import library_component, text

SOURCE = "XGBoost docs: Introduction to Model IO; LightGBM Booster.save_model; CatBoost save_model (cbm)"
MAX_JSON = 64 << 20  # an XGBoost JSON model read whole for its learner's parameters (larger: format only)
MAX_TEXT_HEAD = 1 << 20  # bytes of a LightGBM model read for its header keys
_UBJ = re.compile(rb"^\{[LlIiU].{0,8}learner")


def kind(f: FileRef) -> str | None:
    head = f.head
    if head.startswith(b'{"learner":') or (head[:1] == b"{" and head[1:64].lstrip().startswith(b'"learner"')):
        return "xgboost-json"
    if _UBJ.match(head[:32]):
        return "xgboost-ubj"
    if head.startswith((b"tree\nversion=v", b"tree\r\nversion=v")):
        return "lightgbm-text"
    if head.startswith(b"CBM1"):
        return "catboost"
    return None


def matches(f: FileRef) -> bool:
    return f.format is None and kind(f) is not None


def _task(objective: str) -> str | None:
    o = objective.lower()
    if o.startswith(("binary", "multi", "softmax", "multiclass", "logloss", "crossentropy", "cross_entropy")):
        return "tabular-classification"
    if o.startswith(("reg", "regression", "huber", "fair", "poisson", "quantile", "mape", "gamma", "tweedie")):
        return "tabular-regression"
    return None  # ranking, survival, custom: the objective is reported, the task not guessed


def catalog(f: FileRef) -> Found:
    fmt = kind(f) or "unknown"
    out = Found(file_type=ComponentType.WEIGHTS, format=fmt)
    library = {"xgboost-json": "xgboost", "xgboost-ubj": "xgboost", "lightgbm-text": "lightgbm"}.get(fmt, "catboost")
    ev = f.ev(key="header")
    lib = library_component(library, None, ev)
    facts: dict[str, Any] = {}
    if fmt == "xgboost-json":
        facts = _xgboost(f, out, lib)
    elif fmt == "lightgbm-text":
        facts = _lightgbm(f, out)
    out.fact("library", library, ev)
    arch = f"{library} {facts['booster']}" if facts.get("booster") else library
    out.fact("architecture", arch, f.ev(key=facts.get("booster_key") or "header", value=arch))
    if facts.get("objective"):
        out.properties["objective"] = facts["objective"]
        task = _task(facts["objective"])
        if task:
            out.fact("task_from_architecture", task, f.ev(key=facts["objective_key"], value=facts["objective"]))
    out.components.append(lib)
    out.relationships.append(Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out


def _xgboost(f: FileRef, out: Found, lib: Any) -> dict[str, Any]:
    if f.size > MAX_JSON:
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: an XGBoost JSON model of {f.size} bytes, more than the {MAX_JSON} aitrail parses: its booster "
            "and objective were not read",
            f.ev(),
            SOURCE,
        )
        return {}
    try:
        doc = jsonsafe.loads(f.read_text(MAX_JSON))
    except (ValueError, jsonsafe.ShapeError):
        out.finding(Severity.MEDIUM, "scan.json", f"{f.rel}: an XGBoost JSON model that does not parse", f.ev(), SOURCE)
        return {}
    learner = doc.get("learner") if isinstance(doc, dict) else None
    if not isinstance(learner, dict):
        return {}
    version = doc.get("version")
    if isinstance(version, list) and all(isinstance(v, int) for v in version[:3]):
        lib.properties["saved_with_version"] = ".".join(str(v) for v in version[:3])
    booster = learner.get("gradient_booster")
    objective = learner.get("objective")
    params = learner.get("learner_model_param")
    if isinstance(params, dict):
        for k in ("num_feature", "num_class", "num_target"):
            if isinstance(params.get(k), str):
                out.properties[k] = text(params[k], 20)
    model = booster.get("model") if isinstance(booster, dict) else None
    trees = model.get("trees") if isinstance(model, dict) else None
    if isinstance(trees, list):
        out.properties["tree_count"] = len(trees)
    return {
        "booster": _name(booster, 40),
        "booster_key": "learner.gradient_booster.name",
        "objective": _name(objective, 60),
        "objective_key": "learner.objective.name",
    }


def _name(obj: Any, n: int) -> str | None:
    return text(obj["name"], n) if isinstance(obj, dict) and isinstance(obj.get("name"), str) else None


def _lightgbm(f: FileRef, out: Found) -> dict[str, Any]:
    with open(f.path, "rb") as fh:
        head = fh.read(MAX_TEXT_HEAD).decode("utf-8", "replace")
    keys: dict[str, str] = {}
    trees = 0
    for line in head.splitlines():
        if line.startswith("Tree="):
            trees += 1
            continue
        k, sep, v = line.partition("=")
        if sep and k in ("version", "num_class", "max_feature_idx", "objective", "boosting") and k not in keys:
            keys[k] = text(v, 100)
    for k in ("num_class", "max_feature_idx"):
        if k in keys:
            out.properties[k] = keys[k]
    if f.size <= MAX_TEXT_HEAD:
        out.properties["tree_count"] = trees
    objective = keys.get("objective", "").split(" ", 1)[0] or None
    return {
        "booster": keys.get("boosting") or "gbdt",
        "booster_key": "boosting" if "boosting" in keys else "header",
        "objective": objective,
        "objective_key": "objective",
    }
