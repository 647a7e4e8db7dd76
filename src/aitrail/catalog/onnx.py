"""ONNX: IR version, opsets, producer, metadata_props, custom op domains, external data.

``metadata_props`` keys that say who made the model, under what licence, for which task
(``license``, ``author``, ``task``, ``description``, ``version``, ``name`` and common variants,
case-insensitive) become model facts; the licence a ``DeclaredLicense`` with the key as evidence.

Parsed with a small protobuf wire-format walker over a memory map instead of the ``onnx``
package: ``onnx.load`` copies the whole file (weights included) into memory and then
parses it in C++, which neither bounds memory on large models nor reports *where* a
malformed file goes wrong. We visit only the fields we need and skip tensor payloads.
"""

from __future__ import annotations

import mmap
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator, Union

from ..model import ComponentType, DeclaredLicense, Severity
from .base import CatalogError, FileRef, Found

STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft"}
MAX_DEPTH = 16
# Work and memory bounds (docs/limits.md): a real graph visits well under a million fields.
MAX_FIELDS = 20_000_000  # protobuf fields visited in one file
MAX_OP_TYPES = 4096  # distinct operator names kept; the rest are counted under OTHER_OPS
MAX_NAME = 200  # characters kept of an operator or domain name
MAX_META = 1000  # metadata_props entries kept
MAX_EXTERNAL = 10_000  # distinct external data locations kept
MAX_ELEMENTS = 1 << 62  # a tensor element count above this is clamped (dims multiply into huge integers)
OTHER_OPS = "(other operator types)"

# metadata_props key (lower case, '-' and ' ' as '_') -> the fact it gives
META_FACTS = {
    "license": "license",
    "licence": "license",
    "license_name": "license",
    "licence_name": "license",
    "model_license": "license",
    "model_licence": "license",
    "spdx_license": "license",
    "license_id": "license",
    "author": "supplier",
    "authors": "supplier",
    "model_author": "supplier",
    "creator": "supplier",
    "model_creator": "supplier",
    "owner": "supplier",
    "organization": "supplier",
    "organisation": "supplier",
    "publisher": "supplier",
    "task": "task",
    "model_task": "task",
    "pipeline_tag": "task",
    "description": "description",
    "model_description": "description",
    "summary": "description",
    "version": "version",
    "model_version": "version",
    "name": "name",
    "model_name": "name",
    "title": "name",
}


class _Bad(Exception):
    pass


class _Limit(_Bad):
    pass


class _Budget(threading.local):
    left = MAX_FIELDS  # fields left to visit in the file this thread reads


_budget = _Budget()


Span = tuple[int, int]
Value = Union[int, Span, None]  # varint, (begin, end) of a length-delimited field, or skipped


@dataclass
class _State:
    ops: Counter[str] = field(default_factory=Counter)
    domains: set[str] = field(default_factory=set)
    external: set[str] = field(default_factory=set)
    initializers: int = 0
    params: int = 0
    limits: set[str] = field(default_factory=set)  # limits reached, each reported


def _varint(buf: memoryview, i: int, end: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= end or shift > 63:
            raise _Bad(f"bad varint at offset {i}")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, Value, int]]:
    """Yield (field number, wire type, value, offset); length-delimited values as (begin, end)."""
    i = start
    while i < end:
        _budget.left -= 1
        if _budget.left < 0:
            raise _Limit(f"more than {MAX_FIELDS:,} protobuf fields")
        off = i
        key, i = _varint(buf, i, end)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise _Bad(f"field number 0 at offset {off}")
        if wt == 0:
            v, i = _varint(buf, i, end)
            yield num, wt, v, off
        elif wt == 1:
            i += 8
            yield num, wt, None, off
        elif wt == 2:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise _Bad(f"field {num} at offset {off} claims {n} bytes, past the end of its message")
            yield num, wt, (i, i + n), off
            i += n
        elif wt == 5:
            i += 4
            yield num, wt, None, off
        else:
            raise _Bad(f"unsupported wire type {wt} at offset {off}")
        if i > end:
            raise _Bad(f"field {num} at offset {off} runs past the end of its message")


def _span(v: Value) -> Span:
    assert isinstance(v, tuple)
    return v


def _str(buf: memoryview, v: Value, limit: int | None = None) -> str:
    b, e = _span(v)
    if limit is not None:
        e = min(e, b + limit * 4)  # never copy more than the caller keeps (4 bytes a character at most)
    text = bytes(buf[b:e]).decode("utf-8", errors="replace")
    return text if limit is None else text[:limit]


def matches(f: FileRef) -> bool:
    return f.format == "onnx" or f.rel.lower().endswith(".onnx")


def catalog(f: FileRef) -> Found:
    if f.size == 0:
        raise CatalogError(f"{f.rel}: empty file", rule="scan.onnx.not-protobuf")
    try:
        fh = open(f.path, "rb")
    except OSError as e:
        raise CatalogError(
            f"{f.rel}: cannot open ({e.strerror or e})", rule="scan.unreadable", severity=Severity.HIGH
        ) from None
    with fh:
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:  # unmappable, or emptied since it was listed
            raise CatalogError(
                f"{f.rel}: cannot map the file ({e})", rule="scan.unreadable", severity=Severity.HIGH
            ) from None
        with mm:
            return _walk(f, mm)


def _walk(f: FileRef, mm: mmap.mmap) -> Found:
    buf = memoryview(mm)
    _budget.left = MAX_FIELDS
    try:
        return _model(f, buf)
    except _Limit as e:
        raise CatalogError(f"{f.rel}: ONNX not read to the end: {e}", rule="scan.limit-exceeded") from None
    except _Bad as e:
        raise CatalogError(f"{f.rel}: not a valid ONNX protobuf: {e}", rule="scan.onnx.not-protobuf") from None
    except RecursionError:
        raise CatalogError(f"{f.rel}: ONNX messages nested too deeply", rule="scan.onnx.not-protobuf") from None
    finally:
        buf.release()


def _model(f: FileRef, buf: memoryview) -> Found:
    out = Found(file_type=ComponentType.WEIGHTS, format="onnx")
    p = out.properties
    opsets: dict[str, int] = {}
    meta: dict[str, str] = {}
    state = _State()
    graph_seen = False
    for num, wt, v, _off in _fields(buf, 0, len(buf)):
        if num == 1 and wt == 0:
            p["ir_version"] = v
        elif num == 2 and wt == 2:
            p["producer_name"] = _str(buf, v, MAX_NAME)
        elif num == 3 and wt == 2:
            p["producer_version"] = _str(buf, v, MAX_NAME)
        elif num == 4 and wt == 2:
            p["domain"] = _str(buf, v, MAX_NAME)
        elif num == 5 and wt == 0:
            p["model_version"] = v
        elif num == 6 and wt == 2:
            p["doc_string"] = _str(buf, v, 1000)
        elif num == 7 and wt == 2:
            graph_seen = True
            _graph(buf, _span(v), state, 0)
        elif num == 8 and wt == 2:
            dom, ver = "", 0
            for n2, w2, v2, _ in _fields(buf, *_span(v)):
                if n2 == 1 and w2 == 2:
                    dom = _str(buf, v2, MAX_NAME)
                elif n2 == 2 and w2 == 0 and isinstance(v2, int):
                    ver = v2
            if len(opsets) < MAX_OP_TYPES:
                opsets[dom or "ai.onnx"] = ver
            else:
                state.limits.add(f"more than {MAX_OP_TYPES} opset imports")
        elif num == 14 and wt == 2:
            k, val = _kv(buf, v)
            if len(meta) < MAX_META:
                meta[k] = val
            else:
                state.limits.add(f"more than {MAX_META} metadata_props entries")
        elif num == 25 and wt == 2:
            for n2, w2, v2, _ in _fields(buf, *_span(v)):
                if n2 == 2 and w2 == 2:  # FunctionProto.domain: local functions define custom ops
                    _add_domain(state, _str(buf, v2, MAX_NAME))
    if "ir_version" not in p or not graph_seen:
        raise _Bad("no ir_version or graph: this is not an ONNX model")
    p["opsets"] = opsets
    if meta:
        p["metadata_props"] = meta
    p["op_count"] = sum(state.ops.values())
    p["op_types"] = dict(sorted(state.ops.items()))
    p["initializer_count"] = state.initializers
    if state.params:
        p["parameter_count"] = state.params
    custom = sorted(d for d in state.domains | set(opsets) if d not in STANDARD_DOMAINS)
    if custom:
        p["custom_op_domains"] = custom
        out.finding(
            Severity.LOW,
            "scan.onnx.custom-op-domain",
            f"{f.rel}: uses custom operator domain(s) {', '.join(custom)}: running it needs code from outside "
            "the ONNX standard",
            f.ev(key="opset_import/node.domain", value=custom),
            "ONNX IR spec, 'Operator Sets'",
        )
    if state.external:
        p["external_data"] = sorted(state.external)
        for loc in sorted(state.external):
            _external(f, loc, out)
    for what in sorted(state.limits):
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: {what}: the rest are not listed (docs/limits.md)",
            f.ev(key="graph"),
        )
    out.fact("producer", p.get("producer_name"), f.ev(key="producer_name"))
    out.fact("parameter_count", state.params or None, f.ev(key="graph.initializer"))
    _metadata_facts(f, meta, p, out)
    return out


def _external(f: FileRef, loc: str, out: Found) -> None:
    """Judge one external data location: outside the folder (also as Windows would read it), missing, or
    a name no file system can hold."""
    ev = f.ev(key="initializer.external_data.location", value=loc[:200])
    shown = repr(loc[:200]) + ("…" if len(loc) > 200 else "")
    posix = loc.replace("\\", "/")
    if "\x00" in loc or len(loc.encode("utf-8", "replace")) > 4096 or any(len(c) > 255 for c in posix.split("/")):
        out.finding(
            Severity.MEDIUM,
            "scan.onnx.external-data-invalid",
            f"{f.rel}: external data location {shown} is not a valid file name (NUL byte or too long)",
            ev,
            "ONNX external data spec",
        )
        return
    folder = f.path.parent.resolve()
    try:
        target = (f.path.parent / posix).resolve()
        outside = posix.startswith("/") or re.match(r"[A-Za-z]:", posix) is not None
        outside = outside or not target.is_relative_to(folder)
        missing = not outside and not target.exists()
    except (OSError, ValueError) as e:
        out.finding(
            Severity.MEDIUM,
            "scan.onnx.external-data-invalid",
            f"{f.rel}: external data location {shown} cannot be resolved ({type(e).__name__})",
            ev,
            "ONNX external data spec",
        )
        return
    if outside:
        out.finding(
            Severity.HIGH,
            "scan.onnx.external-data-outside",
            f"{f.rel}: external data location {shown} points outside the model folder",
            ev,
            "CVE-2024-27318; ONNX external data spec",
        )
    elif missing:
        out.finding(
            Severity.MEDIUM,
            "scan.onnx.external-data-missing",
            f"{f.rel}: external data file {shown} is missing",
            ev,
        )


def _metadata_facts(f: FileRef, meta: dict[str, str], p: dict[str, object], out: Found) -> None:
    """metadata_props that say what the model is become facts; a licence becomes licence evidence."""
    from .model_card import is_generic

    seen: set[str] = set()
    for key, value in meta.items():
        fact = META_FACTS.get(key.strip().lower().replace("-", "_").replace(" ", "_"))
        value = value.strip()
        if not fact or not value or fact in seen:
            continue  # the first of several variants wins (metadata_props keep file order)
        seen.add(fact)
        ev = f.ev(key=f"metadata_props.{key}", value=value[:200])
        if fact == "license":
            out.licenses.append(DeclaredLicense(value[:200], ev))
        elif fact == "name":
            if not is_generic(value):
                out.fact("name", value[:MAX_NAME], ev)
        else:
            out.fact(fact, value[:1000], ev)
    if "version" not in seen and p.get("model_version"):
        out.fact("version", str(p["model_version"]), f.ev(key="model_version"))
    if "description" not in seen and str(p.get("doc_string") or "").strip():
        out.fact("description", str(p["doc_string"]).strip(), f.ev(key="doc_string"))


def _kv(buf: memoryview, span: Value) -> tuple[str, str]:
    k = val = ""
    for n, w, v, _ in _fields(buf, *_span(span)):
        if n == 1 and w == 2:
            k = _str(buf, v, MAX_NAME)
        elif n == 2 and w == 2:
            val = _str(buf, v, 2000)
    return k, val


def _add_domain(st: _State, dom: str) -> None:
    if dom in st.domains or len(st.domains) < MAX_OP_TYPES:
        st.domains.add(dom)
    else:
        st.limits.add(f"more than {MAX_OP_TYPES} operator domains")


def _graph(buf: memoryview, span: Span, st: _State, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Bad("subgraphs nested too deeply")
    for num, wt, v, _ in _fields(buf, *span):
        if wt != 2:
            continue
        if num == 1:  # NodeProto
            op, dom = "", ""
            for n2, w2, v2, _ in _fields(buf, *_span(v)):
                if n2 == 4 and w2 == 2:
                    op = _str(buf, v2, MAX_NAME)
                elif n2 == 7 and w2 == 2:
                    dom = _str(buf, v2, MAX_NAME)
                elif n2 == 5 and w2 == 2:  # AttributeProto: subgraphs of If/Loop/Scan
                    for n3, w3, v3, _ in _fields(buf, *_span(v2)):
                        if n3 == 5 and w3 == 2:  # a Constant node's tensor: parameters too
                            _tensor(buf, _span(v3), st)
                        elif n3 == 6 and w3 == 2:
                            _graph(buf, _span(v3), st, depth + 1)
                        elif n3 == 11 and w3 == 2:
                            _graph(buf, _span(v3), st, depth + 1)
            name = f"{dom}::{op}" if dom else op
            if name not in st.ops and len(st.ops) >= MAX_OP_TYPES:
                st.limits.add(f"more than {MAX_OP_TYPES} operator types")
                name = OTHER_OPS
            st.ops[name] += 1
            if dom:
                _add_domain(st, dom)
        elif num == 5:  # TensorProto initializer
            st.initializers += 1
            _tensor(buf, _span(v), st)


def _tensor(buf: memoryview, span: Span, st: _State) -> None:
    n_el = 1
    for n2, w2, v2, _ in _fields(buf, *span):
        if n2 == 1 and w2 == 0 and isinstance(v2, int):
            n_el = min(n_el * v2, MAX_ELEMENTS)
        elif n2 == 1 and w2 == 2:  # packed dims
            i, e = _span(v2)
            while i < e:
                _budget.left -= 1
                if _budget.left < 0:
                    raise _Limit(f"more than {MAX_FIELDS:,} protobuf fields")
                d, i = _varint(buf, i, e)
                n_el = min(n_el * d, MAX_ELEMENTS)
        elif n2 == 13 and w2 == 2:
            k, val = _kv(buf, v2)
            if k == "location":
                if val in st.external or len(st.external) < MAX_EXTERNAL:
                    st.external.add(val)
                else:
                    st.limits.add(f"more than {MAX_EXTERNAL} external data locations")
    st.params = min(st.params + n_el, MAX_ELEMENTS)
