"""Licence identification over ScanCode's whole LicenseDB: accuracy, leave-one-out safety, speed,
robustness to reformatting, and the same texts through ScanCode. Prints Markdown (kept in BENCHMARKS.md).

    benchmarks/work/scancode/bin/pip install scancode-toolkit-mini      # once, separate venv
    .venv/bin/python benchmarks/license_ident_bench.py \\
        --licensedb benchmarks/work/scancode/lib/python3.11/site-packages/licensedcode/data/licenses \\
        [--scancode benchmarks/work/scancode/bin/scancode] [--limit N]

1. every LicenseDB text (bodies, as ScanCode ships them) identified: exact / unknown / wrong;
2. leave-one-out: each text with its own licence hidden must come out unknown (a named relative is
   a *confident wrong id*);
3. the shared upstream texts reformatted five ways (rewrapped, Markdown, renumbered lists, smart
   quotes, a changed copyright line): exact / unknown / wrong;
4. speed: cold start (fresh process, a text only the LicenseDB set names), warm per file, index size;
   with --scancode, ScanCode's per-file time on a sample of the same texts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))
SHARED = ROOT.parent / "shared" / "data" / "licenses" / "texts"

from gen_license_fingerprints import NO_SCANCODE_KEY, licensedb_id  # noqa: E402
from licensedb_files import entries as licensedb_entries  # noqa: E402

from aitrail.analyze import license_text as T  # noqa: E402
from aitrail.analyze import licenses as L  # noqa: E402


def db_texts(db: Path, limit: int | None) -> list[tuple[str, str, str]]:
    """(key, expected aitrail id, text body) of every non-deprecated LicenseDB text of 20 words or more."""
    out = []
    for meta, text in licensedb_entries(db):
        if meta.get("is_deprecated") or meta.get("is_unknown") or meta.get("is_generic"):
            continue
        if len(T.tokens(text)) < 20:
            continue
        out.append((meta["key"], licensedb_id(meta), text))
    if limit:
        out = random.Random(0).sample(out, limit)
    return out


def same(expected: str, got: str) -> bool:
    return expected == got or (L.knowledge().lookup(expected) or object()) is (L.knowledge().lookup(got) or None)


# -- reformatting -------------------------------------------------------------------------------


def rewrap(t: str) -> str:
    paras = re.split(r"\n\s*\n", t)
    out = []
    for p in paras:
        words = p.split()
        lines, cur = [], ""
        for w in words:
            if len(cur) + len(w) > 62:
                lines.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        lines.append(cur)
        out.append("\n".join(lines))
    return "\n\n".join(out)


def markdown(t: str) -> str:
    paras = re.split(r"\n\s*\n", t.strip())
    head = f"# {paras[0].strip()}" if len(paras[0]) < 120 else paras[0]
    body = [f"**{p.strip()}**" if p.strip().isupper() and len(p) < 200 else p for p in paras[1:]]
    return "\n\n".join([head, *body])


def renumber(t: str) -> str:
    n = iter(range(1, 10_000))
    t = re.sub(r"(?m)^(\s*)(\d{1,2})\.(\s)", lambda m: f"{m.group(1)}{next(n)})" + m.group(3), t)
    return re.sub(r"(?m)^(\s*)\(?([a-h])\)(\s)", lambda m: f"{m.group(1)}{m.group(2).upper()}.{m.group(3)}", t)


def smart_quotes(t: str) -> str:
    t = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", t)
    return t.replace("'", "\u2019")


def copyright_line(t: str) -> str:
    line = "Copyright (c) 2025 Example Holdings, Ltd. and contributors"
    pattern = r"(?im)^\s*copyright\s*(?:\(c\)|©|\d{4}|\[yyyy\]).*$"
    if re.search(pattern, t):
        return re.sub(pattern, line, t, count=1)
    return "Copyright (c) 2025 Example Holdings, Ltd.\n\n" + t


TRANSFORMS = {
    "rewrapped": rewrap,
    "markdown": markdown,
    "renumbered": renumber,
    "smart quotes": smart_quotes,
    "copyright line": copyright_line,
}


def scancode_per_file(scancode: str, texts: list[str]) -> float:
    """ScanCode's per-file licence-detection time: a run on N files less a run on one, cache warm."""
    with tempfile.TemporaryDirectory() as d:
        many, one = Path(d, "many"), Path(d, "one")
        many.mkdir()
        one.mkdir()
        for i, text in enumerate(texts):
            Path(many, f"{i:04d}.txt").write_text(text)
        Path(one, "x.txt").write_text(texts[0])

        def run(target: Path) -> float:
            # CPU seconds of ScanCode and its workers: the machine is shared, wall time is noise
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            cmd = [scancode, "--license", "-n", "1", "--quiet", "--json", str(Path(d, "out.json")), str(target)]
            subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

        run(one)  # builds ScanCode's licence index cache on a first run
        return (run(many) - min(run(one), run(one))) / (len(texts) - 1)


def warm_cpu_per_file(texts: list[str], repeat: int) -> float:
    """CPU seconds per text, the least of ``repeat`` passes (indexes already built by earlier passes)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for text in texts:
            T.identify_text(text)
        best = min(best, (time.process_time() - t) / len(texts))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--licensedb", type=Path, required=True)
    ap.add_argument("--scancode")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--sample", type=int, default=40, help="texts timed through ScanCode")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the texts (the least is reported)")
    args = ap.parse_args()
    out: list[str] = []
    texts = db_texts(args.licensedb, args.limit)

    # cold start: a fresh process identifying a text only the LicenseDB set names
    exaone = args.licensedb / "exaone-ai-model-1.1-nc.LICENSE"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(exaone.read_text().split("---", 2)[2])
    code = "import sys; from aitrail.analyze.license_text import identify_file; assert identify_file(sys.argv[1]).known"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # this tree's code, whatever is installed

    def fresh(args: list[str]) -> tuple[float, float]:
        """(wall, CPU) seconds of a fresh process: CPU is what a shared machine cannot inflate."""
        before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, cwd=ROOT, env=env)
        wall, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    colds = [fresh(["-c", code, fh.name]) for _ in range(5)]
    bare = [fresh(["-c", "import aitrail.analyze.license_text"]) for _ in range(5)]
    os.unlink(fh.name)

    # 1. identification; 2. leave-one-out
    exact = unknown = 0
    wrong: list[str] = []
    for key, want, text in texts:
        r = T.identify_text(text, key)
        if not r.known:
            unknown += 1
        elif same(want, r.licenses[0].license_id):
            exact += 1
        else:
            wrong.append(f"{key} → {r.licenses[0].license_id}")
    per_file = warm_cpu_per_file([text for _, _, text in texts], args.repeat)
    loo_known: list[str] = []
    for key, want, text in texts:
        ids = {want} | {f.id for f in [L.knowledge().lookup(want)] if f}
        r = T.identify_text(text, key, exclude=frozenset(ids))
        if r.known:
            loo_known.append(f"{key} → {', '.join(m.license_id for m in r.licenses)}")
    out += [
        "## Licence identification over ScanCode's LicenseDB",
        "",
        f"{len(texts)} LicenseDB texts (scancode-toolkit-mini, every non-deprecated licence and exception "
        "of 20 words or more, as ScanCode ships them). *wrong* = a confident answer naming another licence.",
        "",
        "| run | exact | unknown | wrong |",
        "|---|---|---|---|",
        f"| each text as it is | {exact} | {unknown} | {len(wrong)} |",
        f"| leave-one-out (its own licence hidden) | – | {len(texts) - len(loo_known)} | {len(loo_known)} |",
        "",
    ]
    if wrong:
        out += ["Named another licence:", "", *[f"- {w}" for w in wrong[:30]], ""]
    if loo_known:
        out += ["Leave-one-out, named although hidden:", "", *[f"- {w}" for w in loo_known[:40]], ""]

    # 3. reformatting of the shared texts
    rows = list(csv.DictReader(open(SHARED / "MANIFEST.csv", encoding="utf-8")))
    out += [
        "### Reformatted copies of the shared texts",
        "",
        "| transformation | exact | unknown | wrong |",
        "|---|---|---|---|",
    ]
    for name, fn in TRANSFORMS.items():
        e = u = w = 0
        for row in rows:
            key = row["expected_scancode_key"]
            want = L.knowledge().lookup(key).id if key else NO_SCANCODE_KEY[row["file"]]
            r = T.identify_text(fn((SHARED / row["file"]).read_text(encoding="utf-8")))
            if not r.known:
                u += 1
            elif r.licenses[0].license_id == want:
                e += 1
            else:
                w += 1
        out.append(f"| {name} | {e} | {u} | {w} |")
    out.append("")

    # 4. speed
    core = (ROOT / "src/aitrail/knowledge" / T.CORE).stat().st_size
    big = (ROOT / "src/aitrail/knowledge" / T.LICENSEDB).stat().st_size
    out += [
        "### Speed and size",
        "",
        "| measure | aitrail |" + (" ScanCode |" if args.scancode else ""),
        "|---|---|" + ("---|" if args.scancode else ""),
    ]
    # aitrail per file on the shared texts (the usual LICENSE files: the core set names them)
    shared = [(SHARED / r["file"]).read_text(encoding="utf-8") for r in rows]
    shared_file = warm_cpu_per_file(shared * 5, args.repeat)
    sc_db = sc_shared = None
    if args.scancode:
        sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
        sc_db = scancode_per_file(args.scancode, [text for _, _, text in sample])
        sc_shared = scancode_per_file(args.scancode, shared)
    out.append(
        "| cold start: fresh process, one text named from the LicenseDB set (best of 5; wall, CPU) | "
        f"{min(w for w, _ in colds):.2f} s, CPU {min(c for _, c in colds):.2f} s (Python and the import alone: "
        f"{min(w for w, _ in bare):.2f} s, CPU {min(c for _, c in bare):.2f} s) |" + (" – |" if args.scancode else "")
    )
    out.append(
        f"| warm, CPU per file: all {len(texts)} LicenseDB texts (least of {args.repeat} passes) | "
        f"{per_file * 1000:.2f} ms |"
        + (f" {sc_db * 1000:.0f} ms ({args.sample} of them) |" if sc_db else "")
    )
    out.append(
        f"| warm, CPU per file: the {len(shared)} shared texts | {shared_file * 1000:.2f} ms |"
        + (f" {sc_shared * 1000:.0f} ms |" if sc_shared else "")
    )
    size = f"core {core / 1e6:.2f} MB + LicenseDB {big / 1e6:.2f} MB"
    out.append(f"| index on disk | {size} |" + (" – |" if args.scancode else ""))
    out.append("")
    if sc_db and sc_shared:
        out.append(
            f"aitrail is **{sc_db / per_file:.0f}×** ScanCode's per-file speed on LicenseDB texts and "
            f"**{sc_shared / shared_file:.0f}×** on the shared texts (ScanCode: start-up, a run on one file, "
            "subtracted; its index cache built beforehand; CPU seconds, as the machine is shared)."
        )
        out.append("")
    print("\n".join(out))
    (ROOT / "benchmarks/work").mkdir(parents=True, exist_ok=True)
    with open(ROOT / "benchmarks/work/license_ident_bench.json", "w") as fh:
        json.dump({"wrong": wrong, "loo": loo_known}, fh, indent=1)


if __name__ == "__main__":
    main()
