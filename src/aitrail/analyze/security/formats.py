"""Other model formats: Keras configs, HDF5 and SavedModel byte searches, GGUF chat templates,
and what the ONNX and safetensors catalogers found."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...catalog.base import CatalogError, FileRef
from ...catalog.lineage import text
from ...guard import describe
from ...model import Finding, Severity
from .report import FileReport, rules

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


def keras_config(report: FileReport, doc: Any, where: str) -> None:
    """Judge every object of a Keras config, at any nesting depth (an explicit stack, no recursion):
    Lambda layers, objects resolved from modules outside Keras, builtins that run code."""
    allowed = [a.rstrip(".") for a in rules()["keras"]["allowed_modules"] if a]
    counts: dict[str, int] = {}

    def add(severity: str, rule: str, message: str) -> None:
        counts[rule] = counts.get(rule, 0) + 1
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
            todo.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            todo.extend(v for v in node if isinstance(v, (dict, list)))
    for rule, n in counts.items():
        if n > MAX_KERAS_LISTED:
            report.add("critical", rule, f"{where}: {n - MAX_KERAS_LISTED} more {rule} findings not listed", where)


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
    bad = rules()["jinja"]["dangerous"]
    for key, val in kv.items():
        if not key.startswith("tokenizer.chat_template"):
            continue
        if isinstance(val, Skipped):
            report.add(
                "high",
                "gguf.limit-exceeded",
                f"chat template {text(key, 100)} is {val.length} bytes, more than aitrail reads: not judged",
                f"{ref.rel}:{text(key, 100)}",
            )
        elif isinstance(val, str):
            hits = sorted({b for b in bad if b in val})
            if hits:
                report.add(
                    "critical",
                    "gguf.chat-template-injection",
                    f"chat template {text(key, 100)} uses {', '.join(hits[:5])}: Jinja sandbox escape "
                    "(server-side template injection, CVE-2024-34359)",
                    f"{ref.rel}:{text(key, 100)}",
                )


# -- dataset risks: URL lists and declared download locations ---------------------------------


def from_catalog(rep: FileReport, findings: list[Finding]) -> None:
    """ONNX and safetensors problems are found by their catalogers: the high ones are security findings."""
    for f in findings:
        if f.severity in (Severity.HIGH, Severity.CRITICAL):
            rep.add(str(f.severity), f.rule.replace("scan.", ""), f.message.split(": ", 1)[-1])


def from_catalog_error(rep: FileReport, rule: str, message: str) -> None:
    """A file its cataloger cannot parse: a loader may read it differently, so it is worth a look."""
    rep.add("medium", rule.replace("scan.", ""), message.split(": ", 1)[-1])
