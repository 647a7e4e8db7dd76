"""Security scan: find what would run code, or signs of tampering, in model files, never loading them.

Pickles are judged by an *allowlist*: every global a pickle imports is resolved by the symbolic
opcode walk (catalog/pickles.py) and must be on a list of data-rebuilding callables for its
framework; known code-running callables are critical, anything else is reported at a tunable
severity (default high). The rules are data (knowledge/security.yaml, with a rules_version that
every verdict records together with the file's SHA-256).

Here: scan_file/analyse (one file: which rules apply to its format) and scan/sarif (a folder, the
SARIF output). The rules, one module per kind: pickles.py (pickles and their containers),
formats.py (Keras, TensorFlow, GGUF, ONNX/safetensors), datasets.py (URL lists),
remote_code.py (auto_map Python files), report.py (FileReport, the versioned rules).
"""

from __future__ import annotations

import os
import stat
import sys
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import guard
from ...catalog.base import CatalogError, FileRef
from ...catalog.pickles import (
    ARCHIVE_ERRORS,
    Decompressed,
    LimitExceeded,
    Reopen,
    compressed_zip,
    compression,
    is_joblib,
)
from ...catalog.sniff import read_head, sniff
from ...digest import sha256_file
from .configs import CONFIG_NAMES, MAX_CONFIG, judge_config
from .datasets import URL_LIST_SUFFIXES, DatasetPolicy, dns_resolves, url_list, url_risks
from .formats import (
    MAX_SCAN_BYTES,
    TEMPLATE_FILES,
    chat_template_file,
    embedded_keras_configs,
    from_catalog,
    from_catalog_error,
    gguf_templates,
    keras_config_bytes,
    pbtxt_ops,
    tensorflow_ops,
)
from .mlflow import mlflow_code, mlflow_files
from .pickles import (
    MAX_INNER_ZIP,
    all_data,
    judge_globals,
    limit_finding,
    member_limit,
    member_ops,
    npy,
    other_readings,
    scan_tar,
    scan_zip,
    walk_all,
)
from .remote_code import AUTO_MAP_FILES, auto_map_files, config_findings, remote_code
from .report import SEVERITIES, FileReport, SecurityFinding, rules

__all__ = [
    "SEVERITIES",
    "DatasetPolicy",
    "FileReport",
    "SecurityFinding",
    "analyse",
    "auto_map_files",
    "dns_resolves",
    "from_catalog",
    "from_catalog_error",
    "judge_globals",
    "remote_code",
    "rules",
    "sarif",
    "scan",
    "scan_file",
    "url_risks",
]


def scan_file(
    path: Path, shown: str, unknown_severity: str = "high", hash_file: bool = True, policy: DatasetPolicy | None = None
) -> FileReport:
    """One file's report. Never raises: what cannot be read or judged is a finding that fails closed."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end: never opened
            rep = FileReport(shown, None, None)
            rep.add("medium", "file.not-regular", "not a regular file (device, socket or pipe); never opened")
            return rep
        head = read_head(path)
        fmt = sniff(path, head)
    except OSError as e:
        rep = FileReport(shown, None, None)
        rep.add("high", "file.unreadable", f"cannot read ({e.strerror or guard.describe(e)}): it is not judged")
        return rep
    # The digest ties the verdict to the content; it is computed beside the analysis (hashlib
    # releases the GIL), so a large file costs max(hash, analysis), not their sum.
    hasher = _hash_pool().submit(sha256_file, path) if hash_file else None
    try:
        rep = analyse(path, shown, head, fmt, unknown_severity, policy)
    except BaseException:
        if hasher is not None:
            hasher.cancel()
        raise
    if hasher is not None:
        try:
            rep.sha256 = hasher.result()
        except OSError as e:
            rep.add("high", "file.unreadable", f"cannot hash ({e.strerror or guard.describe(e)})")
    return rep


def analyse(
    path: Path,
    shown: str,
    head: bytes,
    fmt: str | None,
    unknown_severity: str = "high",
    policy: DatasetPolicy | None = None,
    keep: list[Any] | None = None,
) -> FileReport:
    """The rules for one file whose head and format the caller has read; no digest (the caller's).

    The one guard of the security rules: nothing raises out of here. A file the rules could not
    read to the end is high for formats whose loading can run code (what was not read may hide it).
    ``keep`` receives the walk of a plain or compressed pickle file (see walk_all), or "data-only".
    """
    rep = FileReport(shown, None, fmt)
    codec = compression(head, Reopen(path), path.name) if fmt is None else None
    zipped = compressed_zip(head, Reopen(path)) if fmt is None and codec is None else None
    try:
        if zipped:
            codec = zipped
            _inflated_zip(rep, path, shown, zipped, unknown_severity)
        else:
            _analyse(rep, path, shown, head, fmt, codec, unknown_severity, policy, keep)
    except CatalogError as e:
        from_catalog_error(rep, e.rule, str(e))
    except LimitExceeded as e:
        limit_finding(rep, shown, e)
    except (KeyboardInterrupt, SystemExit):
        raise
    except ARCHIVE_ERRORS as e:
        if isinstance(e, RecursionError):  # not a format error: a reader of ours recursed (a bug)
            _incomplete(rep, path, fmt, codec, e)
        else:
            sev = guard.SECURITY_INCOMPLETE if _runs_code(path, fmt, codec) else "medium"
            rep.add(sev, "file.malformed", f"the {_family(path, fmt, codec)} cannot read it ({guard.describe(e)})")
    except Exception as e:  # noqa: BLE001 - the net under every rule: fail closed, never crash
        _incomplete(rep, path, fmt, codec, e)
    except BaseException as e:  # MemoryError is an Exception; this is for the rest (never swallowed quietly)
        _incomplete(rep, path, fmt, codec, e)
        raise
    return rep


def _inflated_zip(rep: FileReport, path: Path, shown: str, codec: str, unknown_severity: str) -> None:
    """A compressed zip (a gzipped torch checkpoint): inflated, bounded, and judged as the zip it holds."""
    import io

    with open(path, "rb") as raw:
        data = Decompressed(raw, codec, shown).read(MAX_INNER_ZIP + 1)
    if len(data) > MAX_INNER_ZIP:
        why = "a compressed zip larger than 512 MiB inflated"
        rep.add("high", "archive.nesting-limit", f"{shown}: {why}: not judged", shown)
        return
    scan_zip(rep, Path(shown), ("numpy", "torch"), unknown_severity, source=io.BytesIO(data), depth=1)


# Formats whose loading can run code: a file of these that the rules could not finish is high.
CODE_FORMATS = {
    "pickle",
    "joblib",
    "pytorch-legacy",
    "pytorch-zip",
    "pytorch-tar",
    "torchscript",
    "zip",
    "tar",
    "numpy-npz",
    "numpy-npy",
    "keras",
    "hdf5",
    "tensorflow-savedmodel",
}


# SavedModel files by name: TensorFlow and tf.keras load them (ops that touch files, Lambda layers).
TF_NAMES = {"saved_model.pb", "saved_model.pbtxt", "keras_metadata.pb"}


# Formats whose files another loader may read differently (pickle.load from byte 0, zipfile from the end).
POLYGLOT_FORMATS = {"gguf", "hdf5", "keras", "onnx", "safetensors", "pickle", "joblib", "pytorch-legacy"}


def _runs_code(path: Path, fmt: str | None, codec: str | None) -> bool:
    return fmt in CODE_FORMATS or codec is not None or path.name in TF_NAMES


def _family(path: Path, fmt: str | None, codec: str | None) -> str:
    if codec or fmt in ("pickle", "joblib", "pytorch-legacy"):
        return "pickle rules"
    if fmt in ("pytorch-zip", "torchscript", "zip"):
        return "zip and pickle rules"
    if fmt in ("numpy-npz", "numpy-npy"):
        return "numpy rules"
    if fmt == "tar":
        return "tar rules"
    if fmt in ("keras", "hdf5") or path.name in TF_NAMES:
        return "Keras/TensorFlow rules"
    if fmt == "gguf":
        return "GGUF template rules"
    if fmt in ("onnx", "safetensors"):
        return f"{fmt} rules"
    return "security rules"


def _incomplete(rep: FileReport, path: Path, fmt: str | None, codec: str | None, e: BaseException) -> None:
    if os.environ.get("AITRAIL_DEBUG") == "1":
        import traceback

        traceback.print_exc(file=sys.stderr)
    rep.add(
        guard.SECURITY_INCOMPLETE,
        "security.incomplete",
        f"the {_family(path, fmt, codec)} did not finish ({guard.describe(e)}); the file is not judged: "
        + guard.HOW_TO_REPORT,
    )


@lru_cache(maxsize=1)
def _hash_pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="aitrail-hash")


def _analyse(
    rep: FileReport,
    path: Path,
    shown: str,
    head: bytes,
    fmt: str | None,
    codec: str | None,
    unknown_severity: str,
    policy: DatasetPolicy | None,
    keep: list[Any] | None = None,
) -> None:
    ext = path.suffix.lower()
    if fmt in ("pickle", "joblib", "pytorch-legacy") and ext in (".safetensors", ".gguf", ".onnx", ".npy", ".json"):
        rep.add(
            "high", "format.pickle-disguised", f"a pickle named *{ext}: tools that trust the name load it unscanned"
        )
    # The readings other loaders take than the one the format names (a pickle from byte 0, a zip found
    # from the end): each found is a polyglot, judged in full (pickles.other_readings; returns at once
    # for ordinary files). Not for text (fmt None: 'click\nnumpy' reads as a GLOBAL) nor .npy (its
    # "\x93NUMPY" header reads as opcodes reaching a GLOBAL of garbage: every real array would be flagged).
    if fmt in POLYGLOT_FORMATS:
        other_readings(rep, path, fmt, unknown_severity)
    if fmt in ("pickle", "joblib", "pytorch-legacy") or codec:
        joblib = is_joblib(fmt, path.name, codec)
        frameworks = ("numpy", "torch", "sklearn") if joblib else ("numpy", "torch")
        if fmt == "pickle" and not joblib and all_data(path):
            if keep is not None:
                keep.append("data-only")
            return  # data opcodes only: nothing to import or call (checked without the walk)
        if fmt == "pytorch-legacy":
            keep = None  # the inventory reads legacy checkpoints its own way (tensor listing)
        with open(path, "rb") as raw:
            if codec:
                stream = Decompressed(raw, codec, shown)
                walk_all(rep, stream, shown, frameworks, unknown_severity, keep=keep)  # type: ignore[arg-type]
            else:
                legacy = fmt == "pytorch-legacy"
                walk_all(rep, raw, shown, frameworks, unknown_severity, min_pickles=4 if legacy else 1, keep=keep)
    elif fmt in ("pytorch-zip", "torchscript", "zip"):
        scan_zip(rep, path, ("numpy", "torch"), unknown_severity)
    elif fmt == "numpy-npz":
        _npz(rep, path, shown, unknown_severity)
    elif fmt == "numpy-npy":
        with open(path, "rb") as fh:
            npy(rep, fh, shown, unknown_severity)
    elif fmt == "tar":
        scan_tar(rep, path, unknown_severity, head)
    elif fmt == "keras":
        _keras(rep, path, shown)
    elif fmt == "hdf5":
        # The Keras model config is a JSON string attribute inside the HDF5 file: every JSON object in
        # the file is read with JSON's decoder and judged (h5py is not needed to see it).
        embedded_keras_configs(rep, path, shown, (b"model_config", b"training_config"))
    elif path.name == "saved_model.pb":
        tensorflow_ops(rep, path, shown)
    elif path.name == "saved_model.pbtxt":  # TensorFlow's loader reads it when there is no .pb
        pbtxt_ops(rep, path, shown)
    elif path.name == "keras_metadata.pb":  # tf.keras rebuilds layers (Lambda too) from this metadata
        embedded_keras_configs(rep, path, shown, (b'"class_name"',))
    elif fmt == "gguf":
        gguf_templates(rep, FileRef(path=path, rel=shown, size=path.stat().st_size, head=head, format=fmt))
    elif fmt is None and (path.name in TEMPLATE_FILES or path.name in AUTO_MAP_FILES or ext == ".jinja"):
        if path.name in AUTO_MAP_FILES:  # what it makes transformers import that no module file can carry
            config_findings(rep, path)
        if path.name in TEMPLATE_FILES or ext == ".jinja":
            chat_template_file(rep, path, shown)  # transformers renders these templates: judged like a GGUF's
    elif fmt is None and path.name == "MLmodel":
        mlflow_code(path, rep)
    elif fmt is None and path.name in CONFIG_NAMES:
        with open(path, "rb") as fh:
            judge_config(rep, fh.read(MAX_CONFIG + 1), shown, unknown_severity)
    elif fmt is None and path.suffix.lower() in URL_LIST_SUFFIXES:
        url_list(rep, path, head, policy or DatasetPolicy())
    elif fmt is None and path.name in ("aitrail.yaml", "aitrail.yml"):
        from ...manifest import ManifestError, load

        try:
            man = load(path)
        except ManifestError as e:
            rep.add("low", "manifest.invalid", str(e))
        else:
            urls = [
                (d["url"], f"{shown}: datasets[{i}].url")
                for i, d in enumerate(man.data.get("datasets") or [])
                if d.get("url")
            ]
            url_risks(rep, urls, policy or DatasetPolicy())
    elif fmt in ("onnx", "safetensors"):
        from ...catalog import onnx as onnx_cat
        from ...catalog import safetensors as st_cat

        cat = onnx_cat if fmt == "onnx" else st_cat
        found = cat.catalog(FileRef(path=path, rel=shown, size=path.stat().st_size, head=head, format=fmt))
        from_catalog(rep, found.findings)


def _npz(rep: FileReport, path: Path, shown: str, unknown_severity: str) -> None:
    """Every member of an .npz, each error a finding naming the member (numpy.load opens any of them)."""
    try:
        z = zipfile.ZipFile(path)
    except Exception as e:  # noqa: BLE001 - zipfile raises many kinds on hostile headers; each is a finding
        rep.add("high", "zip.corrupt", f"corrupt .npz ({guard.describe(e)}): a loader may read it differently")
        return
    with z:
        for info in z.infolist():
            where = f"{shown}:{info.filename}"
            why = member_limit(info)
            if why:
                rep.add(
                    "high",
                    "archive.decompression-limit",
                    f"member {info.filename!r} {why}: not inflated, not judged",
                    where,
                )
                continue
            try:
                with z.open(info) as fh:
                    npy(rep, fh, where, unknown_severity, max_ops=member_ops(info))  # type: ignore[arg-type]
            except LimitExceeded as e:
                limit_finding(rep, where, e)
            except ARCHIVE_ERRORS as e:
                if isinstance(e, RecursionError):
                    raise
                rep.add(
                    "high",
                    "zip.unreadable-member",
                    f"member {info.filename!r} cannot be read ({guard.describe(e)}): it is not judged",
                    where,
                )


def _keras(rep: FileReport, path: Path, shown: str) -> None:
    where = f"{shown}:config.json"
    with zipfile.ZipFile(path) as z:
        try:
            info = z.getinfo("config.json")
        except KeyError:
            return
        why = member_limit(info)
        if why:
            rep.add(
                "high",
                "archive.decompression-limit",
                f"config.json {why}: the model config is not judged",
                where,
            )
            return
        if info.file_size >= MAX_SCAN_BYTES or info.compress_size >= MAX_SCAN_BYTES:
            rep.add(
                "high",
                "keras.config-limit",
                f"{where}: larger than {MAX_SCAN_BYTES} bytes: the model config is not judged",
                where,
            )
            return
        # One reader for configs that parse and those that do not (too deep, malformed): a Lambda
        # layer beside a deep array is still found in the text (critical), not only "unreadable".
        keras_config_bytes(rep, z.read(info), where)


def scan(
    target: str | Path,
    unknown_severity: str = "high",
    workers: int = 2,
    policy: DatasetPolicy | None = None,
    hash_files: bool = True,
    follow_symlinks: bool = False,
) -> dict[str, Any]:
    """``aitrail security`` over a file or folder: one report per file, in parallel across files.

    Raises InputError for a target that is not a regular file or folder (nothing is opened) and
    NothingToScan, before any hashing, when no file is one the rules judge."""
    from ...inputs import Unit, check_target, escape, walk

    root = Path(target)
    check_target(root)
    is_dir = root.is_dir()
    # A Hugging Face cache snapshot (models--org--name/snapshots/<rev>) is all links into ../../blobs: the
    # repo folder is the boundary links may reach, as the inventory's resolve() has it (inputs._snapshot)
    snap = is_dir and root.resolve().parent.name == "snapshots" and root.resolve().parent.parent.name.startswith(
        ("models--", "datasets--", "spaces--")
    )
    files, walked = walk(
        Unit(
            root=root if is_dir else root.parent,
            prefix="",
            single_file=None if is_dir else root,
            follow_symlinks=follow_symlinks,
            boundary=root.resolve().parent.parent if snap else None,
        )
    )
    shown = [escape(p.name if not is_dir else p.relative_to(root).as_posix()) for p in files]
    fmts = [_sniffed(f) for f in files]
    # The files already walked (the walk decides which links count), and every file transformers reads
    # an auto_map from, as scanner.py does.
    remote = auto_map_files(root, files) if is_dir and any(f.name in AUTO_MAP_FILES for f in files) else set()
    mlflow = mlflow_files(files) if is_dir and any(f.name == "MLmodel" for f in files) else set()
    remote |= mlflow
    if not any(_judged(f, k, remote) for f, k in zip(files, fmts)) and not any(
        w.severity.value in ("high", "critical") for w in walked
    ):
        _nothing(target, shown)
    jobs = [(f, n, unknown_severity, hash_files, policy) for f, n in zip(files, shown)]
    if len(files) == 1:  # nothing to run in parallel: no pool to start
        reports = [_scan_job(jobs[0])]
    elif _walked_bytes(files, fmts) >= PROCESS_MIN_BYTES and workers > 1 and (os.cpu_count() or 1) > 1:
        # Pickle walks are Python code and hold the GIL: several large ones need processes to use
        # several cores. Only aitrail's own FileReports cross the process boundary, never scanned data.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # "spawn": forking a process that runs hashing threads can deadlock the child.
        ctx = multiprocessing.get_context("spawn")
        n = min(workers, os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as procs:
            _start_deaf_to_ctrl_c(procs, n)
            reports = list(procs.map(_scan_job, jobs))
    else:
        from concurrent.futures import ThreadPoolExecutor  # hashing and small files: threads suffice

        with ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(_scan_job, jobs))
    for p, rep in zip(files, reports):
        if p.resolve() in remote:
            first = len(rep.findings)
            remote_code(rep, p)
            if p.resolve() in mlflow:  # the same review; what runs it is mlflow, not trust_remote_code
                for f in rep.findings[first:]:
                    f.message = f.message.replace("when loaded with trust_remote_code", "when mlflow loads the model")
    for w in walked:  # what the walk could not read or follow fails or warns like any finding
        where = w.path or str(target)
        wrep = FileReport(where, None, None)
        wrep.findings.append(SecurityFinding(w.severity.value, w.rule, w.message, where))
        reports.append(wrep)
    worst = max((f.severity for r in reports for f in r.findings), key=SEVERITIES.index, default=None)
    return {"rules_version": rules()["rules_version"], "files": [r.to_dict() for r in reports], "max_severity": worst}


# Files the security rules judge besides sniffed formats (by name; URL lists only when they hold a URL).
JUDGED_NAMES = {
    "aitrail.yaml", "aitrail.yml", "MLmodel", *CONFIG_NAMES, *TF_NAMES, *AUTO_MAP_FILES, *TEMPLATE_FILES
}


def _sniffed(path: Path) -> tuple[str | None, str | None, bytes] | None:
    """(format, compressor, head) of a file, or None when it cannot be read (judged: it fails closed)."""
    try:
        head = read_head(path)
        fmt = sniff(path, head)
    except OSError:
        return None
    codec = compression(head, Reopen(path), path.name) if fmt is None else None
    if fmt is None and codec is None:
        codec = compressed_zip(head, Reopen(path))
    return fmt, codec, head


def _judged(path: Path, sniffed: tuple[str | None, str | None, bytes] | None, remote: set[Path]) -> bool:
    if sniffed is None:
        return True  # unreadable: scan_file reports it (high)
    fmt, codec, head = sniffed
    name = path.name
    if fmt or codec or name in JUDGED_NAMES or name.endswith(".jinja"):
        return True
    if path.suffix.lower() in URL_LIST_SUFFIXES and (b"http://" in head or b"https://" in head):
        return True
    return path.suffix == ".py" and path.resolve() in remote


def _nothing(target: str | Path, shown: list[str]) -> None:
    from ...errors import NothingToScan

    some = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    listed = f" ({len(shown)} files: {some})" if shown else " (no files)"
    raise NothingToScan(
        f"{target}: nothing here is recognisable as a model file that aitrail's security rules judge{listed}; "
        "point aitrail at a model's folder or file (weights, pickles, checkpoints, config.json, aitrail.yaml)"
    )


def _start_deaf_to_ctrl_c(procs: Any, n: int) -> None:
    """Start the workers with SIGINT ignored (kept across exec, and Python then installs no handler):
    Ctrl-C in a terminal reaches the whole process group, and is the parent's to handle (it stops
    the workers) — not one traceback per worker caught mid-start."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for _ in range(n):  # each submit with no idle worker starts one (fork and exec happen here)
            procs.submit(os.getpid)
    finally:
        signal.signal(signal.SIGINT, old)


# Formats whose analysis walks the whole file in Python (the rest read headers or are hashed).
WALKED_FORMATS = {"pickle", "joblib", "pytorch-legacy", "tar"}
PROCESS_MIN_BYTES = 64 << 20  # below this, starting worker processes costs more than it saves


def _scan_job(job: tuple[Path, str, str, bool, DatasetPolicy | None]) -> FileReport:
    path, shown, unknown, hash_file, policy = job
    return scan_file(path, shown, unknown, hash_file, policy)


def _walked_bytes(files: list[Path], fmts: list[tuple[str | None, str | None, bytes] | None] | None = None) -> int:
    """Bytes in files that need a pickle walk, if at least two do (else 0: nothing to spread)."""
    sizes = []
    for f, k in zip(files, fmts if fmts is not None else [_sniffed(f) for f in files]):
        if k is not None and (k[0] in WALKED_FORMATS or k[1]):
            try:
                sizes.append(f.stat().st_size)
            except OSError:
                continue
    return sum(sizes) if len(sizes) >= 2 else 0


def sarif(report: dict[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning UIs."""
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    rule_ids = sorted({f["rule"] for r in report["files"] for f in r["findings"]})
    from ... import __version__

    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aitrail",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/aitrail/",
                        "rules": [{"id": r, "shortDescription": {"text": r}} for r in rule_ids],
                    }
                },
                "results": [
                    {
                        "ruleId": f["rule"],
                        "level": level[f["severity"]],
                        "message": {"text": f["message"]},
                        "properties": {
                            "severity": f["severity"],
                            "sha256": r["sha256"],
                            "rules_version": report["rules_version"],
                            **(f.get("evidence") or {}),  # how, framework, global, why (docs/security-rules.md)
                        },
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": r["path"]}}}],
                    }
                    for r in report["files"]
                    for f in r["findings"]
                ],
            }
        ],
    }
