"""Other model formats: Keras configs, HDF5 and SavedModel byte searches, GGUF chat templates,
and what the ONNX and safetensors catalogers found."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...catalog.base import CatalogError, FileRef
from ...catalog.lineage import text
from ...guard import describe
from ...model import Finding, Severity
from .report import SEVERITIES, FileReport, rules

MAX_SCAN_BYTES = 64 << 20  # byte searches (HDF5 configs, SavedModel graphs) read at most this much


MAX_KERAS_NODES = 5_000_000  # objects and lists walked in a Keras config (real ones: thousands)
MAX_KERAS_LISTED = 10  # findings of one rule listed per file; the rest counted in one more
# Functions Keras 3 serialises as {"module": "builtins", "class_name": "function", "config": NAME}:
# names that run or reach code, never a layer's activation or a shape helper.
_BUILTIN_CODE = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "breakpoint",
    "input",
    "help",
    "memoryview",
    "exit",
    "quit",
}


# Functions inside Keras itself that a config can name and loading then calls: downloads, turning
# safe mode off, loading another model (CVE-2025-8747, CVE-2025-9905/9906 and their variants).
_KERAS_GADGETS = {
    "get_file",
    "enable_unsafe_deserialization",
    "load_model",
    "load_weights",
    "set_value",
    "deserialize_keras_object",
}
# Layers that load code or graphs from outside the file when the model is built.
_KERAS_LOADERS = {"TFSMLayer"}


def keras_config(report: FileReport, doc: Any, where: str) -> None:
    """Judge every object of a Keras config, at any nesting depth (an explicit stack, no recursion):
    Lambda layers, objects resolved from modules outside Keras, builtins that run code."""
    allowed = [a.rstrip(".") for a in rules()["keras"]["allowed_modules"] if a]
    counts: dict[str, int] = {}

    severity_of: dict[str, str] = {}

    def add(severity: str, rule: str, message: str) -> None:
        counts[rule] = counts.get(rule, 0) + 1
        severity_of[rule] = max(severity_of.get(rule, severity), severity, key=SEVERITIES.index)
        if counts[rule] <= MAX_KERAS_LISTED:
            report.add(severity, rule, f"{where}: {message}", where)

    todo = [doc]
    walked = 0
    while todo:
        node = todo.pop()
        walked += 1
        if walked > MAX_KERAS_NODES:
            report.add(
                "high",
                "keras.limit-exceeded",
                f"{where}: more than {MAX_KERAS_NODES:,} objects in the model config: the rest not judged",
                where,
            )
            break
        if isinstance(node, dict):
            cls, mod = node.get("class_name"), node.get("module")
            if cls == "Lambda":
                add("critical", "keras.lambda", "Lambda layer: its Python code runs when the model is loaded or called")
            if isinstance(mod, str) and not any(mod == a or mod.startswith(a + ".") for a in allowed):
                add(
                    "critical",
                    "keras.module-injection",
                    f"object resolved from module {text(mod, 100)!r} ({text(cls, 100)}): not a Keras module",
                )
            elif mod == "builtins" and isinstance(node.get("config"), str) and node["config"] in _BUILTIN_CODE:
                add(
                    "critical",
                    "keras.module-injection",
                    f"builtins.{node['config']} as a {text(cls, 100)}: Python code runs when the model is loaded",
                )
            elif cls == "function" and isinstance(node.get("config"), str) and node["config"] in _KERAS_GADGETS:
                add(
                    "critical",
                    "keras.dangerous-function",
                    f"{text(mod, 100)}.{node['config']} named as a function: loading calls it (downloads, "
                    "safe-mode off or another model loaded)",
                )
            if isinstance(cls, str) and cls in _KERAS_LOADERS:  # any JSON type may stand where a name should
                add(
                    "high",
                    "keras.external-loader",
                    f"{text(cls, 100)} layer: building the model loads a SavedModel from a path in the config, "
                    "outside this file",
                )
            todo.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            todo.extend(v for v in node if isinstance(v, (dict, list)))
    for rule, n in counts.items():
        if n > MAX_KERAS_LISTED:
            report.add(
                severity_of[rule], rule, f"{where}: {n - MAX_KERAS_LISTED} more {rule} findings not listed", where
            )


# Fallback when the config cannot be parsed (nested deeper than the JSON limit, malformed): the
# same judgements read from the text, at any depth. JSON escapes in names are not decoded here:
# "L\u0061mbda" is caught because the parse failure itself is high.
_KERAS_CLASS = re.compile(rb'"class_name"\s*:\s*"Lambda"')
_KERAS_MODULE = re.compile(rb'"module"\s*:\s*"([^"\\]{0,200})"')


def keras_config_bytes(report: FileReport, raw: bytes, where: str) -> None:
    """A Keras config as stored (``config.json`` of a ``.keras`` zip, an HDF5 attribute): parsed with
    the depth-limited JSON reader and judged; one that cannot be parsed is itself high (we could
    not judge what loading it builds), and its text is still searched for what would be critical."""
    from ... import jsonsafe

    try:
        doc = jsonsafe.loads(raw)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, ShapeError, bad UTF-8, huge numbers
        report.add(
            "high",
            "keras.config-unreadable",
            f"{where}: model config cannot be read ({describe(e)}): what loading it builds was not judged",
            where,
        )
        if _KERAS_CLASS.search(raw):
            report.add(
                "critical",
                "keras.lambda",
                f"{where}: Lambda layer: its Python code runs when the model is loaded or called",
                where,
            )
        allowed = [a.rstrip(".") for a in rules()["keras"]["allowed_modules"] if a]
        bad = sorted(
            {
                m.decode("utf-8", "backslashreplace")
                for m in _KERAS_MODULE.findall(raw)
                if not any(m.decode("utf-8", "replace") == a or m.startswith(a.encode() + b".") for a in allowed)
            }
        )
        if bad:
            report.add(
                "critical",
                "keras.module-injection",
                f"{where}: objects resolved from modules {', '.join(text(m, 100) for m in bad[:5])}: not Keras modules",
                where,
            )
        return
    keras_config(report, doc, where)


def search_bytes(path: Path, needles: list[bytes]) -> set[bytes]:
    """Which byte strings occur in the first MAX_SCAN_BYTES of a file (streamed, overlapping chunks)."""
    found: set[bytes] = set()
    keep = max(map(len, needles)) - 1
    tail = b""
    with open(path, "rb") as fh:
        read = 0
        while read < MAX_SCAN_BYTES:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            read += len(chunk)
            buf = tail + chunk
            found.update(n for n in needles if n in buf)
            tail = buf[-keep:]
    return found


def gguf_templates(report: FileReport, ref: FileRef) -> None:
    """Chat templates in a GGUF header. The header is read up to the end of its key-values; one that
    cannot be read there is high: its templates, which llama.cpp-based servers render, were not judged."""
    from ...catalog.gguf import Skipped, read_header

    try:
        _v, kv, _t, _end = read_header(ref, kv_only=True)
    except CatalogError as e:
        report.add(
            "high",
            "gguf.malformed",
            f"{str(e).split(': ', 1)[-1]} (its chat templates could not be judged)",
        )
        return
    for key, val in kv.items():
        if not key.startswith("tokenizer.chat_template"):
            continue
        where = f"{ref.rel}:{text(key, 100)}"
        if isinstance(val, Skipped):
            report.add(
                "high",
                "gguf.limit-exceeded",
                f"chat template {text(key, 100)} is {val.length} bytes, more than aitrail reads: not judged",
                where,
            )
        elif isinstance(val, str):
            chat_template(report, val, f"chat template {text(key, 100)}", where, "gguf")


MAX_TEMPLATE = 256 << 10  # characters of a chat template parsed (real ones: a few KB, the largest ~30 KB; ~1 s)
MAX_TEMPLATE_NODES = 200_000


def chat_template(report: FileReport, tmpl: str, what: str, where: str, prefix: str = "chat-template") -> None:
    """Judge a Jinja chat template without rendering it: known sandbox-escape spellings by text, then
    Jinja's own parser, walked (iteratively) for attribute or item access to names starting with '_'
    however the name is spelt ('__cla' ~ 'ss__', |attr(...), [...]) and for |attr with a computed
    name. A template too large or too deep to parse is high: it is rendered, and we could not judge it."""
    if len(tmpl) > MAX_TEMPLATE:
        report.add(
            "high",
            f"{prefix}.limit-exceeded",
            f"{what} is {len(tmpl)} characters, more than the {MAX_TEMPLATE} aitrail judges: not judged",
            where,
        )
        return
    bad = rules()["jinja"]["dangerous"]
    hits = sorted({b for b in bad if b in tmpl})
    if hits:
        report.add(
            "critical",
            f"{prefix}.chat-template-injection" if prefix == "gguf" else f"{prefix}.injection",
            f"{what} uses {', '.join(hits[:5])}: Jinja sandbox escape (server-side template injection, CVE-2024-34359)",
            where,
        )
    for severity, why in _template_walk(tmpl)[:5]:
        if severity == "unparsable":
            report.add("medium", f"{prefix}.unparsable", f"{what} does not parse as Jinja ({why})", where)
        elif severity == "limit":
            report.add("high", f"{prefix}.limit-exceeded", f"{what}: {why}: not judged", where)
        elif not hits or severity != "critical":
            report.add(
                severity,
                f"{prefix}.chat-template-injection" if prefix == "gguf" else f"{prefix}.injection",
                f"{what} {why}: Jinja sandbox escape (server-side template injection)",
                where,
            )


@lru_cache(maxsize=1)
def _jinja() -> Any:
    """A Jinja environment that parses what chat templates use: loop controls, and transformers'
    {% generation %} blocks (assistant masks). It is only ever asked to parse, never to render."""
    from jinja2 import Environment, nodes
    from jinja2.ext import Extension

    class Generation(Extension):
        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    return Environment(extensions=["jinja2.ext.loopcontrols", Generation])


# files transformers reads chat templates from (processor_config.json before chat_template.json existed;
# any .jinja, e.g. additional_chat_templates/<name>.jinja, is judged too)
TEMPLATE_FILES = ("tokenizer_config.json", "chat_template.json", "chat_template.jinja", "processor_config.json")


MAX_TEMPLATES_JUDGED = 2 << 20  # characters of distinct chat templates parsed per file (real files: < 100 KB)


def chat_template_file(report: FileReport, path: Path, shown: str) -> None:
    """The chat templates of a tokenizer_config.json, chat_template.json, processor config or .jinja
    file (the files transformers renders them from), judged like a GGUF's: every entry (a string, a
    list of {name, template}, a {name: template} map), each string at any depth. A file too deep for
    the bounded JSON reader is still loaded by transformers: its chat_template is then read from the
    text. A file that is not JSON at all is never rendered (its cataloger reports it)."""
    from ... import jsonsafe

    name = path.name
    with open(path, "rb") as fh:
        raw = fh.read(MAX_SCAN_BYTES + 1)
    if len(raw) > MAX_SCAN_BYTES:
        report.add("high", "chat-template.limit-exceeded", f"more than {MAX_SCAN_BYTES} bytes: templates not judged")
        return
    if name.endswith(".jinja"):
        chat_template(report, raw.decode("utf-8", "replace"), "chat template", shown)
        return
    values: list[Any] = []
    try:
        doc = jsonsafe.loads(raw)
    except jsonsafe.ShapeError:
        values = _deep_templates(report, raw, shown)
    except (ValueError, RecursionError):
        return
    else:
        if isinstance(doc, dict) and "chat_template" in doc:
            values = [doc["chat_template"]]
    named: dict[str, str] = {}  # template text -> the first key it was found under (judged once)
    for value in values:
        for key, body in _templates(value):
            named.setdefault(body, key)
    budget = MAX_TEMPLATES_JUDGED
    skipped = 0
    for body, key in named.items():
        if len(body) > budget:
            skipped += 1
            continue
        budget -= len(body)
        chat_template(report, body, f"chat template {key}", f"{shown}:{key}")
    if skipped:
        report.add(
            "high",
            "chat-template.limit-exceeded",
            f"{skipped} of {len(named)} distinct chat templates not judged: more than the {MAX_TEMPLATES_JUDGED:,} "
            "characters of templates aitrail judges per file (each may be the one rendered)",
            shown,
        )


def _deep_templates(report: FileReport, raw: bytes, shown: str) -> list[Any]:
    """The chat_template values of a config nested past the JSON reader's depth limit, read from its
    text; a value itself too deep to read is high (not judged)."""
    from ... import jsonsafe
    from .jsontop import top_level

    try:
        found = top_level(raw.decode("utf-8"), {"chat_template"}).get("chat_template", [])
    except UnicodeDecodeError:
        return []  # transformers reads these files as UTF-8: this one does not load
    values = []
    for value in found:
        try:
            values.append(jsonsafe.loads(value))
        except (ValueError, RecursionError) as e:
            report.add(
                "high",
                "chat-template.limit-exceeded",
                f"chat_template cannot be read ({describe(e)}): transformers renders it; not judged",
                shown,
            )
    return values


def _templates(value: Any) -> list[tuple[str, str]]:
    """(key, template) for every string of a chat_template value, at any depth, in document order,
    except entry names: ``chat_template``, ``chat_template[default]`` (a named entry or a map key)."""
    from collections import deque

    out: list[tuple[str, str]] = []
    todo: deque[tuple[str, Any]] = deque([("chat_template", value)])
    while todo:
        key, v = todo.popleft()
        if isinstance(v, str):
            out.append((key, v))
        elif isinstance(v, dict):
            named = isinstance(v.get("name"), str)
            todo.extend((key if k == "template" and named else f"{key}[{text(k, 60)}]", x) for k, x in v.items()
                        if not (named and k == "name"))
        elif isinstance(v, list):
            todo.extend(
                (f"{key}[{text(x['name'], 60)}]" if isinstance(x, dict) and isinstance(x.get("name"), str)
                 else f"{key}[{i}]", x)
                for i, x in enumerate(v)
            )
    return out


# Filters that make a string from their input: a key built with them can spell any name.
_STRING_FILTERS = frozenset({"join", "format", "replace", "string", "lower", "upper", "trim", "reverse", "e",
                             "escape", "capitalize", "title", "center", "urlencode", "safe", "forceescape"})
_ROOTS = frozenset({"cycler", "joiner", "lipsum", "namespace", "self", "range", "dict", "config", "request"})


def _template_walk(tmpl: str) -> list[tuple[str, str]]:
    """(severity, why) for what the parsed template does; ("unparsable"|"limit", why) when it cannot be
    parsed. Parsing never renders: no template code runs."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = _jinja().parse(tmpl)
    except TemplateSyntaxError as e:
        return [("unparsable", f"line {e.lineno}: {text(e.message, 100)}")]
    except (RecursionError, MemoryError):
        return [("limit", "nested too deeply for Jinja's parser")]

    # Names set to constant strings ({% set u = '%c%c'|format(95, 95) %}): attribute names built from
    # them are followed, so `x[u ~ 'init' ~ u]` is read as `x['__init__']`.
    known: dict[str, str] = {}

    def const(n: Any, depth: int = 0) -> str | None:
        """The string an expression always evaluates to, when it is made of constants, names set to
        constants, ~ / + and the string filters below; None otherwise. Never renders anything."""
        if depth > 50:
            return None
        if isinstance(n, nodes.Const):
            return n.value if isinstance(n.value, str) else None
        if isinstance(n, nodes.Name):
            return known.get(n.name)
        if isinstance(n, nodes.Concat):
            parts = [const(x, depth + 1) for x in n.nodes]
            return None if None in parts else "".join(parts)  # type: ignore[arg-type]
        if isinstance(n, nodes.Add):
            a, b = const(n.left, depth + 1), const(n.right, depth + 1)
            return a + b if a is not None and b is not None else None
        if isinstance(n, nodes.Mul):  # '_' * 2
            for text_side, count_side in ((n.left, n.right), (n.right, n.left)):
                t = const(text_side, depth + 1)
                c = count_side.value if isinstance(count_side, nodes.Const) else None
                if t is not None and isinstance(c, int) and not isinstance(c, bool):
                    return (t * max(0, min(c, 200)))[:200]
            return None
        if isinstance(n, nodes.CondExpr):  # both branches the same constant ('__' if x else '__')
            a, b = const(n.expr1, depth + 1), const(n.expr2, depth + 1) if n.expr2 is not None else None
            return a if a is not None and a == b else None
        if isinstance(n, nodes.Filter) and n.node is not None:
            base = const(n.node, depth + 1)
            if base is None and n.name == "join" and isinstance(n.node, (nodes.List, nodes.Tuple)):
                items = [const(x, depth + 1) for x in n.node.items]
                sep = const(n.args[0], depth + 1) if n.args else ""
                return None if None in items or sep is None else sep.join(items)  # type: ignore[arg-type]
            if base is None:
                return None
            if n.name == "format" and "%" in base:
                vals = [x.value for x in n.args if isinstance(x, nodes.Const)]
                if len(vals) != len(n.args):
                    return None
                try:
                    return str(base % tuple(vals))[:200]
                except (TypeError, ValueError, OverflowError):
                    return None
            if n.name in ("lower", "upper", "trim", "string", "e", "reverse"):
                return {"lower": base.lower(), "upper": base.upper(), "trim": base.strip(), "reverse": base[::-1]}.get(
                    n.name, base
                )
            if n.name == "replace" and len(n.args) >= 2:
                a, b = const(n.args[0], depth + 1), const(n.args[1], depth + 1)
                return base.replace(a, b)[:200] if a is not None and b is not None else None
        return None

    # Names set to strings built when rendered ({% set k = x ~ 'y' %}): an item key made of them is
    # computed, and may spell any attribute.
    built: set[str] = set()

    def stringy(n: Any, depth: int = 0) -> bool:
        """True when an expression builds a string from parts (~, + or * with a string, string filters,
        a name set to one): as an item key it can spell any name, e.g. ('_' * 2) + 'class' + ('_' * 2)."""
        if depth > 50:
            return True
        if isinstance(n, nodes.Concat):
            return True
        if isinstance(n, nodes.Const):
            return False
        if isinstance(n, nodes.Name):
            return n.name in built
        if isinstance(n, (nodes.Add, nodes.Mul)):
            return any(
                (isinstance(x, nodes.Const) and isinstance(x.value, str)) or stringy(x, depth + 1)
                for x in (n.left, n.right)
            )
        if isinstance(n, nodes.CondExpr):
            return stringy(n.expr1, depth + 1) or (n.expr2 is not None and stringy(n.expr2, depth + 1))
        if isinstance(n, nodes.Filter):
            return n.name in _STRING_FILTERS or (n.node is not None and stringy(n.node, depth + 1))
        return False

    assigns = list(tree.find_all(nodes.Assign))
    for _ in range(3):  # names set from other names: a few rounds reach what real templates nest
        for a in assigns:
            if isinstance(a.target, nodes.Name):
                v = const(a.node)
                if v is not None:
                    known[a.target.name] = v
                elif stringy(a.node):
                    built.add(a.target.name)

    found: list[tuple[str, str]] = []
    todo: list[Any] = [tree]
    walked = 0
    while todo:
        n = todo.pop()
        walked += 1
        if walked > MAX_TEMPLATE_NODES:
            found.append(("limit", f"more than {MAX_TEMPLATE_NODES:,} nodes"))
            break
        name: str | None = None
        if isinstance(n, nodes.Getattr):
            name = n.attr
        elif isinstance(n, nodes.Getitem):
            name = const(n.arg)
            if name is None and stringy(n.arg):
                found.append(("high", "reads an item whose key is a string built when rendered"))
        elif isinstance(n, nodes.Name) and n.name.startswith("__"):
            name = n.name
        elif isinstance(n, nodes.Filter) and n.name == "attr":
            name = const(n.args[0]) if n.args else None
            if name is None:
                found.append(("high", "reads an attribute whose name is computed when rendered (|attr)"))
        if name is not None and name.startswith("_"):
            found.append(("critical" if name.startswith("__") else "high", f"reaches the attribute {text(name, 60)!r}"))
        if isinstance(n, (nodes.Getattr, nodes.Getitem)) and isinstance(n.node, nodes.Name) and n.node.name in _ROOTS:
            # Jinja's own global objects hold no data a chat template needs: reaching into one is how
            # sandbox escapes start (cycler.__init__.__globals__, lipsum.__globals__...)
            found.append(("critical", f"reaches into Jinja's global {n.node.name!r}"))
        todo.extend(n.iter_child_nodes())
    return found


# -- dataset risks: URL lists and declared download locations ---------------------------------


def from_catalog(rep: FileReport, findings: list[Finding]) -> None:
    """ONNX and safetensors problems are found by their catalogers: the high ones are security findings."""
    for f in findings:
        if f.severity in (Severity.HIGH, Severity.CRITICAL):
            rep.add(str(f.severity), f.rule.replace("scan.", ""), f.message.split(": ", 1)[-1])


def from_catalog_error(rep: FileReport, rule: str, message: str) -> None:
    """A file its cataloger cannot parse: a loader may read it differently, so it is worth a look.
    For ONNX and safetensors the cataloger *is* the security check: if it crashed or could not read
    the file, nothing was judged (high, fail closed)."""
    if rule == "scan.internal-error":
        rep.add("high", "security.incomplete", message.split(": ", 1)[-1])
    elif rule == "scan.unreadable":
        rep.add("high", "file.unreadable", message.split(": ", 1)[-1])
    else:
        rep.add("medium", rule.replace("scan.", ""), message.split(": ", 1)[-1])
