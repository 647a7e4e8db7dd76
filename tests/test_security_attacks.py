"""Published attack techniques (tests/data/security/attacks/, made by scripts/make_attack_fixtures.py).

Every file there was proven to run its (harmless) payload when loaded by the loader a victim uses.
Each must come out high or critical *for the right reason*: a high/critical finding whose rule or
message names the row's ``why`` (the dangerous callable or construct) — a bare "not on any
allowlist" finding, or "malformed", does not count. Rows the scanner does not yet catch that way are
listed in AWAITING with the reason, as strict xfails: fixing one makes its xfail fail, so the list
only shrinks.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from aitrail.analyze import security

ATTACKS = Path(__file__).parent / "data" / "security" / "attacks"
ROWS = list(csv.DictReader((ATTACKS / "manifest.csv").open(encoding="utf-8")))
SHOWN = "target"  # the name shown in messages: never the fixture's own name, which spells its technique
NOT_A_REASON = {"pickle.unknown-global", "pickle.malformed", "file.malformed", "security.incomplete"}

AWAITING: dict[str, str] = {}


def reasons(row: dict[str, str]) -> list[str]:
    return [w.lower() for w in row["why"].split("|")]


def named(report: security.FileReport, row: dict[str, str]) -> list[security.SecurityFinding]:
    """High/critical findings that name the row's dangerous thing, from a rule other than 'unknown'."""
    hits = []
    for f in report.findings:
        text = f"{f.rule} {f.message}".lower()
        if f.severity in ("high", "critical") and f.rule not in NOT_A_REASON and any(w in text for w in reasons(row)):
            hits.append(f)
    return hits


def test_manifest_matches_folder() -> None:
    files = {p.relative_to(ATTACKS).as_posix() for p in ATTACKS.rglob("*") if p.is_file()}
    files -= {"manifest.csv", "README.md"}
    listed = [r["file"] for r in ROWS]
    assert len(listed) == len(set(listed)), "a file listed twice"
    assert set(listed) == files, f"unlisted: {sorted(files - set(listed))}; missing: {sorted(set(listed) - files)}"
    assert set(AWAITING) <= set(listed), f"AWAITING names files that are gone: {sorted(set(AWAITING) - set(listed))}"
    for r in ROWS:
        assert r["malicious"] == "1" and r["proven"] == "yes" and r["why"] and r["source"], r


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(r, id=r["file"], marks=[pytest.mark.xfail(strict=True, reason=AWAITING[r["file"]])])
        if r["file"] in AWAITING
        else pytest.param(r, id=r["file"])
        for r in ROWS
    ],
)
def test_attack_caught_for_its_reason(row: dict[str, str]) -> None:
    report = security.scan_file(ATTACKS / row["file"], SHOWN, hash_file=False)
    worst = [f.severity for f in report.findings]
    assert "high" in worst or "critical" in worst, f"not flagged: {[f.to_dict() for f in report.findings]}"
    found = [(f.severity, f.rule, f.message) for f in report.findings]
    assert named(report, row), f"flagged, but no high/critical rule names {row['why']!r}: {found}"
