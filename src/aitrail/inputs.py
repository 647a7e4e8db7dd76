"""What to scan: a folder, a single file, or a Hugging Face cache (each snapshot one model)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .model import Evidence, Finding, Severity

SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".hg", ".svn", "node_modules", ".venv"}
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Unit:
    """One model to inventory."""

    root: Path  # folder holding the model's files (for a single file, its folder)
    prefix: str  # display path of root, relative to the scan target ("" for the target itself)
    single_file: Path | None = None
    repo_id: str | None = None  # from a HF cache path
    revision: str | None = None
    is_main: bool | None = None  # the snapshot refs/main points at
    extra_files: list[Path] = field(default_factory=list)  # e.g. the carrier package's METADATA
    files: list[Path] | None = None  # set when resolve() already walked the tree
    findings: list[Finding] = field(default_factory=list)  # from that walk
    orphan: bool = False  # files that belong to no model: inventoried, attached to none


def resolve(target: Path) -> list[Unit]:
    if not os.path.lexists(target):
        raise InputError(f"{target}: no such file or directory")
    if not target.exists():
        raise InputError(f"{target}: broken symbolic link")
    if not (target.is_file() or target.is_dir()):
        raise InputError(f"{target}: not a regular file or folder (a device, socket or pipe is never read)")
    if target.is_file():
        if not os.access(target, os.R_OK):
            raise InputError(f"{target}: permission denied")
        return [Unit(root=target.parent, prefix="", single_file=target)]
    if not os.access(target, os.R_OK | os.X_OK):
        raise InputError(f"{target}: permission denied")
    # A snapshot folder itself: .../models--org--name/snapshots/<rev>
    if target.parent.name == "snapshots" and target.parent.parent.name.startswith("models--"):
        return [_snapshot(target.parent.parent, target, "")]
    repos = []
    if target.name.startswith("models--"):
        repos = [target]
    else:
        for cand in (target, target / "hub"):
            if cand.is_dir():
                found = sorted(p for p in cand.iterdir() if p.name.startswith("models--") and p.is_dir())
                if found:
                    repos = found
                    break
    if repos:
        units = []
        for repo in repos:
            snaps = repo / "snapshots"
            for snap in sorted(snaps.iterdir()) if snaps.is_dir() else []:
                if snap.is_dir():
                    units.append(_snapshot(repo, snap, str(snap.relative_to(target)) if snap != target else ""))
        if units:
            return units
    return split_models(target)


# A folder holding one of these directly is a model's folder.
MARKER_NAMES = {
    "config.json",
    "adapter_config.json",
    "modules.json",
    "Modelfile",
    "model_index.json",
    "params.json",
    "mergekit_config.yml",
    "aitrail.yaml",
    "aitrail.yml",
}
WEIGHT_SUFFIXES = {
    ".safetensors",
    ".gguf",
    ".onnx",
    ".pt",
    ".pth",
    ".bin",
    ".ckpt",
    ".h5",
    ".keras",
    ".tflite",
    ".npz",
    ".joblib",
    ".pkl",
    ".pickle",
    ".llamafile",
}
_GGUF_SHARD = re.compile(r"-\d{5}-of-\d{5}\.gguf$")


def _is_marker(p: Path) -> bool:
    return p.name in MARKER_NAMES or p.suffix.lower() in WEIGHT_SUFFIXES


def split_models(target: Path) -> list[Unit]:
    """One folder may hold one model (the usual case), or several below it (a models folder, a
    package that ships a model in a subfolder). A folder that directly holds weights or a model
    config is one model, with everything beneath it; files outside every model are still
    inventoried, attached to none. Unrelated GGUF files side by side are one model each (each
    carries its own metadata).
    """
    whole = Unit(root=target, prefix="")
    files, findings = walk(whole)

    def in_package(p: Path) -> bool:
        return any(part.endswith(".dist-info") for part in p.relative_to(target).parts)

    markers = {p.parent for p in files if _is_marker(p) and not in_package(p)}
    if target in markers or not markers:
        whole.files, whole.extra_files = files, carrier_files(target)
        units = _split_ggufs(whole, target)
    else:

        def between(d: Path) -> list[Path]:  # folders strictly between the target and d
            return [a for a in d.parents if target in a.parents]

        roots = sorted(d for d in markers if not any(a in markers for a in between(d)))
        units, owned = [], set()
        for root in roots:
            mine = [p for p in files if root in p.parents]
            owned.update(mine)
            unit = Unit(
                root=root, prefix=root.relative_to(target).as_posix(), files=mine, extra_files=carrier_files(root)
            )
            units.extend(_split_ggufs(unit, target))
        rest = [p for p in files if p not in owned]
        if rest:
            units.append(Unit(root=target, prefix="", files=rest, orphan=True))
    units[0].findings = findings
    return units


def _split_ggufs(unit: Unit, target: Path) -> list[Unit]:
    assert unit.files is not None
    ggufs = [
        p
        for p in unit.files
        if p.parent == unit.root and p.suffix.lower() == ".gguf" and not _GGUF_SHARD.search(p.name)
    ]
    if len(ggufs) < 2:
        return [unit]
    singles = [Unit(root=p.parent, prefix=unit.prefix, single_file=p, files=[p]) for p in ggufs]
    rest = [p for p in unit.files if p not in ggufs]
    if rest:
        holds_model = any(_is_marker(p) and p.parent == unit.root for p in rest)
        singles.append(
            Unit(root=unit.root, prefix=unit.prefix, files=rest, orphan=not holds_model, extra_files=unit.extra_files)
        )
    return singles


def _snapshot(repo: Path, snap: Path, prefix: str) -> Unit:
    repo_id = repo.name[len("models--") :].replace("--", "/")
    main = repo / "refs" / "main"
    is_main = None
    try:
        is_main = main.read_text().strip() == snap.name
    except OSError:
        pass
    return Unit(
        root=snap,
        prefix=prefix,
        repo_id=repo_id,
        revision=snap.name if _HEX40.match(snap.name) else snap.name,
        is_main=is_main,
    )


def carrier_files(root: Path, levels: int = 3) -> list[Path]:
    """The METADATA and licence files of an installed package whose files include ``root``.

    A model inside site-packages belongs to the distribution whose RECORD lists it; that
    package's licence is the packager's, which may differ from the model card's.
    """
    root = root.resolve()
    for up in list(root.parents)[:levels]:
        try:
            infos = [p for p in up.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
        except OSError:
            continue
        if not infos:
            continue
        rel = root.relative_to(up).as_posix() + "/"
        top = rel.split("/", 1)[0].lower()
        for info in infos:
            record = info / "RECORD"
            try:
                if record.exists():
                    with open(record, encoding="utf-8", errors="replace") as fh:
                        owns = any(line.startswith(rel) for line in fh)
                else:  # no RECORD (a copied tree): wheels put package "a-b" in folder "a_b"
                    owns = info.name.split("-", 1)[0].lower().replace(".", "_") == top
                if owns:
                    files = [info / "METADATA"] if (info / "METADATA").exists() else []
                    lic = info / "licenses"
                    if lic.is_dir():
                        files += sorted(p for p in lic.rglob("*") if p.is_file())
                    files += sorted(
                        p for p in info.iterdir() if p.is_file() and p.name.upper().startswith(("LICENSE", "COPYING"))
                    )
                    return files
            except OSError:
                continue
    return []


def walk(unit: Unit) -> tuple[list[Path], list[Finding]]:
    """Every regular file of a unit, following symlinks safely (loops and dangling links reported)."""
    if unit.files is not None:
        return unit.files, unit.findings
    if unit.single_file:
        return [unit.single_file], []
    files: list[Path] = []
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()

    def rel(p: Path) -> str:
        return join_path(unit.prefix, p.relative_to(unit.root).as_posix())

    def visit(d: Path, depth: int) -> None:
        try:
            st = d.stat()
        except OSError as e:
            findings.append(
                Finding(
                    Severity.LOW,
                    "scan.unreadable",
                    f"{rel(d)}: cannot read folder: {e.strerror}",
                    rel(d),
                    Evidence(rel(d)),
                )
            )
            return
        if (st.st_dev, st.st_ino) in seen or depth > 64:
            findings.append(
                Finding(
                    Severity.LOW,
                    "scan.symlink-loop",
                    f"{rel(d)}: symbolic link loop (folder already visited); skipped",
                    rel(d),
                    Evidence(rel(d)),
                )
            )
            return
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(d), key=lambda entry: entry.name)
        except OSError as err:
            findings.append(
                Finding(
                    Severity.LOW,
                    "scan.unreadable",
                    f"{rel(d)}: cannot list folder: {err.strerror}",
                    rel(d),
                    Evidence(rel(d)),
                )
            )
            return
        for entry in entries:
            p = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    if entry.name not in SKIP_DIRS:
                        visit(p, depth + 1)
                elif entry.is_file(follow_symlinks=True):
                    files.append(p)
                elif entry.is_symlink():
                    findings.append(
                        Finding(
                            Severity.LOW,
                            "scan.broken-symlink",
                            f"{rel(p)}: symbolic link to {os.readlink(p)!r}, which does not exist",
                            rel(p),
                            Evidence(rel(p)),
                        )
                    )
                else:
                    findings.append(
                        Finding(
                            Severity.LOW,
                            "scan.not-regular-file",
                            f"{rel(p)}: not a regular file (device, socket or pipe); not read",
                            rel(p),
                            Evidence(rel(p)),
                        )
                    )
            except OSError as err:
                findings.append(
                    Finding(Severity.LOW, "scan.unreadable", f"{rel(p)}: {err.strerror}", rel(p), Evidence(rel(p)))
                )

    visit(unit.root, 0)
    return files, findings


def join_path(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix and rel != "." else (prefix or rel)


def display_path(unit: Unit, target: Path, p: Path) -> tuple[str, str]:
    """(path shown to users, relative to the target; path inside the unit)."""
    if unit.single_file:
        return join_path(unit.prefix, p.name), p.name
    try:
        local = p.relative_to(unit.root).as_posix()
        return join_path(unit.prefix, local), local
    except ValueError:
        # a file outside the unit (the carrier package's metadata): show it relative to the target
        shown = os.path.relpath(p, target if target.is_dir() else target.parent)
        return Path(shown).as_posix(), Path(shown).as_posix()
