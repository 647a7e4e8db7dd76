"""Regenerate src/aitrail/knowledge/license_fingerprints.json from reference licence texts.

    python scripts/gen_license_fingerprints.py ../shared/data/licenses/texts \
        > src/aitrail/knowledge/license_fingerprints.json

Only hashed word 5-grams are written (no licence text). References: the upstream texts and the
ScanCode LicenseDB texts (CC-BY-4.0) listed in texts/MANIFEST.csv, each mapped to an aitrail
licence id through its ScanCode key, or, where ScanCode has none, by the table below.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aitrail.analyze.license_text import encode, shingles, tokens  # noqa: E402
from aitrail.analyze.licenses import knowledge  # noqa: E402

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


def main(texts: Path) -> None:
    kb = knowledge()
    refs = []
    for row in csv.DictReader(open(texts / "MANIFEST.csv", encoding="utf-8")):
        key = row["expected_scancode_key"]
        facts = kb.lookup(key) if key else None
        lid = facts.id if facts else NO_SCANCODE_KEY.get(row["file"])
        if lid is None:
            raise SystemExit(f"{row['file']}: no aitrail licence id for it: add one to the knowledge base")
        text = (texts / row["file"]).read_text(encoding="utf-8")
        refs.append(
            {
                "id": lid,
                "source": f"{row['source'] or 'scancode-licensedb'}:{row['file']}",
                "words": len(tokens(text)),
                "shingles": encode(shingles(tokens(text))),
            }
        )
    out = {"version": 1, "shingle": 5, "hash": "crc32 of space-joined normalised words", "references": refs}
    json.dump(out, sys.stdout, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
