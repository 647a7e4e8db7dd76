"""Tiny synthetic model artefacts for tests, written with the formats' own libraries where they exist."""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import types
import zipfile
from pathlib import Path

import numpy as np


def safetensors_file(
    path: Path, tensors: dict[str, tuple[str, list[int]]] | None = None, metadata: dict[str, str] | None = None
) -> Path:
    from safetensors.numpy import save_file

    tensors = tensors or {"embed.weight": ("float32", [4, 3]), "head.bias": ("float16", [3])}
    save_file({k: np.zeros(shape, dtype=dt) for k, (dt, shape) in tensors.items()}, str(path), metadata=metadata)
    return path


def raw_safetensors(path: Path, header: dict, data: bytes = b"", declared_len: int | None = None) -> Path:
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", declared_len if declared_len is not None else len(h)) + h + data)
    return path


def gguf_file(path: Path, *, tensors: bool = True, kv: dict | None = None, chat_template: str | None = None) -> Path:
    import gguf

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-test")
    w.add_file_type(15)  # Q4_K_M (as a label only; the tensors below are F32)
    for k, v in (kv or {}).items():
        if isinstance(v, int):
            w.add_uint32(k, v)
        else:
            w.add_string(k, v)
    if chat_template:
        w.add_chat_template(chat_template)
    if tensors:
        w.add_tensor("tok_embd.weight", np.zeros((8, 4), dtype=np.float32))
        w.add_tensor("output.weight", np.zeros((4,), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


# -- protobuf wire encoding, for ONNX fixtures (no onnx package needed) -------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb(field: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(field << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def onnx_model(path: Path, *, external: str | None = None, custom_domain: str | None = None) -> Path:
    node = pb(1, "x") + pb(2, "y") + pb(4, "Relu") + (pb(7, custom_domain) if custom_domain else b"")
    tensor = pb(1, 2) + pb(1, 3) + pb(2, 1) + pb(8, "w")
    if external:
        tensor += pb(13, pb(1, "location") + pb(2, external)) + pb(14, 1)
    else:
        tensor += pb(9, b"\x00" * 24)
    graph = pb(1, node) + pb(2, "g") + pb(5, tensor)
    model = pb(1, 8) + pb(2, "aitrail-tests") + pb(3, "1.0") + pb(7, graph) + pb(8, pb(1, "") + pb(2, 17))
    model += pb(14, pb(1, "author") + pb(2, "tests"))
    if custom_domain:
        model += pb(8, pb(1, custom_domain) + pb(2, 1))
    path.write_bytes(model)
    return path


# -- pickles that look like torch.save output, made without torch -----------------------
def _fake_torch() -> dict[str, types.ModuleType]:
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*a):  # pragma: no cover - never called
        raise AssertionError("a test pickle was loaded")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:  # noqa: D401 - stand-in type
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    return {"torch": torch, "torch._utils": utils}


class _Rebuild:
    def __init__(self, key: str, shape: tuple[int, ...]) -> None:
        self.key, self.shape = key, shape


def torch_pickle(tensors: dict[str, tuple[int, ...]]) -> bytes:
    mods = _fake_torch()
    old = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        fn = mods["torch._utils"]._rebuild_tensor_v2
        storage = mods["torch"].FloatStorage

        class Reducer:
            def __init__(self, r: _Rebuild) -> None:
                self.r = r

            def __reduce__(self):  # type: ignore[override]
                stride = tuple(int(np.prod(self.r.shape[i + 1 :])) for i in range(len(self.r.shape)))
                return fn, (_Pid(self.r.key), 0, self.r.shape, stride, False, {})

        class _P(pickle.Pickler):
            def persistent_id(self, obj):  # type: ignore[override]
                if isinstance(obj, _Pid):
                    return ("storage", storage, obj.key, "cpu", 1)
                return None

        from collections import OrderedDict

        buf = io.BytesIO()
        _P(buf, protocol=2).dump(
            OrderedDict((k, Reducer(_Rebuild(str(i), s))) for i, (k, s) in enumerate(tensors.items()))
        )
        return buf.getvalue()
    finally:
        for k, v in old.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


class _Pid:
    def __init__(self, key: str) -> None:
        self.key = key


def torch_zip(path: Path, tensors: dict[str, tuple[int, ...]]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", torch_pickle(tensors))
        z.writestr("archive/version", "3\n")
        for i in range(len(tensors)):
            z.writestr(f"archive/data/{i}", b"\x00" * 16)
    return path


def torch_legacy(path: Path, tensors: dict[str, tuple[int, ...]]) -> Path:
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True}, f, protocol=2)
        f.write(torch_pickle(tensors))
        pickle.dump(["0"], f, protocol=2)
        f.write(b"\x00" * 64)
    return path


# What the hub's default .gitattributes stores in LFS (a subset: the weights formats).
LFS_SUFFIXES = {"safetensors", "bin", "gguf", "onnx", "pt", "pth", "ckpt", "h5", "keras", "npz", "npy", "pkl"}


def hf_cache(root: Path, repo_id: str, revision: str, files: dict[str, bytes], main: bool = True) -> Path:
    """A Hugging Face hub cache as huggingface_hub writes it: snapshot files are relative symlinks to blobs
    named by their etag, the LFS SHA-256 for weights (the hub's .gitattributes track them in LFS) and the
    git blob SHA-1 for files kept in git (cards, configs, tokenizers, code)."""
    import hashlib
    import os

    repo = root / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if name.rsplit(".", 1)[-1] in LFS_SUFFIXES or len(data) > 10 << 20:
            digest = hashlib.sha256(data).hexdigest()
        else:
            digest = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        (repo / "blobs" / digest).write_bytes(data)
        target = snap / name
        target.parent.mkdir(parents=True, exist_ok=True)
        depth = name.count("/") + 2
        os.symlink(os.path.join(*([".."] * depth), "blobs", digest), target)
    if main:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(revision)
    return snap
