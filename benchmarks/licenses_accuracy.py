"""Licence identification: aitrail and ScanCode on the same texts, in the same run. Prints Markdown.

    .venv/bin/python benchmarks/licenses_accuracy.py [--scancode benchmarks/work/scancode/bin/scancode]

ScanCode: `pip install scancode-toolkit-mini "pluggy<1.6"` into its own venv. For every text in
shared/data/licenses/texts (MANIFEST.csv gives the expected ScanCode key; empty = ScanCode has none)
each tool's answer is *exact*, *unknown* (no answer) or *wrong* (a confident other licence).
Also: cold start (a fresh process identifying one file), warm per-file time, and the Data Provenance
Initiative reproduction (hub tags more permissive than the audited licence).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))
SHARED = ROOT.parent / "shared" / "data"
TEXTS = SHARED / "licenses" / "texts"

from gen_license_fingerprints import NO_SCANCODE_KEY  # noqa: E402

from aitrail.analyze import license_text as T  # noqa: E402
from aitrail.analyze import licenses as L  # noqa: E402

COPIES = 5


def expected_id(row: dict) -> str:
    key = row["expected_scancode_key"]
    return L.knowledge().lookup(key).id if key else NO_SCANCODE_KEY[row["file"]]


def aitrail_rows(rows: list[dict]) -> dict[str, str]:
    out = {}
    for r in rows:
        res = T.identify_file(str(TEXTS / r["file"]))
        want = expected_id(r)
        out[r["file"]] = (
            "exact" if res.known and res.licenses[0].license_id == want else "unknown" if not res.known else "wrong"
        )
    return out


def scancode_rows(scancode: str, rows: list[dict]) -> tuple[dict[str, str], dict[str, str], float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        for r in rows:
            dst = Path(tmp) / r["file"].replace("/", "__")
            dst.write_bytes((TEXTS / r["file"]).read_bytes())
        t = time.perf_counter()
        subprocess.run(
            [scancode, "-l", "--json", f"{tmp}.json", tmp, "--processes", "1", "--quiet"],
            check=True,
            capture_output=True,
        )
        t_cold = time.perf_counter() - t
        # warm speed: COPIES copies of every text, so that start-up is small beside the work
        many = Path(tmp + "-many")
        many.mkdir()
        for k in range(COPIES):
            for f in Path(tmp).glob("*.txt"):
                (many / f"{k}-{f.name}").write_bytes(f.read_bytes())
        t = time.perf_counter()
        subprocess.run(
            [scancode, "-l", "--json", f"{tmp}-many.json", str(many), "--processes", "1", "--quiet"],
            check=True,
            capture_output=True,
        )
        t_all = time.perf_counter() - t
        one = Path(tmp) / "one"
        one.mkdir()
        (one / "x.txt").write_text("MIT")
        t = time.perf_counter()
        subprocess.run(
            [scancode, "-l", "--json", f"{tmp}-1.json", str(one), "--processes", "1", "--quiet"],
            check=True,
            capture_output=True,
        )
        t_one = time.perf_counter() - t
        doc = json.loads(Path(f"{tmp}.json").read_text())
    got = {
        Path(f["path"]).name.replace("__", "/"): (f.get("detected_license_expression") or "")
        for f in doc["files"]
        if f["type"] == "file"
    }
    verdicts, answers = {}, {}
    for r in rows:
        ans = got.get(r["file"], "")
        answers[r["file"]] = ans
        want = r["expected_scancode_key"]
        verdicts[r["file"]] = "exact" if want and ans == want else "unknown" if not ans else "wrong"
    per_file = max(t_all - t_one, 0.0) / (COPIES * len(rows))
    return verdicts, answers, t_cold, per_file


def dpi_reproduction() -> tuple[int, int, int]:
    import glob

    base = SHARED / "data-provenance"
    classes = json.loads((base / "constants/license_classes.json").read_text())
    flat = {
        r["unique_dataset_identifier"]: r
        for r in csv.DictReader(open(base / "dpi-licenses-flat.csv"))
        if r["modality"] == "text"
    }
    order = {"All": 2, "NC": 1, "Acad": 0, "?": 0}
    audited = {"commercial": 2, "non-commercial": 1, "academic-only": 0}
    denom = use_more = use_or_attr = 0
    for f in glob.glob(str(base / "data_summaries/*.json")):
        if "_template" in f:
            continue
        for rec in json.loads(Path(f).read_text()).values():
            im = rec.get("Inferred Metadata")
            if im is None or "HF Yaml License" not in im:
                continue
            denom += 1
            tag = im.get("HF Yaml License")
            if not tag or tag == "Unspecified" or tag not in classes:
                continue
            c = classes[tag]
            row = flat[rec["Unique Dataset Identifier"]]
            a = row["license_use"]
            if c[0] in order and a in audited:
                more = order[c[0]] > audited[a]
                same = order[c[0]] == audited[a]
                use_more += more
                use_or_attr += more or (same and int(c[1]) < int(row["license_attribution"] or 0))
    return denom, use_more, use_or_attr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scancode")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(TEXTS / "MANIFEST.csv", encoding="utf-8")))
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'src'); from aitrail.analyze.license_text "
            f"import identify_file; identify_file({str(TEXTS / 'llama3.txt')!r})",
        ],
        check=True,
        cwd=ROOT,
    )
    cold = time.perf_counter() - t
    ours = aitrail_rows(rows)  # the verdicts, and a warm-up
    t = time.perf_counter()
    for _ in range(COPIES):
        aitrail_rows(rows)
    warm = (time.perf_counter() - t) / (COPIES * len(rows))
    out = [
        "## Licence identification: aitrail and ScanCode on the same texts",
        "",
        f"{len(rows)} texts ({sum(1 for r in rows if r['expected_scancode_key'])} with a ScanCode key, "
        f"{sum(1 for r in rows if not r['expected_scancode_key'])} without). *wrong* = a confident answer naming "
        "another licence.",
        "",
    ]
    theirs = answers = None
    if args.scancode:
        theirs, answers, sc_cold, sc_warm = scancode_rows(args.scancode, rows)
    head = "| texts | aitrail exact | aitrail unknown | aitrail wrong |"
    if theirs:
        head += " ScanCode exact | ScanCode unknown | ScanCode wrong |"
    out += [head, "|---" * head.count("|")[:-1] + "|" if False else "|" + "---|" * (head.count("|") - 1)]
    for label, sel in (
        ("with a ScanCode key", lambda r: r["expected_scancode_key"]),
        ("without a key", lambda r: not r["expected_scancode_key"]),
    ):
        part = [r["file"] for r in rows if sel(r)]
        line = (
            f"| {label} ({len(part)}) | "
            + " | ".join(str(sum(ours[f] == v for f in part)) for v in ("exact", "unknown", "wrong"))
            + " |"
        )
        if theirs:
            line += (
                " " + " | ".join(str(sum(theirs[f] == v for f in part)) for v in ("exact", "unknown", "wrong")) + " |"
            )
        out.append(line)
    if theirs and answers:
        out += ["", "ScanCode's answers where it has no key:", ""]
        for r in rows:
            if not r["expected_scancode_key"]:
                out.append(f"- `{r['file']}` → `{answers[r['file']] or '(nothing)'}`")
    out += [
        "",
        "| speed | aitrail | ScanCode |",
        "|---|---|---|",
        f"| cold start (fresh process; ScanCode: its first run, on the {len(rows)} texts) | {cold:.2f} s | "
        f"{sc_cold:.1f} s |"
        if theirs
        else f"| cold start (fresh process, one file) | {cold:.2f} s | – |",
        f"| warm, per file ({COPIES} × {len(rows)} texts, start-up subtracted) | {warm * 1000:.1f} ms | "
        f"{sc_warm * 1000:.0f} ms |"
        if theirs
        else f"| warm, per file | {warm * 1000:.1f} ms | – |",
    ]
    if theirs:
        out += ["", f"aitrail is **{sc_warm / warm:.0f}×** ScanCode's warm per-file speed on these texts."]
    denom, use_more, use_or_attr = dpi_reproduction()
    out += [
        "",
        "## Data Provenance Initiative: hub tags more permissive than the audited licence",
        "",
        f"Of {denom} text datasets with licence metadata, the hub's `license:` tag is more permissive than the "
        f"audited licence for **{use_more}** (use class: commercial > non-commercial > academic) or {use_or_attr} "
        "(also counting a dropped attribution duty); the audit's own figure is 282 of 2,286. The residue is "
        "the audit's exact definition, which its data files do not spell out.",
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
