"""PyTorch checkpoints: zip (torch.save since 1.6), legacy stacked pickles, legacy tar, TorchScript.

Tensors are listed from the pickle's opcodes (see pickles.py); nothing is unpickled.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections import Counter

from .. import guard
from ..model import ComponentType, Severity
from . import pickles
from .base import CatalogError, FileRef, Found

MAX_PARAMS = 1 << 63  # parameters counted per tensor at most (int64, as torch itself)
FORMATS = {"pytorch-zip", "pytorch-legacy", "torchscript", "tar", "zip"}


def matches(f: FileRef) -> bool:
    return f.format in FORMATS


def catalog(f: FileRef) -> Found:
    if f.format == "tar":
        return _tar(f)
    if f.format == "pytorch-legacy":
        return _legacy(f)
    return _zip(f)


def _describe(f: FileRef, out: Found, s: pickles.PickleSummary) -> None:
    tensors = pickles.collect_tensors(s.root)
    dtypes = Counter(t.dtype for t in tensors.values())
    params = 0
    for t in tensors.values():
        n = 1
        for d in t.shape:
            n *= d
            if n > MAX_PARAMS:  # hostile shapes: a product with thousands of digits is not a count
                break
        params += min(n, MAX_PARAMS)
    out.properties.update(
        {
            "tensor_count": len(tensors),
            "parameter_count": params,
            "dtypes": dict(sorted(dtypes.items())),
            "pickle_globals": sorted(s.globals),
            "pickle_protocol": s.protocol,
        }
    )
    if s.truncated:
        out.properties["listing_truncated"] = True
    if tensors:
        out.properties["tensors_sample"] = {
            k: {"dtype": t.dtype, "shape": list(t.shape)} for k, t in list(tensors.items())[:20]
        }
        out.fact("parameter_count", params, f.ev(key="pickle"))
        out.fact("dtype", "/".join(sorted(dtypes)), f.ev(key="pickle"))


def _zip(f: FileRef) -> Found:
    try:
        z = zipfile.ZipFile(f.path)
    except pickles.ARCHIVE_ERRORS as e:
        raise CatalogError(
            f"{f.rel}: corrupt or truncated zip archive: {guard.describe(e)}", rule="scan.zip.corrupt"
        ) from None
    with z:
        names = z.namelist()
        if f.format == "zip":  # some other archive: listed, not read
            return Found(format="zip", properties={"members": len(names)})
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        code = [n for n in names if "/code/" in n or n.startswith("code/")]
        out = Found(file_type=ComponentType.WEIGHTS, format="torchscript" if code else "pytorch-zip")
        out.properties["members"] = len(names)
        if code:
            out.properties["torchscript_code_files"] = sorted(n for n in code if n.endswith(".py"))[:200]
        if len(pkl) != 1:
            if not code:
                out.finding(
                    Severity.MEDIUM,
                    "scan.pytorch.no-data-pkl",
                    f"{f.rel}: PyTorch zip has {len(pkl)} data.pkl members (expected 1)",
                    f.ev(),
                )
            if not pkl:
                return out
        info = z.getinfo(pkl[0])
        packed = info.compress_type != zipfile.ZIP_STORED
        try:
            with z.open(info) as fh:
                s = pickles.walk(fh, max_ops=pickles.op_budget(info.compress_size) if packed else pickles.MAX_OPS)
                while fh.read(1 << 20):  # to the end of the member, so that zipfile checks its CRC
                    pass
        except pickles.ARCHIVE_ERRORS as e:  # LimitExceeded is a ValueError
            raise CatalogError(
                f"{f.rel}: {pkl[0]}: malformed pickle or archive member: {guard.describe(e)}",
                rule="scan.pickle.malformed",
            ) from None
        _describe(f, out, s)
        out.properties["data_pkl"] = pkl[0]
    return out


def _legacy(f: FileRef) -> Found:
    """torch.save before 1.6: magic number, protocol, sys_info, then the object, then raw storages."""
    out = Found(file_type=ComponentType.WEIGHTS, format="pytorch-legacy")
    with open(f.path, "rb") as fh:
        stage = "magic number"
        try:
            for stage in ("magic number", "protocol version", "sys info"):  # noqa: B007 - read in the except
                pickles.walk(fh)
            stage = "object"
            s = pickles.walk(fh)
        except pickles.READ_ERRORS as e:
            raise CatalogError(
                f"{f.rel}: malformed legacy PyTorch pickle ({stage}): {guard.describe(e)}",
                rule="scan.pickle.malformed",
            ) from None
    _describe(f, out, s)
    return out


def _tar(f: FileRef) -> Found:
    try:
        with tarfile.open(f.path) as t:
            names = t.getnames()
            if not {"pickle", "storages", "tensors"} <= set(names):
                return Found(file_type=ComponentType.FILE, format="tar", properties={"members": len(names)})
            out = Found(file_type=ComponentType.WEIGHTS, format="pytorch-tar")
            info = t.getmember("pickle")
            # a link or a device named "pickle": extractfile would follow or fail (KeyError on a bad link)
            member = t.extractfile(info) if info.isfile() else None
            if member is None:
                raise CatalogError(
                    f"{f.rel}: legacy torch tar has no readable 'pickle' member", rule="scan.pickle.malformed"
                )
            s = pickles.walk(member)
    except pickles.ARCHIVE_ERRORS as e:
        raise CatalogError(
            f"{f.rel}: malformed legacy PyTorch tar: {guard.describe(e)}", rule="scan.pickle.malformed"
        ) from None
    _describe(f, out, s)
    return out
