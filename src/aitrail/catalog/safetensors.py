"""safetensors: the JSON header (tensors, dtypes, shapes, ``__metadata__``) and sharded indexes.

The header is parsed by hand rather than with the ``safetensors`` package: that package's
``safe_open`` maps the file and validates it for loading, while we only need the header and
want to report *every* defect (offsets out of range, overlaps) with its location.
"""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from pathlib import Path
from typing import Any

from .. import jsonsafe
from ..model import ComponentType, Severity
from .base import CatalogError, FileRef, Found
from .lineage import text

MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's own limit
SPEC = "safetensors format (huggingface/safetensors README, 'Format')"
MAX_LISTED = 20  # findings of one rule per file; the rest are counted in one more
MAX_METADATA_KEYS = 100  # __metadata__ entries copied to the inventory
MAX_DTYPES = 64  # distinct dtype names counted (the format defines about fifteen)
MAX_SHARDS = 10_000  # shard names read from a sharded index
# JSON values in a header, bounded before parsing by counting ',', '{' and '[' (in C): parsed JSON
# takes up to ~250 bytes per value, so this keeps a hostile header's parse near 200 MB, while real
# headers (~9 per tensor) stay far below it (100,000 tensors; a 5 GB shard holds a few thousand).
MAX_HEADER_VALUES = 1_000_000


class _Limited:
    """Findings of one rule, at most MAX_LISTED listed; ``close`` adds one finding for the rest."""

    def __init__(self, out: Found, f: FileRef) -> None:
        self.out, self.f, self.counts = out, f, Counter[str]()
        self.severity: dict[str, Severity] = {}

    def listed(self, rule: str) -> bool:
        """Count one finding of ``rule``; whether it is listed (only then is its message built)."""
        self.counts[rule] += 1
        return self.counts[rule] <= MAX_LISTED

    def add(self, severity: Severity, rule: str, message: str, key: str | None = None, counted: bool = False) -> None:
        if not counted:
            self.counts[rule] += 1
        self.severity[rule] = severity
        if self.counts[rule] <= MAX_LISTED:
            self.out.finding(severity, rule, message, self.f.ev(key=key), SPEC)

    def skip(self, severity: Severity, rule: str) -> None:
        """A finding counted (``listed`` was False) but not built."""
        self.severity[rule] = severity

    def close(self) -> None:
        for rule, n in self.counts.items():
            if n > MAX_LISTED:
                self.out.finding(
                    self.severity[rule],
                    rule,
                    f"{self.f.rel}: {n - MAX_LISTED} more {rule} findings not listed (first {MAX_LISTED} shown)",
                    self.f.ev(),
                    SPEC,
                )


def matches(f: FileRef) -> bool:
    return f.format == "safetensors"


def read_header(f: FileRef) -> tuple[int, dict[str, Any]]:
    """The header length n and the parsed header object (``__metadata__`` still in it); tensor
    data_offsets are relative to byte 8 + n. Raises CatalogError as catalog() does. The one reader of
    safetensors headers: the inventory and `aitrail lineage compare` both use it."""
    if f.size < 8:
        raise CatalogError(
            f"{f.rel}: safetensors file is {f.size} bytes, shorter than its 8-byte header length",
            rule="scan.safetensors.truncated",
        )
    (n,) = struct.unpack_from("<Q", f.head, 0)
    if n > MAX_HEADER:
        raise CatalogError(
            f"{f.rel}: safetensors header length {n} exceeds the format's limit of {MAX_HEADER} bytes",
            rule="scan.safetensors.header-too-large",
            offset=0,
        )
    if 8 + n > f.size:
        raise CatalogError(
            f"{f.rel}: safetensors header length {n} is larger than the file ({f.size} bytes): truncated or corrupt",
            rule="scan.safetensors.truncated",
            offset=0,
        )
    with open(f.path, "rb") as fh:
        fh.seek(8)
        raw = fh.read(n)
    values = raw.count(b",") + raw.count(b"{") + raw.count(b"[")
    if values > MAX_HEADER_VALUES:
        raise CatalogError(
            f"{f.rel}: safetensors header holds about {values:,} JSON values, more than the "
            f"{MAX_HEADER_VALUES:,} aitrail parses; not read",
            rule="scan.limit-exceeded",
            offset=8,
        )
    try:
        header = jsonsafe.loads(raw)
    except jsonsafe.ShapeError as e:
        raise CatalogError(f"{f.rel}: safetensors header {e}; not read", rule="scan.limit-exceeded", offset=8) from None
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, integers too long to convert
        raise CatalogError(
            f"{f.rel}: safetensors header is not valid JSON ({text(e, 200)})",
            rule="scan.safetensors.bad-header",
            offset=8,
        ) from None
    if not isinstance(header, dict):
        raise CatalogError(f"{f.rel}: safetensors header is not a JSON object", rule="scan.safetensors.bad-header")
    return n, header


def catalog(f: FileRef) -> Found:
    n, header = read_header(f)
    out = Found(file_type=ComponentType.WEIGHTS, format="safetensors")
    found = _Limited(out, f)
    meta = header.pop("__metadata__", None)
    data_len = f.size - 8 - n
    dtypes: Counter[str] = Counter()
    params = 0
    spans = []
    for name, t in header.items():
        if not (
            isinstance(t, dict)
            and isinstance(t.get("shape"), list)
            and isinstance(t.get("data_offsets"), list)
            and len(t["data_offsets"]) == 2
        ):
            _problem(
                found,
                Severity.MEDIUM,
                "scan.safetensors.bad-tensor",
                f.rel,
                name,
                "has no valid dtype/shape/data_offsets",
            )
            continue
        dtype = text(t.get("dtype"), 32)
        if dtype in dtypes or len(dtypes) < MAX_DTYPES:
            dtypes[dtype] += 1
        else:
            dtypes["…"] += 1
        shape = t["shape"]
        if all(type(d) is int and 0 <= d < 1 << 63 for d in shape) and len(shape) <= 64:
            params += math.prod(shape)
        else:
            _problem(found, Severity.MEDIUM, "scan.safetensors.bad-tensor", f.rel, name, "has an invalid shape", shape)
        begin, end = t["data_offsets"]
        if not (type(begin) is int and type(end) is int and 0 <= begin <= end <= data_len):
            _problem(
                found,
                Severity.HIGH,
                "scan.safetensors.offset-out-of-range",
                f.rel,
                name,
                "data_offsets",
                [begin, end],
                f" fall outside the {data_len}-byte data section",
            )
        else:
            spans.append((begin, end, name))
    spans.sort()
    for (_b1, e1, n1), (b2, _e2, n2) in zip(spans, spans[1:], strict=False):
        if b2 < e1 and not found.listed("scan.safetensors.overlapping-tensors"):
            found.skip(Severity.HIGH, "scan.safetensors.overlapping-tensors")
        elif b2 < e1:
            found.add(
                Severity.HIGH,
                "scan.safetensors.overlapping-tensors",
                f"{f.rel}: tensors {text(n1)!r} and {text(n2)!r} overlap in the data section",
                text(n2),
                counted=True,
            )
    found.close()
    out.properties.update(
        {
            "tensor_count": len(header),
            "parameter_count": params,
            "dtypes": dict(sorted(dtypes.items())),
            "header_bytes": n,
        }
    )
    if isinstance(meta, dict):
        out.properties["metadata"] = {text(k, 100): text(v, 500) for k, v in list(meta.items())[:MAX_METADATA_KEYS]}
        if len(meta) > MAX_METADATA_KEYS:
            out.properties["metadata"]["…"] = f"{len(meta) - MAX_METADATA_KEYS} more entries not listed"
    out.fact("parameter_count", params, f.ev(key="header"))
    out.fact("dtype", "/".join(sorted(dtypes)), f.ev(key="header"))
    lora = sum(1 for name in header if _LORA.search(name))
    if lora and lora * 2 >= len(header):
        # LoRA weights (peft's lora_A/lora_B, diffusers' lora_linear_layer, kohya's lora_down/lora_up and
        # .alpha): an adapter over a base model, whatever the folder's other files say
        out.properties["adapter"] = "lora"
        said = f"{lora} of {len(header)} tensors named as LoRA weights"
        out.fact("adapter", "LoRA", f.ev(key="header", value=said))
    return out


_LORA = re.compile(
    r"(?:^|[._])lora(?:[._](?:A|B|down|up)|_(?:A|B|down|up|magnitude_vector|linear_layer))(?:[._]|$)|^lora_.*\.alpha$"
)


def _problem(
    found: _Limited,
    severity: Severity,
    rule: str,
    rel: str,
    name: str,
    what: str,
    value: object = None,
    after: str = "",
) -> None:
    """One tensor's problem; its message is built only if it is listed (a header may hold millions)."""
    if not found.listed(rule):
        found.skip(severity, rule)
        return
    shown = text(name)
    tail = f" {text(value, 100)}" if value is not None else ""
    found.add(severity, rule, f"{rel}: tensor {shown!r} {what}{tail}{after}", shown, counted=True)


# -- sharded index -------------------------------------------------------------


def matches_index(f: FileRef) -> bool:
    return f.rel.endswith(".safetensors.index.json") or f.rel.endswith(".bin.index.json")


def catalog_index(f: FileRef) -> Found:
    from .base import read_json

    try:
        doc = read_json(f)
    except (ValueError, RecursionError) as e:  # integers too long to convert (read_json handles the rest)
        raise CatalogError(f"{f.rel}: not valid JSON ({text(e, 200)})", rule="scan.json") from None
    wm = doc.get("weight_map") if isinstance(doc, dict) else None
    if not isinstance(wm, dict):
        raise CatalogError(f"{f.rel}: sharded index has no weight_map object", rule="scan.safetensors.bad-index")
    names: set[str] = set()
    for v in wm.values():
        if len(names) >= MAX_SHARDS:
            break
        names.add(v if isinstance(v, str) else text(v))
    shards = sorted(names)
    out = Found(file_type=ComponentType.CONFIG, format="weights-index")
    out.properties.update({"shards": [text(s) for s in shards[:1000]], "tensor_count": len(wm)})
    if len(shards) > 1000:
        out.properties["shard_count"] = len(shards)
    meta = doc.get("metadata")
    total = meta.get("total_size") if isinstance(meta, dict) else None
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        out.properties["total_size"] = total if abs(total) < 1 << 63 else text(total, 40)
    found = _Limited(out, f)
    folder = f.path.parent
    for s in shards:
        if not _plain_name(s):
            found.add(
                Severity.HIGH,
                "scan.shard-outside",
                f"{f.rel}: names shard {text(s)!r}, a path outside the model folder or not a file name: "
                "loaders join it to the folder",
                "weight_map",
            )
        elif not (folder / s).is_file():
            found.add(
                Severity.MEDIUM,
                "scan.shard-missing",
                f"{f.rel}: names shard {text(s)!r}, which is not in the folder",
                "weight_map",
            )
    if len(wm) > MAX_SHARDS and len(names) >= MAX_SHARDS:
        found.add(
            Severity.MEDIUM,
            "scan.limit-exceeded",
            f"{f.rel}: more than {MAX_SHARDS} distinct shard names; the rest not checked",
            "weight_map",
        )
    found.close()
    return out


def _plain_name(s: str) -> bool:
    """A shard is a file beside the index, possibly in a subfolder: never absolute, never '..'."""
    if not s or "\x00" in s or s.startswith(("/", "\\")) or ":" in s[:3]:
        return False
    return ".." not in Path(s).parts and "\\" not in s
