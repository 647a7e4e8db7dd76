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

import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...catalog.base import CatalogError, FileRef
from ...catalog.sniff import read_head, sniff
from ...digest import sha256_file
from .datasets import URL_LIST_SUFFIXES, DatasetPolicy, dns_resolves, url_list, url_risks
from .formats import MAX_SCAN_BYTES, from_catalog, from_catalog_error, gguf_templates, keras_config, search_bytes
from .pickles import all_data, judge_globals, npy, scan_tar, scan_zip, walk_all
from .remote_code import auto_map_files, remote_code
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
    try:
        head = read_head(path)
        fmt = sniff(path, head)
    except OSError as e:
        rep = FileReport(shown, None, None)
        rep.add("low", "file.unreadable", f"cannot read ({e.strerror})")
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
            rep.add("low", "file.unreadable", f"cannot hash ({e.strerror})")
    return rep


def analyse(
    path: Path,
    shown: str,
    head: bytes,
    fmt: str | None,
    unknown_severity: str = "high",
    policy: DatasetPolicy | None = None,
) -> FileReport:
    """The rules for one file whose head and format the caller has read; no digest (the caller's)."""
    rep = FileReport(shown, None, fmt)
    _analyse(rep, path, shown, head, fmt, unknown_severity, policy)
    return rep


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
    unknown_severity: str,
    policy: DatasetPolicy | None,
) -> None:
    ext = path.suffix.lower()
    if fmt in ("pickle", "joblib", "pytorch-legacy") and ext in (".safetensors", ".gguf", ".onnx", ".npy", ".json"):
        rep.add(
            "high", "format.pickle-disguised", f"a pickle named *{ext}: tools that trust the name load it unscanned"
        )
    try:
        if fmt in ("pickle", "joblib", "pytorch-legacy") or (head[:1] == b"x" and ext in (".joblib", ".pkl")):
            frameworks = ("numpy", "torch", "sklearn") if fmt == "joblib" or ext == ".joblib" else ("numpy", "torch")
            if fmt == "pickle" and all_data(path):
                return  # data opcodes only: nothing to import or call (checked without the walk)
            with open(path, "rb") as raw:
                if fmt is None:
                    from ...catalog.arrays import _Inflate

                    walk_all(rep, _Inflate(raw), shown, frameworks, unknown_severity)  # type: ignore[arg-type]
                else:
                    walk_all(
                        rep, raw, shown, frameworks, unknown_severity, min_pickles=4 if fmt == "pytorch-legacy" else 1
                    )
        elif fmt in ("pytorch-zip", "torchscript", "zip"):
            scan_zip(rep, path, ("numpy", "torch"), unknown_severity)
        elif fmt == "numpy-npz":
            try:
                with zipfile.ZipFile(path) as z:
                    for name in z.namelist():
                        with z.open(name) as fh:
                            npy(rep, fh, f"{shown}:{name}", unknown_severity)  # type: ignore[arg-type]
            except zipfile.BadZipFile as e:
                rep.add("high", "zip.corrupt", f"corrupt .npz ({e})")
        elif fmt == "numpy-npy":
            with open(path, "rb") as fh:
                npy(rep, fh, shown, unknown_severity)
        elif fmt == "tar":
            scan_tar(rep, path, unknown_severity)
        elif fmt == "keras":
            with zipfile.ZipFile(path) as z:
                if "config.json" in z.namelist() and z.getinfo("config.json").file_size < MAX_SCAN_BYTES:
                    keras_config(rep, json.loads(z.read("config.json")), f"{shown}:config.json")
        elif fmt == "hdf5":
            # The Keras model config is a JSON string attribute inside the HDF5 file: found by its bytes,
            # at any nesting depth (h5py is not needed to see it).
            hits = search_bytes(
                path,
                [
                    b'"class_name": "Lambda"',
                    b'"class_name":"Lambda"',
                    b'"module": "subprocess',
                    b'"module": "os"',
                    b'"module": "builtins"',
                ],
            )
            if any(b"Lambda" in h for h in hits):
                rep.add(
                    "critical",
                    "keras.lambda",
                    "Keras HDF5 model config holds a Lambda layer: its Python "
                    "code (marshalled) runs when the model is loaded or called",
                )
            if any(b"module" in h for h in hits):
                rep.add(
                    "critical",
                    "keras.module-injection",
                    "Keras HDF5 model config resolves an object from a non-Keras module",
                )
        elif path.name == "saved_model.pb":
            ops = rules()["tensorflow"]["dangerous_ops"]
            needles = [b"\x12" + bytes([len(op)]) + op.encode() for op in ops]
            for n in sorted(search_bytes(path, needles)):
                rep.add(
                    "high",
                    "tensorflow.file-or-python-op",
                    f"graph uses the {n[2:].decode()} op: it reads or "
                    "writes files, or runs Python, when the model is called",
                )
        elif fmt == "gguf":
            gguf_templates(rep, FileRef(path=path, rel=shown, size=path.stat().st_size, head=head, format=fmt))
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
    except CatalogError as e:
        from_catalog_error(rep, e.rule, str(e))
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError, ValueError) as e:
        rep.add("medium", "file.malformed", f"cannot be analysed ({type(e).__name__}: {e})")


def scan(
    target: str | Path,
    unknown_severity: str = "high",
    workers: int = 2,
    policy: DatasetPolicy | None = None,
    hash_files: bool = True,
) -> dict[str, Any]:
    """``aitrail security`` over a file or folder: one report per file, in parallel across files."""
    from ...inputs import InputError, Unit, walk

    root = Path(target)
    if not root.exists():
        raise InputError(f"{target}: no such file or directory")
    files, _ = walk(
        Unit(root=root if root.is_dir() else root.parent, prefix="", single_file=None if root.is_dir() else root)
    )
    shown = [p.name if not root.is_dir() else p.relative_to(root).as_posix() for p in files]
    jobs = [(f, n, unknown_severity, hash_files, policy) for f, n in zip(files, shown)]
    if len(files) == 1:  # nothing to run in parallel: no pool to start
        reports = [_scan_job(jobs[0])]
    elif _walked_bytes(files) >= PROCESS_MIN_BYTES and workers > 1 and (os.cpu_count() or 1) > 1:
        # Pickle walks are Python code and hold the GIL: several large ones need processes to use
        # several cores. Only aitrail's own FileReports cross the process boundary, never scanned data.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # "spawn": forking a process that runs hashing threads can deadlock the child.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1), mp_context=ctx) as procs:
            reports = list(procs.map(_scan_job, jobs))
    else:
        from concurrent.futures import ThreadPoolExecutor  # hashing and small files: threads suffice

        with ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(_scan_job, jobs))
    remote = auto_map_files(root)
    for p, rep in zip(files, reports):
        if p.resolve() in remote:
            remote_code(rep, p)
    worst = max((f.severity for r in reports for f in r.findings), key=SEVERITIES.index, default=None)
    return {"rules_version": rules()["rules_version"], "files": [r.to_dict() for r in reports], "max_severity": worst}


# Formats whose analysis walks the whole file in Python (the rest read headers or are hashed).
WALKED_FORMATS = {"pickle", "joblib", "pytorch-legacy", "tar"}
PROCESS_MIN_BYTES = 64 << 20  # below this, starting worker processes costs more than it saves


def _scan_job(job: tuple[Path, str, str, bool, DatasetPolicy | None]) -> FileReport:
    path, shown, unknown, hash_file, policy = job
    return scan_file(path, shown, unknown, hash_file, policy)


def _walked_bytes(files: list[Path]) -> int:
    """Bytes in files that need a pickle walk, if at least two do (else 0: nothing to spread)."""
    sizes = []
    for f in files:
        try:
            if sniff(f, read_head(f)) in WALKED_FORMATS:
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
                        },
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": r["path"]}}}],
                    }
                    for r in report["files"]
                    for f in r["findings"]
                ],
            }
        ],
    }
