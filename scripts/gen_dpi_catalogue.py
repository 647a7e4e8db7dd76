"""Regenerate src/aitrail/knowledge/datasets_dpi.json: the Data Provenance Initiative's licence
audits, keyed by Hugging Face dataset id, as a dataset licence catalogue.

    python scripts/gen_dpi_catalogue.py ../shared/data/data-provenance \
        > src/aitrail/knowledge/datasets_dpi.json

Source: Data-Provenance-Initiative/Data-Provenance-Collection (Apache-2.0), its per-dataset audits
resolved as the DPI does (most restrictive licence wins: academic-only < non-commercial <
unspecified < commercial). Several audited subsets of one hub repository are merged, most
restrictive first. Only facts are kept: use class, licence names, attribution and share-alike.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

ORDER = ["academic-only", "non-commercial", "unspecified", "commercial"]
_HF = re.compile(r"huggingface\.co/datasets/([^/?#\s]+(?:/[^/?#\s]+)?)")


def main(src: Path) -> None:
    out: dict[str, dict] = {}
    for r in csv.DictReader(open(src / "dpi-licenses-flat.csv", encoding="utf-8")):
        m = _HF.search(r["hf_url"] or "")
        if not m or r["license_use"] not in ORDER:
            continue
        hid = m.group(1).removesuffix("/viewer")
        e = out.setdefault(hid, {"use": "commercial", "licenses": [], "attribution": 0, "share_alike": 0, "uids": []})
        if ORDER.index(r["license_use"]) < ORDER.index(e["use"]):
            e["use"] = r["license_use"]
        for lic in (x.strip() for x in r["licenses"].split("|")):
            if lic and lic not in e["licenses"]:
                e["licenses"].append(lic)
        e["attribution"] = max(e["attribution"], int(r["license_attribution"] or 0))
        e["share_alike"] = max(e["share_alike"], int(r["license_sharealike"] or 0))
        if len(e["uids"]) < 5:
            e["uids"].append(r["unique_dataset_identifier"])
    doc = {
        "version": 1,
        "source": "Data Provenance Initiative, Data-Provenance-Collection@ce6662de (Apache-2.0)",
        "datasets": dict(sorted(out.items())),
    }
    json.dump(doc, sys.stdout, separators=(",", ":"), ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
