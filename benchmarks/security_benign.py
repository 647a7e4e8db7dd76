"""False alarms on benign files made by the real ML libraries (tests/data/security/benign), aitrail and peers.

    python3.11 -m venv benchmarks/work/secpeers
    benchmarks/work/secpeers/bin/pip install picklescan==1.0.5 modelscan==0.8.8 fickling==0.1.12 typing_extensions
    .venv/bin/python benchmarks/security_benign.py --peers benchmarks/work/secpeers/bin

Counted as security_corpus.py counts: aitrail flags a file with a high or critical finding; picklescan
and modelscan when they exit 1; fickling when `fickling --check-safety` exits non-zero. Prints
Markdown: the totals per tool, then per family (the file's folder).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BENIGN = ROOT / "tests" / "data" / "security" / "benign"

from aitrail.analyze import security  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=Path)
    args = ap.parse_args()
    rows = [r for r in csv.DictReader(open(BENIGN / "manifest.csv", encoding="utf-8"))]
    tools: dict[str, Callable[[Path], bool | None]] = {}

    def ours(p: Path) -> bool:
        rep = security.scan_file(p, p.name)
        return any(f.severity in ("high", "critical") for f in rep.findings)

    tools["aitrail"] = ours
    if args.peers:
        peers = args.peers.resolve()

        def run(cmd: list[str], flagged: set[int]) -> bool | None:
            # cwd: fickling writes safety_results.json into the working folder
            r = subprocess.run(cmd, capture_output=True, timeout=300, cwd=tempfile.gettempdir())
            if b"Traceback (most recent call last)" in r.stderr:
                return None  # the tool crashed: an error, not a verdict
            return r.returncode in flagged

        tools["picklescan 1.0.5"] = lambda p: run([str(peers / "picklescan"), "--path", str(p)], {1})
        tools["modelscan 0.8.8"] = lambda p: run([str(peers / "modelscan"), "-p", str(p)], {1})
        tools["fickling 0.1.12"] = lambda p: run(
            [str(peers / "fickling"), "--check-safety", str(p)], set(range(1, 256))
        )
    result: dict[str, dict[str, bool | None]] = {}
    timing: dict[str, float] = {}
    for name, fn in tools.items():
        t = time.perf_counter()
        result[name] = {r["file"]: fn(BENIGN / r["file"]) for r in rows}
        timing[name] = time.perf_counter() - t
    files = [r["file"] for r in rows]
    out = [
        "## Benign files made by the real ML libraries: false alarms",
        "",
        f"{len(files)} benign files (`tests/data/security/benign/`, versions in its VERSIONS.txt).",
        "",
        "| tool | benign flagged high/critical (false alarms) | crashed | time |",
        "|---|---|---|---|",
    ]
    for name in tools:
        false = sum(result[name][f] is True for f in files)
        crashed = sum(result[name][f] is None for f in files)
        out.append(f"| {name} | {false}/{len(files)} | {crashed} | {timing[name]:.1f} s |")
    fams: dict[str, list[str]] = defaultdict(list)
    for f in files:
        fams[f.split("/", 1)[0]].append(f)
    out += ["", "| family | files | " + " | ".join(tools) + " |", "|---|---|" + "---|" * len(tools)]
    for fam, fs in sorted(fams.items()):
        cells = [str(sum(result[n][f] is True for f in fs)) for n in tools]
        out.append(f"| {fam} | {len(fs)} | " + " | ".join(cells) + " |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
