"""The verdicts every BOM carries for a scanned model: licence use verdicts and openness grades.

One place, so the CycloneDX properties, SPDX annotations and the Markdown summary say the same.
"""

from __future__ import annotations

from ..model import Component, Inventory
from . import licenses, openness


def use_verdict(inv: Inventory, m: Component, use: str) -> str:
    """``licenses.report(inv, use, models=[m])["verdict"]`` without the rest of the report.

    The full report also lists every licence finding of the inventory: per model and use that made the
    BOMs quadratic in models x findings.
    """
    return licenses.model_verdict(licenses.entries(inv, m, use))


def for_model(inv: Inventory, m: Component) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [(f"license.verdict.{use}", use_verdict(inv, m, use)) for use in licenses.USES]
    a = openness.assess(openness.declaration_from_inventory(inv, m))
    out += [
        ("openness.mof.class", str(a["mof"]["class"])),
        ("openness.mof.label", a["mof"]["label"]),
        ("openness.osaid", a["osaid"]["verdict"]),
        ("openness.index.score", f"{a['index']['score']:g}/{a['index']['max']}"),
        ("openness.summary", a["summary"]),
    ]
    return out
