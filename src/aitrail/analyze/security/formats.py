"""Other model formats: Keras configs (in .keras zips, HDF5 attributes, keras_metadata.pb), SavedModel
graphs (protobuf and text format), chat templates (GGUF, tokenizer and processor configs), and what
the ONNX and safetensors catalogers found."""

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

MAX_SCAN_BYTES = 64 << 20  # one config, template file or text-format graph read whole (real ones: < 1 MB)


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
# tf.keras layers that call a TensorFlow API function named in the config (config.function, e.g. "io.write_file")
# with arguments the config holds, when the model is built (tf_keras TFOpLambda.from_config).
_TF_OP_LAYERS = {"TFOpLambda", "SlicingOpLambda"}
# TensorFlow API names that touch files, run Python or load other graphs.
_TF_CODE_API = re.compile(
    r"(^|\.)(io\.(read_file|write_file|matching_files|gfile)|gfile|py_function|numpy_function|py_func|"
    r"eager_py_func|raw_ops|saved_model|load_op_library|load_library|data\.experimental\.(save|load)|"
    r"summary|debugging\.experimental|train\.(Checkpoint|Saver))"
)


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
            cfg = node.get("config")
            fn = cfg.get("function") if isinstance(cfg, dict) else None
            if isinstance(cls, str) and cls in _TF_OP_LAYERS and isinstance(fn, str) and _TF_CODE_API.search(fn):
                add(
                    "critical",
                    "keras.dangerous-function",
                    f"{text(cls, 100)} layer calls tf.{text(fn, 100)} when the model is built: it touches files, "
                    "runs Python or loads other code",
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


# -- Keras configs stored inside HDF5 files and protobufs ----------------------------------------

# A JSON object's start as it appears in bytes: '{', a key, ':' (whatever the spacing or escapes).
_JSON_START = re.compile(rb'\{\s*"(?:[^"\\\n]|\\.){0,200}"\s*:')
# An HDF5 fractal heap header (dense attribute storage) whose "I/O filters' encoded length" is not 0: its
# objects (attribute names and values) are stored compressed (HDF5 file format spec, III.G).
_FILTERED_HEAP = re.compile(rb"FRHP\x00([\x01-\x40]\x00)((?!\x00\x00)[\x00-\xff]{2})", re.S)
_CHUNK = 1 << 20
_WINDOWS = (64 << 10, 1 << 20, 16 << 20, MAX_SCAN_BYTES)  # bytes read to decode one object, growing


def embedded_keras_configs(report: FileReport, path: Path, shown: str, names: tuple[bytes, ...]) -> None:
    """Judge every JSON object stored in a binary file (an HDF5's ``model_config`` / ``training_config``
    attributes, a SavedModel's ``keras_metadata.pb`` layer metadata) with the Keras config rules, read
    with JSON's own decoder (any spacing, any escape: "L\\u0061mbda" is Lambda), at any offset of the
    whole file. When the file names a Keras config (``names``) and none could be read, or one is larger
    than aitrail decodes, that is high: what loading builds was not judged."""
    import json

    decoder = json.JSONDecoder()
    named = False
    judged = 0
    filtered: set[int] = set()  # offsets of compressed fractal heaps
    done_to = 0  # objects are not searched for inside an object already judged
    with open(path, "rb") as fh:
        base = 0
        tail = b""
        while True:
            chunk = fh.read(_CHUNK)
            buf = tail + chunk
            start = base - len(tail)
            named = named or any(n in buf for n in names)
            for m in _FILTERED_HEAP.finditer(buf):  # version 0, heap id length, filter length > 0
                if start + m.start() not in filtered and int.from_bytes(m.group(2), "little") <= 4096:
                    filtered.add(start + m.start())
            for m in _JSON_START.finditer(buf):
                at = start + m.start()
                if at < done_to:
                    continue
                end, ok = _decode_at(report, fh, at, decoder, shown)
                fh.seek(base + len(chunk))
                if end:
                    done_to = end
                    judged += ok
            if not chunk:
                break
            base += len(chunk)
            tail = buf[-512:]
    if filtered:
        report.add(
            "high",
            "keras.config-unreadable",
            f"{shown}: {len(filtered)} compressed HDF5 fractal heap(s) (where HDF5 keeps attributes such as "
            "model_config when there are many or large ones): what they hold was not judged",
        )
    if named and not judged:
        report.add(
            "high",
            "keras.config-unreadable",
            f"{shown}: names a Keras model config ({', '.join(n.decode() for n in names)}) but none could be read: "
            "what loading it builds was not judged",
        )


def _decode_at(report: FileReport, fh: Any, at: int, decoder: Any, shown: str) -> tuple[int, int]:
    """Decode the JSON object at byte ``at`` and judge it: (its end offset or 0, 1 if judged)."""
    import json

    for size in _WINDOWS:
        fh.seek(at)
        raw = fh.read(size)
        text_ = raw.decode("latin-1")  # one character per byte: offsets stay byte offsets
        try:
            doc, end = decoder.raw_decode(text_)
        except json.JSONDecodeError as e:
            if e.pos < len(text_) - 1 or len(raw) < size:
                return 0, 0  # not JSON here (bytes that only look like an object's start)
            continue  # cut off by the window: read more
        except RecursionError:  # deeper than the decoder goes: judged from its text (high itself)
            keras_config_bytes(report, raw, f"{shown}@{at}")
            return at + len(raw), 1
        if not isinstance(doc, dict):
            return at + end, 0
        try:
            doc = json.loads(raw[:end].decode("utf-8"))  # strings as UTF-8, as Keras reads them
        except (ValueError, RecursionError):
            pass
        # Objects inside it are not searched again: it is judged whole, whatever its shape (a Keras config
        # may sit inside bytes that happen to decode as a larger object).
        keras_config(report, doc, f"{shown}@{at}")
        return at + end, int(_keras_shaped(doc))
    report.add(
        "high",
        "keras.config-limit",
        f"{shown}@{at}: a JSON object larger than {MAX_SCAN_BYTES} bytes: the model config is not judged",
    )
    return 0, 0


def _keras_shaped(doc: dict[str, Any]) -> bool:
    """A Keras model, layer or training config (not some other JSON a file may hold)."""
    return any(k in doc for k in ("class_name", "config", "module", "registered_name", "loss", "optimizer_config"))


def tensorflow_ops(report: FileReport, path: Path, shown: str) -> None:
    """The ops a SavedModel graph runs (every NodeDef of every meta graph's GraphDef and of its function
    library), read from the protobuf wire format as TensorFlow reads it (any varint spelling, fields in
    any order, the whole file), judged against the dangerous ops list."""
    import mmap

    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty SavedModel")
    dangerous = [op.encode() for op in rules()["tensorflow"]["dangerous_ops"]]
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        # Protobuf strings are stored as their bytes: a graph naming none of these ops holds none of them,
        # and the walk (Python, ~4 s per million nodes) is only needed to tell an op from a name or a constant.
        if not any(mm.find(op) >= 0 for op in [*dangerous, b"file://"]):
            return
        with memoryview(mm) as buf:
            ops = _saved_model_ops(buf)
    _judge_ops(report, ops, shown)


def pbtxt_ops(report: FileReport, path: Path, shown: str) -> None:
    """A text-format SavedModel (saved_model.pbtxt, read by TensorFlow when there is no .pb): the value of
    every ``op`` field, with the text format's quoting, escapes and adjacent-string concatenation."""
    import codecs
    import warnings

    with open(path, "rb") as fh:
        raw = fh.read(MAX_SCAN_BYTES + 1)
    if len(raw) > MAX_SCAN_BYTES:
        report.add(
            "high",
            "tensorflow.limit-exceeded",
            f"{shown}: larger than {MAX_SCAN_BYTES} bytes: ops past them not judged",
        )
        raw = raw[:MAX_SCAN_BYTES]
    text_ = _PBTXT_COMMENT.sub(lambda m: m.group(1) or b"", raw)  # '#' inside a string starts no comment
    ops: set[str] = set()
    for m in _PBTXT_OP.finditer(text_):
        value = b""
        for part in _PBTXT_STR.findall(m.group(1)):
            try:
                with warnings.catch_warnings():  # an unknown escape ("\\J") stays as written
                    warnings.simplefilter("ignore", DeprecationWarning)
                    value += codecs.escape_decode(part[1:-1])[0]  # C escapes: \x52, \122, \n
            except ValueError:
                value += part[1:-1]
        ops.add(value.decode("utf-8", "replace"))
    if "PrintV2" in ops and _PBTXT_PRINT_FILE.search(text_):
        ops.add(PRINT_TO_FILE)
    _judge_ops(report, ops, shown)


_PBTXT_PRINT_FILE = re.compile(rb'key\s*:?\s*["\']output_stream["\']\s*value\s*[{<]\s*s\s*:?\s*["\']file://')
_PBTXT_COMMENT = re.compile(rb'("(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')|#[^\n]*')
_PBTXT_STR = re.compile(rb'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_PBTXT_OP = re.compile(rb'\bop\s*:?\s*((?:(?:"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')\s*)+)')


def _judge_ops(report: FileReport, ops: set[str], shown: str) -> None:
    dangerous = {*rules()["tensorflow"]["dangerous_ops"], PRINT_TO_FILE}
    for op in sorted(ops & dangerous):
        report.add(
            "high",
            "tensorflow.file-or-python-op",
            f"graph uses the {op} op: it reads or writes files, or runs Python, when the model is called",
        )


# field numbers (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto, graph.proto,
# function.proto, node_def.proto)
_SAVED_MODEL_META_GRAPHS = 2
_META_GRAPH_GRAPH_DEF = 2
_GRAPH_NODE, _GRAPH_LIBRARY = 1, 2
_LIBRARY_FUNCTION = 1
_FUNCTION_NODE_DEF = 3
_NODE_OP = 2
MAX_GRAPH_NODES = 10_000_000


def _saved_model_ops(buf: memoryview) -> set[str]:
    ops: set[str] = set()
    nodes = 0
    for mg in _messages(buf, 0, len(buf), _SAVED_MODEL_META_GRAPHS):
        for graph in _messages(buf, *mg, _META_GRAPH_GRAPH_DEF):
            node_defs = list(_messages(buf, *graph, _GRAPH_NODE))
            for lib in _messages(buf, *graph, _GRAPH_LIBRARY):
                for fn in _messages(buf, *lib, _LIBRARY_FUNCTION):
                    node_defs.extend(_messages(buf, *fn, _FUNCTION_NODE_DEF))
            for nd in node_defs:
                nodes += 1
                if nodes > MAX_GRAPH_NODES:
                    raise ValueError(f"more than {MAX_GRAPH_NODES:,} graph nodes")
                for op in _messages(buf, *nd, _NODE_OP):
                    name = bytes(buf[op[0] : op[1]]).decode("utf-8", "replace")
                    ops.add(name)
                    if name == "PrintV2" and _prints_to_file(buf, nd):
                        ops.add(PRINT_TO_FILE)
    return ops


# tf.print(output_stream="file:///path") appends to that file when the model is called (PrintV2's
# output_stream attribute, tensorflow/core/kernels/logging_ops.cc).
PRINT_TO_FILE = "PrintV2 (output_stream file://)"
_NODE_ATTR, _ENTRY_KEY, _ENTRY_VALUE, _ATTR_S = 5, 1, 2, 2


def _prints_to_file(buf: memoryview, nd: tuple[int, int]) -> bool:
    for entry in _messages(buf, *nd, _NODE_ATTR):
        keys = [bytes(buf[a:b]) for a, b in _messages(buf, *entry, _ENTRY_KEY)]
        if b"output_stream" not in keys:
            continue
        for value in _messages(buf, *entry, _ENTRY_VALUE):
            if any(bytes(buf[a:b]).startswith(b"file://") for a, b in _messages(buf, *value, _ATTR_S)):
                return True
    return False


def _messages(buf: memoryview, start: int, end: int, field_no: int) -> list[tuple[int, int]]:
    """(start, end) of every length-delimited field ``field_no`` of the message in buf[start:end]."""
    out = []
    i = start
    while i < end:
        key, i = _varint(buf, i, end)
        wire, num = key & 7, key >> 3
        if num == 0:
            raise ValueError("field number 0 (not protobuf)")
        if wire == 0:
            _, i = _varint(buf, i, end)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise ValueError("a field runs past its message")
            if num == field_no:
                out.append((i, i + n))
            i += n
        else:  # groups (3, 4) are not in these messages; anything else is not protobuf
            raise ValueError(f"wire type {wire} where TensorFlow's messages have none")
    if i > end:
        raise ValueError("a field runs past its message")
    return out


def _varint(buf: memoryview, i: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= end or shift > 63:
            raise ValueError("truncated or over-long varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


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
    try:
        walked = _template_walk(tmpl)
    except RecursionError:  # a reader of Jinja's tree recursed: not judged, never passed
        walked = [("limit", "nested too deeply to judge")]
    for severity, why in walked[:5]:
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
    import mmap

    from ... import jsonsafe

    name = path.name
    values: list[Any] = []
    with open(path, "rb") as fh:
        raw = fh.read(MAX_SCAN_BYTES + 1)
        if len(raw) > MAX_SCAN_BYTES and not name.endswith(".jinja"):
            # a config of any size: its chat_template read in place (memory-mapped), the rest skipped
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                values = _deep_templates(report, mm, shown)
            raw = b""
    if len(raw) > MAX_SCAN_BYTES:
        report.add("high", "chat-template.limit-exceeded", f"more than {MAX_SCAN_BYTES} bytes: templates not judged")
        return
    if name.endswith(".jinja"):
        chat_template(report, raw.decode("utf-8", "replace"), "chat template", shown)
        return
    if raw:
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


def _deep_templates(report: FileReport, raw: Any, shown: str) -> list[Any]:
    """The chat_template values of a config too large or nested past the JSON reader's limits, read from
    its bytes; a value itself too deep or large to read is high (not judged)."""
    from ... import jsonsafe
    from .jsontop import top_level

    if isinstance(raw, bytes):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return []  # transformers reads these files as UTF-8: this one does not load
    found = top_level(raw, {"chat_template"}, max_value=MAX_SCAN_BYTES).get("chat_template", [])
    values = []
    for value in found:
        if not value:
            report.add(
                "high",
                "chat-template.limit-exceeded",
                f"chat_template is larger than {MAX_SCAN_BYTES} bytes: transformers renders it; not judged",
                shown,
            )
            continue
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


# Filters whose arguments name attributes to read (jinja2/filters.py, make_attrgetter): the position of that
# argument when given positionally; `attribute=` is read for each, and map('attr', name) too.
_ATTRIBUTE_ARGS = {"selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0, "sort": 2, "unique": 1, "min": 1,
                   "max": 1, "map": None}


def _attribute_args(n: Any) -> list[Any]:
    out = [kw.value for kw in n.kwargs if kw.key == "attribute"]
    pos = _ATTRIBUTE_ARGS[n.name]
    if pos is not None and len(n.args) > pos:
        out.append(n.args[pos])
    if n.name == "map" and len(n.args) >= 2 and getattr(n.args[0], "value", None) == "attr":
        out.append(n.args[1])  # map('attr', name): the attr filter on each item
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
        if isinstance(n, (nodes.List, nodes.Tuple)):  # ['_' * 2 ~ 'class']: its items are built strings
            return any(stringy(x, depth + 1) for x in n.items)
        if isinstance(n, nodes.Dict):
            return any(stringy(p.key, depth + 1) or stringy(p.value, depth + 1) for p in n.items)
        if isinstance(n, (nodes.Getitem, nodes.Getattr)):  # y[0], y.pop of a built list
            return stringy(n.node, depth + 1)
        if isinstance(n, nodes.Call):  # y.pop(), ns.x.join(...)
            return stringy(n.node, depth + 1)
        return False

    def block_text(body: list[Any]) -> str | None:
        """What a {% set x %}...{% endset %} block always renders, when made of text and constants."""
        parts: list[str | None] = []
        for node in body:
            if not isinstance(node, nodes.Output):
                return None
            for x in node.nodes:
                parts.append(x.data if isinstance(x, nodes.TemplateData) else const(x))
        return None if None in parts else "".join(parts)  # type: ignore[arg-type]

    every: list[Any] = []  # all nodes, walked iteratively (Jinja's find_all recurses: a 20,000-term sum raised)
    stack: list[Any] = [tree]
    while stack and len(every) <= MAX_TEMPLATE_NODES:
        node = stack.pop()
        every.append(node)
        stack.extend(node.iter_child_nodes())
    assigns: list[Any] = [a for a in every if isinstance(a, nodes.Assign)]
    blocks: list[Any] = [b for b in every if isinstance(b, nodes.AssignBlock)]
    loops: list[Any] = [f for f in every if isinstance(f, nodes.For) and isinstance(f.iter, (nodes.List, nodes.Tuple))]
    macro_nodes: list[Any] = [m for m in every if isinstance(m, nodes.Macro)]
    macros = {m.name: [a.name for a in m.args] for m in macro_nodes}
    calls: list[Any] = [
        c for c in every if isinstance(c, nodes.Call) and isinstance(c.node, nodes.Name) and c.node.name in macros
    ]
    for _ in range(3):  # names set from other names: a few rounds reach what real templates nest
        for a in assigns:
            if isinstance(a.target, nodes.Name):
                v = const(a.node)
                if v is not None:
                    known[a.target.name] = v
                elif stringy(a.node):
                    built.add(a.target.name)
        for b in blocks:  # {% set x %}{{ '_' * 2 }}class{{ '_' * 2 }}{% endset %}
            if isinstance(b.target, nodes.Name):
                v = block_text(b.body)
                if v is not None:
                    known[b.target.name] = v
                else:
                    built.add(b.target.name)
        for f in loops:  # {% for k in ['_' * 2 ~ 'class' ~ '_' * 2] %}: k may be any of those strings
            if isinstance(f.target, nodes.Name) and any(
                stringy(x) or (const(x) or "").startswith("_") for x in f.iter.items
            ):
                built.add(f.target.name)
        for c in calls:  # m('_' * 2 ~ 'class'): the macro's parameter is a string built when rendered
            params = macros[c.node.name]
            given = list(zip(params, c.args)) + [(kw.key, kw.value) for kw in c.kwargs]
            for param, arg in given:
                if stringy(arg) or (const(arg) or "").startswith("_"):
                    built.add(param)
        for macro in macro_nodes:  # defaults: {% macro m(a='_' * 2 ~ 'class') %}
            for param_node, default in zip(reversed(macro.args), reversed(macro.defaults)):
                if stringy(default) or (const(default) or "").startswith("_"):
                    built.add(param_node.name)

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
        if isinstance(n, (nodes.Filter, nodes.Test)) and n.name in _ATTRIBUTE_ARGS:
            # filters that look attributes up by a name they are given (Jinja's make_attrgetter: dotted paths)
            for arg in _attribute_args(n):
                got = const(arg)
                if got is None:
                    found.append(("high", f"reads an attribute whose name is computed when rendered (|{n.name})"))
                else:
                    bad = [p for p in got.split(".") if p.startswith("_")]
                    name = bad[0] if bad else name
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
    elif rule.endswith("limit-exceeded"):  # the cataloger stopped: the rest (external data paths...) unjudged
        rep.add("high", rule.replace("scan.", ""), message.split(": ", 1)[-1])
    else:
        rep.add("medium", rule.replace("scan.", ""), message.split(": ", 1)[-1])
