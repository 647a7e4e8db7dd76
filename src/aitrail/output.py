"""Every file aitrail writes (``-o``, ``--report``, ``--export-mof``, ``--badge``) and its standard output.

Files are written atomically and only to regular files: the text goes to a temporary file in the
destination's folder, is flushed to disk (fsync), then renamed over the destination, so a reader
sees the old file or the whole new one, never a part. Devices (``/dev/full``, ``/dev/null``), pipes,
sockets, folders and links to any of these are refused (a rename would replace the device node, a
write into a pipe can block forever). A symbolic link to a regular file is kept: its target is
replaced atomically. Missing folders are an error unless ``mkdirs``. Temporary files are removed on
every exit path, including Ctrl-C and SIGTERM (:func:`cleanup`, called by the CLI's signal handler).

Text is encoded as UTF-8 with ``backslashreplace``: a lone surrogate read from a JSON string, or an
undecodable file name, is written escaped and can never make an output fail.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import AitrailError

_PENDING: set[str] = set()  # temporary files being written: removed on any exit
_LOCK = threading.Lock()


class OutputRefused(AitrailError):
    """The destination is not a file aitrail will write (a device, pipe, folder, missing folder): exit 2."""


class OutputFailed(Exception):
    """Writing failed (no space, permission, I/O error): exit 3. The message names the user's path."""


def _shown(path: str | os.PathLike[str]) -> str:
    from .inputs import escape

    return escape(os.fspath(path))


def destination(path: str | os.PathLike[str], *, mkdirs: bool = False) -> Path:
    """Where ``path`` will be written (the target of a link to a regular file); raise OutputRefused
    if it is not a regular file or a new name in an existing folder. Creates no folder: call it before
    the work so a bad ``-o`` fails in milliseconds, not after the scan."""
    p = Path(path)
    shown = _shown(path)
    if str(path) == "" or p.name in ("", ".", ".."):
        raise OutputRefused(f"{shown}: not a file name")
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        lst = None
    except NotADirectoryError:
        raise OutputRefused(f"{shown}: {_shown(p.parent)} is not a folder") from None
    except OSError as e:
        raise OutputRefused(f"{shown}: cannot write there: {e.strerror}") from None
    if lst is not None and stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(p)
        except OSError:
            raise OutputRefused(f"{shown}: a symbolic link to {_shown(os.readlink(p))}, which does not exist") from None
        if not stat.S_ISREG(st.st_mode):
            raise OutputRefused(f"{shown}: a symbolic link to {_kind(st.st_mode)}; aitrail writes regular files only")
        return Path(os.path.realpath(p))
    if lst is not None:
        if not stat.S_ISREG(lst.st_mode):
            raise OutputRefused(f"{shown}: {_kind(lst.st_mode)}; aitrail writes regular files only")
        return p
    parent = p.parent
    try:
        pst = os.stat(parent)
    except FileNotFoundError:
        if mkdirs:
            return p
        raise OutputRefused(f"{shown}: folder {_shown(parent)} does not exist (create it, or pass --mkdirs)") from None
    except OSError as e:
        raise OutputRefused(f"{shown}: cannot write there: {e.strerror}") from None
    if not stat.S_ISDIR(pst.st_mode):
        raise OutputRefused(f"{shown}: {_shown(parent)} is not a folder")
    return p


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def encode(text: str) -> bytes:
    return text.encode("utf-8", "backslashreplace")


def _blocks(text: str | bytes | Iterable[str], size: int = 1 << 20) -> Iterator[bytes]:
    """``text`` as encoded blocks of about ``size`` bytes. A chunked text (json's iterencode) is never
    joined whole: a 10,000-model document written with indent=2 would otherwise cost gigabytes."""
    if isinstance(text, bytes):
        yield text
        return
    if isinstance(text, str):
        yield encode(text)
        return
    buf: list[str] = []
    n = 0
    for chunk in text:
        buf.append(chunk)
        n += len(chunk)
        if n >= size:
            yield encode("".join(buf))
            buf, n = [], 0
    if buf:
        yield encode("".join(buf))


def write(path: str | os.PathLike[str], text: str | bytes | Iterable[str], *, mkdirs: bool = False) -> None:
    """Write all of ``text`` to ``path`` or nothing (see the module's docstring).

    Raises OutputRefused (exit 2) for a destination aitrail does not write to and OutputFailed
    (exit 3) when the write itself fails; the old file, if any, is then untouched.
    """
    dest = destination(path, mkdirs=mkdirs)
    shown = _shown(path)
    if mkdirs:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputFailed(f"cannot write {shown}: cannot create its folder: {e.strerror}") from None
    folder = dest.parent
    tmp = str(folder / f".{dest.name}.{secrets.token_hex(6)}.aitrail-tmp")
    with _LOCK:
        _PENDING.add(tmp)  # registered before it exists: a signal can never leave it behind
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as e:
            raise OutputFailed(f"cannot write {shown}: {e.strerror}") from None
        try:
            try:
                for data in _blocks(text):
                    view = memoryview(data)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                os.fsync(fd)
                try:  # keep an existing file's permissions; a new one gets 0666 minus the umask
                    os.fchmod(fd, stat.S_IMODE(os.stat(dest).st_mode))
                except FileNotFoundError:
                    pass
            finally:
                os.close(fd)
            os.replace(tmp, dest)
        except OSError as e:
            raise OutputFailed(f"cannot write {shown}: {e.strerror or e}") from None
        _fsync_folder(folder)
    finally:
        _discard(tmp)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
    with _LOCK:
        _PENDING.discard(tmp)


def cleanup() -> None:
    """Remove every temporary file still being written (from a signal handler: no locks taken)."""
    for tmp in list(_PENDING):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def safe(text: str, stream: object | None = None) -> str:
    """``text`` with what the stream's encoding cannot represent escaped (\\udc80, \\u2028 on ASCII...)."""
    enc = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
        return text
    except (UnicodeEncodeError, LookupError):
        try:
            return text.encode(enc, "backslashreplace").decode(enc, "replace")
        except LookupError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")


def out(text: str | Iterable[str]) -> None:
    """Every write to standard output goes through here: never fails on what cannot be encoded."""
    stream = sys.stdout
    raw = getattr(stream, "buffer", None)
    chunks = [text] if isinstance(text, str) else text
    if raw is None:
        for chunk in chunks:
            stream.write(safe(chunk, stream))
        stream.flush()
        return
    stream.flush()  # one encoding pass, straight to the bytes (a large JSON is not copied twice)
    enc = getattr(stream, "encoding", None) or "utf-8"
    for chunk in chunks:
        raw.write(chunk.encode(enc, "backslashreplace"))
    raw.flush()


def err(text: str) -> None:
    """One message to standard error (errors and, unless --quiet, notes)."""
    sys.stderr.write(safe(text.rstrip("\n") + "\n", sys.stderr))
    sys.stderr.flush()
