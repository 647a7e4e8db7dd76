"""Security scan: find what would run code, or signs of tampering, in model files, never loading them.

Pickles are judged by an *allowlist*: every global a pickle imports is resolved by the symbolic
opcode walk (catalog/pickles.py) and must be on a list of data-rebuilding callables for its
framework; known code-running callables are critical, anything else is reported at a tunable
severity (default high). The rules are data (knowledge/security.yaml, with a rules_version that
every verdict records together with the file's SHA-256).
"""

from __future__ import annotations

import fnmatch
import json
import re
import tarfile
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from .. import yamlsafe
from ..catalog import pickles
from ..catalog.base import CatalogError, FileRef
from ..catalog.sniff import read_head, sniff
from ..digest import sha256_file
from ..model import Finding, Severity

SEVERITIES = [s.value for s in Severity]
MAX_SCAN_BYTES = 64 << 20  # byte searches (HDF5 configs, SavedModel graphs) read at most this much


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return yamlsafe.load(resources.files("aitrail.knowledge").joinpath("security.yaml").read_text("utf-8"))  # type: ignore[no-any-return]


@dataclass
class SecurityFinding:
    severity: str
    rule: str
    message: str
    location: str  # file, and member or key inside it

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "rule": self.rule, "message": self.message, "location": self.location}


@dataclass
class FileReport:
    path: str
    sha256: str | None
    format: str | None
    findings: list[SecurityFinding] = field(default_factory=list)

    def add(self, severity: str, rule: str, message: str, location: str | None = None) -> None:
        self.findings.append(SecurityFinding(severity, rule, f"{self.path}: {message}", location or self.path))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "findings": [f.to_dict() for f in self.findings],
        }


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def judge_globals(
    report: FileReport, summary: pickles.PickleSummary, where: str, frameworks: tuple[str, ...], unknown_severity: str
) -> None:
    r = rules()["pickle"]
    allow = [p for fw in ("common", *frameworks) for p in r["allow"].get(fw, [])]
    what = "the pickle" if where == report.path else where.split(":", 1)[-1]
    for g in sorted(summary.globals):
        called = "calls" if g in summary.calls else "imports"
        if _matches(g, r["dangerous"]):
            report.add(
                "critical", "pickle.dangerous-global", f"{what} {called} {g}, which runs code when loaded", where
            )
        elif not _matches(g, allow):
            report.add(
                unknown_severity,
                "pickle.unknown-global",
                f"{what} {called} {g}, which is on no allowlist for this format: loading it runs "
                "code aitrail cannot vouch for",
                where,
            )


def _walk_all(
    report: FileReport, fh: IO[bytes], where: str, frameworks: tuple[str, ...], unknown: str, min_pickles: int = 1
) -> int:
    """Walk every pickle in a stream, one after the other; return how many were read whole."""
    n = 0
    on_build = pickles.joblib_arrays if "sklearn" in frameworks else None
    while True:
        s = pickles.PickleSummary()
        try:
            pickles.walk(fh, s, on_build, lean=on_build is None)  # joblib framing needs the wrapper state
        except zipfile.BadZipFile:
            judge_globals(report, s, where, frameworks, unknown)
            raise  # tampering with the container: reported by the caller
        except (ValueError, EOFError, zlib.error) as e:
            judge_globals(report, s, where, frameworks, unknown)  # what ran before the break still ran
            if n < min_pickles:
                # Fail closed: a stream aitrail cannot read past may be one a more lenient loader reads on
                # (a loader-parser differential), and whatever follows would run unjudged.
                report.add(
                    "high",
                    "pickle.malformed",
                    f"malformed pickle in {where} ({e}): aitrail cannot judge what follows, and a more lenient "
                    "loader may run it",
                    where,
                )
            return n
        judge_globals(report, s, where, frameworks, unknown)
        n += 1
        if n >= min_pickles and not fh.read(1):
            return n
        try:
            fh.seek(-1, 1)
        except (OSError, ValueError):
            return n


def _scan_zip(report: FileReport, path: Path, frameworks: tuple[str, ...], unknown: str) -> None:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        report.add("high", "zip.corrupt", f"corrupt zip archive ({e}): a loader may read it differently")
        return
    with z:
        names = [i.filename for i in z.infolist()]
        if len(names) != len(set(names)):
            report.add(
                "high",
                "zip.duplicate-member",
                "the archive holds two members with the same name: loaders disagree on which one they read",
            )
        for n in names:
            if n.startswith("/") or ".." in n.split("/"):
                report.add("high", "zip.path-traversal", f"member {n!r} points outside the archive", f"{path}:{n}")
        for info in z.infolist():
            if info.flag_bits & 0x41:  # encrypted (bit 0) or strong encryption (bit 6)
                report.add(
                    "high",
                    "zip.encrypted-member",
                    f"member {info.filename!r} is flagged encrypted: it cannot be inspected",
                    f"{path}:{info.filename}",
                )
            if not info.filename.endswith((".pkl", ".pickle")) and "/code/" not in info.filename:
                continue
            where = f"{path.name}:{info.filename}"
            if "/code/" in info.filename and info.filename.endswith(".py"):
                report.add(
                    "medium",
                    "torchscript.code",
                    f"TorchScript code member {info.filename!r}: loading with torch.jit runs it",
                    where,
                )
                continue
            try:
                with z.open(info) as fh:
                    _walk_all(report, fh, where, frameworks, unknown)  # type: ignore[arg-type]
                    while fh.read(1 << 20):  # to the end: zipfile checks the CRC there
                        pass
            except zipfile.BadZipFile as e:
                report.add("high", "zip.tampered", f"member {info.filename!r}: {e}", where)
            except (NotImplementedError, RuntimeError, ValueError, OSError) as e:
                report.add("high", "zip.unreadable-member", f"member {info.filename!r} cannot be read ({e})", where)


def _scan_tar(report: FileReport, path: Path, unknown: str) -> None:
    try:
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if not m.isfile():
                    continue
                fh = t.extractfile(m)
                if fh is not None:
                    _walk_all(report, fh, f"{path.name}:{m.name}", ("numpy", "torch"), unknown, min_pickles=0)
    except tarfile.TarError as e:
        report.add("medium", "tar.corrupt", f"corrupt tar archive ({e})")


def _npy(report: FileReport, fh: IO[bytes], where: str, unknown: str) -> None:
    from ..catalog.arrays import parse_npy_header

    try:
        header = parse_npy_header(fh, where)
    except CatalogError as e:
        report.add("medium", "npy.malformed", str(e), where)
        return
    if "O" in str(header.get("descr")):
        report.add("info", "npy.object-array", f"{where}: object array (a pickle follows the header)", where)
        _walk_all(report, fh, where, ("numpy",), unknown)


def _keras_config(report: FileReport, doc: Any, where: str) -> None:
    allowed = rules()["keras"]["allowed_modules"]
    todo = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                report.add(
                    "critical",
                    "keras.lambda",
                    f"{where}: Lambda layer: its Python code runs when the model is loaded or called",
                    where,
                )
            mod = node.get("module")
            if isinstance(mod, str) and not any(
                mod == a or mod.startswith(a + ".") or mod.startswith(a) for a in allowed if a
            ):
                report.add(
                    "critical",
                    "keras.module-injection",
                    f"{where}: object resolved from module {mod!r} ({node.get('class_name')}): not a Keras module",
                    where,
                )
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)


def _search(path: Path, needles: list[bytes]) -> set[bytes]:
    """Which byte strings occur in the first MAX_SCAN_BYTES of a file (streamed, overlapping chunks)."""
    found: set[bytes] = set()
    keep = max(map(len, needles)) - 1
    tail = b""
    with open(path, "rb") as fh:
        read = 0
        while read < MAX_SCAN_BYTES:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            read += len(chunk)
            buf = tail + chunk
            found.update(n for n in needles if n in buf)
            tail = buf[-keep:]
    return found


def _gguf(report: FileReport, ref: FileRef) -> None:
    from ..catalog.gguf import read_header

    try:
        _v, kv, _t, _end = read_header(ref)
    except CatalogError as e:
        report.add("medium", "gguf.malformed", str(e))
        return
    bad = rules()["jinja"]["dangerous"]
    for key, val in kv.items():
        if key.startswith("tokenizer.chat_template") and isinstance(val, str):
            hits = sorted({b for b in bad if b in val})
            if hits:
                report.add(
                    "critical",
                    "gguf.chat-template-injection",
                    f"chat template {key} uses {', '.join(hits[:5])}: Jinja sandbox escape "
                    "(server-side template injection, CVE-2024-34359)",
                    f"{ref.rel}:{key}",
                )


# -- dataset risks: URL lists and declared download locations ---------------------------------

_URL = re.compile(rb"https?://[^\s,;\"'<>]+", re.I)
_IP = re.compile(r"^\[?[0-9a-f:.]+\]?$", re.I)
URL_LIST_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".urls")
MAX_URL_LINES = 50_000_000


@dataclass
class DatasetPolicy:
    expired: frozenset[str] = frozenset()  # domains the user lists as expired or re-registered
    resolve: Any = None  # callable(host) -> bool (resolves?) for --online; None = offline


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def url_risks(rep: FileReport, urls: list[tuple[str, str]], policy: DatasetPolicy) -> None:
    """Plain HTTP, raw IP hosts, expired (or, with --online, unresolvable) domains."""
    http = [u for u, _ in urls if u.lower().startswith("http://")]
    if http:
        rep.add(
            "medium",
            "dataset.plain-http",
            f"{len(http)} download URL(s) use plain HTTP (content can be swapped in transit), e.g. {http[0][:120]}",
            urls[0][1],
        )
    hosts: dict[str, str] = {}
    for u, where in urls:
        hosts.setdefault(_host(u), where)
    ips = [h for h in hosts if h and _IP.match(h) and any(c.isdigit() for c in h)]
    if ips:
        rep.add(
            "medium",
            "dataset.ip-host",
            f"{len(ips)} host(s) are raw IP addresses (no domain owner to check), e.g. {ips[0]}",
            hosts[ips[0]],
        )
    for h, where in sorted(hosts.items()):
        if h and any(h == d or h.endswith("." + d) for d in policy.expired):
            rep.add(
                "high",
                "dataset.expired-domain",
                f"URLs point at {h}, listed as expired: whoever buys the "
                "domain controls the training data (split-view poisoning)",
                where,
            )
        elif h and policy.resolve is not None and not _IP.match(h) and not policy.resolve(h):
            rep.add(
                "high",
                "dataset.unresolvable-domain",
                f"{h} does not resolve: the domain may have expired and be for sale",
                where,
            )


def dns_resolves(host: str, timeout: float = 3.0) -> bool:
    """--online only: does the host still resolve? (Results are cached per process.)"""
    import socket

    if host in _DNS:
        return _DNS[host]
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        socket.getaddrinfo(host, 443)
        ok = True
    except OSError:
        ok = False
    finally:
        socket.setdefaulttimeout(old)
    _DNS[host] = ok
    return ok


_DNS: dict[str, bool] = {}


def _url_list(rep: FileReport, path: Path, head: bytes, policy: DatasetPolicy) -> None:
    lines = head.splitlines()[:20]
    if len(lines) < 2 or sum(1 for ln in lines if _URL.search(ln)) < len(lines) // 2:
        return
    header = lines[0].lower()
    has_digest = any(k in header for k in (b"sha256", b"sha1", b"md5", b"hash", b"digest", b"checksum"))
    urls: list[tuple[str, str]] = []
    hosts_seen: set[str] = set()
    total = 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if n > MAX_URL_LINES:
                rep.add("low", "dataset.url-list-truncated", f"more than {MAX_URL_LINES} lines: the rest unread")
                break
            m = _URL.search(line)
            if not m:
                continue
            total += 1
            u = m.group(0).decode("utf-8", "replace")
            h = _host(u)
            if u.lower().startswith("http://") or h not in hosts_seen:  # one example per host is enough
                hosts_seen.add(h)
                urls.append((u, f"{rep.path}:{n}"))
    rep.add("info", "dataset.url-list", f"URL list of {total} items across {len(hosts_seen)} hosts")
    if not has_digest:
        rep.add(
            "medium",
            "dataset.url-list-without-digests",
            f"{total} URLs and no per-item digest column: "
            "what is downloaded cannot be checked against what was audited",
        )
    url_risks(rep, urls, policy)


def _all_data(path: Path) -> bool:
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
    hasher = _HASH_POOL.submit(sha256_file, path) if hash_file else None
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


_HASH_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aitrail-hash")


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
            if fmt == "pickle" and _all_data(path):
                return  # data opcodes only: nothing to import or call (checked without the walk)
            with open(path, "rb") as raw:
                if fmt is None:
                    from ..catalog.arrays import _Inflate

                    _walk_all(rep, _Inflate(raw), shown, frameworks, unknown_severity)  # type: ignore[arg-type]
                else:
                    _walk_all(
                        rep, raw, shown, frameworks, unknown_severity, min_pickles=4 if fmt == "pytorch-legacy" else 1
                    )
        elif fmt in ("pytorch-zip", "torchscript", "zip"):
            _scan_zip(rep, path, ("numpy", "torch"), unknown_severity)
        elif fmt == "numpy-npz":
            try:
                with zipfile.ZipFile(path) as z:
                    for name in z.namelist():
                        with z.open(name) as fh:
                            _npy(rep, fh, f"{shown}:{name}", unknown_severity)  # type: ignore[arg-type]
            except zipfile.BadZipFile as e:
                rep.add("high", "zip.corrupt", f"corrupt .npz ({e})")
        elif fmt == "numpy-npy":
            with open(path, "rb") as fh:
                _npy(rep, fh, shown, unknown_severity)
        elif fmt == "tar":
            _scan_tar(rep, path, unknown_severity)
        elif fmt == "keras":
            with zipfile.ZipFile(path) as z:
                if "config.json" in z.namelist() and z.getinfo("config.json").file_size < MAX_SCAN_BYTES:
                    _keras_config(rep, json.loads(z.read("config.json")), f"{shown}:config.json")
        elif fmt == "hdf5":
            # The Keras model config is a JSON string attribute inside the HDF5 file: found by its bytes,
            # at any nesting depth (h5py is not needed to see it).
            hits = _search(
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
            for n in sorted(_search(path, needles)):
                rep.add(
                    "high",
                    "tensorflow.file-or-python-op",
                    f"graph uses the {n[2:].decode()} op: it reads or "
                    "writes files, or runs Python, when the model is called",
                )
        elif fmt == "gguf":
            _gguf(rep, FileRef(path=path, rel=shown, size=path.stat().st_size, head=head, format=fmt))
        elif fmt is None and path.suffix.lower() in URL_LIST_SUFFIXES:
            _url_list(rep, path, head, policy or DatasetPolicy())
        elif fmt is None and path.name in ("aitrail.yaml", "aitrail.yml"):
            from ..manifest import ManifestError, load

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
            from ..catalog import onnx as onnx_cat
            from ..catalog import safetensors as st_cat

            cat = onnx_cat if fmt == "onnx" else st_cat
            found = cat.catalog(FileRef(path=path, rel=shown, size=path.stat().st_size, head=head, format=fmt))
            from_catalog(rep, found.findings)
    except CatalogError as e:
        from_catalog_error(rep, e.rule, str(e))
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError, ValueError) as e:
        rep.add("medium", "file.malformed", f"cannot be analysed ({type(e).__name__}: {e})")


def from_catalog(rep: FileReport, findings: list[Finding]) -> None:
    """ONNX and safetensors problems are found by their catalogers: the high ones are security findings."""
    for f in findings:
        if f.severity in (Severity.HIGH, Severity.CRITICAL):
            rep.add(str(f.severity), f.rule.replace("scan.", ""), f.message.split(": ", 1)[-1])


def from_catalog_error(rep: FileReport, rule: str, message: str) -> None:
    """A file its cataloger cannot parse: a loader may read it differently, so it is worth a look."""
    rep.add("medium", rule.replace("scan.", ""), message.split(": ", 1)[-1])


RISKY_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "system",
    "popen",
    "Popen",
    "run",
    "call",
    "check_output",
    "spawn",
    "execv",
    "execve",
    "remove",
    "rmtree",
    "urlopen",
    "get",
    "post",
    "loads",
    "load",
    "connect",
    "socket",
    "b64decode",
    "getattr",
    "setattr",
}
RISKY_MODULES = {
    "os",
    "subprocess",
    "socket",
    "requests",
    "urllib",
    "http",
    "pickle",
    "marshal",
    "ctypes",
    "shutil",
    "importlib",
    "base64",
    "sys",
    "builtins",
    "pty",
    "multiprocessing",
}


def remote_code(rep: FileReport, path: Path) -> None:
    """A Python file that transformers imports (auto_map, trust_remote_code): what it imports and calls."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except SyntaxError as e:
        rep.add(
            "medium",
            "remote-code.unparsable",
            f"remote code does not parse (line {e.lineno}): it cannot be reviewed automatically",
        )
        return
    imports: set[str] = set()
    calls: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            base = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
            if name in ("eval", "exec", "compile", "__import__") or (base in RISKY_MODULES and name in RISKY_CALLS):
                calls.append((f"{base + '.' if base else ''}{name}", node.lineno))
    risky = sorted(imports & RISKY_MODULES)
    rep.add(
        "medium",
        "remote-code.present",
        f"runs as model code when loaded with trust_remote_code; imports {', '.join(sorted(imports)) or 'nothing'}",
    )
    for call, line in calls[:20]:
        rep.add(
            "high",
            "remote-code.risky-call",
            f"calls {call} (line {line}) when the model is loaded",
            f"{rep.path}:{line}",
        )
    if risky and not calls:
        rep.add("low", "remote-code.risky-import", f"imports {', '.join(risky)}")


def auto_map_files(root: Path) -> set[Path]:
    """Python files a config.json's auto_map makes transformers import."""
    out: set[Path] = set()
    for cfg in root.rglob("config.json") if root.is_dir() else []:
        try:
            doc = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        amap = doc.get("auto_map") if isinstance(doc, dict) else None
        for v in (amap or {}).values() if isinstance(amap, dict) else []:
            for ref in v if isinstance(v, list) else [v]:
                if isinstance(ref, str) and "--" not in ref:
                    out.add((cfg.parent / (ref.rsplit(".", 1)[0].replace(".", "/") + ".py")).resolve())
    return out


def scan(
    target: str | Path,
    unknown_severity: str = "high",
    workers: int = 2,
    policy: DatasetPolicy | None = None,
    hash_files: bool = True,
) -> dict[str, Any]:
    """``aitrail security`` over a file or folder: one report per file, in parallel across files."""
    from ..inputs import InputError, Unit, walk

    root = Path(target)
    if not root.exists():
        raise InputError(f"{target}: no such file or directory")
    files, _ = walk(
        Unit(root=root if root.is_dir() else root.parent, prefix="", single_file=None if root.is_dir() else root)
    )
    shown = [p.name if not root.is_dir() else p.relative_to(root).as_posix() for p in files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reports = list(
            pool.map(lambda a: scan_file(a[0], a[1], unknown_severity, hash_files, policy), zip(files, shown))
        )
    remote = auto_map_files(root)
    for p, rep in zip(files, reports):
        if p.resolve() in remote:
            remote_code(rep, p)
    worst = max((f.severity for r in reports for f in r.findings), key=SEVERITIES.index, default=None)
    return {"rules_version": rules()["rules_version"], "files": [r.to_dict() for r in reports], "max_severity": worst}


def sarif(report: dict[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning UIs."""
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    rule_ids = sorted({f["rule"] for r in report["files"] for f in r["findings"]})
    from .. import __version__

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
