"""The ``aitrail check`` report in Markdown, sized for a pull-request comment (details folded)."""

from __future__ import annotations

from typing import Any

from . import summary as S

ICON = {True: "✅", False: "❌"}


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render(doc: dict[str, Any], timestamp: str | None = None) -> str:
    lic = doc["licenses"]
    pol = doc.get("policy")
    out = [f"# aitrail check: `{doc['inventory']['target']}`", ""]
    unknown = S.unknown_licence(doc)
    if unknown:
        out += [f"**⚠️ Licence: UNKNOWN for {lic['use']} use** — " + "; ".join(_cell(w) for w in unknown), ""]
    if pol is not None:
        out += [f"**{ICON[pol['passed']]} {S.headline(doc)}** (policy: `{pol['source']}`)", ""]
        for v in pol["violations"]:
            out.append(f"- ❌ **{v['policy_key']}**: {v['message']}")
            out += [f"  - {e}" for e in v["evidence"][:5]]
            if len(v["evidence"]) > 5:
                out.append(f"  - … {len(v['evidence']) - 5} more")
        for w in pol.get("waived", []):
            out.append(f"- waived: `{w['rule']}` in `{w['path']}` — {w['reason']}")
        out.append("")
    for m in S.models(doc):
        out += [f"## {m.name}", "", "| | |", "|---|---|"]
        rows = [
            ("Version", m.version or "not declared"),
            ("Architecture / task", f"{m.architecture or 'unknown'} / {m.task or 'unknown'}"),
            ("Parameters", m.parameters),
            ("Weights", "/".join(m.formats) or "none found"),
            ("Files", f"{len(m.files)} ({S.size(m.total_size)})"),
            ("Licence (declared)", "; ".join(m.licences) or "none found"),
            (f"May I use it ({lic['use']})?", S.VERDICT_WORDS[m.licence_verdict]),
            ("Derived from", "; ".join(f"{b} ({d})" for b, d, _ in m.bases) or "none declared"),
            ("Trained on", ", ".join(m.datasets) or "not declared"),
        ]
        if m.openness:
            o = m.openness
            rows += [
                ("MOF", o["mof"]["label"]),
                ("OSI OSAID 1.0", o["osaid"]["verdict"].replace("_", " ")),
                ("Open Source AI Index", f"{o['index']['score']:g}/{o['index']['max']}"),
            ]
        rows.append(("Minimum elements", f"{m.present_count}/{m.element_count} present"))
        out += [f"| {k} | {_cell(v)} |" for k, v in rows]
        out.append("")
        if m.openness:
            out += [f"> {m.openness['summary']}", ""]
        if m.missing:
            out += ["<details><summary>Missing minimum elements</summary>", ""]
            out += [f"- **{c['element']}** {c['title']}: {c.get('how_to_supply') or ''}" for c in m.missing]
            out += ["", "</details>", ""]
    if lic["obligations"]:
        out += [f"### Obligations ({lic['use']} use)", ""]
        out += [
            f"- {o['text']} — *{o['license']}, {o['clause'] or 'clause not recorded'}* (via {o['via']})"
            for o in lic["obligations"]
        ]
        out.append("")
    counts = S.severity_counts(doc)
    sec = doc["security"]
    out += [
        "### Security",
        "",
        f"{len(sec['files'])} files checked with rules v{sec['rules_version']}: "
        + (", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"),
        "",
    ]
    findings = S.security_findings(doc, "low")
    if findings:
        out += ["| Severity | Rule | Where | Message |", "|---|---|---|---|"]
        out += [
            f"| {x['severity']} | `{x['rule']}` | `{_cell(x['location'])}` | {_cell(x['message'])} |"
            for x in findings[:50]
        ]
        out.append("")
    other = [f for f in S.other_findings(doc) if f["severity"] != "info"]
    if other:
        out += ["### Other findings", ""]
        out += [f"- **{f['severity']}** `{f['rule']}`: {f['message']}" for f in other[:30]]
        out.append("")
    out += ["<details><summary>Digests (SHA-256)</summary>", "", "| File | SHA-256 |", "|---|---|"]
    out += [f"| `{_cell(f['path'])}` | `{f['sha256'] or 'unreadable'}` |" for f in sec["files"]]
    out += ["", "</details>", ""]
    tail = f"aitrail {doc['inventory']['tool']['version']}"
    if timestamp:
        tail += f", {timestamp}"
    out.append(f"<sub>{tail} · licence knowledge base v{lic['knowledge_base_version']}</sub>")
    return "\n".join(out) + "\n"
