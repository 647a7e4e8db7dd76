"""The one-screen terminal summary of ``aitrail check``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import summary as S
from .terminal import COLOURS

COLOUR = {str(k): v for k, v in COLOURS.items()}  # the scan summary's colours, keyed by severity name
VERDICT_COLOUR = {"allowed": "green", "allowed_with_obligations": "green", "unknown": "yellow", "not_allowed": "red"}


def render(doc: dict[str, Any], console: Console, max_lines: int = 5) -> None:
    lic = doc["licenses"]
    unknown = S.unknown_licence(doc)
    if unknown:
        console.print(f"[bold yellow]licence: UNKNOWN for {lic['use']} use[/] — " + escape("; ".join(unknown)))
    for m in S.models(doc):
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", min_width=9)
        t.add_column()
        what = ", ".join(
            x
            for x in (
                m.architecture,
                m.task,
                f"{m.parameters} parameters" if m.parameters != "unknown" else None,
                "/".join(m.formats) or "no weights",
                f"{len(m.files)} files, {S.size(m.total_size)}",
            )
            if x
        )
        t.add_row(
            "model",
            f"[bold]{escape(m.name)}[/bold]" + (f" {escape(m.version)}" if m.version else "") + f"  {escape(what)}",
        )
        lineage = [f"{escape(b)} ({d})" for b, d, _ in m.bases]
        if m.datasets:
            lineage.append(
                f"trained on {len(m.datasets)} dataset(s): "
                + escape(", ".join(m.datasets[:4]))
                + (" …" if len(m.datasets) > 4 else "")
            )
        t.add_row("lineage", "; ".join(lineage) or "[dim]no base model or dataset declared[/dim]")
        v = m.licence_verdict
        t.add_row(
            "licence",
            f"{lic['use']} use: [{VERDICT_COLOUR[v]}]{S.VERDICT_WORDS[v].upper()}[/]  "
            + escape("; ".join(m.licences) or "no licence declared"),
        )
        if m.openness:
            o = m.openness
            t.add_row(
                "openness",
                escape(
                    f"{o['mof']['label']}; OSAID 1.0: {o['osaid']['verdict'].replace('_', ' ')}; "
                    f"Open Source AI Index {o['index']['score']:g}/{o['index']['max']}"
                ),
            )
        t.add_row(
            "gaps",
            f"{m.present_count}/{m.element_count} minimum elements present"
            + (
                f"; missing: {escape(', '.join(c['element'] for c in m.missing[:6]))}"
                + (" …" if len(m.missing) > 6 else "")
                if m.missing
                else ""
            ),
        )
        console.print(t)
    obligations = lic["obligations"]
    if obligations:
        console.print(f"[bold]obligations[/bold] ({len(obligations)}):")
        for o in obligations[:max_lines]:
            console.print(
                f"  • {escape(o['text'])} [dim]({escape(o['license'])} {escape(o['clause'] or '')})[/dim]",
                highlight=False,
            )
        if len(obligations) > max_lines:
            console.print(f"  [dim]… {len(obligations) - max_lines} more in --report[/dim]")
    counts = S.severity_counts(doc)
    sec = doc["security"]
    console.print(
        f"[bold]security[/bold]  {len(sec['files'])} files, rules v{sec['rules_version']}: "
        + (", ".join(f"[{COLOUR[s]}]{n} {s}[/]" for s, n in counts.items()) or "[green]no findings[/green]")
    )
    for x in S.security_findings(doc, "medium")[:max_lines]:
        console.print(
            f"  [{COLOUR[x['severity']]}]{x['severity']:>8}[/] {escape(x['rule'])}: {escape(x['message'])}",
            highlight=False,
        )
    other = [f for f in S.other_findings(doc) if f["severity"] in ("critical", "high", "medium")]
    for f in other[:max_lines]:
        console.print(
            f"  [{COLOUR[f['severity']]}]{f['severity']:>8}[/] {escape(f['rule'])}: {escape(f['message'])}",
            highlight=False,
        )
    for s in sec.get("signatures", []):
        console.print(f"  [yellow]signature[/yellow] {escape(s['path'])}: {s['status']}")
    pol = doc.get("policy")
    if pol is not None:
        colour = "green" if pol["passed"] else "bold red"
        console.print(f"[{colour}]{S.headline(doc)}[/]  [dim](policy: {escape(pol['source'])})[/dim]")
        for v in pol["violations"][:max_lines]:
            console.print(f"  ✗ [bold]{escape(v['policy_key'])}[/bold]: {escape(v['message'])}", highlight=False)
            for e in v["evidence"][:2]:
                console.print(f"      [dim]{escape(e)}[/dim]", highlight=False)
        for w in pol.get("waived", [])[:max_lines]:
            console.print(f"  [dim]waived {escape(w['rule'])} in {escape(w['path'])}: {escape(w['reason'])}[/dim]")
