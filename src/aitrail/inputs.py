"""What to scan: a folder, a single file, or a Hugging Face cache (each snapshot one model).

Only regular files are ever opened: pipes, devices and sockets are reported and skipped (a FIFO
named ``config.json`` must not hang a scan). Symbolic links that leave the scanned folder are
reported and not followed unless asked (``follow_symlinks``). Every cost here is linear in the
number of files: models are split by one pass over the walked paths.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .model import Evidence, Finding, Severity

SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".hg", ".svn", "node_modules", ".venv"}
# Of those, the ones that may hold files a program loads (a package, a notebook's copy): a skipped one holding
# model-like files is a high finding (a repo can hide a pickle its own code loads in "node_modules/").
_MAY_HOLD_MODELS = {".ipynb_checkpoints", "node_modules", ".venv"}
SKIPPED_LISTING_MAX = 100_000  # entries of a skipped folder listed (names only) to look for model files
MAX_DEPTH = 64  # folders nested deeper than this are reported (scan.depth-limit), not walked
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# Undecodable bytes of a file name (surrogateescape) and control characters (which could forge lines in
# a terminal or a report) are shown as \xNN; the file itself is still read through its real path.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def escape(name: str) -> str:
    """A file name as shown to people and written to outputs: always encodable, one line."""
    if not _UNSAFE.search(name):
        return name

    def one(m: re.Match[str]) -> str:
        c = ord(m.group())
        if 0xDC80 <= c <= 0xDCFF:  # a byte os.fsdecode could not decode
            return f"\\x{c - 0xDC00:02x}"
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNSAFE.sub(one, name)


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
    follow_symlinks: bool = False  # follow links that leave the scanned folder
    boundary: Path | None = None  # links may point anywhere inside this folder (default: root)
    exclude: frozenset[Path] = frozenset()  # folders other units cover (a HF cache's repos): not walked


def check_target(target: Path) -> None:
    """Raise InputError unless ``target`` is an existing regular file or folder we may read.

    Nothing is opened: a device, pipe or socket given as the target is refused before any read.
    """
    if not os.path.lexists(target):
        raise InputError(f"{escape(str(target))}: no such file or directory")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise InputError(f"{escape(str(target))}: broken symbolic link") from None
    except OSError as e:
        raise InputError(f"{escape(str(target))}: cannot read: {e.strerror}") from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise InputError(
            f"{escape(str(target))}: not a regular file or folder (a device, socket or pipe is never read)"
        )
    if stat.S_ISREG(st.st_mode) and not os.access(target, os.R_OK):
        raise InputError(f"{escape(str(target))}: permission denied")
    if stat.S_ISDIR(st.st_mode) and not os.access(target, os.R_OK | os.X_OK):
        raise InputError(f"{escape(str(target))}: permission denied")


def resolve(target: Path, *, follow_symlinks: bool = False) -> list[Unit]:
    check_target(target)
    if target.is_file():
        return [Unit(root=target.parent, prefix="", single_file=target, follow_symlinks=follow_symlinks)]
    # A snapshot folder itself: .../models--org--name/snapshots/<rev>
    if target.parent.name == "snapshots" and target.parent.parent.name.startswith("models--"):
        return [_snapshot(target.parent.parent, target, "", follow_symlinks)]
    repos = []
    beside = False  # whether other files may lie beside the repos (a folder holding a cache, not a repo)
    if target.name.startswith("models--"):
        repos = [target]
    elif target.name == "snapshots" and target.parent.name.startswith("models--"):
        repos = [target.parent]  # its snapshots link into ../../blobs: the repo folder is the boundary
    else:
        beside = True
        for cand in (target, target / "hub"):
            try:
                with os.scandir(cand) as it:  # names first: a folder of 100,000 files makes no Path objects
                    found = sorted(cand / e.name for e in it if e.name.startswith("models--") and e.is_dir())
            except OSError:
                continue
            if found:
                repos = found
                break
    if repos:
        units = []
        for repo in repos:
            snaps = repo / "snapshots"
            for snap in sorted(snaps.iterdir()) if snaps.is_dir() else []:
                if snap.is_dir():
                    prefix = escape(snap.relative_to(target).as_posix()) if snap != target else ""
                    units.append(_snapshot(repo, snap, prefix, follow_symlinks))
        if units and not beside:
            return units
        if units:
            # what lies beside the repos (other folders, loose files) is scanned like any folder
            rest = [u for u in split_models(target, follow_symlinks=follow_symlinks, exclude=frozenset(repos))
                    if u.files or u.single_file or u.findings]
            return units + rest
    return split_models(target, follow_symlinks=follow_symlinks)


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
    ".ubj",  # XGBoost's binary JSON
    ".cbm",  # CatBoost
}
# Names of files a program loads as a model or a pickle (a skipped folder holding one is not "nothing").
MODEL_LIKE_SUFFIXES = WEIGHT_SUFFIXES | {".npy", ".pickle", ".msgpack", ".pb", ".mlmodel", ".pte", ".pt2", ".jit"}
# Weights files that describe a whole model by themselves: several side by side, with nothing tying
# them together, are several models (a package's data/ folder with three ONNX models).
SELF_CONTAINED_SUFFIXES = {".safetensors", ".gguf", ".onnx", ".tflite", ".keras", ".llamafile"}
# Files that make a folder one model whatever weights it holds (besides MARKER_NAMES).
TYING_NAMES = {"README.md", "MODEL_CARD.md", "model_card.md", "tokenizer.json", "tokenizer_config.json"}
_GGUF_SHARD = re.compile(r"-\d{5}-of-\d{5}\.gguf$")
_SHARD = re.compile(r"-\d{5}-of-\d{5}\.[A-Za-z0-9_]+$")


def _is_marker(p: Path) -> bool:
    name = os.path.basename(p)
    return name in MARKER_NAMES or os.path.splitext(name)[1].lower() in WEIGHT_SUFFIXES


def split_models(target: Path, *, follow_symlinks: bool = False, exclude: frozenset[Path] = frozenset()) -> list[Unit]:
    """One folder may hold one model (the usual case), or several below it (a models folder, a
    package that ships a model in a subfolder). A folder that directly holds weights or a model
    config is one model, with everything beneath it; files outside every model are still
    inventoried, attached to none. Independent weights files side by side (GGUF always; ONNX,
    safetensors and the like when no config, card or index ties them) are one model each.

    One pass over the walked files: each file goes to its top-most marker folder, found by walking
    up its parents with set lookups (no file-by-model comparisons).
    """
    whole = Unit(root=target, prefix="", follow_symlinks=follow_symlinks, exclude=exclude)
    files, findings = walk(whole)
    carriers = _CarrierCache()

    def in_package(p: Path) -> bool:
        return any(part.endswith(".dist-info") for part in p.relative_to(target).parts)

    markers = {p.parent for p in files if _is_marker(p) and not in_package(p)}
    if target in markers or not markers:
        whole.files, whole.extra_files = files, carriers.files(target)
        # beside a HF cache's repos, files without a model marker belong to no model (.locks/, version.txt)
        whole.orphan = bool(exclude) and not markers
        units = _split_weights(whole)
    else:

        def has_marker_above(d: Path) -> bool:  # a marker folder strictly between the target and d
            for a in d.parents:
                if a == target or len(a.parts) <= len(target.parts):
                    return False
                if a in markers:
                    return True
            return False

        roots = {d for d in markers if not has_marker_above(d)}
        owned: dict[Path, list[Path]] = {r: [] for r in roots}
        rest: list[Path] = []
        depth = len(target.parts)
        for p in files:
            owner = None
            for a in p.parents:
                if len(a.parts) <= depth:
                    break
                if a in roots:
                    owner = a
                    break
            (owned[owner] if owner is not None else rest).append(p)
        units = []
        for root in sorted(roots):
            unit = Unit(
                root=root,
                prefix=escape(root.relative_to(target).as_posix()),
                files=owned[root],
                extra_files=carriers.files(root),
                follow_symlinks=follow_symlinks,
                boundary=target,
            )
            units.extend(_split_weights(unit))
        if rest:
            units.append(Unit(root=target, prefix="", files=rest, orphan=True, follow_symlinks=follow_symlinks))
    units[0].findings = findings
    return units


def _split_weights(unit: Unit) -> list[Unit]:
    """One unit per independent weights file directly in the unit's folder (see split_models)."""
    assert unit.files is not None
    root = os.fspath(unit.root)
    direct = [p for p in unit.files if os.path.dirname(p) == root]  # strings: no Path made per file
    names = {os.path.basename(p) for p in direct}
    tied = any(n in MARKER_NAMES or n in TYING_NAMES or n.endswith(".index.json") or _SHARD.search(n) for n in names)
    # a hub model card (front matter) ties GGUF files too: a repo downloaded to a folder is one model with its
    # quantizations, as the HF cache gives it; a plain README beside GGUFs does not
    carded = any(_hub_card(p) for p in direct if os.path.basename(p).lower() in ("readme.md", "model_card.md"))
    singles_at = (
        [
            p
            for p in direct
            if (p.suffix.lower() == ".gguf" and not carded and not _GGUF_SHARD.search(p.name))
            or (not tied and p.suffix.lower() in SELF_CONTAINED_SUFFIXES and p.suffix.lower() != ".gguf")
        ]
        if len(direct) > 1
        else []
    )
    if len(singles_at) < 2:
        return [unit]
    chosen = set(singles_at)
    singles = [
        Unit(
            root=p.parent,
            prefix=unit.prefix,
            single_file=p,
            files=[p],
            extra_files=unit.extra_files,
            follow_symlinks=unit.follow_symlinks,
            boundary=unit.boundary,
        )
        for p in singles_at
    ]
    rest = [p for p in unit.files if p not in chosen]
    # The folder is no single model, so a subfolder holding weights is not part of one either (a
    # package's resources/ with encoder.onnx, decoder.onnx and persian/{encoder,decoder}.onnx): each
    # such subfolder is split the same way instead of being left attached to no model.
    below: dict[str, list[Path]] = {}
    for p in rest:
        sub = os.path.relpath(p, root).split(os.sep, 1)
        if len(sub) == 2:
            below.setdefault(sub[0], []).append(p)
    for name, files in sorted(below.items()):
        if any(_is_marker(p) for p in files):
            taken = set(files)
            rest = [p for p in rest if p not in taken]
            sub_unit = Unit(
                root=unit.root / name,
                prefix=join_path(unit.prefix, name) if unit.prefix else escape(name),
                files=files,
                extra_files=unit.extra_files,
                follow_symlinks=unit.follow_symlinks,
                boundary=unit.boundary,
            )
            singles.extend(_split_weights(sub_unit))
    if rest:
        holds_model = any(_is_marker(p) and os.path.dirname(p) == root for p in rest)
        singles.append(
            Unit(
                root=unit.root,
                prefix=unit.prefix,
                files=rest,
                orphan=not holds_model,
                extra_files=unit.extra_files if holds_model else [],
                follow_symlinks=unit.follow_symlinks,
                boundary=unit.boundary,
            )
        )
    return singles


def _snapshot(repo: Path, snap: Path, prefix: str, follow_symlinks: bool = False) -> Unit:
    repo_id = repo.name[len("models--") :].replace("--", "/")
    main = repo / "refs" / "main"
    is_main = None
    try:
        if stat.S_ISREG(os.stat(main).st_mode):  # never open a pipe or device planted there
            is_main = main.read_text().strip() == snap.name
    except (OSError, UnicodeDecodeError):
        pass
    return Unit(
        root=snap,
        prefix=prefix,
        repo_id=repo_id,
        revision=snap.name if _HEX40.match(snap.name) else snap.name,
        is_main=is_main,
        follow_symlinks=follow_symlinks,
        boundary=repo,  # snapshot files are links into ../../blobs of the same repo folder
    )


class _CarrierCache:
    """carrier_files() for many model folders: each folder listed, each RECORD read, once."""

    def __init__(self) -> None:
        self._infos: dict[Path, list[Path]] = {}
        self._records: dict[Path, frozenset[str] | None] = {}
        self._package: dict[Path, list[Path]] = {}

    def infos(self, folder: Path) -> list[Path]:
        if folder not in self._infos:
            try:
                found = (p for p in folder.iterdir() if p.name.endswith(".dist-info") and p.is_dir())
                self._infos[folder] = sorted(found)
            except OSError:
                self._infos[folder] = []
        return self._infos[folder]

    def record_dirs(self, info: Path) -> frozenset[str] | None:
        """Every folder (as "a/b/") a package's RECORD lists a file under; None without a RECORD."""
        if info not in self._records:
            record = info / "RECORD"
            dirs: set[str] | None = None
            try:
                if stat.S_ISREG(os.stat(record).st_mode):
                    dirs = set()
                    with open(record, encoding="utf-8", errors="replace") as fh:
                        for line in fh:
                            path = line.split(",", 1)[0]
                            while "/" in path:
                                path = path.rsplit("/", 1)[0]
                                if path + "/" in dirs:
                                    break
                                dirs.add(path + "/")
            except OSError:
                dirs = None
            self._records[info] = frozenset(dirs) if dirs is not None else None
        return self._records[info]

    def files(self, root: Path, levels: int = 3) -> list[Path]:
        root = root.resolve()
        for up in list(root.parents)[:levels]:
            infos = self.infos(up)
            if not infos:
                continue
            rel = root.relative_to(up).as_posix() + "/"
            top = rel.split("/", 1)[0].lower()
            for info in infos:
                try:
                    dirs = self.record_dirs(info)
                    if dirs is not None:
                        owns = rel in dirs
                    else:  # no RECORD (a copied tree): wheels put package "a-b" in folder "a_b"
                        owns = info.name.split("-", 1)[0].lower().replace(".", "_") == top
                    if owns:
                        if info not in self._package:
                            self._package[info] = _package_files(info)
                        return list(self._package[info])
                except OSError:
                    continue
        return []


def _package_files(info: Path) -> list[Path]:
    def regular(p: Path) -> bool:
        try:
            return stat.S_ISREG(os.stat(p).st_mode)
        except OSError:
            return False

    files = [info / "METADATA"] if regular(info / "METADATA") else []
    lic = info / "licenses"
    if lic.is_dir():
        files += sorted(p for p in lic.rglob("*") if regular(p))
    files += sorted(p for p in info.iterdir() if p.name.upper().startswith(("LICENSE", "COPYING")) and regular(p))
    return files


def carrier_files(root: Path, levels: int = 3) -> list[Path]:
    """The METADATA and licence files of an installed package whose files include ``root``.

    A model inside site-packages belongs to the distribution whose RECORD lists it; that
    package's licence is the packager's, which may differ from the model card's.
    """
    return _CarrierCache().files(root, levels)


def _inside(real: str, bound: str) -> bool:
    return real == bound or real.startswith(bound.rstrip(os.sep) + os.sep)


def walk(unit: Unit) -> tuple[list[Path], list[Finding]]:
    """Every regular file of a unit. Nothing is opened here: entry types come from the folder
    listing and stat, so pipes, devices and sockets are reported and skipped. Symbolic links are
    followed while they stay inside the unit's boundary (the scanned folder; for a Hugging Face
    snapshot, its repo folder), unless ``unit.follow_symlinks``; loops, dangling links, unreadable
    folders and the depth limit are findings.
    """
    if unit.files is not None:
        return unit.files, unit.findings
    if unit.single_file:
        return [unit.single_file], []
    files: list[Path] = []
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    bound = os.path.realpath(unit.boundary or unit.root)

    def rel(p: Path) -> str:
        return join_path(unit.prefix, p.relative_to(unit.root).as_posix())

    def add(severity: Severity, rule: str, p: Path, message: str) -> None:
        shown = rel(p)
        findings.append(Finding(severity, rule, f"{shown}: {message}", shown, Evidence(shown)))

    def visit(d: Path, depth: int) -> None:
        try:
            st = os.stat(d)
        except OSError as e:
            add(Severity.HIGH, "scan.unreadable", d, f"cannot read folder: {e.strerror}; its files were not scanned")
            return
        if (st.st_dev, st.st_ino) in seen:
            add(Severity.LOW, "scan.symlink-loop", d, "symbolic link loop (folder already visited); skipped")
            return
        if depth > MAX_DEPTH:
            add(Severity.MEDIUM, "scan.depth-limit", d, f"folders nested deeper than {MAX_DEPTH} levels; not scanned")
            return
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda entry: entry.name)
        except OSError as err:
            add(Severity.HIGH, "scan.unreadable", d, f"cannot list folder: {err.strerror}; its files were not scanned")
            return
        for entry in entries:
            p = Path(entry.path)
            try:
                if entry.is_symlink():
                    link(p, depth)
                elif entry.is_dir(follow_symlinks=False):
                    if p in unit.exclude:
                        continue  # another unit scans it
                    if entry.name in SKIP_DIRS:
                        skipped(p)
                    else:
                        visit(p, depth + 1)
                elif entry.is_file(follow_symlinks=False):
                    files.append(p)
                else:
                    add(
                        Severity.MEDIUM,
                        "scan.not-regular-file",
                        p,
                        "not a regular file (device, socket or pipe); never opened",
                    )
            except OSError as err:
                add(Severity.HIGH, "scan.unreadable", p, f"cannot read: {err.strerror}; not scanned")

    def link(p: Path, depth: int) -> None:
        to = escape(os.readlink(p))
        try:
            st = os.stat(p)
        except OSError as err:
            if err.errno == errno.ELOOP:
                add(Severity.LOW, "scan.symlink-loop", p, f"symbolic link to {to!r} loops; skipped")
            elif err.errno in (errno.ENOENT, errno.ENOTDIR):
                add(Severity.LOW, "scan.broken-symlink", p, f"symbolic link to {to!r}, which does not exist")
            else:
                add(Severity.HIGH, "scan.unreadable", p, f"symbolic link to {to!r} cannot be read: {err.strerror}")
            return
        real = os.path.realpath(p)
        if stat.S_ISDIR(st.st_mode) and _inside(bound, real) and real != bound:
            # a link to a parent of the scanned folder (a link to /): following it would walk the disk
            add(
                Severity.MEDIUM,
                "scan.symlink-outside",
                p,
                f"symbolic link to {to!r} ({escape(real)}) contains the scanned folder; not followed",
            )
            return
        if not unit.follow_symlinks and not _inside(real, bound):
            # loaders follow links: one named like weights, a pickle, a config or code is a file they load,
            # and it was not judged (high); other links leaving the folder are noted (medium)
            loaded = not stat.S_ISDIR(st.st_mode) and _loaded_name(p.name)
            add(
                Severity.HIGH if loaded else Severity.MEDIUM,
                "scan.symlink-outside",
                p,
                f"symbolic link to {to!r} ({escape(real)}) leaves the scanned folder; not followed"
                + (", so this file a loader opens was not judged" if loaded else "")
                + " (--follow-symlinks to follow it)",
            )
            return
        if stat.S_ISDIR(st.st_mode):
            if p.name in SKIP_DIRS:
                skipped(p)
            else:
                visit(p, depth + 1)
        elif stat.S_ISREG(st.st_mode):
            files.append(p)
        else:
            add(
                Severity.MEDIUM,
                "scan.not-regular-file",
                p,
                f"symbolic link to {to!r}, not a regular file (device, socket or pipe); never opened",
            )

    def skipped(d: Path) -> None:
        if d.name not in _MAY_HOLD_MODELS:
            add(Severity.LOW, "scan.skipped-folder", d, "version-control or bytecode-cache folder; not scanned")
            return
        found, complete = _model_like_files(d)
        if found or not complete:
            named = ", ".join(escape(os.path.relpath(f, d)) for f in found[:5])
            what = (f"holds {len(found)}{'' if complete else '+'} model or pickle file(s) ({named})" if found
                    else f"has more than {SKIPPED_LISTING_MAX:,} entries")
            add(Severity.HIGH, "scan.skipped-folder", d,
                f"{d.name} folder {what}, not scanned: scan the folder itself to judge them (or waive this finding)")
        else:
            add(Severity.LOW, "scan.skipped-folder", d, f"{d.name} folder holds no model or pickle file; not scanned")

    visit(unit.root, 0)
    return files, findings


def _hub_card(p: Path) -> bool:
    """Whether a card opens with YAML front matter (its first bytes; a walked regular file)."""
    try:
        with open(p, "rb") as fh:
            return fh.read(7).removeprefix(b"\xef\xbb\xbf")[:3] == b"---"
    except OSError:
        return False


def _loaded_name(name: str) -> bool:
    """Whether a file so named is one a model loader opens: weights, a pickle, a model config, card or code."""
    low = name.lower()
    return name in MARKER_NAMES or name in TYING_NAMES or low.endswith((".py", "config.json")) or _model_like(low)


def _model_like(name: str) -> bool:
    """A file name with a weights or pickle suffix anywhere in it (``x.pkl.gz``, ``model.pt.1``)."""
    return any("." + part in MODEL_LIKE_SUFFIXES for part in name.lower().split(".")[1:])


def _model_like_files(folder: Path) -> tuple[list[str], bool]:
    """(paths of files whose name says model weights or a pickle, whether the listing finished) under a
    skipped folder: names only, links not followed, at most SKIPPED_LISTING_MAX entries."""
    found: list[str] = []
    seen = 0
    for base, dirs, names in os.walk(folder, onerror=lambda e: None):
        seen += len(dirs) + len(names)
        dirs.sort()  # the names shown are the same on every run
        for n in sorted(names):
            if _model_like(n):
                found.append(os.path.join(base, n))
        if seen > SKIPPED_LISTING_MAX:
            return found, False
    return found, True


def join_path(prefix: str, rel: str) -> str:
    prefix, rel = escape(prefix), escape(rel)
    return f"{prefix}/{rel}" if prefix and rel != "." else (prefix or rel)


def display_path(unit: Unit, target: Path, p: Path) -> tuple[str, str]:
    """(path shown to users, relative to the target; path inside the unit). Undecodable bytes and
    control characters in names are escaped (\\xNN); ``p`` itself is what is read."""
    if unit.single_file and p == unit.single_file:  # its extra files (a carrier's licence) are elsewhere
        return join_path(unit.prefix, p.name), escape(p.name)
    try:
        local = p.relative_to(unit.root).as_posix()
        return join_path(unit.prefix, local), escape(local)
    except ValueError:
        # a file outside the unit (the carrier package's metadata): show it relative to the target
        shown = escape(Path(os.path.relpath(p, target if target.is_dir() else target.parent)).as_posix())
        return shown, shown
