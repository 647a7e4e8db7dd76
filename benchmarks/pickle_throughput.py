"""Opcode-dense pickles: aitrail security vs picklescan, time and peak memory. Prints Markdown.

    .venv/bin/python benchmarks/pickle_throughput.py --picklescan benchmarks/work/secpeers/bin/picklescan

Builds (once, in benchmarks/work/) a benign ~71 MB vocabulary pickle ({token: id}, protocol 4: one
opcode every few bytes) and times each tool with /usr/bin/time (wall seconds, peak RSS).
"""

from __future__ import annotations

import argparse
import pickle
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"


def vocab(path: Path, target: int = 71 << 20) -> Path:
    if path.exists():
        return path
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    d: dict[str, int] = {}
    size = 0
    while size < target:
        tok = "".join(rng.choice(letters) for _ in range(rng.randint(6, 16)))
        if tok not in d:
            d[tok] = len(d)
            size += len(tok) + 9
    path.write_bytes(pickle.dumps(d, protocol=4))
    return path


def timed(cmd: list[str]) -> tuple[float, int, int]:
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    wall, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--picklescan", type=Path)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    p = vocab(WORK / "vocab-71mb.pkl")
    mb = p.stat().st_size / (1 << 20)
    rows = [("aitrail security", [str(ROOT / ".venv/bin/aitrail"), "security", str(p), "--format", "json"])]
    if args.picklescan:
        rows.append(("picklescan 1.0.5", [str(args.picklescan.resolve()), "--path", str(p)]))
    out = [f"## 7. An opcode-dense benign pickle ({mb:.0f} MB vocabulary, protocol 4)", "",
           "| tool | wall time | throughput | peak memory | verdict (exit code) |", "|---|---|---|---|---|"]
    for name, cmd in rows:
        wall, rss, rc = min((timed(cmd) for _ in range(2)), key=lambda t: t[0])
        out.append(f"| {name} | {wall:.1f} s | {mb / wall:.1f} MB/s | {rss} MB | {rc} |")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
