"""A human summary in Markdown (for pull requests and tickets)."""

from __future__ import annotations

from typing import Any

from ..analyze import judgements
from ..model import Component, ComponentType, Inventory, RelationshipKind
from .summary import params as _params
from .summary import size as _size


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def model_section(inv: Inventory, m: Component) -> list[str]:
    p = m.properties
    out = [f"## {m.name}", ""]
    rows = [
        ("Version", m.version or "not declared"),
        ("Architecture", p.get("architecture") or "unknown"),
        ("Task", p.get("task") or "unknown"),
        ("Parameters", _params(p.get("parameter_count"))),
        ("Licence (declared)", ", ".join(f"{lic.value} ({lic.evidence})" for lic in m.licenses) or "none found"),
    ]
    if p.get("quantization"):
        rows.append(("Quantization", p["quantization"]))
    verdicts = dict(judgements.for_model(inv, m))
    rows.append(
        (
            "May I use it…",
            ", ".join(
                f"{use}: {verdicts[f'license.verdict.{use}'].replace('_', ' ')}"
                for use in ("commercial", "research", "internal", "redistribute")
            ),
        )
    )
    rows.append(
        (
            "Openness",
            f"{verdicts['openness.mof.label']}; OSAID {verdicts['openness.osaid'].replace('_', ' ')};"
            f" Open Source AI Index {verdicts['openness.index.score']}",
        )
    )
    rows.append(("In plain words", verdicts["openness.summary"]))
    out += ["| | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in rows] + [""]
    lineage = inv.outgoing(m.id, RelationshipKind.DERIVED_FROM)
    if lineage:
        out += ["### Lineage", ""]
        for r in lineage:
            out.append(
                f"- derived from **{r.target.split(':', 1)[1]}** ({r.derivation or 'unknown'}; "
                f"{', '.join(map(str, r.evidence))})"
            )
        out.append("")
    for kind, title in (
        (RelationshipKind.TRAINED_ON, "Training datasets"),
        (RelationshipKind.TESTED_ON, "Evaluation datasets"),
    ):
        ds = inv.related(m.id, kind)
        if ds:
            out += [f"### {title} ({len(ds)})", "", ", ".join(d.name for d in ds), ""]
    files = [c for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.path]
    out += ["### Files", "", "| File | Type | Format | Size | SHA-256 |", "|---|---|---|---|---|"]
    for f in files:
        out.append(
            f"| {_cell(f.path)} | {f.type} | {f.format or ''} | {_size(f.size)} | "
            f"{('`' + f.sha256[:16] + '…`') if f.sha256 else 'not hashed'} |"
        )
    libs = [c for c in inv.related(m.id, RelationshipKind.DEPENDS_ON) if c.type == ComponentType.LIBRARY]
    if libs:
        out += ["", "### Libraries", "", ", ".join(f"{c.name}{c.properties.get('version_spec') or ''}" for c in libs)]
    return out + [""]


def dumps(inv: Inventory, **_: Any) -> str:
    out = [
        f"# AI bill of materials: {inv.target}",
        "",
        f"Scanned by aitrail {inv.tool_version}: {len(inv.models())} model(s), {len(inv.components)} components, "
        f"{len(inv.findings)} findings.",
        "",
    ]
    for m in inv.models():
        out += model_section(inv, m)
    if inv.findings:
        out += ["## Findings", "", "| Severity | Rule | Where | Message |", "|---|---|---|---|"]
        for f in sorted(inv.findings, key=lambda f: -f.severity.rank):
            out.append(f"| {f.severity} | {f.rule} | {_cell(f.path or '')} | {_cell(f.message)} |")
        out.append("")
    missing = [c for c in inv.completeness if not c.present]
    present = [c for c in inv.completeness if c.present]
    out += ["## Completeness", "", f"{len(present)} of {len(inv.completeness)} minimum elements present.", ""]
    if missing:
        out += ["| Missing | Framework | How to supply |", "|---|---|---|"]
        out += [f"| {_cell(c.title)} | {c.framework} | {_cell(c.how_to_supply or '')} |" for c in missing]
    return "\n".join(out) + "\n"
