"""Security scanners side by side on the corpus of published attacks. Prints Markdown (BENCHMARKS.md).

    python3.11 -m venv benchmarks/work/secpeers
    benchmarks/work/secpeers/bin/pip install picklescan==1.0.5 modelscan==0.8.8 fickling==0.1.12 typing_extensions
    .venv/bin/python benchmarks/security_corpus.py --peers benchmarks/work/secpeers/bin

A file counts as flagged by aitrail when a finding is high or critical; by picklescan and modelscan
when they exit 1 ("issues found"); by fickling when `fickling --check-safety` exits non-zero.
Each tool is run once per file, as a user would run it in CI.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CORPUS = ROOT.parent / "shared" / "data" / "security-corpus"

from aitrail.analyze import security  # noqa: E402


def target(row: dict) -> Path:
    p = CORPUS / "files" / row["file"]
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader(open(CORPUS / "manifest.csv", encoding="utf-8")))
    tools: dict[str, callable] = {}  # type: ignore[valid-type]  # file -> flagged (None: the tool crashed)

    def ours(p: Path) -> bool:
        rep = security.scan_file(p, p.name)
        return any(f.severity in ("high", "critical") for f in rep.findings)

    tools["aitrail 0.1.0"] = ours
    if args.peers:
        peers = args.peers.resolve()

        def run(cmd: list[str], flagged: set[int]) -> bool | None:
            r = subprocess.run(cmd, capture_output=True, timeout=300)
            if b"Traceback (most recent call last)" in r.stderr:
                return None  # the tool crashed: an error, not a verdict
            return r.returncode in flagged

        tools["picklescan 1.0.5"] = lambda p: run([str(peers / "picklescan"), "--path", str(p)], {1})
        tools["modelscan 0.8.8"] = lambda p: run([str(peers / "modelscan"), "-p", str(p)], {1})
        tools["fickling 0.1.12"] = lambda p: run(
            [str(peers / "fickling"), "--check-safety", str(p)], set(range(1, 256))
        )
    result: dict[str, dict[str, bool]] = {}
    timing: dict[str, float] = {}
    for name, fn in tools.items():
        t = time.perf_counter()
        result[name] = {r["file"]: fn(target(r)) for r in rows}
        timing[name] = time.perf_counter() - t
    mal = [r["file"] for r in rows if r["malicious"] == "1"]
    ben = [r["file"] for r in rows if r["malicious"] == "0"]
    out = [
        "## 6. Model security scanners on the corpus of published attacks",
        "",
        f"{len(mal)} malicious and {len(ben)} benign files (`../shared/data/security-corpus/`).",
        "",
        "| tool | malicious flagged | benign flagged (false alarms) | crashed | time for the corpus |",
        "|---|---|---|---|---|",
    ]
    for name in tools:
        caught = sum(result[name][f] is True for f in mal)
        false = sum(result[name][f] is True for f in ben)
        crashed = sum(result[name][f] is None for f in mal + ben)
        out.append(
            f"| {name} | {caught}/{len(mal)} ({100 * caught / len(mal):.0f}%) | {false}/{len(ben)} | {crashed} | "
            f"{timing[name]:.2f} s |"
        )
    out += ["", "Missed by each peer (files aitrail flags):", ""]
    for name in list(tools)[1:]:
        missed = [f for f in mal if not result[name][f]]
        out.append(f"- {name}: {len(missed)} — " + ", ".join(f"`{f}`" for f in missed))
    fa = [f for f in ben if result["aitrail 0.1.0"][f]]
    out += [
        "",
        f"aitrail false alarms: {', '.join(fa) or 'none'}; misses: "
        f"{', '.join(f for f in mal if not result['aitrail 0.1.0'][f]) or 'none'}.",
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
