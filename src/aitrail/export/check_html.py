"""The ``aitrail check`` report as one self-contained HTML page (inline CSS and SVG, no scripts,
nothing fetched), readable in a browser, forwardable by mail and printable (print CSS).

Written by hand: the page is plain tables plus one SVG lineage graph, which a template engine
would not make shorter, and a dependency-free page is what a reader can trust offline.
"""

from __future__ import annotations

import unicodedata
from html import escape
from typing import Any

from ..analyze.openness import badge
from . import summary as S

CSS = """
:root{--ok:#2e7d32;--warn:#b26a00;--bad:#c62828;--muted:#666;--line:#ddd;--bg:#fafafa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:#222;margin:0;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;word-break:break-all}
.banner{padding:12px 16px;border-radius:6px;font-weight:600;margin:12px 0}
.pass{background:#e8f5e9;color:var(--ok);border:1px solid #a5d6a7}
.fail{background:#ffebee;color:var(--bad);border:1px solid #ef9a9a}
.warn{background:#fff8e1;color:#8a5a00;border:1px solid #ffd54f}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:14px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.k{width:220px;font-weight:600;background:var(--bg)}
.sev{font-weight:700;text-transform:uppercase;font-size:12px}
.critical,.high,.not_allowed,.missing{color:var(--bad)}
.medium,.unknown,.licence{color:var(--warn)}
.low,.info{color:#1565c0}
.allowed,.allowed_with_obligations,.met,.present{color:var(--ok)}
.muted{color:var(--muted)}
code.nb{white-space:nowrap;word-break:normal}
.badges svg{margin-right:8px;vertical-align:middle}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
  border:1px solid currentColor}
nav{font-size:13px;margin:8px 0 0}
nav a{margin-right:12px;color:#1565c0}
svg.lineage{width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:var(--bg)}
footer{margin-top:32px;font-size:12px;color:var(--muted)}
@media print{
  nav{display:none}
main{max-width:none;padding:0}
body{font-size:11pt}
  h2{break-after:avoid}
table,svg,.banner{break-inside:avoid}
tr{break-inside:avoid}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  @page{margin:16mm}
}
"""

SECTIONS = [
    ("summary", "Summary"),
    ("lineage", "Lineage"),
    ("licences", "Licences"),
    ("openness", "Openness"),
    ("security", "Security"),
    ("completeness", "Completeness"),
    ("components", "Components"),
    ("digests", "Digests"),
]


def _e(s: Any) -> str:
    return escape("" if s is None else str(s))


def _table(head: list[str], rows: list[list[str]], raw: bool = False) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else _e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _kv(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f'<tr><td class="k">{_e(k)}</td><td>{v}</td></tr>' for k, v in rows) + "</table>"


def _verdict(v: str) -> str:
    return f'<span class="pill {_e(v)}">{_e(S.VERDICT_WORDS.get(v, v))}</span>'


def _sev(s: str) -> str:
    return f'<span class="sev {_e(s)}">{_e(s)}</span>'


# Advance widths of DejaVu Sans (the SVG's font) in em, rounded up so estimates err wide; a browser
# with another font still stays inside the box because long labels also get an exact textLength.
_NARROW = set("ijlI.,:;|!'`()[]{} ")
_SLIM = set("ftr-/")
_WIDE = set("MWmw@%&")
_PAD = 12  # px kept free inside a box, both sides together


def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F") or ord(ch) > 0xFFFF:
        return 1.0
    if ch in _NARROW:
        return 0.36
    if ch in _SLIM:
        return 0.43
    if ch in _WIDE:
        return 1.0
    if ch.isupper() or ch.isdigit() or not ch.isascii():
        return 0.78
    return 0.64


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width in px of ``text`` at ``size`` px: a bound, not a measurement."""
    return sum(map(_char_em, text)) * size * (1.1 if bold else 1.0)


def fit_text(text: str, avail: float, size: float, bold: bool = False) -> str:
    """``text``, or its longest prefix that fits ``avail`` px with an ellipsis."""
    if text_width(text, size, bold) <= avail:
        return text
    out, used, room = [], 0.0, avail - text_width("…", size, bold)
    for ch in text:
        w = text_width(ch, size, bold)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _wrap2(text: str, avail: float, size: float, bold: bool) -> list[str]:
    """One line, or two: the first broken after '/', '-', '_' or a space when one is near the end."""
    if text_width(text, size, bold) <= avail:
        return [text]
    first = fit_text(text, avail, size, bold).rstrip("…")
    cut = max(first.rfind(c) for c in "/-_ ")
    if cut >= len(first) // 2:
        first = first[: cut + 1]
    return [first.rstrip(), fit_text(text[len(first) :].lstrip(), avail, size, bold)]


def _svg_text(x: float, y: float, text: str, avail: float, size: float, full: str, attrs: str = "") -> str:
    """A centred <text> that cannot leave its box: an exact textLength when any font might overflow, and the
    full label as a tooltip."""
    bold = "bold" in attrs
    fitted = ""
    if len(text) * size * 1.1 > avail:  # otherwise even 1.1 em a character (any font, bold) fits
        fitted = f' textLength="{min(text_width(text, size, bold), avail):.0f}" lengthAdjust="spacingAndGlyphs"'
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="middle" font-size="{size:g}" '
        f'font-family="DejaVu Sans,sans-serif"{attrs}{fitted}><title>{_e(full)}</title>{_e(text)}</text>'
    )


def lineage_svg(m: S.ModelFacts, verdicts: dict[str, str], use: str) -> str:
    """Base models on the left, the model in the middle, training data on the right."""
    left = [(name, "derived from" if how == S.HOW["unknown"] else how) for name, how, _ in m.bases]
    right = [(d, "trained on") for d in m.datasets[:14]]
    more = len(m.datasets) - len(right)
    if more > 0:
        right.append((f"… {more} more datasets", ""))
    rows = max(len(left), len(right), 1)
    bw, bh, gap, pad = 250, 30, 10, 16
    height = pad * 2 + rows * (bh + gap)
    width = 900
    cx, cy = width / 2 - bw / 2, height / 2 - bh
    colour = {
        "allowed": "#2e7d32",
        "allowed_with_obligations": "#2e7d32",
        "unknown": "#b26a00",
        "not_allowed": "#c62828",
    }
    parts = [
        f'<svg class="lineage" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="lineage of {_e(m.name)}">',
        '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>',
    ]

    def box(x: float, y: float, w: float, h: float, label: str, verdict: str | None, bold: bool = False) -> None:
        stroke = colour.get(verdict or "", "#888")
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="5" fill="#fff" stroke="{stroke}" '
            f'stroke-width="{3 if bold else 1.5}"><title>{_e(label)}: '
            f"{_e(S.VERDICT_WORDS.get(verdict or '', 'no licence verdict'))} ({_e(use)})</title></rect>"
        )
        avail = w - _PAD
        lines = _wrap2(label, avail, 13, bold) if h >= 2 * bh else [fit_text(label, avail, 13, bold)]
        top = y + h / 2 + 5 - 8 * (len(lines) - 1)  # 16 px apart, centred as a block
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if bold else ""
            parts.append(_svg_text(x + w / 2, top + 16 * i, line, avail, 13, label, weight))

    box(cx, cy, bw, bh * 2, m.name, verdicts.get(m.id), bold=True)
    for i, (name, how) in enumerate(left):
        y = pad + i * (bh + gap) + (rows - len(left)) * (bh + gap) / 2
        box(pad, y, bw - 40, bh, name, verdicts.get(f"model:{name}"))
        parts.append(
            f'<line x1="{cx:.0f}" y1="{cy + bh:.0f}" x2="{pad + bw - 40:.0f}" y2="{y + bh / 2:.0f}" stroke="#555" '
            'marker-end="url(#arr)"/>'
        )
        # the edge label sits in the gap between the columns: bounded by it
        gap_w = cx - (pad + bw - 40) - 8
        label = fit_text(how, gap_w, 11)
        parts.append(
            _svg_text(
                (cx + pad + bw - 40) / 2,
                (cy + bh + y + bh / 2) / 2 - 4,
                label,
                gap_w,
                11,
                how,
                ' fill="#555"',
            )
        )
    for i, (name, how) in enumerate(right):
        y = pad + i * (bh + gap) + (rows - len(right)) * (bh + gap) / 2
        x = width - pad - (bw - 40)
        box(x, y, bw - 40, bh, name, verdicts.get(f"dataset:{name}"))
        if how:
            parts.append(
                f'<line x1="{cx + bw:.0f}" y1="{cy + bh:.0f}" x2="{x:.0f}" y2="{y + bh / 2:.0f}" stroke="#999" '
                'marker-end="url(#arr)"/>'
            )
    if not left and not right:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height - 6:.0f}" text-anchor="middle" font-size="12" fill="#666">'
            "no base model or training data declared</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _simple_badge(left: str, right: str, colour: str) -> str:
    wl, wr = 8 + 7 * len(left), 8 + 7 * len(right)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{wl + wr}" height="20" role="img" aria-label="{_e(left)}: '
        f'{_e(right)}"><rect width="{wl}" height="20" fill="#555"/><rect x="{wl}" width="{wr}" height="20" '
        f'fill="{colour}"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="4" y="14">{_e(left)}</text><text x="{wl + 4}" y="14">{_e(right)}</text></g></svg>'
    )


def render(doc: dict[str, Any], timestamp: str | None = None) -> str:
    lic = doc["licenses"]
    pol = doc.get("policy")
    sec = doc["security"]
    models = S.models(doc)
    verdicts = {c["component"]: c["verdict"] for c in lic["components"]}
    verdicts.update({m["model"]: m["verdict"] for m in lic["models"]})
    title = f"aitrail check: {doc['inventory']['target']}"
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        '<nav aria-label="sections">' + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in SECTIONS) + "</nav>",
    ]
    unknown = S.unknown_licence(doc)
    if unknown:
        h.append(
            f'<div class="banner warn" role="status">Licence: UNKNOWN for {_e(lic["use"])} use — '
            + "; ".join(_e(w) for w in unknown)
            + "</div>"
        )
    if pol is not None:
        cls = "pass" if pol["passed"] else "fail"
        h.append(
            f'<div class="banner {cls}" role="status">{_e(S.headline(doc))} '
            f'<span class="muted">(policy: {_e(pol["source"])})</span></div>'
        )
        if pol["violations"]:
            h.append(
                _table(
                    ["Policy key", "Violation", "Evidence"],
                    [
                        [
                            f'<code class="nb">{_e(v["policy_key"])}</code>',
                            _e(v["message"]),
                            "<br>".join(_e(e) for e in v["evidence"][:10]),
                        ]
                        for v in pol["violations"]
                    ],
                    raw=True,
                )
            )
        if pol.get("waived"):
            h.append(
                _table(["Waived rule", "File", "Reason"], [[w["rule"], w["path"], w["reason"]] for w in pol["waived"]])
            )

    h.append('<h2 id="summary">Summary</h2>')
    for m in models:
        rows = [
            ("Model", f"<strong>{_e(m.name)}</strong>" + (f" {_e(m.version)}" if m.version else "")),
            ("Architecture / task", f"{_e(m.architecture or 'unknown')} / {_e(m.task or 'unknown')}"),
            ("Parameters", _e(m.parameters)),
            ("Weights", _e("/".join(m.formats) or "none found")),
            ("Files", _e(f"{len(m.files)} ({S.size(m.total_size)})")),
            ("Licence (declared)", "<br>".join(_e(x) for x in m.licences) or "none found"),
            (f"May I use it ({lic['use']})?", _verdict(m.licence_verdict)),
        ]
        if m.openness:
            rows.append(("Openness", _e(m.openness["summary"])))
        rows.append(("Minimum elements", _e(f"{m.present_count}/{m.element_count} present")))
        h.append(_kv(rows))

    h.append('<h2 id="lineage">Lineage</h2>')
    h.append(
        '<p class="muted">Boxes are outlined by their licence verdict for the intended use '
        "(green: allowed; amber: unknown; red: not allowed).</p>"
    )
    for m in models:
        h.append(f"<h3>{_e(m.name)}</h3>{lineage_svg(m, verdicts, lic['use'])}")
        if m.bases:
            h.append(_table(["Base model", "How derived", "Evidence"], [[b, d, "; ".join(ev)] for b, d, ev in m.bases]))

    h.append(f'<h2 id="licences">Licences — {_e(lic["use"])} use: {_verdict(lic["verdict"])}</h2>')
    h.append(
        _table(
            ["Component", "Role", "Declared", "Licence", "Verdict", "Deciding clause", "Evidence"],
            [
                [
                    _e(c["name"]),
                    _e(c["role"]),
                    _e(c["declared"]),
                    _e(c["license_name"] or c["license"]),
                    _verdict(c["verdict"]),
                    _e(c["deciding_clause"] or ""),
                    "<br>".join(_e(e) for e in c["evidence"]),
                ]
                for c in lic["components"]
            ],
            raw=True,
        )
    )
    if lic["obligations"]:
        h.append("<h3>Obligations</h3>")
        h.append(
            _table(
                ["Obligation", "Licence", "Clause", "Via", "Flows down to derivatives"],
                [
                    [
                        o["text"],
                        o["license"],
                        o["clause"] or "",
                        f"{o['via']} ({o['role']})",
                        "yes" if o["flows_down"] else "no",
                    ]
                    for o in lic["obligations"]
                ],
            )
        )
    if lic["findings"]:
        h.append("<h3>Licence findings</h3>")
        h.append(
            _table(
                ["Severity", "Rule", "Message", "Source"],
                [
                    [_sev(f["severity"]), _e(f["rule"]), _e(f["message"]), _e(f.get("source") or "")]
                    for f in lic["findings"]
                ],
                raw=True,
            )
        )

    h.append('<h2 id="openness">Openness</h2>')
    for m in models:
        o = m.openness
        if not o:
            continue
        osaid_colour = {"pass": "#2e7d32", "pass_if_licenses_changed": "#b26a00", "fail": "#c62828"}[
            o["osaid"]["verdict"]
        ]
        h.append(f"<h3>{_e(m.name)}</h3>")
        h.append(
            '<p class="badges">'
            + badge(o)
            + _simple_badge("OSAID 1.0", o["osaid"]["verdict"].replace("_", " "), osaid_colour)
            + _simple_badge("OSAI Index", f"{o['index']['score']:g}/{o['index']['max']}", "#1565c0")
            + "</p>"
        )
        h.append(f"<p>{_e(o['summary'])}</p>")
        if o["mof"]["next_class_needs"]:
            h.append("<p><strong>Model Openness Framework — what the next class needs:</strong></p><ul>")
            h += [f"<li>{_e(n)}</li>" for n in o["mof"]["next_class_needs"]]
            h.append(f'</ul><p class="muted">Source: {_e(o["mof"]["source"])}</p>')
        items = [
            [
                _e(r["requirement"]),
                _e(it["item"]),
                f'<span class="{_e(it["status"])}">{_e(it["status"])}</span>',
                _e(", ".join(lic or "no licence" for lic in it["licenses"])),
                _e(r["clause"]),
            ]
            for r in o["osaid"]["requirements"]
            for it in r["items"]
        ]
        h.append("<p><strong>OSI Open Source AI Definition 1.0 checklist</strong></p>")
        h.append(_table(["Requirement", "Item", "Status", "Licences", "Clause"], items, raw=True))
        h.append(
            _table(
                ["Open Source AI Index dimension", "Grade", "Basis"],
                [[d["title"], d["class"], d["basis"]] for d in o["index"]["dimensions"].values()],
            )
        )

    counts = S.severity_counts(doc)
    h.append(
        f'<h2 id="security">Security</h2><p>{len(sec["files"])} files checked with rules v{_e(sec["rules_version"])}: '
        + (", ".join(f"{_sev(s)} {n}" for s, n in counts.items()) or '<span class="allowed">no findings</span>')
        + "</p>"
    )
    fs = S.security_findings(doc, "info")
    if fs:
        h.append(
            _table(
                ["Severity", "Rule", "Location", "Message", "File SHA-256"],
                [
                    [
                        _sev(x["severity"]),
                        _e(x["rule"]),
                        f"<code>{_e(x['location'])}</code>",
                        _e(x["message"]),
                        f"<code>{_e((x['sha256'] or '')[:16])}</code>",
                    ]
                    for x in fs
                ],
                raw=True,
            )
        )
    for s in sec.get("signatures", []):
        h.append(f"<p>Signature <code>{_e(s['path'])}</code>: {_e(s['status'])}</p>")
    other = S.other_findings(doc)
    if other:
        h.append("<h3>Other findings</h3>")
        h.append(
            _table(
                ["Severity", "Rule", "Where", "Message", "Source"],
                [
                    [
                        _sev(f["severity"]),
                        _e(f["rule"]),
                        f"<code>{_e(f.get('path') or '')}</code>",
                        _e(f["message"]),
                        _e(f.get("source") or ""),
                    ]
                    for f in other
                ],
                raw=True,
            )
        )

    h.append('<h2 id="completeness">Completeness against the minimum elements</h2>')
    for m in models:
        elements = m.elements  # grouped once in summary.models: a scan per model was quadratic
        h.append(f"<h3>{_e(m.name)}: {m.present_count}/{m.element_count} present</h3>")
        h.append(
            _table(
                ["Element", "Framework", "Status", "Found / how to supply"],
                [
                    [
                        f"<code>{_e(c['element'])}</code> {_e(c['title'])}",
                        _e(c["framework"]),
                        '<span class="present">present</span>'
                        if c["present"]
                        else '<span class="missing">missing</span>',
                        _e(c.get("evidence") if c["present"] else c.get("how_to_supply")),
                    ]
                    for c in elements
                ],
                raw=True,
            )
        )

    comps = doc["inventory"]["components"]
    h.append('<h2 id="components">Components</h2>')
    h.append(
        _table(
            ["Type", "Name", "Path", "Format", "Size", "Licence"],
            [
                [
                    c["type"],
                    c["name"],
                    c.get("path") or "",
                    c.get("format") or "",
                    S.size(c.get("size")),
                    ", ".join(lic_["value"] for lic_ in c.get("licenses", [])),
                ]
                for c in comps
            ],
        )
    )
    h.append('<h2 id="digests">Digests (SHA-256)</h2>')
    h.append(
        _table(
            ["File", "SHA-256", "Format"],
            [[f["path"], f["sha256"] or "unreadable", f["format"] or ""] for f in sec["files"]],
        )
    )
    foot = (
        f"aitrail {doc['inventory']['tool']['version']} · licence knowledge base v{lic['knowledge_base_version']}"
        f" · security rules v{sec['rules_version']}"
    )
    if timestamp:
        foot += f" · {timestamp}"
    h.append(f"<footer>{_e(foot)}</footer></main></body></html>")
    return "\n".join(h) + "\n"
