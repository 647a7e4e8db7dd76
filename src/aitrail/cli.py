"""The ``aitrail`` command: a thin layer over :func:`aitrail.scan` and the writers.

Exit codes (docs/ci.md):
  0    success
  1    `aitrail check`: the policy failed; `aitrail security`: a finding reached --fail-on;
       `aitrail verify`: verification failed (a file changed, added or missing, a wrong key)
  2    usage error: bad arguments, a target that cannot be scanned, an invalid manifest or policy,
       a signature that cannot be used or a missing key / trust root / identity (`aitrail verify`),
       an output aitrail will not write (a device, pipe, folder, a folder that does not exist)
  3    an output could not be written (no space, permission), or a bug in aitrail (AITRAIL_DEBUG=1
       shows the traceback)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): temporary files removed, no partial output
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import stat
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterable, Sequence

from . import __version__, output
from .errors import AitrailError, InputError
from .output import err, out

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_BROKEN_PIPE = 130, 143, 141
# Each module has ``register(subparsers, common) -> {command: handler}``; it must import only argparse
# at module level (start-up time), its handlers import the package's code when run.
EXTENSIONS: list[str] = [
    "aitrail.provenance.cli_sign",  # sign, verify
    "aitrail.provenance.cli_lineage",  # lineage, diff
    "aitrail.hub.cli",  # hub run|query|report|index
    "aitrail.registry.cli",  # serve, token, push, registry
]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aitrail", description="Inventory AI models into AI bills of materials.")
    p.add_argument("--version", action="version", version=f"aitrail {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "scan",
        help="inventory a model folder, a weights file or a Hugging Face cache",
        description="Inventory a model (folder, single file, or Hugging Face cache) offline.",
    )
    s.add_argument("path", help="model folder, weights file, or Hugging Face cache root")
    s.add_argument(
        "--format",
        "-f",
        choices=["terminal", "json", "cyclonedx", "spdx", "markdown"],
        default=None,
        help="output format (default: terminal summary, or json when -o is given)",
    )
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    s.add_argument("--no-hash", action="store_true", help="skip SHA-256 digests (headers and metadata only)")
    s.add_argument("--spec-version", choices=["1.6", "1.7"], default="1.6", help="CycloneDX spec version")
    s.add_argument("--manifest", help="an aitrail.yaml to use instead of the one beside the model")
    _common(s, writes=True)
    lic = sub.add_parser(
        "licenses",
        help='may I use this model for X? ("allowed", with obligations, ...)',
        description="Judge a model's licences (its own, its base models', its training data's and "
        "its packager's) for an intended use, with the clause behind every obligation.",
    )
    lic.add_argument("path", help="model folder, weights file, or Hugging Face cache root")
    lic.add_argument(
        "--use", choices=["commercial", "research", "internal", "redistribute", "host"], default="commercial"
    )
    lic.add_argument("--format", "-f", choices=["text", "json"], default="text")
    lic.add_argument("--manifest", help="an aitrail.yaml to use instead of the one beside the model")
    _resolver_args(lic)
    _common(lic, writes=False)
    li = sub.add_parser("license", help="licence texts: identify them against the knowledge base")
    lisub = li.add_subparsers(dest="license_command", required=True)
    ident = lisub.add_parser(
        "identify",
        help="identify licence texts (LICENSE files, card sections, policies)",
        description="Identify each file's licence; unknown texts get the closest licence and the paragraphs that "
        "differ, never a guess.",
    )
    ident.add_argument("files", nargs="+", metavar="FILE")
    ident.add_argument("--format", "-f", choices=["text", "json"], default="text")
    sec = sub.add_parser(
        "security",
        help="find code execution and tampering in model files, without loading them",
        description="Scan model files (pickles, PyTorch, numpy, joblib, Keras, TensorFlow, ONNX, GGUF, "
        "safetensors) for what would run code when loaded, and for signs of tampering.",
    )
    sec.add_argument("path", help="a model file or folder")
    sec.add_argument("--format", "-f", choices=["text", "json", "sarif"], default="text")
    sec.add_argument(
        "--fail-on",
        choices=["critical", "high", "medium", "low", "info", "never"],
        default="high",
        help="exit 1 when a finding reaches this severity (default: high)",
    )
    sec.add_argument(
        "--unknown-severity",
        choices=["critical", "high", "medium", "low"],
        default="high",
        help="severity of a pickle global on no allowlist (default: high)",
    )
    sec.add_argument("-o", "--output", help="write the report to this file (atomically)")
    sec.add_argument(
        "--no-digest",
        action="store_true",
        help="skip the SHA-256 of each file (sha256 is null: the verdict is then not tied to the content)",
    )
    sec.add_argument(
        "--expired-domains", metavar="FILE", help="a list of expired domains (one a line) to flag in dataset URLs"
    )
    sec.add_argument(
        "--online",
        action="store_true",
        help="also check by DNS that dataset domains still resolve (off by default: aitrail works offline)",
    )
    _common(sec, writes=True)
    ck = sub.add_parser(
        "check",
        help="scan, licences, openness and security in one pass, judged by a policy (for people and CI)",
        description="Everything aitrail knows about a model in one pass over its files, judged by a policy: "
        "exit 0 when the policy passes, 1 when it fails, 2 on usage errors.",
    )
    ck.add_argument("path", help="model folder, weights file, or Hugging Face cache root")
    ck.add_argument(
        "--policy",
        metavar="FILE",
        help="a policy YAML (docs/policy.md); default: fail on high "
        "security findings and on a licence that does not allow the use",
    )
    ck.add_argument(
        "--use",
        choices=["commercial", "research", "internal", "redistribute", "host"],
        default=None,
        help="intended use (default: the policy's, else commercial)",
    )
    ck.add_argument("--format", "-f", choices=["terminal", "json", "sarif", "markdown"], default="terminal")
    ck.add_argument("-o", "--output", help="write the --format output to this file (atomically)")
    ck.add_argument(
        "--report",
        metavar="FILE",
        action="append",
        default=[],
        help="also write a report: *.html (self-contained page) or *.md (pull-request comment); repeatable",
    )
    ck.add_argument(
        "--timestamp", action="store_true", help="put the time of the check in reports (off: reports diff cleanly)"
    )
    ck.add_argument("--manifest", help="an aitrail.yaml to use instead of the one beside the model")
    ck.add_argument("--expired-domains", metavar="FILE", help="expired domains (one a line) to flag in dataset URLs")
    ck.add_argument(
        "--signature-key",
        metavar="PEM",
        help="the signer's public key: verify a model.sig (OpenSSF model signing) against the scanned files; "
        "with a key, no verified signature fails the check (signatures.required)",
    )
    _resolver_args(ck)
    _common(ck, writes=True)
    op = sub.add_parser(
        "openness",
        help="MOF class, OSI Open Source AI Definition, Open Source AI Index profile",
        description="Grade openness from a MOF declaration (the MOT's YAML) or from a model folder "
        "(with a mof.yml or aitrail.yaml beside it for what the folder cannot show).",
    )
    op.add_argument("path", help="a MOF YAML, a model folder, or a single model file")
    op.add_argument("--format", "-f", choices=["text", "json"], default="text")
    op.add_argument("--export-mof", metavar="FILE", help="write the MOF declaration (the MOT's YAML format)")
    op.add_argument("--badge", metavar="FILE", help="write an SVG badge")
    _common(op, writes=True)
    for name in EXTENSIONS:  # packages built on the core add their own commands (argparse only: no heavy imports)
        COMMANDS.update(importlib.import_module(name).register(sub, _common))
    return p


def _resolver_args(p: argparse.ArgumentParser) -> None:
    """Where base models' licences may also be looked up (docs/verdicts.md); none of them by default."""
    g = p.add_argument_group("lineage resolvers (beyond the models scanned together and aitrail's curated facts)")
    g.add_argument("--online", action="store_true", help="ask the Hugging Face Hub API (cached on disk by revision)")
    g.add_argument("--hub-index", metavar="DIR", help="a local hub index (aitrail hub index)")
    g.add_argument("--registry", metavar="URL", help="an aitrail registry")


def _with_resolvers(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from .analyze import licenses

        token = _configure_resolvers(args)
        try:
            return run(args)
        finally:
            licenses.reset_resolvers(token)

    return handler


def _configure_resolvers(args: argparse.Namespace) -> Any:
    """Build the resolvers the options ask for and hand them to the licence analysis (for this command)."""
    from .analyze import licenses

    made: dict[str, Any] = {}
    if getattr(args, "hub_index", None):
        try:
            from .resolvers.hub_index import HubIndexResolver
        except ImportError as e:
            raise InputError(f"--hub-index: the hub index resolver is not available in this build ({e})") from None
        made["hub_index"] = HubIndexResolver(Path(args.hub_index))
    if getattr(args, "registry", None):
        try:
            from .resolvers.registry import RegistryResolver
        except ImportError as e:
            raise InputError(f"--registry: the registry resolver is not available in this build ({e})") from None
        made["registry"] = RegistryResolver(args.registry, token=None)
    if getattr(args, "online", False):
        from .resolvers.online import DEFAULT_ENDPOINT, HubAPIResolver

        made["online"] = HubAPIResolver(os.environ.get("AITRAIL_HUB_ENDPOINT", DEFAULT_ENDPOINT))
    return licenses.configure(**made)


def _common(p: argparse.ArgumentParser, writes: bool) -> None:
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors (no progress, no notes)")
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symbolic links that leave the scanned folder (default: report them, do not follow)",
    )
    if writes:
        p.add_argument("--mkdirs", action="store_true", help="create missing folders of output files")


def _progress(enabled: bool) -> Callable[[int, int], Callable[[int], None]] | None:
    if not enabled:
        return None

    def start(total: int, files: int) -> Callable[[int], None]:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        bar = Progress(
            "hashing",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
            console=Console(stderr=True),
        )
        task = bar.add_task("hash", total=total)
        bar.start()
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            bar.update(task, advance=n)
            if done[0] >= total:
                bar.stop()

        return tick

    return start


def _json_chunks(doc: object) -> Iterable[str]:
    """The JSON document in pieces, for output.write/out to stream: never one giant string."""
    import itertools
    import json

    return itertools.chain(json.JSONEncoder(indent=2, ensure_ascii=False, default=str).iterencode(doc), ["\n"])


def write_atomic(path: Path, text: str | Iterable[str], mkdirs: bool = False) -> None:
    """Write all of ``text`` or nothing, to a regular file only (aitrail.output.write)."""
    output.write(path, text, mkdirs=mkdirs)


def _regular_input(path: str | None, what: str) -> None:
    """Refuse before reading a file argument that is a pipe, device or socket (reading it could block)."""
    if not path:
        return
    try:
        st = os.stat(path)
    except OSError:
        return  # missing or unreadable: the reader says so, naming the file
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {output._shown(path)}: {output._kind(st.st_mode)}, not a regular file (never read)")


def _outputs(*paths: str | None, mkdirs: bool = False) -> None:
    """Check every destination before the work: a bad -o fails in milliseconds, not after the scan."""
    for p in paths:
        if p:
            output.destination(p, mkdirs=mkdirs)


def _follow(args: argparse.Namespace) -> dict[str, Any]:
    # Passed only when asked, so the library's default (do not follow) holds everywhere else.
    return {"follow_symlinks": True} if args.follow_symlinks else {}


def _console_text(render: Callable[[Any], None], to_file: bool) -> str:
    """What a rich renderer prints, as text: rendered into memory, then written in one go (atomically
    for a file; escaped for a terminal that cannot show every character)."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    if to_file:
        render(Console(file=buf, width=120, force_terminal=False, color_system=None))
    else:
        ref = Console()
        render(
            Console(
                file=buf,
                width=ref.width,
                force_terminal=ref.is_terminal,
                color_system=ref.color_system,  # type: ignore[arg-type]
            )
        )
    return buf.getvalue()


def _scan(args: argparse.Namespace) -> int:
    from . import export
    from .export import terminal
    from .scanner import scan

    fmt = args.format or ("json" if args.output else "terminal")
    _regular_input(args.manifest, "--manifest")
    _outputs(args.output, mkdirs=args.mkdirs)
    show_progress = not args.quiet and sys.stderr.isatty() and not args.no_hash
    inv = scan(
        args.path,
        hash_files=not args.no_hash,
        manifest_path=args.manifest,
        progress=_progress(show_progress),
        **_follow(args),
    )
    if fmt == "terminal":
        text = _console_text(lambda con: terminal.render(inv, con), to_file=bool(args.output))
    else:
        text = export.writer(fmt)(inv, spec_version=args.spec_version)
    if args.output:
        write_atomic(Path(args.output), text, args.mkdirs)
        if not args.quiet:
            err(
                f"aitrail: wrote {fmt} to {output._shown(args.output)} ({len(inv.components)} components, "
                f"{len(inv.findings)} findings)"
            )
    else:
        out(text)
    return EXIT_OK


UNKNOWN_RULES = (
    "license.base-unresolved",
    "license.lineage-cycle",
    "license.lineage-limit",
    "license.unidentified-text",
)


def _licenses(args: argparse.Namespace) -> int:
    import json

    from .analyze import licenses
    from .scanner import scan

    _regular_input(args.manifest, "--manifest")
    inv = scan(args.path, hash_files=False, manifest_path=args.manifest, **_follow(args))
    rep = licenses.report(inv, args.use)
    if args.format == "json":
        out(json.dumps(rep, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    lines = [f"use: {args.use}    verdict: {rep['verdict'].replace('_', ' ').upper()}"]
    if rep["verdict"] == "unknown":  # why it is unknown comes first (issue 12: unknown is shown first)
        why = [f for f in rep["findings"] if f["rule"] in UNKNOWN_RULES]
        lines += [f"  unknown because: {f['message']}" for f in why]
    for c in rep["components"]:
        lic = c["license_name"] or c["license"] or "none declared"
        by = c.get("resolved_by")
        lines.append(
            f"  {c['role']:<10} {c['name']}: {lic} -> {c['verdict'].replace('_', ' ')}"
            + (f" ({c['deciding_clause']})" if c["deciding_clause"] else "")
            + (f"  [via {by}]" if c["role"] == "base-model" and by else "")
        )
        for ev in c["evidence"]:
            lines.append(f"               evidence: {ev}")
    if rep["obligations"]:
        lines.append("obligations:")
        for o in rep["obligations"]:
            lines.append(f"  - {o['text']}  [{o['license']} {o['clause']}]")
    for f in rep["findings"]:
        lines.append(f"{f['severity']:>8} {f['rule']}: {f['message']}")
    out("\n".join(lines) + "\n")
    return EXIT_OK


def _security(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .analyze import security
    from .inputs import check_target

    check_target(Path(args.path))  # a device, pipe or socket is refused before anything opens it
    _outputs(args.output, mkdirs=args.mkdirs)
    expired = _expired(args.expired_domains)
    policy = security.DatasetPolicy(expired, security.dns_resolves if args.online else None)
    report = security.scan(
        args.path, unknown_severity=args.unknown_severity, policy=policy, hash_files=not args.no_digest, **_follow(args)
    )
    if args.format == "json":
        text = json.dumps(report, indent=2) + "\n"
    elif args.format == "sarif":
        text = json.dumps(security.sarif(report), indent=2) + "\n"
    else:
        lines = []
        for f in report["files"]:
            for x in f["findings"]:
                lines.append(f"{x['severity']:>8} {x['rule']}: {x['message']}")
        n = len(report["files"])
        lines.append(
            f"{n} file(s) scanned with rules v{report['rules_version']}; worst: {report['max_severity'] or 'none'}"
            + ("; digests skipped (--no-digest)" if args.no_digest else "")
        )
        text = "\n".join(lines) + "\n"
    if args.output:
        write_atomic(Path(args.output), text, args.mkdirs)
    else:
        out(text)
    worst = report["max_severity"]
    if (
        args.fail_on != "never"
        and worst
        and security.SEVERITIES.index(worst) >= security.SEVERITIES.index(args.fail_on)
    ):
        return EXIT_FAIL
    return EXIT_OK


def _expired(path: str | None) -> frozenset[str]:
    if not path:
        return frozenset()
    _regular_input(path, "--expired-domains")
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"--expired-domains {output._shown(path)}: {e.strerror}") from None
    return frozenset(ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


REPORT_KINDS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


def _check(args: argparse.Namespace) -> int:
    import json
    from datetime import datetime, timezone

    from . import policy as policy_mod
    from .analyze import security
    from .check import check

    reports = []
    for r in args.report:
        kind = REPORT_KINDS.get(Path(r).suffix.lower())
        if not kind:
            raise InputError(f"--report {output._shown(r)}: name it *.html or *.md")
        reports.append((Path(r), kind))
    _outputs(args.output, *args.report, mkdirs=args.mkdirs)
    _regular_input(args.policy, "--policy")
    _regular_input(args.manifest, "--manifest")
    _regular_input(args.signature_key, "--signature-key")
    pol = policy_mod.load(args.policy) if args.policy else None
    datasets = security.DatasetPolicy(_expired(args.expired_domains))
    try:
        key = Path(args.signature_key).read_bytes() if args.signature_key else None
    except OSError as e:
        raise InputError(f"--signature-key {output._shown(args.signature_key)}: {e.strerror}") from None
    show_progress = not args.quiet and sys.stderr.isatty()
    result = check(
        args.path,
        policy=pol,
        use=args.use,
        manifest_path=args.manifest,
        progress=_progress(show_progress),
        dataset_policy=datasets,
        signature_key=key,
        **_follow(args),
    )
    doc = result.to_dict()
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat() if args.timestamp else None
    # Everything is rendered before anything is written: a renderer that fails leaves no file changed.
    texts: list[tuple[Path, str]] = []
    for path, kind in reports:
        if kind == "html":
            from .export import check_html

            texts.append((path, check_html.render(doc, timestamp=stamp)))
        else:
            from .export import check_markdown

            texts.append((path, check_markdown.render(doc, timestamp=stamp)))
    text: str | Iterable[str]
    if args.format == "terminal":
        from .export import check_terminal

        text = _console_text(lambda con: check_terminal.render(doc, con), to_file=bool(args.output))
    elif args.format == "json":
        text = _json_chunks(doc)
    elif args.format == "sarif":
        from .export import sarif

        text = json.dumps(sarif.from_check(doc), indent=2, ensure_ascii=False) + "\n"
    else:
        from .export import check_markdown

        text = check_markdown.render(doc, timestamp=stamp)
    for path, body in texts:
        write_atomic(path, body, args.mkdirs)
    if args.output:
        write_atomic(Path(args.output), text, args.mkdirs)
    else:
        out(text)
    return EXIT_OK if doc["policy"]["passed"] else EXIT_FAIL


def _identify(args: argparse.Namespace) -> int:
    import json

    from .analyze.license_text import identify_file

    for f in args.files:
        _regular_input(f, "licence text")
    results = [identify_file(f).to_dict() for f in args.files]
    # a file that could not be read as a licence text (missing, unreadable, binary, empty) is exit 2, after
    # every result is printed: a CI step must not pass on a LICENSE that is not there
    code = EXIT_USAGE if any(r.get("error") for r in results) else EXIT_OK
    if args.format == "json":
        out(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        return code
    lines = []
    for r in results:
        if r.get("error"):
            lines.append(f"{r['file']}: error: {r['error']}")
        elif r["known"]:
            names = " + ".join(x["name"] or x["id"] for x in r["licenses"])
            lines.append(f"{r['file']}: {names} [{r['id']}] (confidence {r['confidence']:.2f})")
        else:
            lines.append(f"{r['file']}: {r.get('message', 'unknown licence')}")
            for c in r.get("contains", []):
                lines.append(f"    contains: {c['name'] or c['id']}")
            for d in r.get("differences", [])[:5]:
                lines.append(f"    differs: {d}")
    out("\n".join(lines) + "\n")
    return code


def _openness(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import yaml

    from . import yamlsafe
    from .analyze import mof, openness
    from .scanner import scan

    path = Path(args.path)
    _outputs(args.export_mof, args.badge, mkdirs=args.mkdirs)
    if path.suffix.lower() in (".yml", ".yaml") and path.is_file():
        _regular_input(args.path, "declaration")
        try:
            decls = [mof.from_yaml(path.read_text(encoding="utf-8"), path.name)]
        except (ValueError, OSError, yamlsafe.YAMLError) as e:
            raise InputError(f"{output._shown(path)}: {e}") from None
    else:
        decls = openness.declarations(scan(path, hash_files=False, **_follow(args)), path)
    if not decls:
        raise InputError(f"{output._shown(path)}: no model found to grade")
    results = [openness.assess(d) for d in decls]
    if args.export_mof:
        write_atomic(Path(args.export_mof), yaml.safe_dump(openness.export_mof(decls[0]), sort_keys=False), args.mkdirs)
    if args.badge:
        write_atomic(Path(args.badge), openness.badge(results[0]), args.mkdirs)
    if args.format == "json":
        out(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")
        return EXIT_OK
    lines = []
    for r in results:
        g = r["mof"]
        lines.append(
            f"{r['model']}: {g['label']}  (progress I {g['progress']['1']:.0f}% · II {g['progress']['2']:.0f}% · "
            f"III {g['progress']['3']:.0f}%)"
        )
        lines.append(
            f"  OSAID 1.0: {r['osaid']['verdict'].replace('_', ' ')}    Open Source AI Index score: "
            f"{r['index']['score']:g}/{r['index']['max']}"
        )
        lines.extend(f"  {need}" for need in g["next_class_needs"])
        lines.extend(f"  problem: {p}" for p in g["problems"])
        lines.extend(f"  note: {q}" for q in g["quirks"])
        lines.append(f"  {r['summary']}")
    out("\n".join(lines) + "\n")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": _scan,
    "licenses": _with_resolvers(_licenses),
    "openness": _openness,
    "license": _identify,
    "security": _security,
    "check": _with_resolvers(_check),
}


def _terminate_children() -> None:
    """Stop worker processes (security's pickle walks) instead of leaving them to finish their file."""
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return
    try:
        for child in mp.active_children():
            child.terminate()
        # Unlink the pool's named semaphores now (what exit would do), so the resource tracker that
        # outlives us has nothing to clean up and prints no warning after our one line.
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util._run_finalizers(0)
    except Exception:  # noqa: BLE001 - best effort while exiting
        pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: stop now. No unwinding (a worker thread or process may be mid-file): stop
    the digests, the worker processes, remove temporary outputs, say so in one line, exit 128+signal."""
    from . import digest

    digest.STOP.set()
    output.cleanup()
    _terminate_children()
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    # On a terminal, the progress bar may hold the line and have hidden the cursor: clear and restore.
    tty = "\r\x1b[2K\x1b[?25h" if _stderr_tty() else ""
    try:
        os.write(2, f"{tty}aitrail: {word}\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)


def _stderr_tty() -> bool:
    try:
        return os.isatty(2)
    except OSError:
        return False


class _Signals:
    """Install the handlers for the duration of one command (and restore them: main() is also called
    in-process, by tests and embedders)."""

    def __enter__(self) -> None:
        self.saved: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.saved[sig] = signal.signal(sig, _on_signal)
            except (ValueError, OSError):
                pass

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    with _Signals():
        args = _parser().parse_args(argv)
        try:
            return COMMANDS[args.command](args)
        except AitrailError as e:  # the input or an argument cannot be used: the message names it
            err(f"aitrail: error: {e}")
            return EXIT_USAGE
        except output.OutputFailed as e:
            err(f"aitrail: error: {e}")
            return EXIT_ERROR
        except KeyboardInterrupt:  # without the handler (not the main thread)
            output.cleanup()
            err("aitrail: interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # `aitrail scan | head`: the reader left; nothing to report
            try:  # so the interpreter's final flush of stdout is quiet (the Python docs' recipe)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass
            return EXIT_BROKEN_PIPE
        except Exception as e:  # noqa: BLE001 - last resort: a bug in aitrail, said as one
            if os.environ.get("AITRAIL_DEBUG"):
                raise
            msg = str(e)
            msg = msg if len(msg) <= 300 else msg[:300] + "…"
            err(
                f"aitrail: internal error: {type(e).__name__}: {msg} — a bug in aitrail; run again with "
                "AITRAIL_DEBUG=1 for the traceback, and please report it"
            )
            return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
