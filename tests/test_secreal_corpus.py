"""The session-6 held-out kinds as one corpus (tests/data/security/secreal/manifest.csv, which
benchmarks/security_corpus.py also runs): every malicious file high or critical, every benign one not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from aitrail.analyze import security as S

HERE = Path(__file__).parent / "data" / "security" / "secreal"
ROWS = list(csv.DictReader((HERE / "manifest.csv").open(encoding="utf-8")))
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def test_the_manifest_lists_every_file():
    listed = {r["file"] for r in ROWS}
    folders = [HERE / d for d in ("benign", "attacks", "containers")]
    on_disk = {p.relative_to(HERE).as_posix() for d in folders for p in d.iterdir()}
    assert listed == on_disk


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_each_file_is_judged_for_what_it_is(row):
    path = HERE / row["file"]
    rep = S.scan_file(path, path.name, hash_file=False)
    worst = max((RANK[f.severity] for f in rep.findings), default=-1)
    found = [(f.severity, f.rule, f.message[:120]) for f in rep.findings if RANK[f.severity] >= RANK["high"]]
    assert (worst >= RANK["high"]) == (row["malicious"] == "1"), found
