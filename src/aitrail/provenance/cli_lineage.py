"""`aitrail lineage compare|identify` and `aitrail diff` (registered through cli.EXTENSIONS).

Exit codes: 0 a verdict was reached (compare), a base was found (identify), the two sides are the
same (diff); 1 compare could not decide ("unknown": nothing readable to compare), identify found no
base among the candidates, diff found differences; 2 usage errors (a path with no weights, a JSON
that is neither a scan nor a check document).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

Handler = Callable[[argparse.Namespace], int]


def register(sub: Any, common: Callable[[argparse.ArgumentParser, bool], None]) -> dict[str, Handler]:
    li = sub.add_parser(
        "lineage",
        help="lineage graph (PATH), checked against the weights (compare BASE DERIVED, identify MODEL)",
        usage="aitrail lineage PATH [--format tree|json|mermaid|dot] [--check-weights]\n"
        "       aitrail lineage compare BASE DERIVED [--format text|json]\n"
        "       aitrail lineage identify MODEL --candidates DIR [--format text|json]",
        description="`lineage PATH`: the derived-from graph of the models in PATH (card, config, adapter, GGUF, "
        "mergekit, manifest, then the resolvers), cycles and self-loops reported. `lineage compare BASE "
        "DERIVED`: is DERIVED made from BASE (fine-tune, quantized, adapter merged, pruned), the same "
        "architecture only, or unrelated? Decided from seeded rows of the weights (a few per cent of the "
        "bytes). `lineage identify MODEL --candidates DIR`: which of these is its base?",
    )
    li.add_argument("paths", nargs="+", metavar="ARG", help="PATH, or compare BASE DERIVED, or identify MODEL")
    li.add_argument("--candidates", metavar="DIR", help="identify: a folder of candidate bases (files or folders)")
    li.add_argument(
        "--format", "-f", choices=["text", "tree", "json", "mermaid", "dot"], default=None,
        help="graph: tree (default), json, mermaid, dot; compare/identify: text (default) or json",
    )
    li.add_argument(
        "--check-weights", action="store_true",
        help="graph: compare the weights of every edge whose two models are both in PATH",
    )
    li.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    li.add_argument("--seed", type=int, default=15, help="seed of the sampled rows (default 15)")
    common(li, True)
    di = sub.add_parser(
        "diff",
        help="what changed between two versions of a model (folders, scan JSONs or check documents)",
        description="Files added, removed and changed (by digest), tensors changed (sampled, by how much), "
        "config, card, licence, datasets, lineage, findings and verdicts. Exit 0 when nothing changed, 1 when "
        "something did, 2 on usage errors.",
    )
    di.add_argument("old", help="the old version: a model folder or file, a scan JSON or a check JSON")
    di.add_argument("new", help="the new version (same kinds)")
    di.add_argument("--format", "-f", choices=["markdown", "json"], default="markdown")
    di.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    di.add_argument("--no-tensors", action="store_true", help="folders: do not sample the weights")
    common(di, True)
    return {"lineage": _lineage, "diff": _diff}


def _emit(args: argparse.Namespace, text: str) -> None:
    from .. import output

    if args.output:
        output.write(args.output, text, mkdirs=getattr(args, "mkdirs", False))
    else:
        output.out(text)


def _lineage(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..errors import AitrailError

    try:
        from .compare import compare
    except ImportError as e:
        raise AitrailError(f"aitrail lineage needs numpy ({e}): pip install 'aitrail[lineage]'") from None

    action, rest = args.paths[0], args.paths[1:]
    fmt = args.format
    if action == "compare":
        if len(rest) != 2:
            raise AitrailError("lineage compare takes two paths: BASE DERIVED")
        res = compare(Path(rest[0]), Path(rest[1]), seed=args.seed, follow_symlinks=args.follow_symlinks)
        doc = res.to_dict()
        _emit(args, json.dumps(doc, indent=2) + "\n" if fmt == "json" else text(doc))
        return 1 if res.verdict == "unknown" else 0
    if action == "identify":
        if len(rest) != 1 or not args.candidates:
            raise AitrailError("lineage identify takes one MODEL and --candidates DIR")
        from .compare import identify

        ident = identify(Path(rest[0]), Path(args.candidates), seed=args.seed, follow_symlinks=args.follow_symlinks)
        _emit(args, json.dumps(ident, indent=2) + "\n" if fmt == "json" else identify_text(ident))
        return 0 if ident["base"] else 1
    if rest or not Path(action).exists():
        raise AitrailError(f"lineage: {action}: no such file or folder (or use: compare BASE DERIVED, identify MODEL)")
    from .lineage_graph import build, render

    graph = build(Path(action), check_weights=args.check_weights, follow_symlinks=args.follow_symlinks)
    _emit(args, render(graph, "tree" if fmt in (None, "text") else fmt))
    return 0


def text(doc: dict[str, Any]) -> str:
    kind = f" ({doc['kind']})" if doc["kind"] else ""
    lines = [
        f"verdict: {doc['verdict']}{kind}, confidence {doc['confidence']}",
        f"base:    {doc['base']['path']} ({doc['base']['format']}, {doc['base']['tensors']} tensors)",
        f"derived: {doc['derived']['path']} ({doc['derived']['format']}, {doc['derived']['tensors']} tensors)",
        f"read {doc['bytes_read']:,} of {doc['bytes_total']:,} bytes ({doc['fraction_read']:.2%}), seed {doc['seed']}",
        "tensors: " + ", ".join(f"{n} {k}" for k, n in doc["summary"].items()),
    ]
    lines += [f"- {r}" for r in doc["reasons"]]
    lines += [f"! {p}" for p in doc["problems"][:20]]
    return "\n".join(lines) + "\n"


def identify_text(ident: dict[str, Any]) -> str:
    lines = [f"model: {ident['model']}", f"base: {ident['base'] or 'none of the candidates'}"]
    for c in ident["candidates"]:
        kind = f" ({c['kind']})" if c.get("kind") else ""
        lines.append(f"- {c['path']}: {c['verdict']}{kind}, confidence {c['confidence']}")
    return "\n".join(lines) + "\n"


def _diff(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .diff import diff, markdown

    doc = diff(Path(args.old), Path(args.new), tensors=not args.no_tensors, follow_symlinks=args.follow_symlinks)
    _emit(args, json.dumps(doc, indent=2, default=str) + "\n" if args.format == "json" else markdown(doc))
    return 1 if doc["changed"] else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m aitrail.provenance.cli_lineage lineage|diff ...``, for use before the command is listed in
    cli.EXTENSIONS."""
    import sys

    from ..errors import AitrailError
    from ..output import err

    p = argparse.ArgumentParser(prog="aitrail")
    sub = p.add_subparsers(dest="command", required=True)

    def common(q: argparse.ArgumentParser, writes: bool) -> None:
        q.add_argument("--quiet", "-q", action="store_true")
        q.add_argument("--follow-symlinks", action="store_true")
        if writes:
            q.add_argument("--mkdirs", action="store_true")

    handlers = register(sub, common)
    args = p.parse_args(argv)
    try:
        return handlers[args.command](args)
    except AitrailError as e:
        err(f"aitrail: {e}")
        return 2
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
