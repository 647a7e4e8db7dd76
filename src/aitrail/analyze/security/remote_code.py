"""Remote code: Python files transformers imports (auto_map, trust_remote_code), read with ast."""

from __future__ import annotations

import json
from pathlib import Path

from .report import FileReport

RISKY_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "system",
    "popen",
    "Popen",
    "run",
    "call",
    "check_output",
    "spawn",
    "execv",
    "execve",
    "remove",
    "rmtree",
    "urlopen",
    "get",
    "post",
    "loads",
    "load",
    "connect",
    "socket",
    "b64decode",
    "getattr",
    "setattr",
}
RISKY_MODULES = {
    "os",
    "subprocess",
    "socket",
    "requests",
    "urllib",
    "http",
    "pickle",
    "marshal",
    "ctypes",
    "shutil",
    "importlib",
    "base64",
    "sys",
    "builtins",
    "pty",
    "multiprocessing",
}


def remote_code(rep: FileReport, path: Path) -> None:
    """A Python file that transformers imports (auto_map, trust_remote_code): what it imports and calls."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except SyntaxError as e:
        rep.add(
            "medium",
            "remote-code.unparsable",
            f"remote code does not parse (line {e.lineno}): it cannot be reviewed automatically",
        )
        return
    imports: set[str] = set()
    calls: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            base = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
            if name in ("eval", "exec", "compile", "__import__") or (base in RISKY_MODULES and name in RISKY_CALLS):
                calls.append((f"{base + '.' if base else ''}{name}", node.lineno))
    risky = sorted(imports & RISKY_MODULES)
    rep.add(
        "medium",
        "remote-code.present",
        f"runs as model code when loaded with trust_remote_code; imports {', '.join(sorted(imports)) or 'nothing'}",
    )
    for call, line in calls[:20]:
        rep.add(
            "high",
            "remote-code.risky-call",
            f"calls {call} (line {line}) when the model is loaded",
            f"{rep.path}:{line}",
        )
    if risky and not calls:
        rep.add("low", "remote-code.risky-import", f"imports {', '.join(risky)}")


def auto_map_files(root: Path) -> set[Path]:
    """Python files a config.json's auto_map makes transformers import."""
    out: set[Path] = set()
    for cfg in root.rglob("config.json") if root.is_dir() else []:
        try:
            doc = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        amap = doc.get("auto_map") if isinstance(doc, dict) else None
        for v in (amap or {}).values() if isinstance(amap, dict) else []:
            for ref in v if isinstance(v, list) else [v]:
                if isinstance(ref, str) and "--" not in ref:
                    out.add((cfg.parent / (ref.rsplit(".", 1)[0].replace(".", "/") + ".py")).resolve())
    return out
