"""Opening files found by name (config.json, aitrail.yaml, mof.yml...) without trusting the name.

A FIFO called ``config.json`` blocks ``open()`` forever and ``/dev/zero`` never ends: files that
were not vetted by the folder walk are opened non-blocking and checked to be regular files
before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO


class NotRegularFile(OSError):
    """The path is a FIFO, device, socket or folder: aitrail never reads one."""


def open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open ``path`` for binary reading only if it is a regular file (symlinks to one are fine)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"{path}: not a regular file (a device, pipe or socket is never read)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text(path: str | os.PathLike[str], limit: int = 8 << 20) -> str:
    """A small text file found by name: regular files only, at most ``limit`` bytes, UTF-8.

    Raises OSError (NotRegularFile, too large) or UnicodeDecodeError.
    """
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{Path(path).name}: larger than {limit} bytes; not read")
    return data.decode("utf-8-sig")
