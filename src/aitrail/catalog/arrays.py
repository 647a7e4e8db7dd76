"""numpy .npy/.npz, joblib and plain pickles, Keras, HDF5 and TensorFlow SavedModel files.

Identified by content, with what their headers say; arrays and pickles are never loaded.
"""

from __future__ import annotations

import ast
import re
import struct
import zipfile
import zlib
from typing import IO

from .. import guard, jsonsafe
from ..model import ComponentType, Severity
from . import pickles
from .base import CatalogError, FileRef, Found

NPY_SPEC = "numpy NEP 1 (.npy format)"


_PY2_LONG = re.compile(r"(?<![\w'\"])(\d+)L(?![\w'\"])")


def parse_npy_header(fh: IO[bytes], rel: str) -> dict:
    magic = fh.read(8)
    if len(magic) < 8 or not magic.startswith(b"\x93NUMPY"):
        raise CatalogError(f"{rel}: not a .npy array (bad magic)", rule="scan.npy.bad-header")
    major = magic[6]
    size_fmt = "<H" if major == 1 else "<I"
    raw = fh.read(struct.calcsize(size_fmt))
    if len(raw) < struct.calcsize(size_fmt):
        raise CatalogError(f"{rel}: truncated .npy header", rule="scan.npy.bad-header")
    (n,) = struct.unpack(size_fmt, raw)
    if n > 1 << 20:
        raise CatalogError(f"{rel}: .npy header length {n} is implausible", rule="scan.npy.bad-header")
    text = fh.read(n)
    try:
        # literal_eval only builds literals (dicts, tuples, strings): it cannot call anything. Python 2
        # wrote long integers as "2L" in shapes; numpy reads them (format._filter_header): so do we.
        header = ast.literal_eval(_PY2_LONG.sub(r"\1", text.decode("latin1")))
    except (ValueError, SyntaxError, UnicodeDecodeError):
        raise CatalogError(f"{rel}: .npy header is not a Python literal", rule="scan.npy.bad-header") from None
    if not isinstance(header, dict) or "descr" not in header or "shape" not in header:
        raise CatalogError(f"{rel}: .npy header lacks descr/shape", rule="scan.npy.bad-header")
    shape = header["shape"]
    # numpy allows at most 64 dimensions: a longer shape is hostile, and would be copied into reports
    if not isinstance(shape, tuple) or len(shape) > 64 or not all(isinstance(d, int) for d in shape):
        raise CatalogError(f"{rel}: .npy header has an implausible shape", rule="scan.npy.bad-header")
    return header


# dtype strings numpy reads as plain (no Python objects): a byte order, a type character and a size, or a
# type's name. Anything else (an 'O' in any spelling: 'object', '|O8', 'object_'..., comma or subarray
# strings, what numpy would reject) is taken to hold objects: the bytes after the header are walked as the
# pickle numpy.load(allow_pickle=True) would read  # safe: comment on numpy's loader; aitrail parses the bytes
# (fail closed, as numpy's dtype(...).hasobject decides).
_PLAIN_DTYPE = re.compile(
    r"[<>|=]?(?:[?bBhHiIlLqQpPnNeEfdgFDGuic]\d*|[SUaV]\d*|[mM]8(?:\[\d*[A-Za-z]+\])?"
    r"|(?:bool|u?int(?:8|16|32|64)?|float(?:16|32|64|96|128)?|complex(?:64|128|192|256)?|str|bytes|void\d*"
    r"|half|single|double|longdouble|byte|ubyte|short|ushort|intc|uintc|longlong|ulonglong|intp|uintp"
    r"|(?:datetime|timedelta)64(?:\[\d*[A-Za-z]+\])?))"
)


def plain_dtype(descr: object, depth: int = 0) -> bool:
    """Whether a .npy header's descr is a dtype without Python objects (see _PLAIN_DTYPE): a string, or a
    structured list of (name, descr[, shape]) fields, each plain. numpy is not needed."""
    if depth > 32:
        return False
    if isinstance(descr, str):
        return len(descr) <= 64 and _PLAIN_DTYPE.fullmatch(descr) is not None
    if isinstance(descr, list) and descr:
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3) or not isinstance(field[0], (str, tuple)):
                return False
            if len(field) == 3 and not (isinstance(field[2], (tuple, int))):
                return False
            if not plain_dtype(field[1], depth + 1):
                return False
        return True
    return False


def _npy_props(header: dict) -> dict:
    # the header is attacker text: lone surrogates in a descr string must not reach the reports
    descr = str(header["descr"]).encode("utf-8", "backslashreplace").decode("utf-8")
    return {
        "dtype": descr if len(descr) <= 200 else descr[:199] + "…",
        "shape": list(header["shape"]),
        "fortran_order": bool(header.get("fortran_order")),
        "object_array": not plain_dtype(header["descr"]),
    }


def matches_npy(f: FileRef) -> bool:
    return f.format in ("numpy-npy", "numpy-npz")


def catalog_npy(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.DATA, format=f.format)
    arrays = {}
    if f.format == "numpy-npy":
        with open(f.path, "rb") as fh:
            arrays[f.path.name] = _npy_props(parse_npy_header(fh, f.rel))
    else:
        try:
            z = zipfile.ZipFile(f.path)
        except pickles.ARCHIVE_ERRORS as e:
            raise CatalogError(f"{f.rel}: corrupt .npz archive: {guard.describe(e)}", rule="scan.zip.corrupt") from None
        with z:
            for info in z.infolist()[:10_000]:
                name = info.filename
                try:
                    with z.open(info) as fh:
                        arrays[name] = _npy_props(parse_npy_header(fh, f"{f.rel}:{name}"))
                except CatalogError as e:
                    out.finding(Severity.MEDIUM, e.rule, str(e), f.ev(key=name), NPY_SPEC)
                except pickles.ARCHIVE_ERRORS as e:
                    # each member on its own: one unreadable array does not hide the others
                    out.finding(
                        Severity.MEDIUM,
                        "scan.zip.unreadable-member",
                        f"{f.rel}: member {name!r} cannot be read ({guard.describe(e)})",
                        f.ev(key=name),
                    )
    out.properties["arrays"] = dict(list(arrays.items())[:100])
    out.properties["array_count"] = len(arrays)
    for name, a in arrays.items():
        if a["object_array"]:
            # Low, like any pickle the inventory lists: what the pickle would run is judged by the security
            # rules on the same bytes (security.pickle.*), which fail the default policy when it is unsafe
            out.finding(
                Severity.LOW,
                "scan.npy.object-array",
                f"{f.rel}: array {name!r} has dtype object: loading it unpickles Python objects "
                "(numpy.load(allow_pickle=True)); its pickle is judged by the security rules",  # safe: text
                f.ev(key=name, value=a["dtype"]),
                NPY_SPEC,
            )
    return out


def _Inflate(fh: IO[bytes]) -> pickles.Decompressed:  # noqa: N802 - kept for callers of the old name
    """A zlib-compressed joblib stream, bounded (see pickles.Decompressed)."""
    return pickles.Decompressed(fh, "zlib", getattr(fh, "name", "stream"))


def matches_pickle(f: FileRef) -> bool:
    if f.format in ("pickle", "joblib"):
        return True
    return pickles.compression(f.head, pickles.Reopen(f.path), f.rel) is not None


def catalog_pickle(f: FileRef) -> Found:
    codec = None if f.format in ("pickle", "joblib") else pickles.compression(f.head, pickles.Reopen(f.path), f.rel)
    s = _walked(f) if f.pickle_walk is not None else _walk(f, codec)
    joblib = f.format == "joblib" or codec is not None or any(g.startswith("joblib.") for g in s.globals)
    modules = {g.split(".", 1)[0] for g in s.globals}
    ml = modules & {"torch", "sklearn", "xgboost", "lightgbm", "numpy", "keras", "tensorflow", "catboost"}
    out = Found(
        file_type=ComponentType.WEIGHTS if ml else ComponentType.DATA,
        format=("joblib" + (f"-{codec}" if codec else "")) if joblib else "pickle",
    )
    out.properties.update(
        {"pickle_globals": sorted(s.globals)[:500], "pickle_protocol": s.protocol, "frameworks": sorted(ml)}
    )
    out.finding(
        Severity.INFO,
        "scan.pickle.present",
        f"{f.rel}: is a pickle; loading it runs the code it names (run `aitrail security` before loading)",
        f.ev(),
        "Python pickle docs, 'Warning: The pickle module is not secure'",
    )
    return out


def _walk(f: FileRef, codec: str | None) -> pickles.PickleSummary:
    with open(f.path, "rb") as raw:
        stream: IO[bytes] = pickles.Decompressed(raw, codec, f.rel) if codec else raw  # type: ignore[assignment]
        try:
            # The same reader as the security walk (joblib framing: array bytes after each wrapper).
            return (
                pickles.walk_joblib(stream)
                if pickles.is_joblib(f.format, f.rel, codec)
                else pickles.walk(stream, lean=True)
            )
        except pickles.LimitExceeded as e:
            raise CatalogError(f"{f.rel}: pickle not read to its end: {e}", rule="scan.pickle.limit-exceeded") from None
        except (ValueError, EOFError, OSError, zlib.error, NotImplementedError) as e:
            raise CatalogError(f"{f.rel}: malformed pickle: {e}", rule="scan.pickle.malformed") from None


def _walked(f: FileRef) -> pickles.PickleSummary:
    """What the security walk of the same bytes found (the same reader, run once by scanner.py)."""
    if f.pickle_walk == "data-only":  # data opcodes only: no globals, nothing to walk for
        return pickles.PickleSummary(protocol=f.head[1] if f.head[:1] == b"\x80" and len(f.head) > 1 else None)
    s, ended = f.pickle_walk
    if isinstance(ended, pickles.LimitExceeded):
        raise CatalogError(f"{f.rel}: pickle not read to its end: {ended}", rule="scan.pickle.limit-exceeded")
    if ended is not None:
        raise CatalogError(f"{f.rel}: malformed pickle: {ended}", rule="scan.pickle.malformed")
    return s  # type: ignore[no-any-return]


MAX_KERAS_MEMBER = 64 << 20  # bytes of a .keras metadata.json or config.json read (real ones: KBs to a few MB)


def matches_keras(f: FileRef) -> bool:
    return f.format in ("keras", "hdf5") or f.rel.endswith("saved_model.pb")


def catalog_keras(f: FileRef) -> Found:
    if f.rel.endswith("saved_model.pb"):
        return Found(file_type=ComponentType.WEIGHTS, format="tensorflow-savedmodel")
    if f.format == "hdf5":
        out = Found(file_type=ComponentType.WEIGHTS, format="hdf5")
        if f.rel.endswith((".h5", ".hdf5", ".keras")):
            out.properties["keras_candidate"] = True
        return out
    out = Found(file_type=ComponentType.WEIGHTS, format="keras")
    try:
        with zipfile.ZipFile(f.path) as z:
            for member in ("metadata.json", "config.json"):
                if member not in z.namelist():
                    continue
                info = z.getinfo(member)
                # Both sizes are the archive's word: a stored member declaring a 2 GiB compressed size
                # would have zipfile allocate that much for one read.
                if max(info.file_size, info.compress_size) > MAX_KERAS_MEMBER:
                    out.finding(
                        Severity.MEDIUM,
                        "scan.keras.malformed",
                        f"{f.rel}: {member} declares {max(info.file_size, info.compress_size)} bytes, past the "
                        f"{MAX_KERAS_MEMBER >> 20} MiB read limit: not read",
                        f.ev(key=member),
                    )
                    continue
                with z.open(info) as fh:
                    raw = fh.read(MAX_KERAS_MEMBER + 1)
                if len(raw) > MAX_KERAS_MEMBER:
                    raise ValueError(f"{member} inflates past {MAX_KERAS_MEMBER >> 20} MiB")
                doc = jsonsafe.loads(raw.decode("utf-8"))
                if member == "metadata.json" and isinstance(doc, dict):
                    out.properties["keras_version"] = doc.get("keras_version")
                elif isinstance(doc, dict):
                    out.properties["class_name"] = doc.get("class_name")
                    layers = (doc.get("config") or {}).get("layers") if isinstance(doc.get("config"), dict) else None
                    if isinstance(layers, list):
                        out.properties["layer_count"] = len(layers)
    except pickles.ARCHIVE_ERRORS as e:  # JSON errors and jsonsafe.ShapeError are ValueErrors
        raise CatalogError(
            f"{f.rel}: malformed .keras archive: {guard.describe(e)}", rule="scan.keras.malformed"
        ) from None
    return out
