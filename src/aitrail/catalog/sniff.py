"""Tell what a file is from its first bytes, not its name (names lie; see issue on security)."""

from __future__ import annotations

import pickletools
import struct
import zipfile
from pathlib import Path

HEAD_BYTES = 4096

# Formats of files that hold model parameters.
WEIGHT_FORMATS = {
    "safetensors",
    "gguf",
    "onnx",
    "pytorch-zip",
    "pytorch-legacy",
    "pytorch-tar",
    "torchscript",
    "keras",
    "hdf5",
    "numpy-npy",
    "numpy-npz",
    "pickle",
    "joblib",
    "tensorflow-savedmodel",
}


PROTO0_STARTS = (b"(", b"]", b"}", b"c", b"I", b"L", b"S", b"V", b"N", b"F")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib", ".ckpt", ".p", ".sav", ".pck", ".pcl")
_PICKLE_OPS = {bytes([i]): pickletools.code2op.get(chr(i)) is not None for i in range(256)} | {b"": False}  # type: ignore[attr-defined]


def read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


# Names that say text: a protocol-0 reading of text ("cat\ndog" is GLOBAL at.dog) is not a pickle there.
TEXT_SUFFIXES = frozenset(
    ".txt .md .markdown .rst .json .jsonl .ndjson .yaml .yml .csv .tsv .xml .html .htm .py .pyi .cfg .ini .toml "
    ".log .sql .sh .js .ts .css .jinja .j2 .tex .srt .vtt .ipynb".split()
)


def sniff(path: Path, head: bytes) -> str | None:
    """Return a format name, or None when the content says nothing we know."""
    if len(head) >= 9 and head[8:9] == b"{":
        (n,) = struct.unpack_from("<Q", head, 0)
        if 2 <= n:
            # safetensors holds no code, but pickle.load and torch.load read any file from byte 0: when that
            # reading imports something, the file is a pickle (a real header's zero high bytes end it at once)
            return "pickle" if _PICKLE_OPS[head[:1]] and _imports(path) else "safetensors"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"\x93NUMPY"):
        return "numpy-npy"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        # Legacy torch.save writes a pickled magic number first (protocol 2, LONG1 of 10 bytes).
        if head.startswith(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"):
            return "pytorch-legacy"
        if b"joblib" in head:
            return "joblib"
        return "pickle"
    # Protocol 0/1 pickles have no PROTO opcode: their first opcode, and a pickle-ish name, tell
    # (an lzma-compressed pickle starts with "]" too: compressed pickles are pickles.compression's).
    if head[:1] in PROTO0_STARTS and path.suffix.lower() in PICKLE_SUFFIXES and not _compressed_pickle(head, path):
        return "pickle"
    if _looks_like_onnx(head):
        return "onnx"
    if _compressed_tar(head, path):
        return "tar"  # x.tar.gz: tarfile and pandas.read_pickle open it whole
    if _PICKLE_OPS[head[:1]] and path.suffix.lower() not in TEXT_SUFFIXES and _imports(path):
        # Content decides, not the name: numpy.load falls back to pickle for a .npy without its magic,
        # pandas.read_pickle and torch.load read any name; a stream that imports before it fails runs that
        return "pickle"
    return None


def starts_like_pickle(path: Path) -> bool:
    """Whether reading the file as a pickle from byte 0 imports something before it fails or stops (memoised
    per file version): what pickle.load / pandas.read_pickle would run, whatever the file's magic says."""
    try:
        with open(path, "rb") as fh:
            first = fh.read(1)
    except OSError:
        return False
    return bool(_PICKLE_OPS[first]) and _imports(path)



def _compressed_tar(head: bytes, path: Path) -> bool:
    from .pickles import Reopen, _codec, compressed_tar

    return _codec(head) is not None and compressed_tar(head, Reopen(path)) is not None


def _imports(path: Path) -> bool:
    from .pickles import Reopen, _memo, imports_before_error

    def probe() -> bool:
        with open(path, "rb") as fh:
            return imports_before_error(fh)

    return bool(_memo("imports", Reopen(path), None, probe))  # once per file version, not per sniff


def _looks_like_onnx(head: bytes) -> bool:
    # ModelProto starts with field 1 (ir_version, varint, tag 0x08) in every exporter we know,
    # followed by producer_name (0x12), graph (0x3a) or opset_import (0x42).
    return (
        len(head) >= 3
        and head[0] == 0x08
        and 1 <= head[1] <= 30
        and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0xA2)
    )


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except Exception:  # noqa: BLE001 - hostile headers raise many kinds; the zip rules report each
        return "zip"
    base = {n.split("/", 1)[1] if "/" in n else n for n in names}
    if any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in names) or any(
        "/code/" in n or n.startswith("code/") for n in names
    ):
        return "torchscript"
    if "data.pkl" in base:
        return "pytorch-zip"
    if "config.json" in names and any(n.endswith(".weights.h5") or n == "model.weights.h5" for n in names):
        return "keras"
    if names and all(n.endswith(".npy") for n in names):
        return "numpy-npz"
    return "zip"


def _compressed_pickle(head: bytes, path: Path | None = None) -> bool:
    from .pickles import Reopen, compression

    reopen = Reopen(path) if path is not None else None
    return compression(head, reopen, path.name if path is not None else None) is not None
