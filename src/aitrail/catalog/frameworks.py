"""Weights in formats aitrail recognises but does not read tensor by tensor: what they are, by content.

- Flax ``flax_model.msgpack`` (transformers' FLAX_WEIGHTS_NAME; flax.serialization.to_bytes): a msgpack
  map of the parameter tree.
- OpenVINO IR (``openvino_model.xml`` + ``.bin``; OpenVINO docs, "OpenVINO IR format"): the XML is the
  network (``<net name=... version=...>``), the .bin beside it with the same stem its weights.

Each is the model's weights (or, for the XML, its graph) in another framework's format: typed so, not as
an unknown file named like weights.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import ComponentType
from .base import FileRef, Found
from .lineage import text

_MSGPACK_MAP = set(range(0x80, 0x90)) | {0xDE, 0xDF}  # fixmap, map16, map32
_IR_NET = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?<net\s+name=\"([^\"]{0,200})\"")


def _ir_xml(head: bytes) -> re.Match[bytes] | None:
    return _IR_NET.match(head)


def kind(f: FileRef) -> str | None:
    name = f.rel.rsplit("/", 1)[-1].lower()
    if name.endswith(".msgpack") and f.head[:1] and f.head[0] in _MSGPACK_MAP:
        return "flax-msgpack"
    if name.endswith(".xml") and _ir_xml(f.head):
        return "openvino-ir"
    if name.endswith(".bin") and f.format is None and _ir_xml(_head(f.path.with_suffix(".xml"))):
        return "openvino-weights"
    return None


def _head(p: Path) -> bytes:
    try:
        with open(p, "rb") as fh:  # only a regular file beside the .bin is read; its cataloger judges it
            return fh.read(4096) if p.is_file() else b""
    except OSError:
        return b""


def matches(f: FileRef) -> bool:
    return f.format is None and kind(f) is not None


def catalog(f: FileRef) -> Found:
    fmt = kind(f) or "unknown"
    if fmt == "openvino-ir":
        out = Found(file_type=ComponentType.CONFIG, format=fmt)
        m = _ir_xml(f.head)
        if m:
            out.properties["network_name"] = text(m.group(1).decode("utf-8", "replace"), 200)
        out.properties["weights_file"] = f.rel.rsplit("/", 1)[-1][: -len(".xml")] + ".bin"
        return out
    return Found(file_type=ComponentType.WEIGHTS, format=fmt)
