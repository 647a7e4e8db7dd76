"""Pickles and the containers that hold them (PyTorch zip, legacy tar, numpy, joblib):
every global a pickle would import, judged against the allowlist."""

from __future__ import annotations

import fnmatch
import tarfile
import zipfile
from pathlib import Path
from typing import IO

from ... import guard
from ...catalog import pickles
from ...catalog.base import CatalogError
from ...catalog.pickles import ARCHIVE_ERRORS, READ_ERRORS
from .report import FileReport, rules


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def judge_globals(
    report: FileReport, summary: pickles.PickleSummary, where: str, frameworks: tuple[str, ...], unknown_severity: str
) -> None:
    r = rules()["pickle"]
    allow = [p for fw in ("common", *frameworks) for p in r["allow"].get(fw, [])]
    what = "the pickle" if where == report.path else where.split(":", 1)[-1]
    for g in sorted(summary.globals):
        called = "calls" if g in summary.calls else "imports"
        if _matches(g, r["dangerous"]):
            report.add(
                "critical", "pickle.dangerous-global", f"{what} {called} {g}, which runs code when loaded", where
            )
        elif not _matches(g, allow):
            report.add(
                unknown_severity,
                "pickle.unknown-global",
                f"{what} {called} {g}, which is on no allowlist for this format: loading it runs "
                "code aitrail cannot vouch for",
                where,
            )


def walk_all(
    report: FileReport,
    fh: IO[bytes],
    where: str,
    frameworks: tuple[str, ...],
    unknown: str,
    min_pickles: int = 1,
    max_ops: int = pickles.MAX_OPS,
    malformed: str = "high",
    keep: list[tuple[pickles.PickleSummary, BaseException | None]] | None = None,
) -> int:
    """Walk every pickle in a stream, one after the other; return how many were read whole.

    ``malformed`` is the severity of a stream that breaks before ``min_pickles`` pickles (high: a
    more lenient loader may read on; lower for members only sniffed as pickles by their first bytes).
    ``keep`` receives the first pickle's summary and how its walk ended, for the inventory to use
    instead of walking the same bytes again (one reader, two uses).
    """
    n = 0
    joblib = "sklearn" in frameworks
    while True:
        s = pickles.PickleSummary()
        ended: BaseException | None = None
        try:
            # joblib's framing needs the wrappers' state: the same reader as the inventory's
            if joblib:
                pickles.walk(fh, s, pickles.joblib_arrays, lean=False, max_ops=max_ops)
            else:
                pickles.walk(fh, s, lean=True, max_ops=max_ops)
        except zipfile.BadZipFile:
            judge_globals(report, s, where, frameworks, unknown)
            raise  # tampering with the container: reported by the caller
        except pickles.LimitExceeded as e:
            ended = e
            if keep is not None and n == 0:
                keep.append((s, e))
            limit_finding(report, where, e)  # first: it stays listed when the globals pass the findings cap
            judge_globals(report, s, where, frameworks, unknown)
            return n
        except READ_ERRORS as e:
            ended = e
            if keep is not None and n == 0:
                keep.append((s, e))
            judge_globals(report, s, where, frameworks, unknown)  # what ran before the break still ran
            if n < min_pickles:
                # Fail closed: a stream aitrail cannot read past may be one a more lenient loader reads on
                # (a loader-parser differential), and whatever follows would run unjudged.
                report.add(
                    malformed,
                    "pickle.malformed",
                    f"malformed pickle in {where} ({guard.describe(e)}): aitrail cannot judge what follows, "
                    "and a more lenient loader may run it",
                    where,
                )
            return n
        if keep is not None and n == 0 and ended is None:
            keep.append((s, None))
        judge_globals(report, s, where, frameworks, unknown)
        n += 1
        if n >= min_pickles and not fh.read(1):
            return n
        try:
            fh.seek(-1, 1)
        except (OSError, ValueError):
            return n


def limit_finding(report: FileReport, where: str, e: pickles.LimitExceeded) -> None:
    """A limit reached is its own finding, high: what follows it is not judged."""
    if isinstance(e, pickles.DecompressionLimit):
        report.add(
            "high",
            "archive.decompression-limit",
            f"{e}: decompression stopped there and what follows is not judged (docs/limits.md)",
            where,
        )
    else:
        report.add(
            "high",
            "pickle.limit-exceeded",
            f"the walk of {where} stopped at a limit ({e}); what follows is not judged (docs/limits.md)",
            where,
        )


def member_limit(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member must not be inflated (its declared size is past the decompression limits), or None."""
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > pickles.MAX_DECOMPRESSED:
        return f"declares {size} bytes, past the {pickles.MAX_DECOMPRESSED >> 30} GiB limit"
    if info.compress_type != zipfile.ZIP_STORED and size > pickles.RATIO_FLOOR and size > pickles.MAX_RATIO * packed:
        return f"inflates {packed} bytes to {size}, more than {pickles.MAX_RATIO}:1"
    return None


def member_ops(info: zipfile.ZipInfo) -> int:
    """The opcode budget of a pickle member: a compressed member pays by its compressed bytes."""
    return pickles.MAX_OPS if info.compress_type == zipfile.ZIP_STORED else pickles.op_budget(info.compress_size)


def _torch_storage(name: str) -> bool:
    # torch.load reads archive/data/<n> as raw tensor bytes, never unpickles them
    parts = name.split("/")
    return len(parts) >= 2 and parts[-2] == "data" and parts[-1].isdigit()


def scan_zip(report: FileReport, path: Path, frameworks: tuple[str, ...], unknown: str) -> None:
    try:
        z = zipfile.ZipFile(path)
    except Exception as e:  # noqa: BLE001 - zipfile raises many kinds on hostile headers; each is a finding
        report.add(
            "high", "zip.corrupt", f"corrupt zip archive ({guard.describe(e)}): a loader may read it differently"
        )
        return
    with z:
        names = [i.filename for i in z.infolist()]
        if len(names) != len(set(names)):
            report.add(
                "high",
                "zip.duplicate-member",
                "the archive holds two members with the same name: loaders disagree on which one they read",
            )
        if "" in names:  # no loader can name it; ZipInfo.is_dir() even fails on it (IndexError)
            report.add(
                "high",
                "zip.corrupt",
                f"{path.name}: a member has an empty name: loaders disagree on what it is (it is still judged)",
            )
        for n in names:
            if n.startswith("/") or ".." in n.split("/"):
                report.add("high", "zip.path-traversal", f"member {n!r} points outside the archive", f"{path}:{n}")
        torch = any(n.endswith("data.pkl") for n in names)
        for info in z.infolist():
            where = f"{path.name}:{info.filename}"
            if info.flag_bits & 0x41:  # encrypted (bit 0) or strong encryption (bit 6)
                report.add(
                    "high",
                    "zip.encrypted-member",
                    f"member {info.filename!r} is flagged encrypted: it cannot be inspected",
                    f"{path}:{info.filename}",
                )
                continue
            if "/code/" in info.filename and info.filename.endswith(".py"):
                report.add(
                    "medium",
                    "torchscript.code",
                    f"TorchScript code member {info.filename!r}: loading with torch.jit runs it",
                    where,
                )
                continue
            named = info.filename.endswith((".pkl", ".pickle"))
            if not named and (info.filename.endswith("/") or (torch and _torch_storage(info.filename))):
                continue
            why = member_limit(info)
            if why:
                report.add(
                    "high",
                    "archive.decompression-limit",
                    f"member {info.filename!r} {why}: not inflated, not judged (docs/limits.md)",
                    where,
                )
                continue
            try:
                if not named:  # any other member is judged by its first bytes, whatever its name
                    with z.open(info) as fh:
                        head = fh.read(4096)
                    codec = pickles.compression(head, lambda: z.open(info))  # noqa: B023 - called here
                    if not (codec or pickles.looks_like_pickle(head)):
                        continue
                with z.open(info) as fh:
                    stream: IO[bytes] = fh  # type: ignore[assignment]
                    if not named and codec:
                        stream = pickles.Decompressed(fh, codec, where)  # type: ignore[assignment]
                    walk_all(
                        report,
                        stream,
                        where,
                        frameworks,
                        unknown,
                        max_ops=member_ops(info),
                        malformed="high" if named else "medium",
                    )
                    while fh.read(1 << 20):  # to the end: zipfile checks the CRC there
                        pass
            except zipfile.BadZipFile as e:
                report.add("high", "zip.tampered", f"member {info.filename!r}: {guard.describe(e)}", where)
            except pickles.LimitExceeded as e:
                limit_finding(report, where, e)
            except READ_ERRORS as e:
                report.add(
                    "high",
                    "zip.unreadable-member",
                    f"member {info.filename!r} cannot be read ({guard.describe(e)}): it is not judged",
                    where,
                )


def scan_tar(report: FileReport, path: Path, unknown: str) -> None:
    try:
        with tarfile.open(path) as t:
            for m in t:
                if not m.isfile():
                    continue
                where = f"{path.name}:{m.name}"
                try:
                    fh = t.extractfile(m)
                    if fh is not None:
                        walk_all(report, fh, where, ("numpy", "torch"), unknown, min_pickles=0)
                except ARCHIVE_ERRORS as e:
                    report.add(
                        "high",
                        "tar.corrupt",
                        f"member {m.name!r} cannot be read ({guard.describe(e)}): it is not judged",
                        where,
                    )
    except ARCHIVE_ERRORS as e:
        report.add(
            "high", "tar.corrupt", f"corrupt tar archive ({guard.describe(e)}): a loader may read it differently"
        )


def npy(report: FileReport, fh: IO[bytes], where: str, unknown: str, max_ops: int = pickles.MAX_OPS) -> None:
    from ...catalog.arrays import parse_npy_header

    try:
        header = parse_npy_header(fh, where)
    except CatalogError as e:
        report.add("medium", "npy.malformed", str(e), where)
        return
    if "O" in str(header.get("descr"))[:10_000]:
        report.add("info", "npy.object-array", f"{where}: object array (a pickle follows the header)", where)
        walk_all(report, fh, where, ("numpy",), unknown, max_ops=max_ops)


def all_data(path: Path) -> bool:
    """True when every pickle in the file uses data opcodes only (see pickles.data_only)."""
    import mmap

    with open(path, "rb") as fh:
        if path.stat().st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            pos = 0
            while pos < len(mm):
                end = pickles.data_only(mm, pos)
                if end is None:
                    return False
                pos = end
            return True
