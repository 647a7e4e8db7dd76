"""Pickles and the containers that hold them (PyTorch zip, legacy tar, numpy, joblib):
every global a pickle would import, judged against the allowlist."""

from __future__ import annotations

import pickletools
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from ... import guard
from ...catalog import pickles
from ...catalog.base import CatalogError
from ...catalog.pickles import ARCHIVE_ERRORS, READ_ERRORS
from ...catalog.sniff import TEXT_SUFFIXES
from . import pickle_rules
from .configs import CONFIG_NAMES, MAX_CONFIG, judge_config
from .report import FileReport


def judge_globals(
    report: FileReport,
    summary: pickles.PickleSummary,
    where: str,
    frameworks: tuple[str, ...],
    unknown_severity: str,
    reading: str = "",
) -> None:
    """Findings for what loading the pickle would do with its globals (analyze/security/pickle_rules.py);
    pickles found inside its bytes values are judged the same way. ``frameworks`` chose the walk's
    framing (joblib); the rules know every framework by its modules."""
    what = ("the pickle" if where == report.path else where.split(":", 1)[-1]) + reading
    todo = [(summary, what)]
    while todo:
        s, label = todo.pop()
        for g, v in pickle_rules.judge().judge(s, unknown_severity):
            ev = {"how": v.how, "framework": v.framework or "", "global": g, "why": v.why}
            report.add(v.severity, v.rule, f"{label} {v.message}", where, ev)
        todo.extend((n, f"{label} (a pickle inside one of its bytes values)") for n in s.nested)


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
            start = fh.tell()
        except (OSError, ValueError, AttributeError):
            start = -1
        try:
            # joblib's framing needs the wrappers' state: the same reader as the inventory's
            if joblib:
                pickles.walk(fh, s, pickles.joblib_arrays, lean=False, max_ops=max_ops)
            else:
                pickles.walk(fh, s, lean=True, max_ops=max_ops)
        except zipfile.BadZipFile:
            judge_globals(report, s, where, frameworks, unknown)
            other_reading(report, fh, s, start, where, unknown)
            raise  # tampering with the container: reported by the caller
        except pickles.LimitExceeded as e:
            ended = e
            if keep is not None and n == 0:
                keep.append((s, e))
            limit_finding(report, where, e)  # first: it stays listed when the globals pass the findings cap
            judge_globals(report, s, where, frameworks, unknown)
            other_reading(report, fh, s, start, where, unknown)
            return n
        except READ_ERRORS as e:
            ended = e
            if keep is not None and n == 0:
                keep.append((s, e))
            judge_globals(report, s, where, frameworks, unknown)
            other_reading(report, fh, s, start, where, unknown)  # what ran before the break still ran
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
        other_reading(report, fh, s, start, where, unknown)
        n += 1
        if n >= min_pickles and not fh.read(1):
            return n
        try:
            fh.seek(-1, 1)
        except (OSError, ValueError):
            return n


def other_reading(
    report: FileReport, fh: IO[bytes], s: pickles.PickleSummary, start: int, where: str, unknown: str
) -> None:
    """A pickle with an opcode straddling its frame is read one way by pickle.loads (the walk's way) and
    another by file loaders without peek (io.BytesIO, as torch.load uses): that reading is walked and
    judged too (pickles.NoPeekReader)."""
    if not s.straddled:
        return
    import io

    name = getattr(fh, "name", None)
    if isinstance(fh, io.BytesIO):
        again: IO[bytes] = io.BytesIO(fh.getbuffer())
    elif isinstance(name, str) and start >= 0 and not hasattr(fh, "_fileobj"):
        again = open(name, "rb")
    else:
        report.add(
            "high",
            "pickle.frame-straddle",
            f"{where}: how a file loader reads past the straddled frame could not be judged here",
            where,
        )
        return
    s2 = pickles.PickleSummary()
    with again:
        again.seek(max(start, 0))
        try:
            pickles.walk(pickles.NoPeekReader(again), s2, lean=True)  # type: ignore[arg-type]
        except pickles.LimitExceeded:
            pass  # what was read before the limit is judged; the straddle itself is already high
        except READ_ERRORS:
            pass  # what was read before the break is judged; the straddle itself is already high
    judge_globals(report, s2, where, (), unknown, reading=" (read as pickle.load and torch.load read it)")


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


MAX_ZIP_DEPTH = 4  # zips inside zips followed this deep (more: a limit finding)
MAX_INNER_ZIP = 512 << 20  # an inner zip is read into memory to be opened: larger ones are a limit finding


def scan_zip(
    report: FileReport,
    path: Path,
    frameworks: tuple[str, ...],
    unknown: str,
    source: Any = None,
    depth: int = 0,
    byte0: bool = True,
) -> None:
    """Every member of a zip judged by its bytes, whatever its name; zips inside it (wheels in wheels,
    a .pt inside a .zip) opened in turn. ``source`` is an inner zip's bytes, ``path`` its shown name."""
    if source is None and byte0:
        byte0_pickle(report, path, unknown)
    try:
        z = zipfile.ZipFile(path if source is None else source)
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
        first = len(report.findings)
        code: list[str] = []  # TorchScript program files
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
                code.append(info.filename)
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
                with z.open(info) as fh:
                    head = fh.read(4096)
                if not named:  # any other member is judged by its first bytes, whatever its name
                    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
                        _inner_zip(report, z, info, path, frameworks, unknown, depth)
                        continue
                    tar = head[257:262] == b"ustar" or pickles.compressed_tar(head, lambda: z.open(info))  # noqa: B023
                    if tar:
                        _zip_tar(report, z, info, where, unknown, depth)
                        continue
                    if head.startswith(b"\x93NUMPY"):  # numpy.load reads any member by its magic
                        with z.open(info) as fh:
                            npy(report, fh, where, unknown, max_ops=member_ops(info))  # type: ignore[arg-type]
                        continue
                codec = pickles.compression(head, lambda: z.open(info), info.filename)  # noqa: B023 - called here
                if not (named or codec or pickles.looks_like_pickle(head)):
                    if _OPCODE[head[:1]]:  # a protocol-0/1 stream under any name (pandas reads a 1-member zip)
                        text = Path(info.filename).suffix.lower() in TEXT_SUFFIXES
                        with z.open(info) as fh:
                            walk_text(report, fh, where, frameworks, unknown, text)
                    continue
                # read as the same file would be (scan_file): joblib's framing for what joblib wrote or compressed
                joblib = pickles.is_joblib("joblib" if b"joblib" in head else None, info.filename, codec)
                fws = (*frameworks, "sklearn") if joblib and "sklearn" not in frameworks else frameworks
                with z.open(info) as fh:
                    stream: IO[bytes] = fh  # type: ignore[assignment]
                    if codec:
                        stream = pickles.Decompressed(fh, codec, where)  # type: ignore[assignment]
                    walk_all(
                        report,
                        stream,
                        where,
                        fws,
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
        if code:
            _torchscript(report, path, code, first)


def _torchscript(report: FileReport, path: Path, code: list[str], first: int) -> None:
    """One finding for a TorchScript program, not one per file: torch.jit.load compiles its code/ files
    in the TorchScript interpreter (which imports no Python module but may call any registered torch
    operator). The ``__torch__.*`` classes its pickles rebuild are that program's own classes, not
    code that must be installed: their per-class user-class notes are folded into this finding."""
    mine = f"{path.name}:"
    kept, folded = report.findings[:first], 0
    for f in report.findings[first:]:
        g = (f.evidence or {}).get("global", "")
        if f.rule == "pickle.user-class" and g.startswith("__torch__.") and f.location.startswith(mine):
            folded += 1
        else:
            kept.append(f)
    report.findings[:] = kept
    shown = ", ".join(repr(c) for c in code[:3]) + (" …" if len(code) > 3 else "")
    report.add(
        "medium",
        "torchscript.code",
        f"a TorchScript program ({len(code)} code files: {shown}"
        + (f"; {folded} of its classes rebuilt by its pickles" if folded else "")
        + "): torch.jit.load compiles and runs it; it imports no Python module but may call any registered "
        "torch operator: review it before loading",
        f"{path.name}:{code[0]}",
    )


def _inner_zip(
    report: FileReport,
    z: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    frameworks: tuple[str, ...],
    unknown: str,
    depth: int,
) -> None:
    import io

    where = f"{path.name}:{info.filename}"
    if depth + 1 > MAX_ZIP_DEPTH or info.file_size > MAX_INNER_ZIP:
        why = f"nested more than {MAX_ZIP_DEPTH} deep" if depth + 1 > MAX_ZIP_DEPTH else "larger than 512 MiB"
        report.add(
            "high", "archive.nesting-limit", f"zip member {info.filename!r} is a zip {why}: not judged", where
        )
        return
    with z.open(info) as fh:
        data = fh.read(MAX_INNER_ZIP + 1)
    scan_zip(report, Path(where), frameworks, unknown, source=io.BytesIO(data), depth=depth + 1)


def _zip_tar(
    report: FileReport, z: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, unknown: str, depth: int
) -> None:
    """A tar (compressed or not) inside a zip, streamed through the bounded decompressor."""
    if depth + 1 > MAX_ZIP_DEPTH:
        why = f"an archive nested more than {MAX_ZIP_DEPTH} deep"
        report.add("high", "archive.nesting-limit", f"{where}: {why}: not judged", where)
        return
    with z.open(info) as fh:
        codec = pickles.compression_codec(fh.read(8))
    with z.open(info) as fh:
        src: Any = pickles.Decompressed(fh, codec, where) if codec else fh  # type: ignore[arg-type]
        _tar_stream(report, src, where, unknown, depth + 1)


_OPCODE = {bytes([i]): pickletools.code2op.get(chr(i)) is not None for i in range(256)} | {b"": False}  # type: ignore[attr-defined]
_SEVERE = ("high", "critical")


def walk_text(
    report: FileReport, stream: Any, where: str, frameworks: tuple[str, ...], unknown: str, text: bool
) -> None:
    """An archive member walked for what it imports (min_pickles=0: a stream that imports nothing adds
    nothing); for a member named as text, only high and critical findings are kept."""
    if not text:
        walk_all(report, stream, where, frameworks, unknown, min_pickles=0)
        return
    scratch = FileReport(report.path, None, None)
    walk_all(scratch, stream, where, frameworks, unknown, min_pickles=0)
    report.findings.extend(f for f in scratch.findings if f.severity in _SEVERE)


def byte0_pickle(report: FileReport, path: Path, unknown: str) -> None:
    """The reading of a loader that unpickles the file whatever its magic (pickle.load, pandas.read_pickle,
    torch.load's legacy path read from byte 0): a tar whose first member *name* is a pickle, or a zip whose
    first entry's header is one. When that reading imports something it is walked and judged, and the file
    is a polyglot (high): both readings count, the archive's members are judged as well."""
    from ...catalog.sniff import starts_like_pickle

    if not starts_like_pickle(path):
        return
    report.add(
        "high",
        "format.polyglot",
        "the file also reads as a pickle from its first byte, and that reading imports code: pickle.load, "
        "pandas.read_pickle or torch.load run it; that reading is judged too",
        path.name,
    )
    with open(path, "rb") as fh:
        walk_all(report, fh, path.name, ("numpy", "torch"), unknown, min_pickles=0)


ZIP_FORMATS = frozenset({"zip", "pytorch-zip", "torchscript", "keras", "numpy-npz"})
PICKLE_FORMATS = frozenset({"pickle", "joblib", "pytorch-legacy"})


def other_readings(report: FileReport, path: Path, fmt: str | None, unknown: str) -> None:
    """Readings of the file that other loaders take than the one its format names: a pickle from byte 0
    (pickle.load, pandas.read_pickle; byte0_pickle) and a zip found from the file's end (zipfile, which
    keras.saving.load_model and numpy's npz reader use, finds the central directory at the end: a pickle or
    a GGUF with a .keras zip appended). Each found is a polyglot, judged in full."""
    if fmt not in PICKLE_FORMATS and fmt not in ("tar",) and fmt not in ZIP_FORMATS:
        byte0_pickle(report, path, unknown)
    if fmt in ZIP_FORMATS or fmt == "tar":
        return
    try:  # a zip reader would open it: a central directory at the end naming members (not a chance "PK\5\6")
        with zipfile.ZipFile(path) as z:
            appended = bool(z.namelist())
    except Exception:  # noqa: BLE001 - no archive a zip reader opens: no second reading to judge
        return
    if appended:
        report.add(
            "high",
            "format.polyglot",
            f"a {fmt or 'file'} with a zip archive at its end: zipfile-based loaders (keras.saving.load_model, "
            "numpy's npz reader) open that archive; its members are judged too",
            path.name,
        )
        scan_zip(report, path, ("numpy", "torch"), unknown, source=None, depth=0, byte0=False)


def scan_tar(report: FileReport, path: Path, unknown: str, head: bytes) -> None:
    """Every file member judged by its bytes, as the same file on disk would be (a zip such as a .nemo's
    torch checkpoint, a .npy, a compressed or nested tar, a pickle). A compressed tar (told by ``head``,
    the file's first bytes) is read as a stream through the bounded decompressor (tarfile's own would
    inflate a bomb without limit)."""
    codec = pickles.compressed_tar(head, pickles.Reopen(path))
    if not codec:
        byte0_pickle(report, path, unknown)
    with open(path, "rb") as raw:
        if codec:
            _tar_stream(report, pickles.Decompressed(raw, codec, path.name), path.name, unknown, 0)
        else:
            _tar_stream(report, raw, path.name, unknown, 0, mode="r:")


MAX_TAR_MEMBERS = 50_000  # members of one tar read (~4 s; a 1 MB tar.gz can hold 200,000): more is a finding


def _tar_stream(
    report: FileReport, src: Any, label: str, unknown: str, depth: int, mode: Literal["r|", "r:"] = "r|"
) -> None:
    try:
        with tarfile.open(fileobj=src, mode=mode) as t:
            for n, m in enumerate(t):
                if n >= MAX_TAR_MEMBERS:
                    why = f"holds more than {MAX_TAR_MEMBERS} members: the rest is not judged (docs/limits.md)"
                    inner = label.split(":", 1)[1] if ":" in label else ""
                    report.add("high", "archive.member-limit", f"tar {inner!r} {why}" if inner else why, label)
                    break
                if not m.isfile():
                    continue
                where = f"{label}:{m.name}"
                try:
                    fh = t.extractfile(m)
                    if fh is not None:
                        _member(report, fh, m.name, where, m.size, unknown, depth)
                except ARCHIVE_ERRORS as e:
                    report.add(
                        "high",
                        "tar.corrupt",
                        f"member {m.name!r} cannot be read ({guard.describe(e)}): it is not judged",
                        where,
                    )
    except pickles.LimitExceeded as e:
        limit_finding(report, label, e)
    except ARCHIVE_ERRORS as e:
        report.add(
            "high", "tar.corrupt", f"corrupt tar archive ({guard.describe(e)}): a loader may read it differently", label
        )


TEXT_HEAD = 4096


def _member(
    report: FileReport, fh: Any, name: str, where: str, size: int, unknown: str, depth: int, inflated: bool = False
) -> None:
    """One archive member (streamed: read once, front to back) judged by its content, as the same bytes
    in a file of that name would be: what a loader opens by its magic (zip, .npy, tar), one layer of
    compression, and pickles — a protocol 2+ stream whatever the name, any other stream under a
    pickle-ish name (the walk finds what it imports). Text under other names is not read as a pickle."""
    head = fh.read(TEXT_HEAD)
    stream = pickles._Prefixed(head, fh)
    if PurePosixPath(name).name in CONFIG_NAMES:  # a .nemo's config: its loader instantiates what it names
        judge_config(report, stream.read(MAX_CONFIG + 1), where, unknown)
        return
    nested = head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or head[257:262] == b"ustar"
    if nested and depth + 1 > MAX_ZIP_DEPTH:
        why = f"an archive nested more than {MAX_ZIP_DEPTH} deep"
        report.add("high", "archive.nesting-limit", f"{where}: {why}: not judged", where)
    elif head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if size > MAX_INNER_ZIP:
            why = "a zip larger than 512 MiB inside an archive"
            report.add("high", "archive.nesting-limit", f"{where}: {why}: not judged", where)
            return
        import io

        data = stream.read(MAX_INNER_ZIP + 1)
        scan_zip(report, Path(where), ("numpy", "torch"), unknown, source=io.BytesIO(data), depth=depth + 1)
    elif head[257:262] == b"ustar":
        _tar_stream(report, stream, where, unknown, depth + 1)
    elif head.startswith(b"\x93NUMPY"):
        npy(report, stream, where, unknown)  # type: ignore[arg-type]
    elif not inflated and (codec := pickles.compression_codec(head)) is not None:
        # inflated here (not by name): the stream decides what it is, within the decompression limits
        try:
            inner = pickles.Decompressed(stream, codec, where)  # type: ignore[arg-type]
            _member(report, inner, name, where, size, unknown, depth, inflated=True)
        except pickles.LimitExceeded as e:
            limit_finding(report, where, e)
    else:
        # read as the same file would be: joblib's framing (raw array bytes after each wrapper) for what
        # joblib wrote or compressed (scan_file's choice, catalog.pickles.is_joblib)
        joblib = pickles.is_joblib("joblib" if b"joblib" in head else None, name, "inflated" if inflated else None)
        frameworks = ("numpy", "torch", "sklearn") if joblib else ("numpy", "torch")
        if pickles.looks_like_pickle(head):
            malformed = "high" if name.endswith((".pkl", ".pickle")) else "medium"
            walk_all(report, stream, where, frameworks, unknown, malformed=malformed)  # type: ignore[arg-type]
        elif _OPCODE[head[:1]]:
            # any name: pandas.read_pickle reads a single-member tar or zip whatever its member is called.
            # Text that merely reads as GLOBAL ("cat\ndog") is text: under a text name only a reading that
            # calls something dangerous or unknown (high, critical) is kept
            text = Path(name).suffix.lower() in TEXT_SUFFIXES or (inflated and pickles.text_name(name))
            walk_text(report, stream, where, frameworks, unknown, text)


def npy(report: FileReport, fh: IO[bytes], where: str, unknown: str, max_ops: int = pickles.MAX_OPS) -> None:
    from ...catalog.arrays import parse_npy_header, plain_dtype

    try:
        header = parse_npy_header(fh, where)
    except CatalogError as e:
        report.add("medium", "npy.malformed", str(e), where)
        return
    descr = header.get("descr")
    if not plain_dtype(descr):
        # numpy's object dtype in any spelling ('O', 'object', a field of it), or a dtype aitrail cannot
        # vouch for: numpy.load(allow_pickle=True) unpickles what follows.  # safe: comment on numpy's loader
        # A stream that is no pickle under a dtype that names no 'O' is likely raw data under an odd spelling:
        # medium, not high.
        named = "O" in str(descr)[:10_000] or "object" in str(descr)[:10_000]
        report.add("info", "npy.object-array", f"{where}: object array (a pickle follows the header)", where)
        walk_all(report, fh, where, ("numpy",), unknown, max_ops=max_ops, malformed="high" if named else "medium")


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
