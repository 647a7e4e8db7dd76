"""``aitrail hub run|query|report|index``: registered by the CLI through ``cli.EXTENSIONS``.

Only argparse is imported here; each handler imports the machinery it needs.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

Handler = Callable[[argparse.Namespace], int]


def register(sub: Any, common: Callable[[argparse.ArgumentParser, bool], None]) -> dict[str, Handler]:
    hub = sub.add_parser(
        "hub",
        help="audit hub-scale tables of model metadata in batches; build the hub index",
        description="Judge hub metadata (Parquet, JSONL, CSV tables of model cards) with the single-model "
        "judgements, query the results with SQL, report them, and build the offline hub index.",
    )
    hs = hub.add_subparsers(dest="hub_command", required=True)

    r = hs.add_parser("run", help="judge every model of the tables into DIR (Parquet) and DIR/summary.json")
    r.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="tables (.parquet, .jsonl, .csv), scans, check documents or BOMs (.json), or folders of them")
    r.add_argument("--out", required=True, metavar="DIR", help="run folder (an interrupted run resumes there)")
    r.add_argument("--engine", choices=["local", "dask"], default="local")
    r.add_argument("--scheduler", metavar="ADDR",
                   help="Dask scheduler address (tcp://host:8786); default: a local cluster")
    r.add_argument("--workers", type=int, default=1, help="processes (local) or LocalCluster workers (dask)")
    r.add_argument("--batch-rows", type=int, default=2048, help="records per batch (default 2048)")
    r.add_argument("--lineage", action="append", default=[], metavar="EDGES",
                   help="lineage edge list (CSV source,target,edge) added to the cards' base_model edges")
    r.add_argument("--hub-index", metavar="DIR",
                   help="a hub index (aitrail hub index) resolving the bases the inputs do not hold, for lineage")
    common(r, False)

    q = hs.add_parser("query", help="run SQL over a run's results (DuckDB); views: results, findings, errors, "
                      "lineage, closure")
    q.add_argument("dir", metavar="DIR")
    q.add_argument("sql", metavar="SQL")
    q.add_argument("--format", choices=["csv", "json"], default="csv")
    q.add_argument("-o", "--output", help="write to this file instead of standard output")
    common(q, True)

    rep = hs.add_parser("report", help="a self-contained HTML report of a run (plots and the CSV behind each)")
    rep.add_argument("dir", metavar="DIR")
    rep.add_argument("-o", "--output", required=True, metavar="FILE")
    common(rep, True)

    ix = hs.add_parser("index", help="build or update the offline hub index used by --hub-index")
    ix.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="tables (.parquet, .jsonl, .csv), scans, check documents or BOMs (.json), or folders of them")
    ix.add_argument("--out", required=True, metavar="DIR")
    ix.add_argument("--lineage", action="append", default=[], metavar="EDGES",
                    help="lineage edge list (CSV source,target,edge) adding bases the cards do not name")
    ix.add_argument("--workers", type=int, metavar="N",
                    help="processes judging rows (default: the machine's cores); the index is the same for any N")
    common(ix, False)
    return {"hub": _dispatch}


def _dispatch(args: argparse.Namespace) -> int:
    return {"run": _run, "query": _query, "report": _report, "index": _index}[args.hub_command](args)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import AitrailError
    from ..output import err
    from . import run

    if args.workers < 1 or args.batch_rows < 1:
        raise AitrailError("--workers and --batch-rows must be at least 1")
    out = Path(args.out)
    if args.hub_index:  # a mistyped index is an error now, not a lineage with every outside base unresolved
        from ..resolvers import ResolverError
        from ..resolvers.hub_index import HubIndexResolver

        try:
            HubIndexResolver(Path(args.hub_index)).lookup("")
        except ResolverError as e:
            raise AitrailError(f"--hub-index: {e}") from None
    ix_path = str(Path(args.hub_index).resolve()) if args.hub_index else None
    s = run.run(args.inputs, out, args.engine, args.workers, args.scheduler, args.batch_rows, not args.quiet, ix_path)
    if args.lineage or args.hub_index or (out / "lineage").is_dir():
        from . import lineage

        # a resumed run without --lineage / --hub-index keeps the edge lists and index it was given before
        edges = [str(Path(e).resolve()) for e in args.lineage] or lineage.edge_files(out)
        ix = str(Path(args.hub_index).resolve()) if args.hub_index else lineage.hub_index(out)
        s["lineage"] = lineage.build(out, edges, progress=not args.quiet, index=ix)
        run._write_json(out / "summary.json", s)
    if not args.quiet:
        err(
            f"hub run: {s['records']:,} records, {s['errors']:,} errors, "
            f"{s['duplicate_ids']['count']:,} duplicate ids; "
            f"{s['seconds']:.1f} s ({s['records_per_second']:,.0f} rows/s); {out / 'summary.json'}"
        )
    if not s["records"]:  # an audit that judged nothing is not a clean audit
        err(f"hub run: no record could be judged ({s['errors']:,} errors: `aitrail hub query {out} "
            "\"select * from errors\"`)")
        return 2
    return 0


def _query(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import output
    from . import query

    if args.output:
        output.destination(args.output, mkdirs=args.mkdirs)
    text = query.run(Path(args.dir), args.sql, args.format)
    if args.output:
        output.write(args.output, text, mkdirs=args.mkdirs)
    else:
        output.out(text)
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import output
    from . import report

    output.destination(args.output, mkdirs=args.mkdirs)
    output.write(args.output, report.html(Path(args.dir), progress=not args.quiet), mkdirs=args.mkdirs)
    return 0


def _index(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from ..errors import AitrailError
    from ..output import err
    from . import index

    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    if workers < 1:
        raise AitrailError("--workers must be at least 1")
    s = index.build(args.inputs, Path(args.out), args.lineage, progress=not args.quiet, workers=workers)
    if not args.quiet:
        err(f"hub index: {s['models']:,} models ({s['judged']:,} judged, {s['unchanged']:,} unchanged); {args.out}")
    return 0
