"""The files an OMS signature covers (spec §6.1-6.2), and their digests (§6.3).

Listing opens nothing; hashing streams. The enumeration is the spec's, not the scanner's: the
scanner skips folders such as ``__pycache__`` or ``node_modules``, a signature must not.
"""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import digest
from . import oms

CHUNK = 1 << 20


class ModelError(ValueError):
    """The model cannot be listed as OMS requires (a link, a special file, a name that is not UTF-8)."""

    def __init__(self, rel: str, message: str) -> None:
        from ..inputs import escape

        super().__init__(f"{escape(rel)}: {message}")
        self.rel = rel


def enumerate_model(
    root: Path, ignore_paths: list[str] | tuple[str, ...], allow_symlinks: bool, warnings: list[str] | None = None
) -> dict[str, Path]:
    """Every regular file of ``root`` (a folder or one file) by its canonical relative name.

    Raises ModelError for a symbolic link when ``allow_symlinks`` is false (§6.1.1), a device,
    socket or pipe, a name that is not UTF-8 (§6.1.2 rule 7), and a link loop; FileNotFoundError /
    PermissionError when ``root`` or a folder cannot be read.
    """
    st = os.lstat(root)
    if stat.S_ISLNK(st.st_mode) and not allow_symlinks:
        raise ModelError(root.name, _LINK)
    st = os.stat(root)
    if stat.S_ISREG(st.st_mode):
        return {_utf8(root.name, root.name): root}
    if not stat.S_ISDIR(st.st_mode):
        raise ModelError(root.name, "not a regular file or folder (device, socket or pipe)")
    found: dict[str, Path] = {}
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [(root, "", frozenset({(st.st_dev, st.st_ino)}))]
    while stack:
        folder, prefix, ancestors = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            rel = prefix + _utf8(e.name, prefix + repr(e.name)[1:-1])
            if oms.is_ignored(rel, ignore_paths):
                continue
            p = Path(e.path)
            if e.is_symlink():
                if not allow_symlinks:
                    raise ModelError(rel, _LINK)
                try:
                    tst = os.stat(p)
                except OSError as err:
                    raise ModelError(rel, f"a symbolic link whose target cannot be read ({err.strerror})") from None
                if warnings is not None and not _within(p, root):  # §6.1.1: a target outside the model is warned of
                    out = os.path.realpath(p)
                    warnings.append(f"{rel}: a symbolic link to {out}, outside the model; its bytes are signed")
            else:
                tst = e.stat(follow_symlinks=False)
            if stat.S_ISDIR(tst.st_mode):
                ident = (tst.st_dev, tst.st_ino)
                if ident in ancestors:
                    raise ModelError(rel, "a symbolic link loop (it leads back to a folder above it)")
                stack.append((p, rel + "/", ancestors | {ident}))
            elif stat.S_ISREG(tst.st_mode):
                found[rel] = p
            else:
                raise ModelError(rel, "not a regular file (device, socket or pipe); OMS signs regular files only")
    return found


def _within(p: Path, root: Path) -> bool:
    real, top = os.path.realpath(p), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


_LINK = (
    "a symbolic link; OMS signing does not follow links unless asked (serialization.allow_symlinks), "
    "pass --allow-symlinks to sign the targets' bytes under the links' names"
)


def _utf8(name: str, shown: str) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ModelError(shown, "the file name is not UTF-8; OMS cannot record it (spec §6.1.2)") from None
    return name


def hash_files(files: dict[str, Path], hash_type: str = "sha256", shard_size: int | None = None) -> dict[str, str]:
    """The OMS resources of ``files``: name -> hex digest (``name:start:end`` per shard when sharded).

    Raises ModelError naming the first file that cannot be read (a partial manifest is never made).
    """
    if hash_type == "sha256" and shard_size is None:
        got = digest.sha256_files(files.values())
        out: dict[str, str] = {}
        for rel, p in files.items():
            d = got[p]
            if isinstance(d, OSError):
                raise ModelError(rel, f"cannot be read ({d.strerror or d})")
            out[rel] = d
        return out
    new = _hasher(hash_type)

    def one(item: tuple[str, Path]) -> list[tuple[str, str]]:
        rel, p = item
        try:
            return _hash_one(rel, p, new, shard_size)
        except OSError as e:
            raise ModelError(rel, f"cannot be read ({e.strerror or e})") from None

    items = sorted(files.items(), key=lambda kv: -_size(kv[1]))
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        return {n: d for part in pool.map(one, items) for n, d in part}


def _hash_one(rel: str, p: Path, new: object, shard_size: int | None) -> list[tuple[str, str]]:
    out = []
    with open(p, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        step = shard_size or max(size, 1)
        start = 0
        while start < size or (start == 0 and shard_size is None):
            end = min(start + step, size)
            h = new()  # type: ignore[operator]
            left = end - start
            while left > 0:
                block = f.read(min(CHUNK, left))
                if not block:
                    raise OSError(0, f"file shrank while being read (at byte {end - left})")
                h.update(block)
                left -= len(block)
            out.append((f"{rel}:{start}:{end}" if shard_size else rel, h.hexdigest()))
            if size == 0:
                break
            start = end
    return out


def _hasher(hash_type: str) -> object:
    if hash_type == "sha256":
        return hashlib.sha256
    if hash_type == "blake2b":
        return hashlib.blake2b
    if hash_type == "blake3":
        try:
            import blake3  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise ModelError(".", "the digests are BLAKE3: checking them needs the blake3 package") from None
        return blake3.blake3
    raise ModelError(".", f"unknown hash type {hash_type!r}")


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def relative_inside(root: Path, p: Path) -> str | None:
    """``p`` relative to ``root`` in POSIX form, or None when it is outside (or is ``root`` itself)."""
    try:
        rel = Path(os.path.abspath(p)).relative_to(os.path.abspath(root))
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None
