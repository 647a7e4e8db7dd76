"""Fuzz aitrail for a bounded time or count (issue 10, item 8): the long, on-demand entry point.

    python benchmarks/fuzz.py --seconds 3600 --seed 7             # an hour, new findings saved
    python benchmarks/fuzz.py --count 300 --seed 1 --no-save      # what the CI smoke test runs
    python benchmarks/fuzz.py --replay tests/fuzz/regressions/crash-safetensors-1a2b3c4d.safetensors
    python benchmarks/fuzz.py --regressions                        # every saved regression, verdicts

Each input runs alone in a forked, memory-limited, watched worker (tests/fuzz/runner.py); every
non-ok one is minimised a little and saved under tests/fuzz/regressions/ (one or two per distinct
failure: verdict, format, exception class and the aitrail function that raised). See docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz import formats as F  # noqa: E402
from tests.fuzz import runner as R  # noqa: E402


def _key(res: R.Result) -> tuple[str, str, str, str]:
    raw = res.raw
    exc = raw.get("exception") or (raw.get("internal") or [{}])[0].get("exception", "")
    where = raw.get("raised_in") or ""
    if res.verdict in ("slow", "big", "hang"):
        where = res.case.recipe.get("base", "") if not exc else where
    return res.verdict, res.case.format, exc, where


def replay(path: Path, timeout: float) -> int:
    case = R.load_regression(path)
    with tempfile.TemporaryDirectory() as t:
        w = R.Worker()
        try:
            res = R.run_case(w, case, Path(t), timeout=timeout)
        finally:
            w.close()
    print(res.line())
    if res.raw.get("raised_in"):
        print("    raised in", res.raw["raised_in"])
    for f in res.raw.get("frames") or []:
        print("   ", f)
    for i in res.raw.get("internal") or []:
        print("   ", i["rule"], i["message"][:300])
    return 0 if res.verdict == "ok" else 1


def run_regressions(timeout: float, workers: int, update: bool = False) -> int:
    """Every saved regression; with ``update``, known_failures.txt is rewritten to the truth."""
    known = R.known_failures()
    paths = R.regressions()
    by_case = [(p, R.load_regression(p)) for p in paths]
    bad = 0
    lookup = {id(c): p for p, c in by_case}
    failing: dict[str, str] = {}
    for res in R.run_cases((c for _, c in by_case), workers=workers, timeout=timeout):
        p = lookup[id(res.case)]
        if res.verdict in R.FAILING or (res.verdict == "slow" and res.wall >= 3 * R.SLOW_S):
            # Pathologically slow ones are listed too: under load they reach the watchdog.
            state = "known" if p.name in known else ("NEW" if res.verdict in R.FAILING else "slow")
            bad += p.name not in known and res.verdict in R.FAILING
            exc = res.raw.get("exception") or res._internal_exc()
            where = res.raw.get("raised_in") or ""
            failing[p.name] = f"{exc or res.verdict}: {where} {res.detail[:150]}".replace("\n", " ").strip()
        else:
            fixed = res.verdict == "ok"
            state = ("FIXED (remove from known_failures.txt)" if fixed else "known, slow") if p.name in known else "ok"
        print(f"{res.line()}  {p.name}  [{state}]", flush=True)
    if update:
        head = [ln for ln in R.KNOWN.read_text().splitlines() if ln.startswith("#")] if R.KNOWN.exists() else []
        R.KNOWN.write_text("\n".join(head + [f"{n} {failing[n]}" for n in sorted(failing)]) + "\n")
        print(f"known_failures.txt: {len(failing)} listed")
        return 0
    return 1 if bad else 0


def fuzz(args: argparse.Namespace) -> int:
    formats = args.formats.split(",") if args.formats else None
    t_end = time.monotonic() + args.seconds if args.seconds else None
    start = args.start

    def cases() -> Iterator[F.Case]:
        i = start
        while (args.count is None or i < start + args.count) and (t_end is None or time.monotonic() < t_end):
            recipe = F.make_recipe(args.seed, i, formats)
            recipe["index"] = i
            i += 1
            try:
                yield F.build(recipe)
            except Exception as e:  # noqa: BLE001 - a harness bug must not stop the run; it is shown
                print(f"harness: cannot build {json.dumps(recipe)}: {type(e).__name__}: {e}", flush=True)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seen: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    saved: list[str] = []
    minw = R.Worker() if args.save else None
    findings = Path(args.findings) if args.findings else None
    slowest: list[tuple[float, str]] = []
    t0 = time.monotonic()
    n = 0
    with tempfile.TemporaryDirectory() as t:
        for res in R.run_cases(cases(), workers=args.workers, timeout=args.timeout):
            n += 1
            counts[res.case.format][res.verdict] += 1
            slowest.append((res.wall, f"{res.case.format} {json.dumps(res.case.recipe)}"))
            slowest = sorted(slowest, reverse=True)[:10]
            if args.verbose or res.verdict != "ok":
                print(res.line(), json.dumps(res.case.recipe), flush=True)
            if res.verdict == "ok":
                continue
            key = _key(res)
            entry = {
                "verdict": res.verdict,
                "format": res.case.format,
                "detail": res.detail,
                "recipe": res.case.recipe,
                "wall": round(res.wall, 2),
                "rss_mb": res.rss >> 20,
                "out_kb": res.out_bytes >> 10,
                "frames": res.raw.get("frames"),
                "file": None,
            }
            group = seen.setdefault(key, [])
            group.append(entry)
            if minw is not None and len(group) <= args.keep:
                case = res.case
                if res.verdict in ("crash", "internal") and len(case.data) > 64:
                    case = R.minimise(minw, res, Path(t), budget_s=args.minimise_seconds)
                p = R.save(res, case)
                entry["file"] = str(p.relative_to(ROOT))
                saved.append(entry["file"])
            if findings is not None:
                write_findings(findings, seen, counts, n, time.monotonic() - t0, args)
    if minw is not None:
        minw.close()
    if findings is not None:
        write_findings(findings, seen, counts, n, time.monotonic() - t0, args, final=True)
    print(f"\n{n} inputs in {time.monotonic() - t0:.0f} s (seed {args.seed}, workers {args.workers})")
    print(table(counts))
    print("slowest:", *[f"  {w:6.2f}s {d[:150]}" for w, d in slowest], sep="\n")
    if saved:
        print("saved:", *saved, sep="\n  ")
    failing = sum(c[v] for c in counts.values() for v in R.FAILING)
    return 1 if failing else 0


def table(counts: dict[str, Counter[str]]) -> str:
    verdicts = R.ORDER
    lines = ["| format | " + " | ".join(verdicts) + " | total |", "|---" * (len(verdicts) + 2) + "|"]
    tot: Counter[str] = Counter()
    for fmt in sorted(counts):
        c = counts[fmt]
        tot.update(c)
        lines.append(f"| {fmt} | " + " | ".join(str(c[v]) for v in verdicts) + f" | {sum(c.values())} |")
    lines.append("| **all** | " + " | ".join(str(tot[v]) for v in verdicts) + f" | {sum(tot.values())} |")
    return "\n".join(lines)


def write_findings(
    path: Path,
    seen: dict[tuple[str, str, str, str], list[dict[str, Any]]],
    counts: dict[str, Counter[str]],
    n: int,
    secs: float,
    args: argparse.Namespace,
    final: bool = False,
) -> None:
    out = [
        f"# Fuzz findings (seed {args.seed}, {n} inputs, {secs:.0f} s{'' if final else ', running'})",
        "",
        "Reproduce one: `.venv/bin/python benchmarks/fuzz.py --replay <file>` (prints verdict and frames).",
        "",
        table(counts),
        "",
        "## Distinct failures",
        "",
    ]
    order = {v: i for i, v in enumerate(R.ORDER)}
    for key in sorted(seen, key=lambda k: (order.get(k[0], 9), k[1], k[2])):
        group = seen[key]
        e = group[0]
        verdict, fmt, exc, where = key
        files = [g["file"] for g in group if g["file"]]
        out.append(f"### {verdict} · {fmt} · {exc or '-'} · {where or '-'} ({len(group)}×)")
        out.append(f"- detail: {e['detail'][:500]}")
        out.append(f"- measured: {e['wall']} s, {e['rss_mb']} MB peak RSS, {e['out_kb']} KB output")
        if files:
            out.append(
                "- reproduce: " + ", ".join(f"`.venv/bin/python benchmarks/fuzz.py --replay {f}`" for f in files[:2])
            )
        out.append(f"- recipe: `{json.dumps(e['recipe'])}`")
        if e.get("frames"):
            out.append("- frames: " + " ← ".join(reversed(e["frames"][-4:])))
        out.append("")
    path.write_text("\n".join(out) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, help="stop generating after this long")
    ap.add_argument("--count", type=int, help="number of inputs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first input index (resume a seed)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=R.WATCHDOG_S, help="watchdog per input (s)")
    ap.add_argument("--formats", help="comma-separated: " + ",".join(sorted(F.FORMATS)))
    ap.add_argument("--keep", type=int, default=2, help="inputs saved per distinct failure")
    ap.add_argument("--minimise-seconds", type=float, default=30.0)
    ap.add_argument("--no-save", dest="save", action="store_false")
    ap.add_argument("--findings", help="write a markdown report of distinct failures here (updated live)")
    ap.add_argument("--replay", type=Path, help="run one saved regression (raw file or .recipe.json)")
    ap.add_argument("--regressions", action="store_true", help="run every saved regression")
    ap.add_argument("--update-known", action="store_true", help="with --regressions: rewrite known_failures.txt")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.replay:
        return replay(args.replay, args.timeout)
    if args.regressions:
        return run_regressions(args.timeout, args.workers, args.update_known)
    if args.seconds is None and args.count is None:
        args.count = 300
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
