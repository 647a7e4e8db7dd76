"""Hub-scale benchmarks (issue 13). Prints Markdown; baselines are measured in the same run.

    .venv/bin/python benchmarks/hub_bench.py --parse            # one core: judging vs PyYAML-C parsing
    .venv/bin/python benchmarks/hub_bench.py --parse-synthetic benchmarks/work/hub-synth/models-000.parquet
    .venv/bin/python benchmarks/hub_bench.py --bound            # one core: what the floor leaves for judging
    .venv/bin/python benchmarks/hub_bench.py --closure --index  # lineage closure, index lookups
    .venv/bin/python benchmarks/hub_bench.py --scale DIR        # `aitrail hub run` over DIR (wall, peak RSS)
    .venv/bin/python benchmarks/hub_bench.py --dask DIR         # Dask LocalCluster: 1 worker vs 2

The synthetic 2.2 M set: ``python scripts/gen_hub_synthetic.py --out benchmarks/work/hub-synth``.
CPU rates use process CPU time (less sensitive to a shared machine than wall time); wall times and
peak memory (the sum of the RSS of the run's processes, sampled every 0.2 s) are reported as measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT.parent / "shared" / "data" / "hub-metadata"
MODELS = HUB / "hf-hub-2022-snapshot" / "models.parquet"
EDGES = HUB / "hf-lineage-2025" / "edges.csv"
WORK = ROOT / "benchmarks" / "work" / "hub"


def _yaml_c(cards: list[str | None]) -> float:
    """Seconds of CPU PyYAML's C loader takes to parse the front matter of ``cards`` (nothing else)."""
    from aitrail import yamlsafe
    from aitrail.catalog import model_card

    t0 = time.process_time()
    for c in cards:
        if c and c.startswith("---"):
            try:
                y, _, _ = model_card.split_front_matter(c)
                if y is not None:
                    yamlsafe.load(y)
            except Exception:  # noqa: BLE001 - a baseline: malformed front matter costs what it costs
                pass
    return time.process_time() - t0


def _judge_all(batches: list, fast_path: bool, memo: bool = True, warm: bool = False) -> float:
    """CPU seconds to judge every batch (cold: templates, memo and parse cache emptied first)."""
    from aitrail.hub import batch, fast

    batch.FAST, batch.MEMO, batch.PARSE_MEMO = fast_path, memo, memo
    if not warm:
        fast.clear()
    t0 = time.process_time()
    for _, first, b in batches:
        batch.judge_batch(b, "bench", first)
    return time.process_time() - t0


def parse_vs_judge(repeat: int = 3) -> None:
    """One core, real cards: each distinct card is judged (cold), next to PyYAML-C parsing the same cards."""
    from aitrail.hub import inputs

    batches = list(inputs.batches(inputs.sources([MODELS])))
    cards = [c for _, _, b in batches for c in b.column("card").to_pylist()]
    runs: dict[str, list[float]] = {}
    variants = (("yaml", None), ("ref-nomemo", (False, False)), ("ref", (False, True)), ("fast", (True, True)))
    for _ in range(repeat):  # alternated, so a busy moment of the shared machine hits every variant
        for name, v in variants:
            runs.setdefault(name, []).append(_yaml_c(cards) if v is None else _judge_all(batches, *v))
    base = len(cards) / min(runs["yaml"])
    print(f"## One core: {len(cards):,} real cards (hf-hub-2022-snapshot), CPU time, best of {repeat}\n")
    print("| what | cards / CPU-s | × PyYAML-C parse |\n|---|---:|---:|")
    print(f"| PyYAML-C (CSafeLoader) front matter parse only | {base:,.0f} | 1.00 |")
    for name, what in (("ref-nomemo", "all judgements, record by record, no memo"),
                       ("ref", "all judgements, record by record, memo (the reference)"),
                       ("fast", "all judgements, per distinct template (default), cold")):
        r = len(cards) / min(runs[name])
        print(f"| {what} | {r:,.0f} | {r / base:.3f} |")
    print()


def parse_vs_judge_synthetic(path: Path, rows: int = 200_000, repeat: int = 3) -> None:
    """One core, the first ``rows`` synthetic models of ``path``: judging (cold, then warm) vs PyYAML-C."""
    import pyarrow.parquet as pq

    from aitrail.hub import inputs

    tmp = WORK / "synthetic-slice.parquet"
    pq.write_table(pq.read_table(path).slice(0, rows), tmp)
    batches = list(inputs.batches(inputs.sources([tmp])))
    cards = [c for _, _, b in batches for c in b.column("card").to_pylist()]
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):
        runs.setdefault("yaml", []).append(_yaml_c(cards))
        runs.setdefault("cold", []).append(_judge_all(batches, True))
        runs.setdefault("warm", []).append(_judge_all(batches, True, warm=True))
    base = len(cards) / min(runs["yaml"])
    print(f"## One core: {len(cards):,} synthetic cards ({path.name}), CPU time, best of {repeat}\n")
    print("| what | cards / CPU-s | × PyYAML-C parse |\n|---|---:|---:|")
    print(f"| PyYAML-C (CSafeLoader) front matter parse only | {base:,.0f} | 1.00 |")
    for name, what in (("cold", "all judgements, fast path, cold (templates built in the run)"),
                       ("warm", "all judgements, fast path, templates of an earlier pass kept")):
        r = len(cards) / min(runs[name])
        print(f"| {what} | {r:,.0f} | {r / base:.3f} |")
    print()


def _cpu(fn: Any, items: list[Any], repeat: int) -> float:
    """Best-of-``repeat`` CPU seconds of ``fn`` over ``items`` (exceptions count as work done)."""
    best = 1e9
    for _ in range(repeat):
        t0 = time.process_time()
        for x in items:
            try:
                fn(x)
            except Exception:  # noqa: BLE001, S112 - a cost measurement: malformed input costs what it costs
                continue
        best = min(best, time.process_time() - t0)
    return best


def bound(repeat: int = 3) -> None:
    """One core, real cards: the costs any judge that reads cards as the reference does must pay, next to the
    baseline (PyYAML-C on every card's front matter). Each distinct text is counted once (a judge may
    deduplicate); what is left of the baseline's time is the budget for everything else."""
    import yaml._yaml as cyaml

    from aitrail import yamlsafe
    from aitrail.catalog import model_card
    from aitrail.hub import frontmatter, inputs

    batches = list(inputs.batches(inputs.sources([MODELS])))
    cards = [c for _, _, b in batches for c in b.column("card").to_pylist()]
    fms, bodies = [], []
    for c in dict.fromkeys(x for x in cards if x):
        try:
            y, body, _ = model_card.split_front_matter(c)
        except Exception:  # noqa: BLE001, S112 - an unclosed front matter: no YAML to parse
            continue
        bodies.append(body)
        if y is not None:
            fms.append(y)
    fms = list(dict.fromkeys(fms))
    nested = [y for y in fms if frontmatter.fast(y) is None]
    distinct = list(dict.fromkeys(x for x in cards if x))
    base = min(_yaml_c(cards) for _ in range(repeat))
    rows = [
        ("PyYAML-C, every card's front matter (the baseline)", len(cards), base),
        ("split front matter / body, each distinct card", len(distinct),
         _cpu(model_card.split_front_matter, distinct, repeat)),
        ("PyYAML-C, each distinct front matter", len(fms), _cpu(yamlsafe.load, fms, repeat)),
        ("... of which those the proven flat path cannot read (nested)", len(nested),
         _cpu(yamlsafe.load, nested, repeat)),
        ("libyaml's C syntax pass alone (no Python objects) on those", len(nested),
         _cpu(lambda y: cyaml.CParser(y).raw_parse(), nested, repeat)),
        ("proven flat path on the others", len(fms) - len(nested),
         _cpu(frontmatter.fast, [y for y in fms if y not in set(nested)], repeat)),
        ("Markdown headings of each distinct body (completeness reads the sections)", len(set(bodies)),
         _cpu(lambda b: model_card.headings(b.split("\n")), list(dict.fromkeys(bodies)), repeat)),
    ]
    print(f"## One core: what the ≥ 1.0× floor leaves for judging ({len(cards):,} real cards), CPU, best of {repeat}\n")
    print("| step | items | CPU s | share of the baseline's time |\n|---|---:|---:|---:|")
    for what, n, sec in rows:
        print(f"| {what} | {n:,} | {sec:.3f} | {sec / base:.0%} |")
    print()


def closure(repeat: int = 5) -> None:
    from aitrail.hub import lineage

    best_read = best_close = best_inherit = 1e9
    for _ in range(repeat):
        t0 = time.perf_counter()
        g = lineage.Graph()
        lineage.read_edges(g, EDGES)
        t1 = time.perf_counter()
        cl = lineage.close(g)
        t2 = time.perf_counter()
        lineage.inherit(g, {})
        t3 = time.perf_counter()
        best_read, best_close = min(best_read, t1 - t0), min(best_close, t2 - t1)
        best_inherit = min(best_inherit, t3 - t2)
    print(f"## Lineage closure: {g.edges():,} edges of hf-lineage-2025 ({len(g.self_loops)} self-loops dropped), "
          f"{len(g.ids):,} models, max depth {max(cl.depth)}; wall, best of {repeat}\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| read edges.csv | {best_read:.3f} |")
    print(f"| closure (SCC + ancestors/descendants/depth/roots) | {best_close:.3f} |")
    print(f"| licence inheritance + laundering | {best_inherit:.3f} |")
    print(f"| total | {best_read + best_close + best_inherit:.3f} |\n")


def index_lookups(n: int = 20_000) -> None:
    import random

    import pyarrow.parquet as pq

    from aitrail.hub import index
    from aitrail.resolvers.hub_index import HubIndexResolver

    out = Path(tempfile.mkdtemp(prefix="hubidx-"))
    try:
        t0 = time.perf_counter()
        s = index.build([MODELS], out, [str(EDGES)])
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        s2 = index.build([MODELS], out)
        update = time.perf_counter() - t0
        ids = pq.read_table(MODELS, columns=["model_id"]).column("model_id").to_pylist()
        rng = random.Random(1)
        asks = [rng.choice(ids) if i % 4 else f"nobody/missing-{i}" for i in range(n)]
        r = HubIndexResolver(out)
        r.lookup(asks[0])
        times = []
        for a in asks:
            t = time.perf_counter()
            r.lookup(a)
            times.append(time.perf_counter() - t)
        times.sort()
        size = (out / "index.sqlite").stat().st_size
        print(f"## Hub index: {s['models']:,} models + edges ({size / 1e6:.1f} MB)\n")
        print("| what | value |\n|---|---:|")
        print(f"| build (29,432 cards + 30,383 edges) | {built:.1f} s |")
        print(f"| update, nothing changed ({s2['unchanged']:,} unchanged, {s2['judged']} re-judged) | {update:.1f} s |")
        print(f"| lookup mean ({n:,}, 1 in 4 unknown) | {1e3 * sum(times) / n:.3f} ms |")
        print(f"| lookup p99 | {1e3 * times[int(n * 0.99)]:.3f} ms |\n| lookup max | {1e3 * times[-1]:.3f} ms |\n")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _tree_rss(pid: int) -> int:
    """RSS (bytes) of ``pid`` and all its descendants, from /proc."""
    total = 0
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    todo = [pid]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
    return total


def timed(cmd: list[str]) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS of the process tree, exit code, CPU seconds of the tree)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(p.pid))
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, status, usage = os.wait4(p.pid, 0)  # rusage of the command and every process it waited for
    p.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    th.join()
    return time.perf_counter() - t0, peak, p.returncode, usage.ru_utime + usage.ru_stime


def scale(data: Path, workers: int = 2) -> None:
    import json

    out = WORK / f"scale-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "aitrail.hub", "run", str(data), "--out", str(out), "--workers", str(workers), "-q"]
    edges = data / "edges.csv"
    if edges.exists():
        cmd += ["--lineage", str(edges)]
    wall, peak, rc, cpu = timed(cmd)
    s = json.loads((out / "summary.json").read_text()) if rc == 0 else {}
    print(f"## End to end: `python {' '.join(cmd[1:])}`\n")
    print("| what | value |\n|---|---:|")
    print(f"| exit code | {rc} |\n| records | {s.get('records', 0):,} |\n| errors | {s.get('errors', 0):,} |")
    print(f"| wall (incl. lineage closure and summary) | {wall:.0f} s |")
    print(f"| records / s (wall) | {s.get('records', 0) / wall:,.0f} |")
    print(f"| CPU seconds, all processes | {cpu:.0f} |")
    print(f"| wall if the 2 cores were ours: CPU s / {workers} | {cpu / workers:.0f} s |")
    print(f"| peak RSS, all processes | {peak / 2**30:.2f} GB |")
    lin = s.get("lineage", {})
    if lin:
        print(f"| lineage: edges / closure seconds | {lin.get('edges', 0):,} / {lin.get('seconds', 0):.1f} |")
    print()


def dask_speedup(data: Path) -> None:
    res = {}
    for n in (1, 2):
        out = WORK / f"dask-{n}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "aitrail.hub", "run", str(data), "--out", str(out), "--engine", "dask"]
        wall, peak, rc, cpu = timed([*cmd, "--workers", str(n), "-q"])
        res[n] = (wall, peak, rc, cpu)
    print(f"## Dask LocalCluster on {data.name}: 1 worker vs 2 (wall, incl. cluster start)\n")
    print("| workers | wall s | CPU s | peak RSS GB | exit |\n|---:|---:|---:|---:|---:|")
    for n, (w, p, rc, cpu) in res.items():
        print(f"| {n} | {w:.1f} | {cpu:.1f} | {p / 2**30:.2f} | {rc} |")
    print(f"\nspeed-up 2 vs 1: {res[1][0] / res[2][0]:.2f}×\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parse", action="store_true")
    ap.add_argument("--parse-synthetic", metavar="PARQUET", help="a synthetic models-000.parquet")
    ap.add_argument("--rows", type=int, default=200_000, help="rows of --parse-synthetic (200,000)")
    ap.add_argument("--bound", action="store_true")
    ap.add_argument("--closure", action="store_true")
    ap.add_argument("--index", action="store_true")
    ap.add_argument("--scale", metavar="DIR")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", metavar="DIR")
    a = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"_machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared machine)_\n")
    if a.parse:
        parse_vs_judge()
    if a.parse_synthetic:
        parse_vs_judge_synthetic(Path(a.parse_synthetic), a.rows)
    if a.bound:
        bound()
    if a.closure:
        closure()
    if a.index:
        index_lookups()
    if a.scale:
        scale(Path(a.scale), a.workers)
    if a.dask:
        dask_speedup(Path(a.dask))


if __name__ == "__main__":
    main()
