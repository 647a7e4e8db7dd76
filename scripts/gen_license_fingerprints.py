"""Regenerate the licence fingerprints in src/aitrail/knowledge/ (hashed word 5-grams; no licence text).

    benchmarks/work/scancode/bin/pip install scancode-toolkit-mini   # once: the wheel from PyPI
    .venv/bin/python scripts/gen_license_fingerprints.py ../shared/data/licenses/texts \\
        --licensedb benchmarks/work/scancode/lib/python3.11/site-packages/licensedcode/data/licenses

writes
- ``license_fingerprints.json``: the core set, loaded first (AI licences and the common ones): the
  upstream texts and the ScanCode LicenseDB texts listed in texts/MANIFEST.csv, each mapped to an
  aitrail licence id through its ScanCode key or, where ScanCode has none, by NO_SCANCODE_KEY;
- ``license_fingerprints_licensedb.json`` (with --licensedb): every other LicenseDB text (ScanCode
  LicenseDB data is CC-BY-4.0; the attribution is written into the file), loaded only when the core
  set cannot name a text. Deprecated keys, the "unknown"/generic placeholders and texts shorter than
  20 words are left out: they are not licences one could name from a text.

The LicenseDB file is compact: every distinct 5-gram hash is stored once, in a table ordered by
first appearance, with the references holding it (postings). A text's fresh words give runs of
postings naming one reference, which zlib shrinks to almost nothing: 2.4 M 5-grams of 2,361 texts
take ~1 M table entries and ~0.5 MB of postings.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from licensedb_files import entries as licensedb_entries  # noqa: E402

from aitrail.analyze import license_text  # noqa: E402
from aitrail.analyze.license_text import decode, encode, shingles, tokens, window_hashes  # noqa: E402
from aitrail.analyze.licenses import knowledge  # noqa: E402

OUT = ROOT / "src" / "aitrail" / "knowledge"
NO_SCANCODE_KEY = {
    "llama2-use-policy.txt": "LicenseRef-aitrail-llama-2-aup",
    "llama3.txt": "LicenseRef-aitrail-llama-3",
    "llama3-use-policy.txt": "LicenseRef-aitrail-llama-3-aup",
    "llama3.1-use-policy.txt": "LicenseRef-aitrail-llama-3.1-aup",
    "llama3.2-use-policy.txt": "LicenseRef-aitrail-llama-3.2-aup",
    "llama3.3-use-policy.txt": "LicenseRef-aitrail-llama-3.3-aup",
    "openmdw-1.1.txt": "LicenseRef-aitrail-openmdw-1.1",
    "tongyi-qianwen-research.txt": "LicenseRef-aitrail-tongyi-qianwen-research",
}
ATTRIBUTION = (
    "Hashed word 5-grams (no text) derived from the ScanCode LicenseDB, (c) nexB Inc. and others, "
    "licensed CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/), as shipped in the "
    "scancode-toolkit-mini {version} wheel (licensedcode/data/licenses); https://scancode-licensedb.aboutcode.org/. "
    "Changes: texts normalised and reduced to CRC32 hashes of 5-word windows."
)
MIN_WORDS = 20
HASH = (
    "5 normalised words: each word sum(byte_i * P**i) over its UTF-8 bytes, folded h*K + word, MurmurHash3 fmix64, "
    "top 32 bits; all mod 2**64 (aitrail.analyze.license_index: P, K)"
)


def core(texts: Path) -> tuple[dict[str, Any], set[str]]:
    kb = knowledge()
    refs, keys = [], set()
    for row in csv.DictReader(open(texts / "MANIFEST.csv", encoding="utf-8")):
        key = row["expected_scancode_key"]
        facts = kb.lookup(key) if key else None
        lid = facts.id if facts else NO_SCANCODE_KEY.get(row["file"])
        if lid is None:
            raise SystemExit(f"{row['file']}: no aitrail licence id for it: add one to the knowledge base")
        if row["file"].startswith("scancode-db/"):
            keys.add(key)
        text = (texts / row["file"]).read_text(encoding="utf-8")
        source = f"{row['source'] or 'scancode-licensedb'}:{row['file']}"
        for how, body in [("", text), *variants(text)]:  # the whole text first: it wins ties
            refs.append(
                {
                    "id": lid,
                    "source": source + how,
                    "words": len(tokens(body)),
                    "shingles": encode(shingles(tokens(body))),
                }
            )
    return {"version": 2, "shingle": 5, "hash": HASH, "references": refs}, keys


def variants(text: str) -> list[tuple[str, str]]:
    """The same licence without its optional trailing parts, as projects ship it: the terms alone (cut
    after "END OF TERMS AND CONDITIONS": Apache-2.0 without its appendix, the GNU licences without "How to
    Apply These Terms"), and Apache-2.0 with its boilerplate notice filled in but the appendix's
    instructions left out (``Copyright 2019 X / Licensed under the Apache License...``). Each is a
    reference of the same licence id."""
    out = []
    low = text.lower()
    end = low.find("end of terms and conditions")
    if end > 0 and len(low) - end > 200:
        out.append(("#terms-only", text[: end + len("end of terms and conditions")]))
    start, notice = low.find("appendix: how to apply the apache license"), low.find("copyright [yyyy]")
    if 0 < start < notice:
        out.append(("#notice-without-instructions", text[:start] + text[notice:]))
    return out


def licensedb_id(meta: dict[str, Any]) -> str:
    """The aitrail id a LicenseDB key maps to: the knowledge base's, else its SPDX id, else LicenseRef-scancode-."""
    return license_text.licensedb_id(meta["key"], meta.get("spdx_license_key") or None)


def licensedb(db: Path, skip_keys: set[str], version: str) -> dict[str, Any]:
    table: dict[int, int] = {}  # hash -> position in the table (order of first appearance)
    postings: list[list[int]] = []  # position -> the references holding that hash
    refs: list[dict[str, Any]] = []
    for meta, text in licensedb_entries(db):
        if meta["key"] in skip_keys or meta.get("is_deprecated") or meta.get("is_unknown") or meta.get("is_generic"):
            continue
        toks = tokens(text)
        if len(toks) < MIN_WORDS:
            continue
        hashes = dict.fromkeys(window_hashes(toks))  # distinct, in text order
        for h in hashes:
            p = table.setdefault(h, len(table))
            if p == len(postings):
                postings.append([])
            postings[p].append(len(refs))
        entry = {"id": licensedb_id(meta), "key": meta["key"], "name": meta.get("name") or meta["key"]}
        if meta.get("spdx_license_key"):
            entry["spdx"] = meta["spdx_license_key"]
        if meta.get("is_exception"):
            entry["exception"] = True
        entry.update(category=meta.get("category"), words=len(toks), size=len(hashes))
        refs.append(entry)
    if len(refs) >= 1 << 16 or max(map(len, postings)) >= 1 << 16:
        raise SystemExit("more references than uint16 postings hold: widen the encoding")
    flat = array("H", [r for holders in postings for r in holders])
    return {
        "version": 4,
        "shingle": 5,
        "hash": HASH,
        "attribution": ATTRIBUTION.format(version=version),
        "license": "CC-BY-4.0",
        "encoding": (
            "table: base64 of little-endian uint32 hashes (order of first appearance); counts: base64 of zlib of "
            "uint16, how many references hold each table entry; postings: base64 of zlib of uint16 reference "
            "indices, counts[i] of them for table entry i"
        ),
        "references": refs,
        "table": base64.b64encode(array("I", table).tobytes()).decode(),
        "counts": base64.b64encode(zlib.compress(array("H", map(len, postings)).tobytes(), 9)).decode(),
        "postings": base64.b64encode(zlib.compress(flat.tobytes(), 9)).decode(),
    }


def twins(core_doc: dict[str, Any], db: dict[str, Any]) -> None:
    """Mark core references that have near twins in the LicenseDB (80 % of each in the other): a text
    the core set names imperfectly is then checked against the LicenseDB too, where a twin may fit
    it better (X11-Acer is ISC with one word misspelt)."""
    from collections import Counter
    from itertools import accumulate

    table = array("I", base64.b64decode(db["table"]))
    pos = {h: i for i, h in enumerate(table)}
    counts = array("H", zlib.decompress(base64.b64decode(db["counts"])))
    post = array("H", zlib.decompress(base64.b64decode(db["postings"])))
    off = list(accumulate(counts, initial=0))
    for ref in core_doc["references"]:
        hashes = decode(ref["shingles"])
        inter = Counter(r for h in hashes if (p := pos.get(h)) is not None for r in post[off[p] : off[p + 1]])
        refs = db["references"]
        near = [
            refs[r]["key"]
            for r, n in inter.items()
            if n >= 0.8 * len(hashes) and n >= 0.8 * refs[r]["size"] and refs[r]["id"] != ref["id"]
        ]
        if near:
            ref["twins"] = sorted(near)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", type=Path, help="shared/data/licenses/texts (with MANIFEST.csv)")
    ap.add_argument("--licensedb", type=Path, help="licensedcode/data/licenses of the scancode-toolkit-mini wheel")
    ap.add_argument("--scancode-version", default="32.5.0")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if sys.byteorder != "little":
        raise SystemExit("the fingerprint files are little-endian: generate them on a little-endian machine")
    doc, keys = core(args.texts)
    db = licensedb(args.licensedb, keys, args.scancode_version) if args.licensedb else None
    if db is not None:
        twins(doc, db)
    with open(args.out / "license_fingerprints.json", "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=0)
        fh.write("\n")
    if db is not None:
        with open(args.out / "license_fingerprints_licensedb.json", "w", encoding="utf-8") as fh:
            json.dump(db, fh, indent=0)
            fh.write("\n")
        n_core, n_db = len(doc["references"]), len(db["references"])
        print(f"{n_core} core references, {n_db} LicenseDB references", file=sys.stderr)


if __name__ == "__main__":
    main()
