"""Rows of tensors, read from the file by offset (memory-mapped), never the whole model.

Where a tensor's bytes are comes from the catalog's readers (``catalog.safetensors``,
``catalog.gguf``, ``catalog.pickles`` for PyTorch zip checkpoints): this module only turns
(offset, dtype, shape) into rows of float32 and counts every byte it reads. Nothing is unpickled.
A tensor that cannot be read (truncated file, an undequantizable GGUF type, a non-contiguous or
compressed storage) carries a ``problem`` naming the file instead of raising.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..catalog import sniff
from ..catalog.base import CatalogError, FileRef
from ..errors import InputError

# dtype name (safetensors spelling) -> numpy dtype; BF16 and the GGUF block types are decoded apart
PLAIN = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
ITEMSIZE = {**{k: np.dtype(v).itemsize for k, v in PLAIN.items()}, "BF16": 2}
FLOAT_BITS = {"F64": 53, "F32": 24, "F16": 11, "BF16": 8}  # significand bits: how much a cast loses
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt")
MAX_FILES = 1_000  # shards of one model read at most


class WeightsError(InputError):
    """The path holds no tensors aitrail can read; the message names it."""


@dataclass
class TensorRef:
    name: str
    dtype: str  # F32, F16, BF16, I8, ... or a GGUF block type (Q8_0, Q4_0, ...)
    shape: tuple[int, ...]  # logical, row-major (PyTorch order; GGUF dims reversed)
    file: Path
    start: int = 0  # absolute offset of element 0
    rows: int = 1
    row_elems: int = 0
    row_bytes: int = 0
    ggml_type: int | None = None
    problem: str | None = None  # why its bytes cannot be read

    @property
    def nbytes(self) -> int:
        return self.rows * self.row_bytes

    @property
    def floating(self) -> bool:
        return self.dtype not in ("I64", "I32", "I16", "U8", "BOOL")


@dataclass
class Weights:
    """All tensors of a model (one file or every weights file of a folder)."""

    path: Path
    format: str
    tensors: dict[str, TensorRef] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    arch: str | None = None  # GGUF general.architecture
    blocks: int | None = None  # GGUF <arch>.block_count
    problems: list[str] = field(default_factory=list)
    bytes_read: int = 0
    _maps: dict[Path, Any] = field(default_factory=dict, repr=False)

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def _map(self, path: Path) -> Any:
        if path not in self._maps:
            with open(path, "rb") as fh:
                m: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else b""
            if hasattr(m, "madvise") and hasattr(mmap, "MADV_RANDOM"):
                m.madvise(mmap.MADV_RANDOM)  # rows are scattered: the kernel's read-ahead would read far more
            self._maps[path] = m
        return self._maps[path]

    def prefetch(self, t: TensorRef, rows: Sequence[int]) -> None:
        """Ask the kernel for these rows ahead (MADV_WILLNEED): the reads then overlap instead of
        faulting one page at a time. Not counted: ``raw_rows`` counts what is read."""
        mm = self._map(t.file)
        if not (isinstance(mm, mmap.mmap) and hasattr(mmap, "MADV_WILLNEED")):
            return
        page = mmap.PAGESIZE
        for i in rows:
            start = t.start + i * t.row_bytes
            aligned = start - start % page
            try:
                mm.madvise(mmap.MADV_WILLNEED, aligned, start + t.row_bytes - aligned)
            except (OSError, ValueError):
                return  # past the end (a truncated file): raw_rows reports it

    def raw_rows(self, t: TensorRef, rows: Sequence[int]) -> list[bytes]:
        """The bytes of the given rows, counted in ``bytes_read``."""
        mm = self._map(t.file)
        out = [mm[t.start + i * t.row_bytes : t.start + (i + 1) * t.row_bytes] for i in rows]
        self.bytes_read += t.row_bytes * len(out)
        return out

    def rows(self, t: TensorRef, rows: Sequence[int], raw: list[bytes] | None = None) -> np.ndarray:
        """Rows as float32, shape (len(rows), row_elems). Raises ValueError naming the type it cannot decode."""
        data = b"".join(raw if raw is not None else self.raw_rows(t, rows))
        return decode(data, t, len(rows))

    def close(self) -> None:
        for m in self._maps.values():
            if isinstance(m, mmap.mmap):
                m.close()
        self._maps.clear()


def decode(data: bytes, t: TensorRef, n: int) -> np.ndarray:
    if t.dtype in PLAIN:
        return np.frombuffer(data, dtype=PLAIN[t.dtype]).astype(np.float32).reshape(n, t.row_elems)
    if t.dtype == "BF16":
        return (np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(n, t.row_elems)
    if t.ggml_type is not None:
        try:
            from gguf import GGMLQuantizationType, quants
        except ImportError:
            raise ValueError(f"GGUF type {t.dtype} needs the gguf package to dequantize (pip install gguf)") from None

        raw = np.frombuffer(data, dtype=np.uint8).reshape(n, t.row_bytes)
        try:
            out = quants.dequantize(raw, GGMLQuantizationType(t.ggml_type))
        except (NotImplementedError, ValueError, quants.QuantError) as e:
            raise ValueError(f"GGUF type {t.dtype} cannot be dequantized ({e})") from None
        return np.asarray(out, dtype=np.float32).reshape(n, t.row_elems)
    raise ValueError(f"dtype {t.dtype} cannot be decoded")


def open_weights(path: Path, follow_symlinks: bool = False) -> Weights:
    """Every tensor of the model at ``path`` (a weights file, or a folder of shards). In a folder, a
    symbolic link leading out of it is not followed unless asked (as the scanner)."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path}: does not exist")
    skipped: list[str] = []
    files = _weight_files(path, follow_symlinks, skipped) if path.is_dir() else [path]
    if not files:
        extra = f" ({skipped[0]})" if skipped else ""
        raise WeightsError(f"{path}: no safetensors, GGUF or PyTorch weights file in this folder{extra}")
    w: Weights | None = None
    for f in files:
        ref = _ref(f, path)
        fmt = ref.format or ""
        if w is None:
            w = Weights(path, fmt)
        w.files.append(f)
        try:
            if fmt == "safetensors":
                _safetensors(w, ref)
            elif fmt == "gguf":
                _gguf(w, ref)
            elif fmt in ("pytorch-zip", "torchscript"):
                _pytorch_zip(w, ref)
            elif fmt == "pytorch-legacy":
                _pytorch_legacy(w, ref)
            else:
                w.problems.append(f"{ref.rel}: format {fmt or 'unknown'} holds no tensors aitrail reads by offset")
        except CatalogError as e:
            w.problems.append(str(e))
    assert w is not None
    w.problems += skipped
    if not w.tensors and not w.problems:
        w.problems.append(f"{path}: no tensors")
    return w


def _weight_files(folder: Path, follow_symlinks: bool, skipped: list[str]) -> list[Path]:
    root = folder.resolve()
    found = []
    for p in sorted(folder.rglob("*")):
        if p.suffix not in WEIGHT_SUFFIXES or not p.is_file():
            continue
        if not follow_symlinks and not p.resolve().is_relative_to(root):
            rel = p.relative_to(folder).as_posix()
            skipped.append(f"{rel}: a link out of the folder, not followed (--follow-symlinks)")
            continue
        found.append(p)
    for suffix in (".safetensors", ".gguf"):  # one family, as a loader would pick
        same = [p for p in found if p.suffix == suffix]
        if same:
            return same[:MAX_FILES]
    return found[:MAX_FILES]


def _ref(f: Path, root: Path) -> FileRef:
    head = sniff.read_head(f)
    rel = f.relative_to(root).as_posix() if root.is_dir() else f.name
    return FileRef(path=f, rel=rel or f.name, size=f.stat().st_size, head=head, format=sniff.sniff(f, head))


def _place(w: Weights, t: TensorRef, size: int, rel: str) -> None:
    """Rows from the shape; a tensor whose bytes lie past the end of the file gets a problem."""
    shape = t.shape
    t.rows = shape[0] if len(shape) >= 2 else 1
    n = 1
    for d in shape:
        n *= d
    t.row_elems = n // t.rows if t.rows else 0
    if t.problem is None and t.row_bytes == 0:
        t.row_bytes = t.row_elems * ITEMSIZE.get(t.dtype, 0)
        if t.dtype not in ITEMSIZE:
            t.problem = f"{rel}: tensor {t.name!r} has dtype {t.dtype}, which aitrail cannot decode"
    if t.problem is None and t.start + t.nbytes > size:
        t.problem = (
            f"{rel}: tensor {t.name!r} lies at bytes {t.start}..{t.start + t.nbytes}, past the end of the file "
            f"({size} bytes): truncated"
        )
    if t.rows == 0 or t.row_elems == 0:
        t.problem = t.problem or f"{rel}: tensor {t.name!r} is empty"
    w.tensors[t.name] = t


def _safetensors(w: Weights, ref: FileRef) -> None:
    from ..catalog import safetensors as st

    n, header = st.read_header(ref)
    data = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        ok = isinstance(info, dict) and isinstance(info.get("shape"), list)
        ok = ok and isinstance(info.get("data_offsets"), list)
        shape = tuple(info["shape"]) if ok else ()
        offs = info["data_offsets"] if ok else []
        if not (ok and all(type(d) is int and d >= 0 for d in shape) and len(offs) == 2):
            w.tensors[name] = TensorRef(name, "?", (), ref.path, problem=f"{ref.rel}: tensor {name!r}: malformed entry")
            continue
        t = TensorRef(name, str(info.get("dtype")), shape, ref.path, start=data + int(offs[0]))
        _place(w, t, ref.size, ref.rel)
        if t.problem is None and t.nbytes != offs[1] - offs[0]:
            span = offs[1] - offs[0]
            t.problem = f"{ref.rel}: tensor {name!r}: data_offsets span {span} bytes, its shape needs {t.nbytes}"


def _gguf(w: Weights, ref: FileRef) -> None:
    from ..catalog import gguf as g

    sizes: dict[int, tuple[int, int]] = {}
    try:
        from gguf import GGML_QUANT_SIZES

        sizes = {int(k): v for k, v in GGML_QUANT_SIZES.items()}
    except ImportError:  # plain types are still read; block types are named as not dequantizable
        pass

    _version, kv, tensors, header_end = g.read_header(ref)
    arch = kv.get("general.architecture")
    w.arch = arch if isinstance(arch, str) else w.arch
    blocks = kv.get(f"{arch}.block_count")
    w.blocks = blocks if isinstance(blocks, int) else w.blocks
    align = kv.get("general.alignment", 32)
    align = align if isinstance(align, int) and 0 < align <= 1 << 20 else 32
    data = -(-header_end // align) * align
    for name, dims, ttype, offset in tensors:
        tname = g.TENSOR_TYPES.get(ttype, f"unknown ({ttype})")
        t = TensorRef(name, tname, tuple(reversed(dims)), ref.path, start=data + offset)
        if ttype in g.PLAIN_SIZES and tname in ITEMSIZE:
            _place(w, t, ref.size, ref.rel)
            continue
        t.ggml_type = ttype
        if ttype in sizes:
            block, size = sizes[ttype]
        else:
            t.problem = f"{ref.rel}: tensor {name!r} has GGUF type {tname}, which aitrail cannot dequantize"
            block, size = 1, 0
        inner = dims[0] if dims else 0
        if t.problem is None and (inner == 0 or inner % block):
            t.problem = f"{ref.rel}: tensor {name!r}: its {inner} columns are not whole {tname} blocks of {block}"
        n_rows_inner = 1
        for d in dims[1:-1] if len(dims) > 2 else []:
            n_rows_inner *= d  # a logical row of a 3-D+ tensor spans several GGUF rows
        t.row_bytes = (inner // block) * size * n_rows_inner if t.problem is None else 0
        _place(w, t, ref.size, ref.rel)


def _pytorch_zip(w: Weights, ref: FileRef) -> None:
    from ..catalog import pickles

    try:
        z = zipfile.ZipFile(ref.path)
    except pickles.ARCHIVE_ERRORS as e:
        raise CatalogError(f"{ref.rel}: corrupt or truncated zip archive ({e})") from None
    with z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise CatalogError(f"{ref.rel}: PyTorch zip has {len(pkl)} data.pkl members (expected 1)")
        prefix = pkl[0][: -len("data.pkl")]
        try:
            with z.open(pkl[0]) as fh:
                s = pickles.walk(fh)
        except pickles.ARCHIVE_ERRORS as e:
            raise CatalogError(f"{ref.rel}: {pkl[0]}: malformed pickle: {e}") from None
        members = {i.filename: i for i in z.infolist()}
        with open(ref.path, "rb") as fh:
            for name, pt in pickles.collect_tensors(s.root).items():
                t = TensorRef(name, pt.dtype, tuple(pt.shape), ref.path)
                key = pt.storage
                info = members.get(f"{prefix}data/{key}") if key is not None else None
                if key is None:
                    t.problem = f"{ref.rel}: tensor {name!r}: storage key not exposed by the pickle reader"
                elif info is None:
                    t.problem = f"{ref.rel}: tensor {name!r}: storage data/{key} is missing from the archive"
                elif info.compress_type != zipfile.ZIP_STORED:
                    t.problem = f"{ref.rel}: tensor {name!r}: storage data/{key} is compressed (not memory-mappable)"
                elif not _contiguous(tuple(pt.shape), pt.stride):
                    t.problem = f"{ref.rel}: tensor {name!r}: not contiguous (stride {pt.stride})"
                else:
                    fh.seek(info.header_offset)
                    local = fh.read(30)
                    if len(local) < 30 or local[:4] != b"PK\x03\x04":
                        t.problem = f"{ref.rel}: storage data/{key}: bad local header"
                    else:
                        nlen, xlen = struct.unpack_from("<HH", local, 26)
                        item = ITEMSIZE.get(pt.dtype, 0)
                        t.start = info.header_offset + 30 + nlen + xlen + pt.offset * item
                _place(w, t, ref.size, ref.rel)
                if t.problem is None and info is not None:
                    end = pt.offset * ITEMSIZE.get(pt.dtype, 0) + t.nbytes
                    if end > info.file_size:
                        t.problem = (
                            f"{ref.rel}: tensor {name!r} needs {end} bytes of data/{key}, which holds {info.file_size}"
                        )


def _pytorch_legacy(w: Weights, ref: FileRef) -> None:
    """torch.save before 1.6 (old pytorch_model.bin): four pickles (magic number, protocol, sys info, the
    object), a pickled list of storage keys, then each storage in that order as an int64 element count
    and its raw bytes. The pickles are walked symbolically; the storages are located by those counts."""
    from ..catalog import pickles

    with open(ref.path, "rb") as fh:
        try:
            for _ in range(3):
                pickles.walk(fh)
            s = pickles.walk(fh)
            keys = pickles.walk(fh).root
        except pickles.READ_ERRORS as e:
            raise CatalogError(f"{ref.rel}: malformed legacy PyTorch pickle: {e}") from None
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            raise CatalogError(f"{ref.rel}: legacy PyTorch file has no list of storage keys after its object")
        tensors = pickles.collect_tensors(s.root)
        item = {t.storage: ITEMSIZE.get(t.dtype, 0) for t in tensors.values() if t.storage is not None}
        where: dict[str, tuple[int, int]] = {}  # storage key -> (offset of its bytes, their length)
        pos = fh.tell()
        for key in keys:
            fh.seek(pos)
            head = fh.read(8)
            size = item.get(key, 0)
            if len(head) < 8 or not size:
                break  # past the end, or a storage of a type not read: the ones after it cannot be located
            (numel,) = struct.unpack("<q", head)
            if numel < 0 or pos + 8 + numel * size > ref.size:
                break
            where[key] = (pos + 8, numel * size)
            pos += 8 + numel * size
    for name, pt in tensors.items():
        t = TensorRef(name, pt.dtype, tuple(pt.shape), ref.path)
        loc = where.get(pt.storage) if pt.storage is not None else None
        if loc is None:
            t.problem = f"{ref.rel}: tensor {name!r}: its storage could not be located (truncated or unreadable)"
        elif not _contiguous(tuple(pt.shape), pt.stride):
            t.problem = f"{ref.rel}: tensor {name!r}: not contiguous (stride {pt.stride})"
        else:
            t.start = loc[0] + pt.offset * ITEMSIZE.get(pt.dtype, 0)
        _place(w, t, ref.size, ref.rel)
        if t.problem is None and loc is not None and pt.offset * ITEMSIZE.get(pt.dtype, 0) + t.nbytes > loc[1]:
            t.problem = f"{ref.rel}: tensor {name!r} needs more bytes than its storage holds ({loc[1]})"


def _contiguous(shape: tuple[int, ...], stride: Any) -> bool:
    if stride is None:
        return False
    want, acc = [], 1
    for d in reversed(shape):
        want.append(acc)
        acc *= d
    return all(s == x or d == 1 for s, x, d in zip(stride, reversed(want), shape, strict=False)) and len(stride) == len(
        shape
    )
