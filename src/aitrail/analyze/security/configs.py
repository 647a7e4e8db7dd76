"""Configs a loader instantiates: NeMo's ``model_config.yaml`` (in a ``.nemo`` or beside its weights).

``restore_from`` builds the model with Hydra's ``instantiate``: every ``_target_`` (and NeMo's top-level
``target`` / ``cls``) names a callable that is imported and called with the node's arguments, at any
depth (CVE-2025-23304: a .nemo whose config targets ``os.system``). Each target is judged as a pickle
global *called* would be (pickle_rules: dangerous -> critical, a framework's class -> data, anything
else high), so the same allowlists decide.
"""

from __future__ import annotations

from typing import Any

from .report import FileReport

CONFIG_NAMES = {"model_config.yaml"}  # NeMo's fixed name (nemo.core.connectors.save_restore_connector)
MAX_CONFIG = 8 << 20  # bytes of a config read; larger: a finding
TARGET_KEYS = ("_target_", "target", "cls")  # Hydra's key; NeMo's legacy top-level keys


def judge_config(rep: FileReport, raw: bytes, where: str, unknown: str = "high") -> None:
    """Findings for the callables a NeMo/Hydra config makes its loader import and call."""
    from ... import yamlsafe
    from ...jsonsafe import ShapeError
    from . import pickle_rules

    if len(raw) > MAX_CONFIG:
        rep.add("high", "config.limit-exceeded", f"{where}: larger than {MAX_CONFIG} bytes: not judged", where)
        return
    try:
        doc = yamlsafe.load_bounded(raw.decode("utf-8"))
    except (UnicodeDecodeError, yamlsafe.YAMLError, ShapeError, RecursionError) as e:
        why = f"not readable YAML ({type(e).__name__}): the callables its loader instantiates are not judged"
        rep.add("high", "config.unreadable", f"{where}: {why}", where)
        return
    judge = pickle_rules.judge()
    label = "" if where == rep.path else where.split(":", 1)[-1] + ": "  # the member, in an archive
    seen: set[str] = set()
    todo: list[tuple[Any, bool]] = [(doc, True)]
    while todo:  # iterative: configs are bounded by load_bounded, but never recurse on input
        node, top = todo.pop()
        if isinstance(node, dict):
            # target / cls: NeMo's top-level class, or legacy Hydra nodes (with params), anywhere
            keys = TARGET_KEYS if top or "params" in node else ("_target_",)
            for key in keys:
                target = node.get(key)
                if isinstance(target, str) and target and target not in seen:
                    seen.add(target)
                    v = judge.verdict(target, {"called"}, unknown)
                    if v is not None:
                        name = target[:200]
                        rep.add(v.severity, "config.target", f"{label}instantiating the model calls {name} "
                                f"({key}): {v.why}", where, {"global": name, "key": key, "why": v.why})
            todo.extend((v, False) for v in node.values())
        elif isinstance(node, list):
            todo.extend((v, False) for v in node)
