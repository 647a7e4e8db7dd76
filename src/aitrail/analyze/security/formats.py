"""Other model formats: Keras configs, HDF5 and SavedModel byte searches, GGUF chat templates,
and what the ONNX and safetensors catalogers found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...catalog.base import CatalogError, FileRef
from ...model import Finding, Severity
from .report import FileReport, rules

MAX_SCAN_BYTES = 64 << 20  # byte searches (HDF5 configs, SavedModel graphs) read at most this much


def keras_config(report: FileReport, doc: Any, where: str) -> None:
    allowed = rules()["keras"]["allowed_modules"]
    todo = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                report.add(
                    "critical",
                    "keras.lambda",
                    f"{where}: Lambda layer: its Python code runs when the model is loaded or called",
                    where,
                )
            mod = node.get("module")
            if isinstance(mod, str) and not any(
                mod == a or mod.startswith(a + ".") or mod.startswith(a) for a in allowed if a
            ):
                report.add(
                    "critical",
                    "keras.module-injection",
                    f"{where}: object resolved from module {mod!r} ({node.get('class_name')}): not a Keras module",
                    where,
                )
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)


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
    from ...catalog.gguf import read_header

    try:
        _v, kv, _t, _end = read_header(ref)
    except CatalogError as e:
        report.add("medium", "gguf.malformed", str(e))
        return
    bad = rules()["jinja"]["dangerous"]
    for key, val in kv.items():
        if key.startswith("tokenizer.chat_template") and isinstance(val, str):
            hits = sorted({b for b in bad if b in val})
            if hits:
                report.add(
                    "critical",
                    "gguf.chat-template-injection",
                    f"chat template {key} uses {', '.join(hits[:5])}: Jinja sandbox escape "
                    "(server-side template injection, CVE-2024-34359)",
                    f"{ref.rel}:{key}",
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
