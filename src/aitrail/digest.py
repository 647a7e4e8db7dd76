"""SHA-256 of files: streamed, parallel across files (hashlib releases the GIL while hashing)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Callable, Iterable

CHUNK = 1 << 20
# Set when the process is being stopped (Ctrl-C, SIGTERM): every digest in progress stops at its
# next chunk, so no thread keeps the process alive reading the rest of a large file.
STOP = threading.Event()


class Cancelled(Exception):
    """A digest was stopped before the end of its file (the run is being interrupted or closed)."""


def sha256_file(path: Path, progress: Callable[[int], None] | None = None, stop: threading.Event | None = None) -> str:
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            if STOP.is_set() or (stop is not None and stop.is_set()):
                raise Cancelled(str(path))
            h.update(view[:n])
            if progress:
                progress(n)
    return h.hexdigest()


def sha256_files(
    paths: Iterable[Path], workers: int | None = None, progress: Callable[[int], None] | None = None
) -> dict[Path, str | OSError]:
    """Digest every path; a file that cannot be read maps to its OSError instead of a digest."""
    paths = list(dict.fromkeys(paths))
    # Largest first, so one big file does not start last and leave the other cores idle.
    paths.sort(key=lambda p: _size(p), reverse=True)
    workers = workers or min(8, (os.cpu_count() or 2))

    def one(p: Path) -> str | OSError:
        try:
            return sha256_file(p, progress)
        except OSError as e:
            return e

    if workers <= 1 or len(paths) <= 1:
        return {p: one(p) for p in paths}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(paths, pool.map(one, paths)))


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


class Background:
    """SHA-256 of many files computed on worker threads, largest first, while the caller analyses them.

    ``aitrail check`` and ``aitrail scan`` read each file for its digest and, for the formats that
    can run code, for the security walk. Starting both at once lets the second reader find the
    pages the first just brought in, so a multi-GB model is read from storage once
    (BENCHMARKS.md, "one read per byte").
    """

    def __init__(
        self, paths: Iterable[Path], workers: int | None = None, progress: Callable[[int], None] | None = None
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        order = sorted(dict.fromkeys(paths), key=_size, reverse=True)
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 2), thread_name_prefix="sha")
        self._jobs = {p: self._pool.submit(self._one, p, progress, self._stop) for p in order}

    @staticmethod
    def _one(p: Path, progress: Callable[[int], None] | None, stop: threading.Event) -> str | OSError:
        try:
            return sha256_file(p, progress, stop)
        except OSError as e:
            return e

    def get(self, p: Path) -> str | OSError | None:
        job = self._jobs.get(p)
        return job.result() if job else None

    def close(self) -> None:
        """Stop: queued digests are dropped and running ones end at their next chunk (an exception
        unwinding the scan must not wait for a multi-GB file to be read to its end)."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
