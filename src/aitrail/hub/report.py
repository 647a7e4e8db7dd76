"""``aitrail hub report DIR -o report.html``: one self-contained HTML file (inline SVG, no script,
no network) with a plot per question and the CSV behind each plot (shown and downloadable)."""

from __future__ import annotations

import base64
import csv
import io
import json
from html import escape
from pathlib import Path
from typing import Any, Sequence

from . import query

COLOURS = ("#3367d6", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#f9ab00")
SIGNALS = ("open_weights_licence", "data_declared", "code_linked", "paper", "evaluation")


def _csv(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    return buf.getvalue()


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def bars(rows: Sequence[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars: one per (label, value)."""
    if not rows:
        return '<p class="empty">no data</p>'
    top = max(v for _, v in rows) or 1
    h, lw, bw = 20, 260, 420
    out = [f'<svg class="chart" role="img" width="{lw + bw + 90}" height="{h * len(rows) + 6}" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, v) in enumerate(rows):
        y = i * h + 3
        w = max(1.0, bw * v / top)
        out.append(f'<text x="{lw - 6}" y="{y + 14}" text-anchor="end">{escape(str(label)[:40])}</text>'
                   f'<rect x="{lw}" y="{y}" width="{w:.1f}" height="{h - 4}" fill="{COLOURS[0]}">'
                   f"<title>{escape(str(label))}: {_num(v)}{unit}</title></rect>"
                   f'<text x="{lw + w + 4:.1f}" y="{y + 14}">{_num(v)}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def lines(xs: Sequence[Any], series: dict[str, Sequence[float]], unit: str = "%") -> str:
    """One line per series over the same x values (e.g. years), with a legend."""
    if not xs:
        return '<p class="empty">no data</p>'
    w, h, left, bottom = 640, 240, 40, 24
    top = max([max(s) for s in series.values() if s] + [1e-9])
    step = (w - left - 10) / max(1, len(xs) - 1)
    out = [f'<svg class="chart" role="img" width="{w + 190}" height="{h + bottom}" xmlns="http://www.w3.org/2000/svg">',
           f'<line x1="{left}" y1="{h}" x2="{w}" y2="{h}" stroke="#999"/>']
    for i, x in enumerate(xs):
        out.append(f'<text x="{left + i * step:.1f}" y="{h + 16}" text-anchor="middle">{escape(str(x))}</text>')
    out.append(f'<text x="{left - 4}" y="12" text-anchor="end">{top:.3g}{unit}</text>')
    for k, (name, ys) in enumerate(series.items()):
        c = COLOURS[k % len(COLOURS)]
        pts = " ".join(f"{left + i * step:.1f},{h - (h - 10) * y / top:.1f}" for i, y in enumerate(ys))
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"><title>{escape(name)}</title>'
                   f"</polyline>")
        out.append(f'<rect x="{w + 10}" y="{10 + 18 * k}" width="12" height="12" fill="{c}"/>'
                   f'<text x="{w + 28}" y="{21 + 18 * k}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _section(title: str, what: str, chart: str, names: Sequence[str], rows: Sequence[Sequence[Any]], slug: str) -> str:
    data = _csv(names, rows)
    uri = "data:text/csv;base64," + base64.b64encode(data.encode("utf-8")).decode("ascii")
    return (
        f'<section id="{slug}"><h2>{escape(title)}</h2><p>{escape(what)}</p>{chart}'
        f'<details><summary>data ({len(rows):,} rows) — <a download="{slug}.csv" href="{uri}">{slug}.csv</a>'
        f"</summary><pre>{escape(data[:20000])}</pre></details></section>"
    )


def html(out: Path, progress: bool = False) -> str:
    con = query.connect(out)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    summary: dict[str, Any] = {}
    if (out / "summary.json").is_file():
        summary = json.loads((out / "summary.json").read_text("utf-8"))
    parts = []
    n = q("select count(*) from results")[0][0]

    lic = q("select coalesce(license_id, '(none declared)'), count(*) from results group by 1 order by 2 desc limit 20")
    parts.append(_section("Licence distribution", "Declared licences, normalised by the licence knowledge base "
                          "(top 20).", bars(lic), ["licence", "models"], lic, "licences"))

    by_year = q("select year, count(*), avg(case when license_id is not null then 100.0 else 0 end), "
                "avg(case when verdict_commercial = 'allowed' then 100.0 else 0 end), "
                "avg(case when verdict_commercial = 'not_allowed' then 100.0 else 0 end) "
                "from results where year is not null group by 1 order by 1")
    parts.append(_section(
        "Licences over time", "Share of models (by year last modified) declaring a licence, and the "
        "commercial-use verdict.", lines([r[0] for r in by_year], {
            "declares a licence": [r[2] for r in by_year],
            "commercial use allowed": [r[3] for r in by_year],
            "commercial use not allowed": [r[4] for r in by_year]}),
        ["year", "models", "pct_licensed", "pct_commercial_allowed", "pct_commercial_not_allowed"],
        by_year, "licence-years"))

    cols = ", ".join(f"avg(case when {s} then 100.0 else 0 end)" for s in SIGNALS)
    sy = q(f"select year, count(*), {cols} from results where year is not null group by 1 order by 1")
    parts.append(_section("Openness signals by year", "Share of models with an open weights licence, declared "
                          "training data, linked code, a paper, evaluation results.",
                          lines([r[0] for r in sy], {s: [r[2 + i] for r in sy] for i, s in enumerate(SIGNALS)}),
                          ["year", "models", *SIGNALS], sy, "openness-years"))
    so = q(f"select org, count(*) n, {cols} from results where org is not null group by 1 order by n desc, 1 limit 20")
    parts.append(_section("Openness signals by organisation", "The 20 organisations with most models: share with "
                          "declared training data.", bars([(r[0], r[3]) for r in so], "%"),
                          ["org", "models", *SIGNALS], so, "openness-orgs"))

    comp = q("select completeness_present, count(*) from results group by 1 order by 1")
    total = q("select max(completeness_total) from results")[0][0] or 0
    parts.append(_section("Documentation completeness", f"Minimum elements present per model (of {total}).",
                          bars([(str(a), b) for a, b in comp]), ["elements_present", "models"], comp, "completeness"))
    missing = q("select m, count(*) from (select unnest(completeness_missing) m from results) group by 1 "
                "order by 2 desc")
    parts.append(_section("Missing elements", "How many models miss each minimum element.",
                          bars(missing), ["element", "models"], missing, "missing-elements"))

    lin = summary.get("lineage") or {}
    if (out / "lineage" / "closure.parquet").is_file():
        depth = q("select depth, count(*) from closure group by 1 order by 1")
        parts.append(_section("Lineage depth", "Longest chain of bases above each model (cycles collapsed).",
                              bars([(str(a), b) for a, b in depth]), ["depth", "models"], depth, "lineage-depth"))
        drift = [(d["from"], d["to"], d["count"]) for d in lin.get("licence_drift_top", [])]
        parts.append(_section("Licence drift", "Licence of a base -> licence its derivative declares (top pairs).",
                              bars([(f"{a} -> {b}", c) for a, b, c in drift]), ["base_licence", "model_licence",
                                                                                  "models"], drift, "licence-drift"))
        la = lin.get("laundering", {})
        ex = [(e["model"], e["declares"], e["base"], e["base_licence"], " > ".join(e["chain"]), e["binds"])
              for e in la.get("examples", [])]
        parts.append(_section(f"Licence laundering: {la.get('count', 0):,} models",
                              "Models declaring a permissive commercial licence below a base whose licence binds "
                              "derivatives (examples).", bars([("laundering", la.get("count", 0))]),
                              ["model", "declares", "base", "base_licence", "chain", "binding_terms"], ex,
                              "laundering"))
        beyond = lin.get("bases_beyond_run")
        if beyond:  # bases the run does not hold: who resolved them, and those nobody knows
            un = beyond["unresolved"]
            rows = [(k, v, "") for k, v in sorted(beyond["resolved_by"].items())]
            rows.append(("unresolved", un["count"], ", ".join(un["examples"])))
            parts.append(_section(
                "Bases beyond the run", f"Bases that are not models of the run, by who resolved their licence "
                f"(hub index: {beyond.get('hub_index') or 'none given'}); "
                f"{beyond['models_below_unresolved']:,} models lie below an unresolved base (their chains are "
                "unknown, not free).", bars([(a, b) for a, b, _ in rows]), ["resolved_by", "bases", "examples"],
                rows, "bases-beyond-run"))
    errs = [(r, c["count"], ", ".join(map(str, c["examples"]))) for r, c in summary.get("errors_by_rule", {}).items()]
    parts.append(_section("Malformed rows", "Rows not judged (or judged without their front matter), by rule.",
                          bars([(a, b) for a, b, _ in errs]), ["rule", "rows", "examples"], errs, "errors"))
    head = (f"{n:,} models judged; {summary.get('errors', 0):,} errors; "
            f"{summary.get('duplicate_ids', {}).get('count', 0):,} duplicate ids")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>aitrail hub report</title>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\"><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1000px}"
        "svg text{font:11px system-ui,sans-serif}section{margin:2em 0}pre{max-height:20em;overflow:auto;"
        "background:#f6f6f6;padding:.5em}</style></head><body>"
        f"<h1>aitrail hub report</h1><p id=summary>{escape(head)}</p>" + "".join(parts) + "</body></html>\n"
    )
