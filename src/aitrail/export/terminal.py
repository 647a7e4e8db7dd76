"""The default terminal summary (rich), written to stderr-safe consoles."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..model import Inventory, RelationshipKind, Severity
from .markdown import _params, _size

COLOURS = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render(inv: Inventory, console: Console) -> None:
    for m in inv.models():
        p = m.properties
        console.rule(f"[bold]{m.name}[/bold]" + (f" @ {m.version}" if m.version else ""))
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        t.add_row("folder", escape(str(p.get("root") or ".")))
        t.add_row("architecture", str(p.get("architecture") or "unknown"))
        t.add_row("task", str(p.get("task") or "unknown"))
        t.add_row("parameters", _params(p.get("parameter_count")))
        licences = [f"{escape(lic.value)} [dim]({escape(str(lic.evidence))})[/dim]" for lic in m.licenses]
        t.add_row("licence", ", ".join(licences) or "[yellow]none declared[/yellow]")
        for r in inv.outgoing(m.id, RelationshipKind.DERIVED_FROM):
            t.add_row(
                "derived from",
                f"{r.target.split(':', 1)[1]} ({r.derivation}) [dim]"
                f"{escape(', '.join(map(str, r.evidence)))}[/dim]",
            )
        ds = inv.related(m.id, RelationshipKind.TRAINED_ON)
        if ds:
            t.add_row(
                "trained on",
                f"{len(ds)} datasets: " + ", ".join(d.name for d in ds[:6]) + (" …" if len(ds) > 6 else ""),
            )
        console.print(t)
        files = Table("file", "type", "format", "size", "sha256", box=None, header_style="bold")
        root = str(p.get("root") or ".")
        for c in inv.related(m.id, RelationshipKind.CONTAINS):
            if c.path:
                shown = c.path[len(root) + 1 :] if root != "." and c.path.startswith(root + "/") else c.path
                files.add_row(
                    shown, str(c.type), c.format or "", _size(c.size), (c.sha256 or "")[:12] or "[dim]not hashed[/dim]"
                )
        console.print(files)
    if inv.findings:
        console.rule("findings")
        for f in sorted(inv.findings, key=lambda f: -f.severity.rank):
            console.print(f"[{COLOURS[f.severity]}]{f.severity:>8}[/] {f.rule}: {escape(f.message)}", highlight=False)
    present = sum(c.present for c in inv.completeness)
    console.print(
        f"\ncompleteness: {present}/{len(inv.completeness)} minimum elements present"
        f" (see --format markdown for what is missing and how to supply it)"
    )
