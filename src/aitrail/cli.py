"""The ``aitrail`` command: a thin layer over :func:`aitrail.scan` and the writers.

Exit codes (docs/ci.md):
  0  success
  1  `aitrail check`: the policy failed; `aitrail security`: a finding reached --fail-on
  2  usage error: bad arguments, a target that cannot be scanned, an invalid manifest
  3  the output could not be written, or aitrail failed unexpectedly
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .errors import InputError, ManifestError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3


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
    s.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    lic = sub.add_parser(
        "licenses",
        help='may I use this model for X? ("allowed", with obligations, ...)',
        description="Judge a model's licences (its own, its base models', its training data's and "
        "its packager's) for an intended use, with the clause behind every obligation.",
    )
    lic.add_argument("path", help="model folder, weights file, or Hugging Face cache root")
    lic.add_argument("--use", choices=["commercial", "research", "internal", "redistribute"], default="commercial")
    lic.add_argument("--format", "-f", choices=["text", "json"], default="text")
    lic.add_argument("--manifest", help="an aitrail.yaml to use instead of the one beside the model")
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
        choices=["commercial", "research", "internal", "redistribute"],
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
        help="the signer's public key: verify a model.sig (OpenSSF model signing) against the scanned files",
    )
    ck.add_argument("--quiet", "-q", action="store_true", help="no progress display")
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
    return p


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


def write_atomic(path: Path, text: str) -> None:
    """Write all of ``text`` or nothing: a temporary file in the same folder, then rename."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _scan(args: argparse.Namespace) -> int:
    from . import export
    from .export import terminal
    from .scanner import scan

    fmt = args.format or ("json" if args.output else "terminal")
    show_progress = not args.quiet and sys.stderr.isatty() and not args.no_hash
    try:
        inv = scan(
            args.path, hash_files=not args.no_hash, manifest_path=args.manifest, progress=_progress(show_progress)
        )
    except (InputError, ManifestError) as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if fmt == "terminal":
        from rich.console import Console

        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                terminal.render(inv, Console(file=fh, width=120))
        else:
            terminal.render(inv, Console())
        return EXIT_OK
    text = export.writer(fmt)(inv, spec_version=args.spec_version)
    if args.output:
        try:
            write_atomic(Path(args.output), text)
        except OSError as e:
            print(f"aitrail: error: cannot write {args.output}: {e.strerror}", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"aitrail: wrote {fmt} to {args.output} ({len(inv.components)} components, {len(inv.findings)} findings)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _licenses(args: argparse.Namespace) -> int:
    import json

    from .analyze import licenses
    from .scanner import scan

    try:
        inv = scan(args.path, hash_files=False, manifest_path=args.manifest)
    except (InputError, ManifestError) as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    rep = licenses.report(inv, args.use)
    if args.format == "json":
        sys.stdout.write(json.dumps(rep, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    print(f"use: {args.use}    verdict: {rep['verdict'].replace('_', ' ').upper()}")
    for c in rep["components"]:
        lic = c["license_name"] or c["license"] or "none declared"
        print(
            f"  {c['role']:<10} {c['name']}: {lic} -> {c['verdict'].replace('_', ' ')}"
            + (f" ({c['deciding_clause']})" if c["deciding_clause"] else "")
        )
        for ev in c["evidence"]:
            print(f"               evidence: {ev}")
    if rep["obligations"]:
        print("obligations:")
        for o in rep["obligations"]:
            print(f"  - {o['text']}  [{o['license']} {o['clause']}]")
    for f in rep["findings"]:
        print(f"{f['severity']:>8} {f['rule']}: {f['message']}")
    return EXIT_OK


def _security(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .analyze import security

    try:
        expired = _expired(args.expired_domains)
    except OSError as e:
        print(f"aitrail: error: {args.expired_domains}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    policy = security.DatasetPolicy(expired, security.dns_resolves if args.online else None)
    try:
        report = security.scan(
            args.path, unknown_severity=args.unknown_severity, policy=policy, hash_files=not args.no_digest
        )
    except InputError as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
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
        write_atomic(Path(args.output), text)
    else:
        sys.stdout.write(text)
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
    text = Path(path).read_text(encoding="utf-8")
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
            print(f"aitrail: error: --report {r}: name it *.html or *.md", file=sys.stderr)
            return EXIT_USAGE
        reports.append((Path(r), kind))
    try:
        pol = policy_mod.load(args.policy) if args.policy else None
        datasets = security.DatasetPolicy(_expired(args.expired_domains))
        key = Path(args.signature_key).read_bytes() if args.signature_key else None
    except policy_mod.PolicyError as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"aitrail: error: {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        result = check(
            args.path,
            policy=pol,
            use=args.use,
            manifest_path=args.manifest,
            progress=_progress(show_progress),
            dataset_policy=datasets,
            signature_key=key,
        )
    except (InputError, ManifestError) as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    doc = result.to_dict()
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat() if args.timestamp else None
    try:
        for path, kind in reports:
            if kind == "html":
                from .export import check_html

                write_atomic(path, check_html.render(doc, timestamp=stamp))
            else:
                from .export import check_markdown

                write_atomic(path, check_markdown.render(doc, timestamp=stamp))
        if args.format == "terminal":
            from rich.console import Console

            from .export import check_terminal

            if args.output:
                with open(args.output, "w", encoding="utf-8") as fh:
                    check_terminal.render(doc, Console(file=fh, width=120))
            else:
                check_terminal.render(doc, Console())
        else:
            if args.format == "json":
                text = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
            elif args.format == "sarif":
                from .export import sarif

                text = json.dumps(sarif.from_check(doc), indent=2, ensure_ascii=False) + "\n"
            else:
                from .export import check_markdown

                text = check_markdown.render(doc, timestamp=stamp)
            if args.output:
                write_atomic(Path(args.output), text)
            else:
                sys.stdout.write(text)
    except OSError as e:
        print(f"aitrail: error: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK if doc["policy"]["passed"] else EXIT_FAIL


def _identify(args: argparse.Namespace) -> int:
    import json

    from .analyze.license_text import identify_file

    results = [identify_file(f).to_dict() for f in args.files]
    if args.format == "json":
        sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    for r in results:
        if r.get("error"):
            print(f"{r['file']}: error: {r['error']}")
        elif r["known"]:
            names = " + ".join(x["name"] or x["id"] for x in r["licenses"])
            print(f"{r['file']}: {names} [{r['id']}] (confidence {r['confidence']:.2f})")
        else:
            print(f"{r['file']}: {r.get('message', 'unknown licence')}")
            for c in r.get("contains", []):
                print(f"    contains: {c['name'] or c['id']}")
            for d in r.get("differences", [])[:5]:
                print(f"    differs: {d}")
    return EXIT_OK


def _openness(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import yaml

    from . import yamlsafe
    from .analyze import mof, openness
    from .scanner import scan

    path = Path(args.path)
    try:
        if path.is_file() and path.suffix.lower() in (".yml", ".yaml"):
            decls = [mof.from_yaml(path.read_text(encoding="utf-8"), path.name)]
        else:
            decls = openness.declarations(scan(path, hash_files=False), path)
    except (InputError, ManifestError, ValueError, OSError, yamlsafe.YAMLError) as e:
        print(f"aitrail: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not decls:
        print(f"aitrail: error: {path}: no model found to grade", file=sys.stderr)
        return EXIT_USAGE
    results = [openness.assess(d) for d in decls]
    if args.export_mof:
        write_atomic(Path(args.export_mof), yaml.safe_dump(openness.export_mof(decls[0]), sort_keys=False))
    if args.badge:
        write_atomic(Path(args.badge), openness.badge(results[0]))
    if args.format == "json":
        sys.stdout.write(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")
        return EXIT_OK
    for r in results:
        g = r["mof"]
        print(
            f"{r['model']}: {g['label']}  (progress I {g['progress']['1']:.0f}% · II {g['progress']['2']:.0f}% · "
            f"III {g['progress']['3']:.0f}%)"
        )
        print(
            f"  OSAID 1.0: {r['osaid']['verdict'].replace('_', ' ')}    Open Source AI Index score: "
            f"{r['index']['score']:g}/{r['index']['max']}"
        )
        for need in g["next_class_needs"]:
            print(f"  {need}")
        for p in g["problems"]:
            print(f"  problem: {p}")
        for q in g["quirks"]:
            print(f"  note: {q}")
        print(f"  {r['summary']}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "licenses":
            return _licenses(args)
        if args.command == "openness":
            return _openness(args)
        if args.command == "license":
            return _identify(args)
        if args.command == "security":
            return _security(args)
        if args.command == "check":
            return _check(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - last resort: say what broke instead of a traceback
        print(f"aitrail: internal error: {type(e).__name__}: {e} (please report this)", file=sys.stderr)
        if os.environ.get("AITRAIL_DEBUG"):
            raise
        return EXIT_ERROR
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
