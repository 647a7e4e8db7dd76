"""MLflow model folders: the Python code ``mlflow.pyfunc.load_model`` runs besides the pickles.

An ``MLmodel`` file (YAML, read as data) names it: a ``loader_module`` that mlflow imports and whose
``_load_pyfunc`` it calls, ``code`` paths it puts on ``sys.path`` first (the model's own modules, which
that loader or a cloudpickled ``python_model`` then imports), and for "models from code" a script it
runs (``model_code_path``; the copy in the model folder). Those files are reviewed like remote code
(remote_code.py); a loader that is neither mlflow's nor shipped, or a path leaving the folder, cannot be
reviewed: high.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .report import FileReport

MAX_MLMODEL = 1 << 20  # an MLmodel is a few hundred bytes; larger is not read (a finding)
MAX_CODE_FILES = 1_000  # Python files under code paths reviewed; more: a finding


def _pyfunc(mlmodel: Path) -> tuple[dict[str, object] | None, str | None]:
    """The python_function flavor of an MLmodel (None when it has none), or why it cannot be read."""
    from ... import yamlsafe
    from ...jsonsafe import ShapeError

    try:
        with open(mlmodel, "rb") as fh:
            raw = fh.read(MAX_MLMODEL + 1)
    except OSError as e:
        return None, f"cannot be read ({e.strerror or type(e).__name__})"
    if len(raw) > MAX_MLMODEL:
        return None, f"is larger than {MAX_MLMODEL} bytes"
    try:
        doc = yamlsafe.load_bounded(raw.decode("utf-8"))
    except (UnicodeDecodeError, yamlsafe.YAMLError, ShapeError, RecursionError) as e:
        return None, f"is not readable YAML ({type(e).__name__})"
    flavors = doc.get("flavors") if isinstance(doc, dict) else None
    if not isinstance(flavors, dict):
        return None, "has no flavors mapping"
    conf = flavors.get("python_function")
    return (conf if isinstance(conf, dict) else None), None


def _inside(root: Path, rel: object) -> Path | None:
    """``root/rel`` when ``rel`` is a relative path that stays in ``root``; None otherwise."""
    if not isinstance(rel, str) or not rel or PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
        return None
    return root / rel


def _code_paths(conf: dict[str, object]) -> list[object]:
    code = conf.get("code")
    if code is None:
        return []
    return list(code) if isinstance(code, list) else [code]


def mlflow_code(mlmodel: Path, rep: FileReport | None = None) -> set[Path]:
    """The Python files loading this MLflow model runs; with ``rep``, the MLmodel's findings too."""
    conf, problem = _pyfunc(mlmodel)
    root = mlmodel.parent
    out: set[Path] = set()
    if problem is not None:
        if rep is not None:
            rep.add("medium", "mlflow.malformed", f"MLmodel {problem}: what loading the model runs is not known")
        return out
    if conf is None:
        return out  # no python_function flavor: loaded only through its framework flavor (its files judged)
    what: list[str] = []
    for rel in _code_paths(conf):
        d = _inside(root, rel)
        if d is None:
            if rep is not None:
                rep.add(
                    "high",
                    "mlflow.code-outside",
                    f"code path {str(rel)[:200]!r} leaves the model folder: mlflow puts it on sys.path when "
                    "loading, and it is not reviewed",
                )
            continue
        files = sorted(p for p in d.rglob("*.py") if p.is_file()) if d.is_dir() else [d] if d.is_file() else []
        if len(files) > MAX_CODE_FILES and rep is not None:
            rep.add("high", "mlflow.limit-exceeded", f"code path {rel!r} holds more than {MAX_CODE_FILES} "
                    "Python files: the rest is not reviewed")
        out.update(files[:MAX_CODE_FILES])
        what.append(f"puts {rel!r} on sys.path ({len(files)} Python files)")
    loader = conf.get("loader_module")
    if isinstance(loader, str) and loader and loader != "mlflow" and not loader.startswith("mlflow."):
        shipped = [p for p in out if p.stem == loader.split(".")[-1]]
        what.append(f"imports {loader[:200]!r} and calls its _load_pyfunc")
        if not shipped and rep is not None:
            rep.add(
                "high",
                "mlflow.loader-not-shipped",
                f"loader_module {loader[:200]!r} is neither mlflow's nor in the model's code paths: loading "
                "imports whatever module of that name is installed, which aitrail cannot review",
            )
    script = conf.get("model_code_path")
    if script is not None:
        name = os.path.basename(str(script)) if isinstance(script, str) else ""
        path = root / name if name else None
        if path is not None and path.is_file():
            out.add(path)
            what.append(f"runs the script {name!r} (a model from code)")
        elif rep is not None:
            rep.add(
                "high",
                "mlflow.loader-not-shipped",
                f"model_code_path {str(script)[:200]!r}: mlflow runs that script when loading, and it is not in "
                "the model folder to review",
            )
    if what and rep is not None:
        rep.add(
            "medium",
            "mlflow.code",
            "mlflow.pyfunc.load_model runs this model's own Python code: it " + "; ".join(what)
            + " (each file reviewed as remote code): review it before loading",
        )
    return out


def mlflow_files(files: list[Path]) -> set[Path]:
    """The Python files that loading any MLflow model among ``files`` runs (resolved paths)."""
    out: set[Path] = set()
    for f in files:
        if f.name == "MLmodel":
            out.update(p.resolve() for p in mlflow_code(f))
    return out
