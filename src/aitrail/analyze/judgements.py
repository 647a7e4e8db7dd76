"""The verdicts every BOM carries for a scanned model: licence use verdicts and openness grades.

One place, so the CycloneDX properties, SPDX annotations and the Markdown summary say the same.
"""

from __future__ import annotations

from ..model import Component, Inventory
from . import licenses, openness


def for_model(inv: Inventory, m: Component) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for use in licenses.USES:
        rep = licenses.report(inv, use, models=[m])
        out.append((f"license.verdict.{use}", rep["verdict"]))
    a = openness.assess(openness.declaration_from_inventory(inv, m))
    out += [
        ("openness.mof.class", str(a["mof"]["class"])),
        ("openness.mof.label", a["mof"]["label"]),
        ("openness.osaid", a["osaid"]["verdict"]),
        ("openness.index.score", f"{a['index']['score']:g}/{a['index']['max']}"),
        ("openness.summary", a["summary"]),
    ]
    return out
