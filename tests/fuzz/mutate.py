"""Format-agnostic and structure-aware mutation helpers (bytes, JSON trees, protobuf, zip, tar).

Every function takes a ``random.Random`` first so that a recipe (seed + names) reproduces its bytes.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from random import Random
from typing import Any, Callable

U64 = [0, 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, 2**64 - 1]
U32 = [0, 1, 7, 13, 255, 2**15, 2**16 - 1, 2**31 - 1, 2**31, 2**32 - 1]
U16 = [0, 1, 20, 45, 63, 99, 255, 0x8000, 0xFFFF]


# -- bytes -------------------------------------------------------------------------------
def b_flip(r: Random, d: bytes) -> bytes:
    if not d:
        return b"\x00"
    b = bytearray(d)
    for _ in range(r.choice([1, 2, 4, 16])):
        i = r.randrange(len(b))
        b[i] = r.choice([b[i] ^ (1 << r.randrange(8)), 0, 0xFF, 0x7F, 0x80, r.randrange(256)])
    return bytes(b)


def b_int(r: Random, d: bytes) -> bytes:
    if len(d) <= 8:
        return d + b"\xff" * 8
    i = r.randrange(len(d) - 8)
    size, vals = r.choice([(1, [0, 0x7F, 0x80, 0xFF]), (2, U16), (4, U32), (8, U64)])
    return d[:i] + r.choice(vals).to_bytes(size, "little") + d[i + size :]


def b_insert(r: Random, d: bytes) -> bytes:
    i = r.randrange(len(d) + 1)
    blob = r.choice([b"\x00", b"\xff" * 8, bytes(r.randrange(256) for _ in range(r.randrange(1, 64))), d[i : i + 32]])
    return d[:i] + blob + d[i:]


def b_delete(r: Random, d: bytes) -> bytes:
    if not d:
        return d
    i = r.randrange(len(d))
    return d[:i] + d[i + r.choice([1, 2, 8, 64, 4096]) :]


def b_truncate(r: Random, d: bytes) -> bytes:
    if len(d) < 2:
        return b""
    return d[: r.choice([r.randrange(len(d)), len(d) // 2, len(d) - 1, min(len(d) - 1, 8)])]


def b_dup(r: Random, d: bytes) -> bytes:
    if not d:
        return d
    i = r.randrange(len(d))
    chunk = d[i : i + r.choice([4, 16, 256, 4096])]
    return d[:i] + chunk * r.choice([2, 10, 100]) + d[i:]


BYTES: dict[str, Callable[[Random, bytes], bytes]] = {
    "b_flip": b_flip,
    "b_int": b_int,
    "b_insert": b_insert,
    "b_delete": b_delete,
    "b_truncate": b_truncate,
    "b_dup": b_dup,
}


# -- JSON trees --------------------------------------------------------------------------
# Markers replaced in the serialised text, for what json.dumps cannot write (depth, huge ints,
# duplicate keys, NaN spelled differently).
DEEP, BIGINT, DUP, RAW = "@@DEEP@@", "@@BIGINT@@", "@@DUP@@", "@@RAW@@"


def deep_text(r: Random, n: int | None = None) -> str:
    n = n or r.choice([200, 999, 1000, 1001, 3000, 20000, 100000])
    kind = r.randrange(4)
    if kind == 0:
        return "[" * n + "]" * n
    if kind == 1:
        return '{"a":' * n + "1" + "}" * n
    if kind == 2:
        return '[{"a":' * (n // 2) + "0" + "}]" * (n // 2)
    return "[" * n + '"\\ud800"' + "]" * n


def evil_leaf(r: Random) -> Any:
    return r.choice(
        [
            lambda: "\ud800",
            lambda: "x\udfffy\ud800",
            lambda: "a\x00b",
            lambda: "\x00",
            lambda: BIGINT,
            lambda: DEEP,
            lambda: RAW + r.choice(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1e-999", "0.1e400"]),
            lambda: 2**64,
            lambda: -(2**63) - 1,
            lambda: 1.7976931348623157e308,
            lambda: -1,
            lambda: True,
            lambda: None,
            lambda: [],
            lambda: {},
            lambda: [None] * r.choice([10, 100000]),
            lambda: "x" * r.choice([1000, 70000, 1_500_000]),
            lambda: "../../../../../etc/passwd",
            lambda: "\u202e\ufeff\u0301",
            lambda: {"\ud800": "\ud800"},
            lambda: "%s%n{0}{{7*7}}${x}",
            lambda: r.choice(["apache-2.0", "llama3.1", "other", "MIT OR (GPL-2.0 AND", "cc-by-nc-4.0"]),
        ]
    )()


def _slots(obj: Any, cap: int = 4000) -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    stack = [obj]
    while stack and len(out) < cap:
        o = stack.pop()
        if isinstance(o, dict):
            for k, v in list(o.items()):
                out.append((o, k))
                stack.append(v)
        elif isinstance(o, list):
            for i, v in enumerate(o[:200]):
                out.append((o, i))
                stack.append(v)
    return out


def _dicts(obj: Any) -> list[dict[str, Any]]:
    return [o for o, _ in _slots(obj) if isinstance(o, dict)] + ([obj] if isinstance(obj, dict) else [])


def json_mutate_obj(r: Random, obj: Any) -> Any:
    """One structural change to a parsed JSON document (in place when possible)."""
    if not isinstance(obj, (dict, list)):
        obj = {"v": obj}
    slots = _slots(obj)
    op = r.randrange(6)
    if op == 0 and slots:  # replace a value
        c, k = r.choice(slots)
        c[k] = evil_leaf(r)
    elif op == 1:  # add a key
        ds = _dicts(obj)
        if ds:
            r.choice(ds)[r.choice(["\ud800", "a\x00", "", "__metadata__", "auto_map", "x" * 300, "k"])] = evil_leaf(r)
    elif op == 2:  # duplicate key
        ds = [d for d in _dicts(obj) if d]
        if ds:
            d = r.choice(ds)
            k = r.choice(list(d))
            d[DUP + k] = evil_leaf(r)
    elif op == 3 and slots:  # change a container's type
        c, k = r.choice(slots)
        v = c[k]
        c[k] = (
            list(v.values())
            if isinstance(v, dict)
            else {str(i): x for i, x in enumerate(v)}
            if isinstance(v, list)
            else [v]
        )
    elif op == 4 and slots:  # wrap deep
        c, k = r.choice(slots)
        c[k] = DEEP
    else:  # many entries
        ds = _dicts(obj)
        if ds:
            d = r.choice(ds)
            for i in range(r.choice([100, 10000, 50000])):
                d[f"k{i}"] = i
    return obj


def _raw_fix(text: str) -> str:
    import re

    return re.sub(r'"@@RAW@@([^"]*)"', r"\1", text)


def json_bytes(r: Random, obj: Any) -> bytes:
    ascii_ = r.random() < 0.7
    text = _raw_fix(json.dumps(obj, ensure_ascii=ascii_))
    if DEEP in text:
        text = text.replace(f'"{DEEP}"', deep_text(r))
    if BIGINT in text:
        text = text.replace(f'"{BIGINT}"', "9" * r.choice([20, 4301, 100000]))
    text = text.replace(f'"{DUP}', '"')
    return text.encode("utf-8", "surrogatepass")


def j_mutate(r: Random, d: bytes) -> bytes:
    """Parse, change 1-3 things structurally, serialise with what json.dumps cannot write."""
    try:
        obj = json.loads(d)
    except (ValueError, RecursionError):
        return b_flip(r, d)
    for _ in range(r.choice([1, 1, 2, 3])):
        obj = json_mutate_obj(r, obj)
    return json_bytes(r, obj)


def j_text(r: Random, d: bytes) -> bytes:
    """Textual JSON damage: unbalanced brackets, BOM, NULs, trailing garbage, invalid UTF-8."""
    op = r.randrange(6)
    if op == 0:
        return b"\xef\xbb\xbf" + d
    if op == 1:
        return d + r.choice([b"\x00", b"}", b"garbage", b"\n" * 3])
    if op == 2:
        i = r.randrange(len(d) + 1)
        return d[:i] + r.choice([b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b"\\ud800", b"\\u0000"]) + d[i:]
    if op == 3:
        return d.replace(b"{", b"[", 1)
    if op == 4:
        return d.encode("utf-16") if isinstance(d, str) else d.decode("utf-8", "replace").encode("utf-16")
    return d[: max(1, len(d) // 2)]


# -- protobuf ----------------------------------------------------------------------------
def varint(n: int) -> bytes:
    n &= (1 << 70) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(d: bytes, i: int, end: int) -> tuple[int, int]:
    n = shift = 0
    while i < end:
        b = d[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i
        if shift > 70:
            break
    raise ValueError("bad varint")


def pb_fields(d: bytes, cap: int = 20000) -> list[tuple[int, int, int, int, int]]:
    """(tag_start, value_start, value_end, wire_type, length_start) for every field, nested
    messages included where the bytes parse as one (heuristically)."""
    out: list[tuple[int, int, int, int, int]] = []

    def walk(start: int, end: int, depth: int) -> bool:
        i = start
        local: list[tuple[int, int, int, int, int]] = []
        while i < end:
            tag_at = i
            try:
                tag, i = _read_varint(d, i, end)
            except ValueError:
                return False
            wt = tag & 7
            if tag >> 3 == 0:
                return False
            if wt == 0:
                try:
                    _, j = _read_varint(d, i, end)
                except ValueError:
                    return False
                local.append((tag_at, i, j, 0, i))
                i = j
            elif wt == 1:
                local.append((tag_at, i, i + 8, 1, i))
                i += 8
            elif wt == 5:
                local.append((tag_at, i, i + 4, 5, i))
                i += 4
            elif wt == 2:
                len_at = i
                try:
                    n, i = _read_varint(d, i, end)
                except ValueError:
                    return False
                if i + n > end:
                    return False
                local.append((tag_at, i, i + n, 2, len_at))
                i += n
            else:
                return False
        if i != end:
            return False
        out.extend(local)
        if depth < 12:
            for f in local:
                if f[3] == 2 and f[2] - f[1] >= 2 and len(out) < cap:
                    walk(f[1], f[2], depth + 1)
        return True

    walk(0, len(d), 0)
    return out[:cap]


def pb_mutate(r: Random, d: bytes) -> bytes:
    fields = pb_fields(d)
    if not fields:
        return b_flip(r, d)
    tag_at, v0, v1, wt, len_at = r.choice(fields)
    op = r.randrange(6)
    if op == 0 and wt == 2:  # length that lies
        n = v1 - v0
        new = r.choice([0, n + 1, n - 1 if n else 0, 2**31, 2**63, 2**64 - 1, len(d)])
        return d[:len_at] + varint(new) + d[v0:]
    if op == 1 and wt == 0:  # huge / overlong varint
        return (
            d[:v0] + r.choice([varint(2**64 - 1), b"\xff" * 10 + b"\x01", b"\x80" * 9 + b"\x00", b"\xff" * 11]) + d[v1:]
        )
    if op == 2:  # impossible wire type
        tag, _ = _read_varint(d, tag_at, len(d))
        return d[:tag_at] + varint((tag & ~7) | r.choice([3, 4, 6, 7])) + d[tag_at + len(varint(tag)) :]
    if op == 3:  # duplicate the field many times
        return d[:tag_at] + d[tag_at:v1] * r.choice([2, 100, 2000]) + d[tag_at:]
    if op == 4:  # delete it
        return d[:tag_at] + d[v1:]
    if wt == 2:  # replace the payload
        payload = r.choice([b"\xff\xfe\xed\xa0\x80", b"\x00" * 8, b"a" * 100000, b"../../../../etc/passwd"])
        return d[:len_at] + varint(len(payload)) + payload + d[v1:]
    return b_flip(r, d)


def pb_field(field: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(field << 3) + varint(value)
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return varint(field << 3 | 2) + varint(len(data)) + data


# -- zip ---------------------------------------------------------------------------------
LFH, CDH, EOCD = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
# (offset, size) of the fields worth lying about, per record kind.
LFH_FIELDS = {
    "version": (4, 2),
    "flags": (6, 2),
    "method": (8, 2),
    "crc": (14, 4),
    "csize": (18, 4),
    "usize": (22, 4),
    "namelen": (26, 2),
    "extralen": (28, 2),
}
CDH_FIELDS = {
    "version_made": (4, 2),
    "version": (6, 2),
    "flags": (8, 2),
    "method": (10, 2),
    "crc": (16, 4),
    "csize": (20, 4),
    "usize": (24, 4),
    "namelen": (28, 2),
    "extralen": (30, 2),
    "disk": (34, 2),
    "offset": (42, 4),
}
EOCD_FIELDS = {
    "disk": (4, 2),
    "cd_disk": (6, 2),
    "n_here": (8, 2),
    "n_total": (10, 2),
    "cd_size": (12, 4),
    "cd_offset": (16, 4),
    "comment_len": (20, 2),
}


def _find_all(d: bytes, sig: bytes) -> list[int]:
    out, i = [], d.find(sig)
    while i >= 0 and len(out) < 5000:
        out.append(i)
        i = d.find(sig, i + 1)
    return out


def zip_field(r: Random, d: bytes) -> bytes:
    """Lie in one header field: version needed, flags (encrypted), method 99, CRC, sizes, counts."""
    records = [(i, LFH_FIELDS) for i in _find_all(d, LFH)] + [(i, CDH_FIELDS) for i in _find_all(d, CDH)]
    records += [(i, EOCD_FIELDS) for i in _find_all(d, EOCD)]
    if not records:
        return b_flip(r, d)
    at, fields = r.choice(records)
    name = r.choice(list(fields))
    off, size = fields[name]
    special = {
        "version": [0xFF, 63, 45, 51, 0x3F3F, 20],
        "flags": [1, 0x41, 0x40, 0x08, 0x800, 0xFFFF],
        "method": [99, 12, 14, 93, 95, 1, 6, 0xFFFF, 8, 0],
        "crc": [0, 0xFFFFFFFF, 0xDEADBEEF],
    }.get(name, U32 if size == 4 else U16)
    v = r.choice(special)
    if name == "flags":
        (old,) = struct.unpack_from("<H", d, at + off) if at + off + 2 <= len(d) else (0,)
        v |= old
    if at + off + size > len(d):
        return d
    return d[: at + off] + (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little") + d[at + off + size :]


def zip_members(d: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(d)) as z:
            if sum(i.file_size for i in z.infolist()) > 16 << 20:
                return None  # a bomb: re-storing it would take the harness minutes
            return [(i, z.read(i)) for i in z.infolist()]
    except Exception:  # noqa: BLE001 - a seed that is already broken is mutated as bytes
        return None


def zip_build(members: list[tuple[str, bytes]], r: Random | None = None, method: int | None = None) -> bytes:
    import warnings

    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
        warnings.simplefilter("ignore")  # duplicate names are the point
        for name, data in members:
            m = method if method is not None else (r.choice([0, 0, 8, 8, 12, 14]) if r else 0)
            zi = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            zi.compress_type = m
            z.writestr(zi, data)
    return buf.getvalue()


EVIL_NAMES = [
    "a\x00b.pkl",
    "../../evil.pkl",
    "/abs/data.pkl",
    "C:\\x\\data.pkl",
    "archive/data.pkl",
    "archive/../../data.pkl",
    "\ud800.pkl",
    "x" * 5000,
    "archive/",
    "./data.pkl",
    "archive/data.pkl",
]


def zip_names(r: Random, d: bytes) -> bytes:
    """Rebuild with odd member names: NUL, '..', absolute, duplicates, non-UTF-8 bytes, long."""
    ms = zip_members(d)
    if not ms:
        return zip_field(r, d)
    pairs = [(i.filename, b) for i, b in ms]
    k = r.randrange(len(pairs)) if pairs else 0
    op = r.randrange(4)
    if op == 0 and pairs:
        name = r.choice(EVIL_NAMES)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            name = "BADNAME.pkl"
            out = zip_build([(name if i == k else n, b) for i, (n, b) in enumerate(pairs)], r)
            return out.replace(b"BADNAME", b"\xff\xfe\x80AD\xc3(", 2)  # same length: headers stay valid
        pairs[k] = (name, pairs[k][1])
    elif op == 1 and pairs:
        pairs.append(pairs[k])  # duplicate name
    elif op == 2 and pairs:
        n = pairs[k][0]
        out = zip_build(pairs, r)
        enc = n.encode()
        if enc:
            bad = bytes([0xFF]) + enc[1:]
            return out.replace(enc, bad)
        return out
    else:
        pairs.append(("archive/extra" * r.choice([1, 100]), b"x" * r.choice([0, 10, 100000])))
    try:
        return zip_build(pairs, r)
    except (ValueError, UnicodeEncodeError):
        return zip_field(r, d)


def zip_member(r: Random, d: bytes, inner: Callable[[Random, str, bytes], bytes]) -> bytes:
    """Mutate one member's content with its own format's mutators, rebuild with a random method."""
    ms = zip_members(d)
    if not ms:
        return zip_field(r, d)
    pairs = [(i.filename, b) for i, b in ms]
    k = r.randrange(len(pairs))
    name, data = pairs[k]
    pairs[k] = (name, inner(r, name, data))
    return zip_build(pairs, r)


def zip_truncate_member(r: Random, d: bytes) -> bytes:
    """A member whose data stops early while every header still promises all of it."""
    ms = zip_members(d)
    if not ms:
        return b_truncate(r, d)
    pairs = [(i.filename, b) for i, b in ms]
    out = bytearray(zip_build(pairs, r, method=r.choice([0, 8])))
    locs = _find_all(bytes(out), LFH)
    if not locs:
        return bytes(out)
    at = r.choice(locs)
    csize, namelen, extralen = struct.unpack_from("<IHH", out, at + 18)[0], *struct.unpack_from("<HH", out, at + 26)
    start = at + 30 + namelen + extralen
    cut = r.randrange(max(1, csize)) if csize else 0
    del out[start + cut : start + csize]
    return bytes(out)


def zlib_stream(chunks: Callable[[], Any], level: int = 9) -> bytes:
    c = zlib.compressobj(level)
    out = [c.compress(ch) for ch in chunks()]
    out.append(c.flush())
    return b"".join(out)
