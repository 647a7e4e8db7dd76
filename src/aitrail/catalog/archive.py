"""Plain zip and tar archives that hold a model (a package shipping its model as ``model.zip``).

aitrail does not unpack archives for the inventory (the security rules read their members where a
loader would): a model inside one is named by a finding, so "no weights" is never said of a folder
whose weights are in an archive. Only the member list is read (zip central directory, tar headers).
"""

from __future__ import annotations

import os
import tarfile
import zipfile

from ..model import ComponentType, Severity
from .base import FileRef, Found

MAX_MEMBERS = 100_000  # members listed from one archive (more: the rest are not looked at)
MAX_INFLATED = 64 << 20  # bytes of a compressed tar read for its member list
_MODEL_NAMES = {"config.json", "adapter_config.json", "modules.json", "model_index.json", "params.json", "Modelfile"}


def matches(f: FileRef) -> bool:
    return f.format in ("zip", "tar")


def _members(f: FileRef) -> list[tuple[str, int]]:
    if f.format == "zip":
        with zipfile.ZipFile(f.path) as z:
            return [(i.filename, i.file_size) for i in z.infolist()[:MAX_MEMBERS] if not i.is_dir()]
    from .pickles import Decompressed, _Capped, compressed_tar

    out: list[tuple[str, int]] = []
    codec = compressed_tar(f.head, lambda: open(f.path, "rb"))
    with open(f.path, "rb") as raw:
        # a compressed tar is a stream: its headers are read from the first MAX_INFLATED bytes only (the
        # security rules read all of it, bounded); an uncompressed one is read by seeking
        src = _Capped(Decompressed(raw, codec, f.rel), MAX_INFLATED) if codec else raw  # type: ignore[arg-type]
        try:
            with tarfile.open(fileobj=src, mode="r|" if codec else "r:") as t:  # type: ignore[call-overload]
                for m in t:  # headers only: nothing is extracted
                    if m.isfile():
                        out.append((m.name, m.size))
                    if len(out) >= MAX_MEMBERS:
                        break
        except Exception:  # noqa: BLE001 - the cap (or a hostile header) ends the listing: keep what was read
            if not out:
                raise
    return out


def catalog(f: FileRef) -> Found:
    from ..inputs import WEIGHT_SUFFIXES

    out = Found(file_type=ComponentType.FILE, format=f.format)
    try:
        members = _members(f)
    except Exception:  # noqa: BLE001 - hostile headers raise many kinds; the security rules report each
        return out
    weights = [(n, s) for n, s in members if os.path.splitext(n)[1].lower() in WEIGHT_SUFFIXES]
    marks = [n for n, _ in members if n.rsplit("/", 1)[-1] in _MODEL_NAMES]
    if not weights and not marks:
        return out
    out.file_type = ComponentType.WEIGHTS if weights else ComponentType.FILE
    out.properties["archive_members"] = len(members)
    out.properties["archived_weights"] = [n for n, _ in weights[:20]]
    shown = ", ".join(f"{n} ({s / 1e6:.1f} MB)" for n, s in weights[:5]) or ", ".join(marks[:5])
    out.finding(
        Severity.MEDIUM,
        "scan.archived-model",
        f"{f.rel}: a model is packed in this {f.format} archive ({shown}{' …' if len(weights) > 5 else ''}); "
        "its inventory (architecture, licence, lineage) is not read from inside archives: unpack it and "
        "scan the folder",
        f.ev(),
        "aitrail reads archive members for the security rules only",
    )
    return out
