"""Security scanners side by side on attack and benign corpora. Prints Markdown (BENCHMARKS.md).

    python3.11 -m venv benchmarks/work/secpeers
    benchmarks/work/secpeers/bin/pip install picklescan==1.0.5 modelscan==0.8.8 fickling==0.1.12 typing_extensions
    .venv/bin/python benchmarks/security_corpus.py --peers benchmarks/work/secpeers/bin

Corpora (each a folder with manifest.csv: file, malicious 0/1, ...; missing ones are skipped):
- ../shared/data/security-corpus/ (published attacks and benign files, files/ under it);
- tests/data/security/attacks/ (scripts/make_attack_fixtures.py: every published technique, each
  proven to run its payload);
- tests/data/security/benign/ (files real ML libraries write; every one should pass);
- tests/data/security/secreal/ (session 6's held-out kinds: dill, OmegaConf checkpoints, .nemo, archives).

A file counts as flagged by aitrail when a finding is high or critical; by picklescan and modelscan
when they exit 1 ("issues found"); by fickling when `fickling --check-safety` exits non-zero. A tool
that prints a Python traceback crashed: that is neither a catch nor a false alarm, and is counted
apart. Each tool is run once per file, as a user would run it in CI; the time is the whole corpus.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data" / "security-corpus"
OURS = ROOT / "tests" / "data" / "security"

from aitrail.analyze import security  # noqa: E402

Verdict = bool | None  # flagged, not flagged, or None: the tool crashed


@dataclass
class Corpus:
    name: str
    folder: Path  # files are relative to it
    manifest: Path

    def rows(self) -> list[dict[str, str]]:
        return list(csv.DictReader(self.manifest.open(encoding="utf-8")))


JOBLIB = ROOT / "benchmarks" / "work" / "joblib-compat"  # joblib 1.4.2's sdist: joblib/test/data


def joblib_compat() -> Path:
    """joblib's own backward-compatibility pickles (every joblib since 0.8, py27-py36, every compressor),
    from its sdist on PyPI, with a manifest marking each benign; made once into benchmarks/work."""
    manifest = JOBLIB / "manifest.csv"
    if manifest.exists():
        return manifest
    import tarfile

    JOBLIB.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "joblib==1.4.2", "--no-deps", "--no-binary", ":all:",
                    "-d", str(JOBLIB)], check=True, capture_output=True)
    with tarfile.open(next(JOBLIB.glob("joblib-1.4.2.tar.gz"))) as t:
        for m in t.getmembers():
            if "/joblib/test/data/" in m.name and m.isfile() and not m.name.endswith((".py", ".sh")):
                m.name = m.name.rsplit("/", 1)[1]
                t.extract(m, JOBLIB / "files", filter="data")
    with manifest.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "malicious"])
        for f in sorted((JOBLIB / "files").iterdir()):
            w.writerow([f.name, "0"])
    return manifest


CORPORA = [
    Corpus("shared security corpus", SHARED / "files", SHARED / "manifest.csv"),
    Corpus("attacks", OURS / "attacks", OURS / "attacks" / "manifest.csv"),
    Corpus("benign", OURS / "benign", OURS / "benign" / "manifest.csv"),
    Corpus("joblib compatibility pickles", JOBLIB / "files", JOBLIB / "manifest.csv"),
    # session 6: kinds the corpora above lacked (dill, OmegaConf checkpoints, bound methods, .nemo,
    # compressed checkpoints, archives of joblib files), made by tests/data/security/secreal/make.py
    Corpus("held-out kinds (session 6)", OURS / "secreal", OURS / "secreal" / "manifest.csv"),
]


def tools(peers: Path | None) -> dict[str, Callable[[Path], Verdict]]:
    def ours(p: Path) -> Verdict:
        rep = security.scan_file(p, p.name)
        return any(f.severity in ("high", "critical") for f in rep.findings)

    found: dict[str, Callable[[Path], Verdict]] = {"aitrail": ours}
    if peers is None:
        return found
    peers = peers.resolve()

    def run(cmd: list[str], flagged: set[int]) -> Verdict:
        # cwd: fickling writes safety_results.json into the working folder
        r = subprocess.run(cmd, capture_output=True, timeout=300, stdin=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        if b"Traceback (most recent call last)" in r.stderr + r.stdout:
            return None
        return r.returncode in flagged

    found["picklescan 1.0.5"] = lambda p: run([str(peers / "picklescan"), "--path", str(p)], {1})
    found["modelscan 0.8.8"] = lambda p: run([str(peers / "modelscan"), "-p", str(p)], {1})
    found["fickling 0.1.12"] = lambda p: run([str(peers / "fickling"), "--check-safety", str(p)], set(range(1, 256)))
    return found


def measure(corpus: Corpus, rows: list[dict[str, str]], fns: dict[str, Callable[[Path], Verdict]]) -> tuple[dict, dict]:
    result: dict[str, dict[str, Verdict]] = {}
    timing: dict[str, float] = {}
    for name, fn in fns.items():
        t = time.perf_counter()
        result[name] = {r["file"]: fn(corpus.folder / r["file"]) for r in rows}
        timing[name] = time.perf_counter() - t
    return result, timing


def report(corpus: Corpus, rows: list[dict[str, str]], result: dict, timing: dict) -> list[str]:
    mal = [r["file"] for r in rows if r["malicious"] == "1"]
    ben = [r["file"] for r in rows if r["malicious"] == "0"]
    where = corpus.folder.relative_to(ROOT.parent) if corpus.folder.is_relative_to(ROOT.parent) else corpus.folder
    out = [
        f"### {corpus.name}: {len(mal)} malicious, {len(ben)} benign (`{where}`)",
        "",
        "| tool | malicious flagged | benign flagged (false alarms) | crashed | time for the corpus |",
        "|---|---|---|---|---|",
    ]
    for name, res in result.items():
        caught = sum(res[f] is True for f in mal)
        false = sum(res[f] is True for f in ben)
        crashed = sum(res[f] is None for f in mal + ben)
        rate = f" ({100 * caught / len(mal):.0f}%)" if mal else ""
        out.append(f"| {name} | {caught}/{len(mal)}{rate} | {false}/{len(ben)} | {crashed} | {timing[name]:.2f} s |")
    out.append("")
    for name, res in result.items():
        missed = [f for f in mal if res[f] is not True]
        alarms = [f for f in ben if res[f] is True]
        if missed:
            out.append(f"- {name} misses {len(missed)}: " + ", ".join(f"`{f}`" for f in missed))
        if alarms:
            out.append(f"- {name} false alarms {len(alarms)}: " + ", ".join(f"`{f}`" for f in alarms))
    out.append("")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=Path, help="the bin/ folder of a venv with picklescan, modelscan and fickling")
    ap.add_argument(
        "--corpus", action="append", help="only these corpora (by name: shared, attacks, benign, joblib, held)"
    )
    args = ap.parse_args()
    fns = tools(args.peers)
    if not args.corpus or any("joblib".startswith(c) or c.startswith("joblib") for c in args.corpus):
        joblib_compat()
    out = ["## Model security scanners on attack and benign corpora", ""]
    totals: dict[str, list[int]] = {name: [0, 0, 0, 0, 0] for name in fns}  # caught, mal, false, ben, crashed
    for corpus in CORPORA:
        if not corpus.manifest.exists():
            print(f"skipped {corpus.name}: {corpus.manifest} missing", file=sys.stderr)
            continue
        if args.corpus and not any(corpus.name.startswith(c) for c in args.corpus):
            continue
        rows = corpus.rows()  # read once: a manifest rewritten during the run must not mix two versions
        result, timing = measure(corpus, rows, fns)
        out += report(corpus, rows, result, timing)
        for name, res in result.items():
            t = totals[name]
            for r in rows:
                v, bad = res[r["file"]], r["malicious"] == "1"
                t[0] += bad and v is True
                t[1] += bad
                t[2] += (not bad) and v is True
                t[3] += not bad
                t[4] += v is None
    out += ["### All corpora", "", "| tool | malicious flagged | benign flagged | crashed |", "|---|---|---|---|"]
    for name, (caught, mal, false, ben, crashed) in totals.items():
        out.append(f"| {name} | {caught}/{mal} | {false}/{ben} | {crashed} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
