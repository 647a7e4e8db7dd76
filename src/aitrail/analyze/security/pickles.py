"""Pickles and the containers that hold them (PyTorch zip, legacy tar, numpy, joblib):
every global a pickle would import, judged against the allowlist."""

from __future__ import annotations

import fnmatch
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from ...catalog import pickles
from ...catalog.base import CatalogError
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
    report: FileReport, fh: IO[bytes], where: str, frameworks: tuple[str, ...], unknown: str, min_pickles: int = 1
) -> int:
    """Walk every pickle in a stream, one after the other; return how many were read whole."""
    n = 0
    on_build = pickles.joblib_arrays if "sklearn" in frameworks else None
    while True:
        s = pickles.PickleSummary()
        try:
            pickles.walk(fh, s, on_build, lean=on_build is None)  # joblib framing needs the wrapper state
        except zipfile.BadZipFile:
            judge_globals(report, s, where, frameworks, unknown)
            raise  # tampering with the container: reported by the caller
        except pickles.LimitExceeded as e:
            judge_globals(report, s, where, frameworks, unknown)
            report.add(
                "high",
                "pickle.limit-exceeded",
                f"the walk of {where} stopped at a limit ({e}); what follows is not judged (docs/design.md, limits)",
                where,
            )
            return n
        except (ValueError, EOFError, zlib.error) as e:
            judge_globals(report, s, where, frameworks, unknown)  # what ran before the break still ran
            if n < min_pickles:
                # Fail closed: a stream aitrail cannot read past may be one a more lenient loader reads on
                # (a loader-parser differential), and whatever follows would run unjudged.
                report.add(
                    "high",
                    "pickle.malformed",
                    f"malformed pickle in {where} ({e}): aitrail cannot judge what follows, and a more lenient "
                    "loader may run it",
                    where,
                )
            return n
        judge_globals(report, s, where, frameworks, unknown)
        n += 1
        if n >= min_pickles and not fh.read(1):
            return n
        try:
            fh.seek(-1, 1)
        except (OSError, ValueError):
            return n


def scan_zip(report: FileReport, path: Path, frameworks: tuple[str, ...], unknown: str) -> None:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        report.add("high", "zip.corrupt", f"corrupt zip archive ({e}): a loader may read it differently")
        return
    with z:
        names = [i.filename for i in z.infolist()]
        if len(names) != len(set(names)):
            report.add(
                "high",
                "zip.duplicate-member",
                "the archive holds two members with the same name: loaders disagree on which one they read",
            )
        for n in names:
            if n.startswith("/") or ".." in n.split("/"):
                report.add("high", "zip.path-traversal", f"member {n!r} points outside the archive", f"{path}:{n}")
        for info in z.infolist():
            if info.flag_bits & 0x41:  # encrypted (bit 0) or strong encryption (bit 6)
                report.add(
                    "high",
                    "zip.encrypted-member",
                    f"member {info.filename!r} is flagged encrypted: it cannot be inspected",
                    f"{path}:{info.filename}",
                )
            if not info.filename.endswith((".pkl", ".pickle")) and "/code/" not in info.filename:
                continue
            where = f"{path.name}:{info.filename}"
            if "/code/" in info.filename and info.filename.endswith(".py"):
                report.add(
                    "medium",
                    "torchscript.code",
                    f"TorchScript code member {info.filename!r}: loading with torch.jit runs it",
                    where,
                )
                continue
            try:
                with z.open(info) as fh:
                    walk_all(report, fh, where, frameworks, unknown)  # type: ignore[arg-type]
                    while fh.read(1 << 20):  # to the end: zipfile checks the CRC there
                        pass
            except zipfile.BadZipFile as e:
                report.add("high", "zip.tampered", f"member {info.filename!r}: {e}", where)
            except (NotImplementedError, RuntimeError, ValueError, OSError) as e:
                report.add("high", "zip.unreadable-member", f"member {info.filename!r} cannot be read ({e})", where)


def scan_tar(report: FileReport, path: Path, unknown: str) -> None:
    try:
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if not m.isfile():
                    continue
                fh = t.extractfile(m)
                if fh is not None:
                    walk_all(report, fh, f"{path.name}:{m.name}", ("numpy", "torch"), unknown, min_pickles=0)
    except tarfile.TarError as e:
        report.add("medium", "tar.corrupt", f"corrupt tar archive ({e})")


def npy(report: FileReport, fh: IO[bytes], where: str, unknown: str) -> None:
    from ...catalog.arrays import parse_npy_header

    try:
        header = parse_npy_header(fh, where)
    except CatalogError as e:
        report.add("medium", "npy.malformed", str(e), where)
        return
    if "O" in str(header.get("descr")):
        report.add("info", "npy.object-array", f"{where}: object array (a pickle follows the header)", where)
        walk_all(report, fh, where, ("numpy",), unknown)


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
