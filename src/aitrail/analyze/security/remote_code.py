"""Remote code: Python files transformers imports (auto_map, trust_remote_code), read with ast.

This code runs when the model is loaded, so what cannot be read or parsed here is *high*: we could
not judge it. Parsing is bounded (catalog/python_code.parse_bounded); auto_map references that
leave the model folder are never read (catalog/hf_config.module_file).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
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
MAX_CALLS_LISTED = 20
# Files whose auto_map transformers follows: the model's, the tokenizer's and the processors'.
AUTO_MAP_FILES = {"config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json"}


def remote_code(rep: FileReport, path: Path) -> None:
    """A Python file that transformers imports (auto_map, trust_remote_code): what it imports and calls.

    Never raises: what cannot be read or parsed is itself a (high) finding."""
    import ast

    from ...catalog.python_code import MAX_SOURCE, SourceLimit, parse_bounded

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SOURCE + 1)
    except (OSError, ValueError) as e:
        rep.add("high", "remote-code.unreadable", f"remote code cannot be read ({_err(e)}): it was not reviewed")
        return
    if len(raw) > MAX_SOURCE:
        rep.add(
            "high",
            "remote-code.limit-exceeded",
            f"remote code is larger than the {MAX_SOURCE} bytes aitrail reviews: it runs when the model is "
            "loaded and was not reviewed",
        )
        return
    try:
        tree = parse_bounded(raw.decode("utf-8", errors="replace"), rep.path)
    except SyntaxError as e:
        rep.add(
            "high",
            "remote-code.unparsable",
            f"remote code does not parse (line {e.lineno}: {str(e.msg)[:100]}): it cannot be reviewed automatically",
        )
        return
    except SourceLimit as e:
        rep.add("high", "remote-code.limit-exceeded", f"remote code not reviewed: {e}")
        return
    imports: set[str] = set()
    calls: list[tuple[str, int]] = []
    for node in ast.walk(tree):  # iterative, whatever the depth
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0][:100] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0][:100])
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            base = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
            if name in ("eval", "exec", "compile", "__import__") or (base in RISKY_MODULES and name in RISKY_CALLS):
                calls.append((f"{base + '.' if base else ''}{name}", node.lineno))
    risky = sorted(imports & RISKY_MODULES)
    names = sorted(imports)
    listed = ", ".join(names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30 else "")
    rep.add(
        "medium",
        "remote-code.present",
        f"runs as model code when loaded with trust_remote_code; imports {listed or 'nothing'}",
    )
    calls.sort(key=lambda c: c[1])
    for call, line in calls[:MAX_CALLS_LISTED]:
        rep.add(
            "high",
            "remote-code.risky-call",
            f"calls {call} (line {line}) when the model is loaded",
            f"{rep.path}:{line}",
        )
    if len(calls) > MAX_CALLS_LISTED:
        rep.add(
            "high",
            "remote-code.risky-call",
            f"{len(calls) - MAX_CALLS_LISTED} more risky calls not listed (first {MAX_CALLS_LISTED} shown)",
        )
    if risky and not calls:
        rep.add("low", "remote-code.risky-import", f"imports {', '.join(risky)}")


def _err(e: BaseException) -> str:
    from ...guard import describe

    return describe(e)


def auto_map_files(root: Path, files: Iterable[Path] | None = None) -> set[Path]:
    """Python files the auto_map of a config.json (or a tokenizer's or processor's config) makes
    transformers import (real paths).

    ``files``: the files already walked under ``root`` (the walk decides which files are regular and
    which links may be followed); without it, ``root`` is walked the same way. Only references inside
    the folder of their config.json count: one that leaves it (absolute, '..') is never read, and
    the config.json cataloger reports it.
    """
    from ...catalog.hf_config import auto_map_refs, module_file

    if files is None:
        if not root.is_dir():
            return set()
        from ...errors import InputError
        from ...inputs import resolve, walk

        try:  # the same units (and symlink boundaries: a cache snapshot links into its repo) as a scan
            files = [p for unit in resolve(root) for p in walk(unit)[0]]
        except (InputError, OSError):
            return set()
    out: set[Path] = set()
    for cfg in files:
        if cfg.name not in AUTO_MAP_FILES:
            continue
        for ref in auto_map_refs(_auto_map(cfg)):
            path, problem = module_file(ref)
            if problem is None and "--" not in ref:
                try:
                    out.add(Path(os.path.realpath(cfg.parent / path)))
                except (OSError, ValueError):
                    continue
    return out


# A config too large or too deep to parse may still name remote code that transformers (which has no
# such limits) imports: its auto_map object is then found by its text and parsed alone.
MAX_CONFIG_SEARCHED = 64 << 20
_AUTO_MAP = re.compile(rb'"auto_map"\s*:\s*(\{[^{}]{0,65536}\})')


def _auto_map(cfg: Path) -> object:
    """The auto_map of a config.json, or None when it has none or cannot be read (its cataloger says
    why)."""
    import stat

    from ... import jsonsafe
    from ...catalog.hf_config import MAX_CONFIG

    try:
        if not stat.S_ISREG(os.stat(cfg).st_mode):  # a pipe named config.json must not block
            return None
        with open(cfg, "rb") as fh:
            raw = fh.read(MAX_CONFIG_SEARCHED)
    except (OSError, ValueError):
        return None
    try:
        if len(raw) <= MAX_CONFIG:
            doc = jsonsafe.loads(raw)
            return doc.get("auto_map") if isinstance(doc, dict) else None
    except jsonsafe.ShapeError:
        pass  # too deep: search its text below
    except (ValueError, RecursionError):  # not JSON at all (bad syntax or UTF-8): nothing loads it
        return None
    m = _AUTO_MAP.search(raw)
    try:
        return jsonsafe.loads(m.group(1)) if m else None
    except (ValueError, RecursionError):
        return None
