"""safetensors: the JSON header (tensors, dtypes, shapes, ``__metadata__``) and sharded indexes.

The header is parsed by hand rather than with the ``safetensors`` package: that package's
``safe_open`` maps the file and validates it for loading, while we only need the header and
want to report *every* defect (offsets out of range, overlaps) with its location.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter

from ..model import ComponentType, Severity
from .base import CatalogError, FileRef, Found

MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's own limit
SPEC = "safetensors format (huggingface/safetensors README, 'Format')"


def matches(f: FileRef) -> bool:
    return f.format == "safetensors"


def catalog(f: FileRef) -> Found:
    if f.size < 8:
        raise CatalogError(f"{f.rel}: safetensors file is {f.size} bytes, shorter than its 8-byte header length")
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
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(
            f"{f.rel}: safetensors header is not valid JSON ({e})", rule="scan.safetensors.bad-header", offset=8
        ) from None
    if not isinstance(header, dict):
        raise CatalogError(f"{f.rel}: safetensors header is not a JSON object", rule="scan.safetensors.bad-header")

    out = Found(file_type=ComponentType.WEIGHTS, format="safetensors")
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
            out.finding(
                Severity.MEDIUM,
                "scan.safetensors.bad-tensor",
                f"{f.rel}: tensor {name!r} has no valid dtype/shape/data_offsets",
                f.ev(key=name),
                SPEC,
            )
            continue
        dtypes[str(t.get("dtype"))] += 1
        try:
            params += math.prod(int(d) for d in t["shape"])
        except (TypeError, ValueError):
            pass
        begin, end = t["data_offsets"]
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_len):
            out.finding(
                Severity.HIGH,
                "scan.safetensors.offset-out-of-range",
                f"{f.rel}: tensor {name!r} data_offsets {[begin, end]} fall outside the {data_len}-byte data section",
                f.ev(key=name),
                SPEC,
            )
        else:
            spans.append((begin, end, name))
    spans.sort()
    for (_b1, e1, n1), (b2, _e2, n2) in zip(spans, spans[1:], strict=False):
        if b2 < e1:
            out.finding(
                Severity.HIGH,
                "scan.safetensors.overlapping-tensors",
                f"{f.rel}: tensors {n1!r} and {n2!r} overlap in the data section",
                f.ev(key=n2),
                SPEC,
            )
    out.properties.update(
        {
            "tensor_count": len(header),
            "parameter_count": params,
            "dtypes": dict(sorted(dtypes.items())),
            "header_bytes": n,
        }
    )
    if isinstance(meta, dict):
        out.properties["metadata"] = {str(k): str(v)[:500] for k, v in meta.items()}
    out.fact("parameter_count", params, f.ev(key="header"))
    out.fact("dtype", "/".join(sorted(dtypes)), f.ev(key="header"))
    return out


# -- sharded index -------------------------------------------------------------


def matches_index(f: FileRef) -> bool:
    return f.rel.endswith(".safetensors.index.json") or f.rel.endswith(".bin.index.json")


def catalog_index(f: FileRef) -> Found:
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise CatalogError(f"{f.rel}: not valid JSON: {e.msg} at line {e.lineno}", rule="scan.json") from None
    wm = doc.get("weight_map") if isinstance(doc, dict) else None
    if not isinstance(wm, dict):
        raise CatalogError(f"{f.rel}: sharded index has no weight_map object", rule="scan.safetensors.bad-index")
    shards = sorted(set(map(str, wm.values())))
    out = Found(file_type=ComponentType.CONFIG, format="weights-index")
    out.properties.update({"shards": shards, "tensor_count": len(wm)})
    total = (doc.get("metadata") or {}).get("total_size")
    if total is not None:
        out.properties["total_size"] = total
    folder = f.path.parent
    for s in shards:
        if not (folder / s).exists():
            out.finding(
                Severity.MEDIUM,
                "scan.shard-missing",
                f"{f.rel}: names shard {s!r}, which is not in the folder",
                f.ev(key="weight_map", value=s),
            )
    return out
