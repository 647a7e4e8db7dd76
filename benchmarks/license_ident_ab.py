"""Licence identification speed, two versions of aitrail alternated on the same texts (CPU seconds:
the machine is shared). Prints a Markdown table.

    git archive <old-commit> src | tar -x -C benchmarks/work/ab-old          # once: the old code
    .venv/bin/python benchmarks/license_ident_ab.py \\
        --licensedb benchmarks/work/scancode/lib/python3.11/site-packages/licensedcode/data/licenses \\
        --old benchmarks/work/ab-old/src [--new src] [--sample 400] [--rounds 3]

Each round runs a fresh process per version (old, then new), which builds its indexes on a few texts,
then times one pass over a fixed random sample of LicenseDB texts and three over the shared texts;
cold start (a fresh process naming a text only the LicenseDB set knows, CPU of the whole process) is
measured in the same alternation. Reported: the least of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import csv, json, random, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from licensedb_files import entries
from aitrail.analyze import license_text as T
db, sample, shared_dir = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[4])
texts = [t for m, t in entries(db) if not (m.get("is_deprecated") or m.get("is_unknown") or m.get("is_generic"))]
texts = random.Random(0).sample(texts, min(sample, len(texts)))
rows = csv.DictReader(open(shared_dir / "MANIFEST.csv", encoding="utf-8"))
shared = [(shared_dir / r["file"]).read_text(encoding="utf-8") for r in rows]
for t in texts[:20] + shared:
    T.identify_text(t)
def per_file(ts):
    t0 = time.process_time()
    for t in ts:
        T.identify_text(t)
    return (time.process_time() - t0) / len(ts)
print(json.dumps({"db": per_file(texts), "shared": per_file(shared * 3), "file": T.__file__}))
"""
COLD = "import sys; from aitrail.analyze.license_text import identify_file; assert identify_file(sys.argv[1]).known"


def run(src: Path, args: list[str]) -> tuple[str, float]:
    """stdout and CPU seconds of a fresh Python process with ``src`` first on its path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, *args], check=True, env=env, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--licensedb", type=Path, required=True)
    ap.add_argument("--old", type=Path, required=True, help="src folder of the old version")
    ap.add_argument("--new", type=Path, default=ROOT / "src")
    ap.add_argument("--sample", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    shared = ROOT.parent / "shared" / "data" / "licenses" / "texts"
    exaone = (args.licensedb / "exaone-ai-model-1.1-nc.LICENSE").read_text().split("---", 2)[2]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(exaone)
    res: dict[str, dict[str, list[float]]] = {v: {"db": [], "shared": [], "cold": []} for v in ("old", "new")}
    try:
        for _ in range(args.rounds):
            for version, src in (("old", args.old), ("new", args.new)):
                child = ["-c", CHILD, str(args.licensedb), str(args.sample), str(ROOT / "scripts"), str(shared)]
                out, _ = run(src.resolve(), child)
                got = json.loads(out)
                assert Path(got["file"]).resolve().is_relative_to(src.resolve()), got["file"]
                res[version]["db"].append(got["db"])
                res[version]["shared"].append(got["shared"])
                res[version]["cold"].append(run(src.resolve(), ["-c", COLD, fh.name])[1])
    finally:
        os.unlink(fh.name)
    load = os.getloadavg()[0]
    head = f"CPU, least of {args.rounds} rounds, old and new alternated (load average {load:.1f})"
    print(f"| {head} | old | new | old/new |")
    print("|---|---|---|---|")
    for key, label, scale, unit in (
        ("db", f"per file, {args.sample} random LicenseDB texts", 1000, "ms"),
        ("shared", "per file, the shared texts", 1000, "ms"),
        ("cold", "cold start: fresh process, one text only the LicenseDB set names", 1, "s"),
    ):
        old, new = min(res["old"][key]), min(res["new"][key])
        print(f"| {label} | {old * scale:.2f} {unit} | {new * scale:.2f} {unit} | {old / new:.1f}× |")


if __name__ == "__main__":
    main()
