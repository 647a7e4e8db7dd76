"""Remote code: Python files transformers imports (auto_map, trust_remote_code), read with ast.

This code runs when the model is loaded, so what cannot be read or parsed here is *high*: we could
not judge it. Parsing is bounded (catalog/python_code.parse_bounded); auto_map references that
leave the model folder are never read (catalog/hf_config.module_file).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...catalog.lineage import text
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
    "import_module",
    "spawnl",
    "spawnv",
    "execl",
    "execlp",
    "execvp",
    "posix_spawn",
    "fork",
    "startfile",
    "getoutput",
    "getstatusoutput",
    "run_path",
    "run_module",
    "CDLL",
    "LoadLibrary",
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
    "posix",
    "nt",
    "runpy",
    "commands",
    "urllib3",
    "httpx",
    "ftplib",
    "telnetlib",
    "smtplib",
    "webbrowser",
}
MAX_CALLS_LISTED = 20


def remote_code(rep: FileReport, path: Path) -> None:
    """A Python file that transformers imports (auto_map, custom_pipelines, or a relative import of
    one of those): what it imports and calls, and which relative imports it names that are not here.

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
        source = decode_source(raw)
    except (SyntaxError, LookupError, UnicodeDecodeError) as e:
        rep.add(
            "high",
            "remote-code.unparsable",
            f"remote code cannot be decoded as Python decodes it ({_err(e)}): it was not reviewed",
        )
        return
    try:
        tree = parse_bounded(source, rep.path)
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
    _unreviewed_imports(rep, path, raw, tree)
    imports: set[str] = set()
    for node in ast.walk(tree):  # iterative, whatever the depth
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0][:100] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0][:100])
    calls = risky_calls(tree)
    risky = sorted(imports & RISKY_MODULES)
    names = sorted(imports)
    listed = ", ".join(names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30 else "")
    rep.add(
        "medium",
        "remote-code.present",
        f"runs as model code when the model is loaded; imports {listed or 'nothing'}",
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


_CODE_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
_NAMESPACES = {"globals", "vars", "locals"}  # calls whose result maps names to objects


def risky_calls(tree: Any) -> list[tuple[str, int]]:
    """(what is called, line) for each call that runs code, a process, the network or a file operation,
    with callees resolved through the module's imports (``import os as o``, ``from os import system``,
    ``from os import *``, attribute chains such as ``os.path.os.system``, ``getattr(os, "system")``), and
    each lookup of a name computed when run in a module, the builtins or a namespace (``getattr(os, x)``,
    ``__builtins__[x]``, ``globals()[x]``): what it reaches cannot be known without running it."""
    import ast

    aliases: dict[str, str] = {}
    stars: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                if a.name == "*":
                    stars.add(node.module.split(".")[0])
                else:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def dotted(e: Any) -> str | None:
        parts: list[str] = []
        while isinstance(e, ast.Attribute):
            parts.append(e.attr)
            e = e.value
        if isinstance(e, ast.Name):
            root = "builtins" if e.id == "__builtins__" else aliases.get(e.id, e.id)
        elif isinstance(e, ast.Subscript) and _const_str(e.slice):
            key = e.slice.value  # type: ignore[attr-defined]
            inner = dotted(e.value)
            if inner == "sys.modules":
                root = key  # sys.modules["os"] is os
            elif inner in ("builtins", "builtins.__dict__"):
                root = f"builtins.{key}"  # __builtins__["exec"], builtins.__dict__["exec"]
            elif _namespace_call(e.value):
                # globals()["exec"] is exec; vars(os)["system"] is os.system
                args = e.value.args  # type: ignore[attr-defined]
                base = dotted(args[0]) if args else None
                root = f"{base}.{key}" if base else key
            else:
                return None
        elif _is_getattr(e) and isinstance(e.args[1], ast.Constant) and isinstance(e.args[1].value, str):
            inner = dotted(e.args[0])  # getattr(os, "system") is os.system
            if inner is None:
                return None
            root = f"{inner}.{e.args[1].value}"
        else:
            return None
        return ".".join([root, *reversed(parts)])

    def risky(name: str) -> bool:
        top, _, rest = name.partition(".")
        last = name.rsplit(".", 1)[-1]
        if not rest:
            return name in _CODE_BUILTINS or (last in RISKY_CALLS and bool(stars & RISKY_MODULES))
        if top == "builtins":
            return rest in _CODE_BUILTINS
        return top in RISKY_MODULES and last in RISKY_CALLS

    def namespace(e: Any, key: Any) -> bool:  # __builtins__[x], builtins.__dict__[x], globals()[x], sys.modules[x]
        if _const_str(key):
            return False  # a constant name is resolved like any other (dotted)
        d = dotted(e)
        if d in ("builtins", "builtins.__dict__"):
            return True
        if d == "sys.modules":
            return not (isinstance(key, ast.Name) and key.id == "__name__")  # the module itself
        return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in _NAMESPACES

    calls: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name == "importlib.import_module" and node.args:  # an import by name: judged by the name
                arg = node.args[0]
                if not _const_str(arg):
                    calls.append(("importlib.import_module(<computed name>)", node.lineno))
                elif arg.value.lstrip(".").split(".")[0] in RISKY_MODULES:  # type: ignore[attr-defined]
                    calls.append((f"importlib.import_module({arg.value[:60]!r})", node.lineno))  # type: ignore[attr-defined]
            elif name is not None and risky(name):
                spelled = ast.unparse(node.func)[:100]
                calls.append((spelled if spelled == name else f"{spelled} ({name})", node.lineno))
            elif _is_getattr(node) and not isinstance(node.args[1], ast.Constant):
                target = dotted(node.args[0])
                if namespace(node.args[0], None) or (target is not None and target.split(".")[0] in RISKY_MODULES):
                    calls.append((f"getattr({ast.unparse(node.args[0])[:60]}, <computed name>)", node.lineno))
        elif isinstance(node, ast.Subscript) and namespace(node.value, node.slice):
            calls.append((f"{ast.unparse(node.value)[:60]}[<name>]", node.lineno))
    # A risky callable handed over without being called here (functools.partial(os.system, ...), map(eval, ...),
    # Thread(target=os.system)) runs all the same: referenced is as risky as called.
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in called and isinstance(node.ctx, ast.Load):
            name = dotted(node)
            if name is not None and "." in name and risky(name) or name in ("eval", "exec", "builtins.exec"):
                calls.append((f"{ast.unparse(node)[:100]} (passed as a value: called elsewhere)", node.lineno))
    return calls


def _namespace_call(e: Any) -> bool:
    import ast

    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in _NAMESPACES


def _const_str(e: Any) -> bool:
    import ast

    return isinstance(e, ast.Constant) and isinstance(e.value, str)


def _is_getattr(e: Any) -> bool:
    import ast

    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "getattr" and len(e.args) >= 2


def _err(e: BaseException) -> str:
    from ...guard import describe

    return describe(e)


def decode_source(raw: bytes) -> str:
    """Source text as the interpreter decodes it (PEP 263 coding cookie, BOM): a module declaring
    ``# coding: utf-7`` is read in UTF-7, as importlib runs it. Raises SyntaxError, LookupError or
    UnicodeDecodeError for source Python itself would refuse."""
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    text = raw.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


# transformers' own reading of relative imports (dynamic_module_utils.get_relative_imports): every
# file these name is copied into (or, for a hub repo, downloaded to) the module cache beside the
# module, whatever Python later executes.
_TF_IMPORT = re.compile(r"^\s*import\s+\.(\S+)\s*$", re.M)
_TF_FROM = re.compile(r"^\s*from\s+\.(\S+)\s+import", re.M)


@dataclass
class RelativeImport:
    file: str | None  # posix path relative to the module's folder; None: it leaves the model folder
    line: int
    spelled: str
    required: bool  # transformers needs the file (copies or downloads it); else only Python may import it


def relative_imports(raw: bytes, tree: Any) -> list[RelativeImport]:
    """The files a module's relative imports name: transformers' reading of its text (the files it
    copies or fetches) and Python's reading of its syntax tree (what ``import`` runs)."""
    import ast

    text = raw.decode("utf-8", "replace")
    out: list[RelativeImport] = []
    for rx in (_TF_IMPORT, _TF_FROM):
        line, at = 1, 0
        for m in rx.finditer(text):  # in order: lines counted from the previous match (linear)
            line += text.count("\n", at, m.start())
            at = m.start()
            name = m.group(1)
            out.append(RelativeImport(_inside(f"{name}.py"), line, "." + name[:100], True))
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        spelled = "." * node.level + (node.module or "")
        if node.level > 1:  # the package above the model's module folder: not this model's code
            out.append(RelativeImport(None, node.lineno, spelled[:100], True))
            continue
        base = node.module.replace(".", "/") if node.module else ""
        if base:
            out.append(RelativeImport(_inside(f"{base}.py"), node.lineno, spelled[:100], False))
            out.append(RelativeImport(_inside(f"{base}/__init__.py"), node.lineno, spelled[:100], False))
        for alias in node.names:  # `from . import helper`, `from .pkg import sub`: submodules when files
            if alias.name != "*":
                sub = f"{base}/{alias.name}" if base else alias.name
                out.append(RelativeImport(_inside(f"{sub}.py"), node.lineno, spelled[:100], False))
    return out


def _inside(rel: str) -> str | None:
    """``rel`` when it stays inside the module's folder, else None."""
    parts = rel.split("/")
    if rel.startswith(("/", "\\")) or any(p in ("", "..") for p in parts) or ":" in rel:
        return None
    return rel


def _unreviewed_imports(rep: FileReport, path: Path, raw: bytes, tree: Any) -> None:
    """A relative import transformers needs whose file is not in the model folder: loading fetches it
    (from the model's hub repo) or fails; either way that code was not reviewed here."""
    seen: set[str | None] = set()
    for imp in relative_imports(raw, tree):
        if not imp.required or imp.file in seen:
            continue
        seen.add(imp.file)
        if imp.file is None:
            rep.add(
                "high",
                "remote-code.unreviewed-import",
                f"imports {imp.spelled!r} (line {imp.line}): code from outside the model folder runs when the "
                "model is loaded and was not reviewed",
                f"{rep.path}:{imp.line}",
            )
        elif not (path.parent / imp.file).is_file():
            rep.add(
                "high",
                "remote-code.unreviewed-import",
                f"imports {imp.spelled!r} (line {imp.line}) but {imp.file} is not in the model folder: transformers "
                "fetches it from the model's repository when loading (or fails); that code was not reviewed",
                f"{rep.path}:{imp.line}",
            )
        if len(seen) > MAX_CALLS_LISTED:
            break


# Files whose auto_map (or custom_pipelines) transformers follows: the model's, the tokenizer's, the
# processors' (image, video, audio tokenizer). Keys read at their top level.
CONFIG_KEYS = {"auto_map", "custom_pipelines"}
AUTO_MAP_FILES = {
    "config.json",
    "tokenizer_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "video_preprocessor_config.json",
    "audio_tokenizer_config.json",
    # sentence-transformers: each module's "type" outside its own namespace is imported from the model folder
    # (transformers' get_class_from_dynamic_module); before 6.0 without trust_remote_code for local folders
    "modules.json",
    # diffusers: a component ["module", "Class"] whose <component>/module.py exists, and a list _class_name
    # whose module.py exists, are imported from the folder (pipeline_loading_utils: custom components/pipelines)
    "model_index.json",
    # PEFT: auto_mapping.parent_library is imported by name (peft/auto.py; allowlisted only in recent PEFT)
    "adapter_config.json",
}
# PEFT's own import allowlist (peft/auto.py get_default_import_allowlist): anything else is code chosen by the file.
PEFT_LIBRARIES = ("diffusers", "lerobot", "megatron-core", "transformers")
# A config too large or too deep to parse may still name remote code that transformers (which has no
# such limits) imports: its top-level keys are then read from its bytes, the whole file (jsontop); one
# value (an auto_map) is read up to this size.
MAX_CONFIG_SEARCHED = 64 << 20
# A model folder's own generate(): from_pretrained(..., trust_remote_code=True) imports it for any  # safe: comment
# architecture (transformers generation/utils.py load_custom_generate), no config names it.
CUSTOM_GENERATE = "custom_generate/generate.py"
MAX_MODULES = 1000  # modules followed through relative imports (real repositories: a handful)


@dataclass
class ConfigCode:
    """What a config makes transformers import: (where in the config, class reference) pairs, and
    why parts of it could not be searched (each is a high finding: what it names was not reviewed)."""

    refs: list[tuple[str, str]] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)


def config_code(cfg: Path) -> ConfigCode:
    """The class references of a config's auto_map (every string at any depth: transformers reads
    strings, [slow, fast] pairs and {backend: ref} maps) and of its custom_pipelines' ``impl``."""
    import stat

    from ... import jsonsafe
    from ...catalog.hf_config import MAX_CONFIG

    out = ConfigCode()
    try:
        st = os.stat(cfg)
        if not stat.S_ISREG(st.st_mode):  # a pipe named config.json must not block
            return out
        raw = b""
        if st.st_size <= MAX_CONFIG:
            with open(cfg, "rb") as fh:
                raw = fh.read(MAX_CONFIG + 1)
    except (OSError, ValueError):
        return out  # unreadable: the walk and the cataloger report it
    if raw and len(raw) <= MAX_CONFIG:
        try:
            doc = jsonsafe.loads(raw)
        except jsonsafe.ShapeError:
            doc = None  # too deep for the tree reader: its top-level keys are read from the bytes below
        except (ValueError, RecursionError):  # not JSON at all (bad syntax or UTF-8): nothing loads it
            return out
        if doc is not None:
            if isinstance(doc, dict):
                for key in sorted(CONFIG_KEYS):
                    _refs(out, key, doc.get(key))
            if cfg.name == "model_index.json" and isinstance(doc, dict):
                out.refs.extend(_diffusers_refs(cfg.parent, doc))
            elif cfg.name == "modules.json" and isinstance(doc, list):
                out.refs.extend(
                    (f"modules[{i}].type", m["type"])
                    for i, m in enumerate(doc)
                    if isinstance(m, dict) and _st_local(m.get("type"))
                )
            return out
    if cfg.name in ("modules.json", "model_index.json"):
        out.unjudged.append("too large or deep to parse: the modules it names were not read")
        return out
    try:
        values = _top_level_of_file(cfg)
    except (OSError, ValueError) as e:
        out.unjudged.append(f"cannot be read to its end ({_err(e)})")
        return out
    for key, texts in sorted(values.items()):
        for value in texts:
            if not value:
                out.unjudged.append(f"its {key} is larger than the {MAX_CONFIG_SEARCHED:,} bytes aitrail reads")
                continue
            try:
                doc = jsonsafe.loads(value)
            except (ValueError, RecursionError) as e:
                out.unjudged.append(f"its {key} cannot be read ({_err(e)})")
                continue
            _refs(out, key, doc)
    return out


def _top_level_of_file(cfg: Path) -> dict[str, list[bytes]]:
    """The wanted top-level values of a config of any size, memory-mapped (read in place, not loaded)."""
    import mmap

    from .jsontop import top_level

    with open(cfg, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return {}
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return top_level(mm, CONFIG_KEYS, max_value=MAX_CONFIG_SEARCHED)


def _diffusers_refs(folder: Path, doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Custom diffusers code a model_index.json makes the loader import: only modules whose file is in the
    folder (other names are libraries: "diffusers", "transformers")."""
    out = []
    for key, value in doc.items():
        if not (isinstance(value, list) and len(value) >= 2 and isinstance(value[0], str) and value[0]):
            continue
        if not _SEGMENT.match(value[0]) or not (key == "_class_name" or _SEGMENT.match(str(key))):
            continue
        rel = f"{value[0]}.py" if key == "_class_name" else f"{key}/{value[0]}.py"
        if (folder / rel).is_file():
            out.append((f"{key}[0]", f"{rel[:-3]}.{value[1] if isinstance(value[1], str) else 'X'}"))
    return out


_SEGMENT = re.compile(r"^[\w\-]+$")


def _st_local(ref: object) -> bool:
    """A sentence-transformers module type loaded from the model folder: outside its namespace and of
    the 'module.Class' form get_class_from_dynamic_module takes (deeper paths import installed packages)."""
    return isinstance(ref, str) and not ref.startswith("sentence_transformers.") and ref.count(".") == 1


def _refs(out: ConfigCode, key: str, value: object) -> None:
    todo: list[tuple[str, object]] = [(key, value)]
    while todo:
        where, v = todo.pop()
        if isinstance(v, str) and v and (key == "auto_map" or where.endswith(".impl")):
            out.refs.append((where, v))
        elif isinstance(v, dict):
            todo.extend((f"{where}.{str(k)[:60]}", x) for k, x in v.items())
        elif isinstance(v, list):
            todo.extend((f"{where}[{i}]", x) for i, x in enumerate(v))
    out.refs.sort()


def config_findings(rep: FileReport, cfg: Path) -> None:
    """A config's remote-code problems that no module file can carry: parts not searched, code in
    another repository, module files that are not in the folder (transformers fetches them)."""
    from ...catalog.hf_config import module_file

    found = config_code(cfg)
    if cfg.name == "adapter_config.json":
        _peft_import(rep, cfg)
    for why in found.unjudged:
        rep.add(
            "high",
            "remote-code.limit-exceeded",
            f"{why}: remote code it names (auto_map, custom_pipelines) was not reviewed",
        )
    external: dict[str, str] = {}
    missing: dict[str, str] = {}
    for where, ref in found.refs:
        path, problem = module_file(ref)
        if problem is not None:
            continue  # the config.json cataloger reports references that leave the folder or name nothing
        if "--" in ref:
            external.setdefault(path, where)
        elif not (cfg.parent / path).is_file():
            missing.setdefault(path, where)
    for path, where in list(external.items())[:MAX_CALLS_LISTED]:
        rep.add(
            "high",
            "remote-code.external",
            f"{where} makes transformers import {text(path)} from another repository: that code runs when the model "
            "is loaded and was not reviewed (scan that repository, pin its revision)",
            f"{rep.path}:{where}",
        )
    for path, where in list(missing.items())[:MAX_CALLS_LISTED]:
        rep.add(
            "high",
            "remote-code.missing",
            f"{where} makes transformers import {text(path)}, which is not in this folder: loading fetches it from "
            "the model's repository (or fails); that code was not reviewed",
            f"{rep.path}:{where}",
        )


def _peft_import(rep: FileReport, cfg: Path) -> None:
    from ... import jsonsafe

    try:
        with open(cfg, "rb") as fh:
            doc = jsonsafe.loads(fh.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return  # the adapter cataloger reports a config it cannot read
    mapping = doc.get("auto_mapping") if isinstance(doc, dict) else None
    if not isinstance(mapping, dict):
        return
    lib = mapping.get("parent_library")
    if lib is None or (isinstance(lib, str) and any(lib == a or lib.startswith(a + ".") for a in PEFT_LIBRARIES)):
        return
    rep.add(
        "high",
        "remote-code.config-import",
        f"auto_mapping.parent_library {text(str(lib), 100)!r}: PEFT's AutoPeftModel imports it by name and calls "
        f"its {text(str(mapping.get('base_model_class')), 60)}.from_pretrained (PEFT before its import allowlist "
        "does so for any name): code outside the libraries PEFT trusts",
        f"{rep.path}:auto_mapping.parent_library",
    )


def auto_map_files(root: Path, files: Iterable[Path] | None = None) -> set[Path]:
    """Python files transformers may import from this folder (real paths): the modules every config's
    auto_map and custom_pipelines name, a model's custom_generate/generate.py, sentence-transformers and
    diffusers custom modules, every module their relative imports reach (transformers' reading and
    Python's, as its dynamic_module_utils does), and the code an MLflow model's loader runs (mlflow.py).

    ``files``: the files already walked under ``root`` (the walk decides which files are regular and
    which links may be followed); without it, ``root`` is walked the same way. Only files among them
    count: a reference that leaves the folder (absolute, '..') is never read, and the config.json
    cataloger reports it.
    """
    from ...catalog.hf_config import module_file

    if files is None:
        if not root.is_dir():
            return set()
        from ...errors import InputError
        from ...inputs import resolve, walk

        try:  # the same units (and symlink boundaries: a cache snapshot links into its repo) as a scan
            files = [p for unit in resolve(root) for p in walk(unit)[0]]
        except (InputError, OSError):
            return set()
    files = list(files)
    walked: dict[Path, Path] = {}
    for p in files:
        real = _real(p)
        if real is not None:
            walked[real] = p
    out: set[Path] = set()
    todo: list[Path] = []
    for cfg in files:
        if cfg.name not in AUTO_MAP_FILES:
            continue
        modules = [cfg.parent / CUSTOM_GENERATE] if cfg.name == "config.json" else []
        for _where, ref in config_code(cfg).refs:
            path, problem = module_file(ref)
            if problem is None and "--" not in ref:
                modules.append(cfg.parent / path)
        for m in modules:
            real = _real(m)
            if real is not None and real not in out and (real in walked or m.name != "generate.py"):
                out.add(real)
                todo.append(real)
    while todo:  # the relative-import closure, over walked files only
        if len(out) >= MAX_MODULES:  # never a silent stop: past the limit every Python file here is reviewed
            out |= {real for real in walked if real.suffix == ".py"}
            break
        mod = todo.pop()
        if mod not in walked:
            continue
        for rel in _module_imports(walked[mod]):
            real = _real(walked[mod].parent / rel)
            if real is not None and real in walked and real not in out:
                out.add(real)
                todo.append(real)
    if any(f.name == "MLmodel" for f in files):  # MLflow models run their own loader and code paths
        from .mlflow import mlflow_files

        out |= mlflow_files(files)
    return out


def _module_imports(path: Path) -> list[str]:
    """The files a module's relative imports name (by its text alone when it cannot be parsed: its own
    review reports that, high)."""
    from ...catalog.python_code import MAX_SOURCE, SourceLimit, parse_bounded

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SOURCE + 1)
    except (OSError, ValueError):
        return []
    try:
        tree = parse_bounded(decode_source(raw), str(path)) if len(raw) <= MAX_SOURCE else None
    except (ValueError, SyntaxError, LookupError, SourceLimit):
        tree = None  # transformers' own reading of the text still copies what it names
    return sorted({imp.file for imp in relative_imports(raw, tree) if imp.file})


def _real(p: Path) -> Path | None:
    try:
        return Path(os.path.realpath(p))
    except (OSError, ValueError):
        return None
