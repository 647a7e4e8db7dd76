"""What an ``aitrail check`` document says, per model, in the words every report uses.

The terminal, Markdown and HTML reports all render these facts, so they cannot disagree. The
input is the check *document* (a dict), so a stored document renders the same as a fresh one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model import Severity

SEVERITY_ORDER = tuple(s.value for s in reversed(Severity))  # worst first
HOW = {"unknown": "relation not declared"}  # e.g. a config's _name_or_path: a hint, not a declaration
VERDICT_WORDS = {
    "allowed": "allowed",
    "allowed_with_obligations": "allowed, with obligations",
    "unknown": "unknown",
    "not_allowed": "not allowed",
}


def size(n: int | None) -> str:
    if n is None:
        return ""
    f = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if f < 1000 or unit == "TB":
            return f"{f:.0f} {unit}" if unit == "B" else f"{f:.1f} {unit}"
        f /= 1000
    return str(n)


def params(n: Any) -> str:
    if not isinstance(n, int) or n <= 0:
        return "unknown"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            return f"{n / div:.1f}{suffix}"
    return str(n)


@dataclass
class ModelFacts:
    id: str
    name: str
    version: str | None
    architecture: str | None
    task: str | None
    parameters: str
    formats: list[str]
    files: list[dict[str, Any]]
    total_size: int
    licences: list[str]  # "apache-2.0 (README.md [license])"
    bases: list[tuple[str, str, list[str]]]  # (name, how derived, evidence)
    datasets: list[str]
    licence_verdict: str
    openness: dict[str, Any] | None
    missing: list[dict[str, Any]] = field(default_factory=list)
    present_count: int = 0
    element_count: int = 0
    elements: list[dict[str, Any]] = field(default_factory=list)  # its completeness items, in document order


def _ev(e: dict[str, Any] | None) -> str:
    if not e:
        return ""
    s = e.get("path", "")
    if e.get("key"):
        s += f" [{e['key']}]"
    if e.get("line"):
        s += f":{e['line']}"
    return s


def models(doc: dict[str, Any]) -> list[ModelFacts]:
    inv = doc["inventory"]
    by_id = {c["id"]: c for c in inv["components"]}
    verdicts = {m["model"]: m["verdict"] for m in doc["licenses"]["models"]}
    scanned = [c for c in inv["components"] if c["type"] == "model" and c.get("properties", {}).get("scanned")]
    # Group once (relationships by source and kind, completeness items by model) so the report stays
    # linear in the number of models: a scan per model made 1,000 models take minutes.
    out_rels: dict[tuple[str, str], list[Any]] = {}
    carriers: dict[str, list[dict[str, Any]]] = {}  # model id -> the packages that ship it
    package_entries: dict[str, list[dict[str, Any]]] = {}  # their licences as the verdict read them
    for e in doc["licenses"].get("components", []):
        if e.get("role") == "package" and e.get("evidence"):
            package_entries.setdefault(e["component"], []).append(e)
    for r in inv["relationships"]:
        out_rels.setdefault((r["source"], r["kind"]), []).append(r)
        if r["kind"] == "contains" and by_id.get(r["source"], {}).get("type") == "library":
            carriers.setdefault(r["target"], []).append(by_id[r["source"]])
    items_by_model: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    shared: list[tuple[int, dict[str, Any]]] = []  # items naming no model belong to every model
    for n, c in enumerate(inv["completeness"]):
        if "model" in c:
            items_by_model.setdefault(c["model"], []).append((n, c))
        else:
            shared.append((n, c))
    out = []
    for i, m in enumerate(scanned):
        p = m.get("properties", {})
        mid = m["id"]
        files = [by_id[r["target"]] for r in out_rels.get((mid, "contains"), [])]
        files = [f for f in files if f.get("path")]
        weights = sorted({f.get("format") or "?" for f in files if f["type"] == "weights"})
        bases = [
            (
                by_id.get(r["target"], {}).get("name", r["target"].split(":", 1)[-1]),
                HOW.get(r.get("derivation") or "unknown", r.get("derivation")),
                [_ev(e) for e in r.get("evidence", [])],
            )
            for r in out_rels.get((mid, "derived-from"), [])
        ]
        datasets = [by_id.get(r["target"], {}).get("name", r["target"]) for r in out_rels.get((mid, "trained-on"), [])]
        own = items_by_model.get(mid, [])
        items = [c for _, c in (sorted(own + shared, key=lambda x: x[0]) if shared else own)]
        out.append(
            ModelFacts(
                id=mid,
                name=m["name"],
                version=m.get("version"),
                architecture=p.get("architecture"),
                task=p.get("task"),
                parameters=params(p.get("parameter_count")),
                formats=weights,
                files=sorted(files, key=lambda f: f["path"]),
                total_size=sum(f.get("size") or 0 for f in files),
                licences=[f"{lic['value']} ({_ev(lic.get('evidence'))})" for lic in m.get("licenses", [])]
                or [  # none of its own: the verdict reads the package that ships it, so say that
                    f"{e['license']} (package {e['name']}: {e['evidence'][-1]})"
                    for pkg in carriers.get(mid, [])
                    for e in package_entries.get(pkg["id"], [])
                ],
                bases=bases,
                datasets=datasets,
                licence_verdict=verdicts.get(mid, "unknown"),
                openness=doc["openness"][i] if i < len(doc["openness"]) else None,
                missing=[c for c in items if not c["present"]],
                present_count=sum(1 for c in items if c["present"]),
                element_count=len(items),
                elements=items,
            )
        )
    return out


def security_findings(doc: dict[str, Any], floor: str = "low") -> list[dict[str, Any]]:
    """Findings at or above ``floor``, worst first, each with its file's path and digest."""
    keep = SEVERITY_ORDER[: SEVERITY_ORDER.index(floor) + 1]
    out = [
        dict(x, path=f["path"], sha256=f.get("sha256"))
        for f in doc["security"]["files"]
        for x in f["findings"]
        if x["severity"] in keep
    ]
    return sorted(out, key=lambda x: (SEVERITY_ORDER.index(x["severity"]), x["path"], x["rule"], x["message"]))


def severity_counts(doc: dict[str, Any]) -> dict[str, int]:
    c = Counter(x["severity"] for f in doc["security"]["files"] for x in f["findings"])
    return {s: c[s] for s in SEVERITY_ORDER if c[s]}


def other_findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Inventory findings that are not the security rules' (licences, integrity, scan problems)."""
    fs = [f for f in doc["inventory"]["findings"] if not f["rule"].startswith("security.")]
    return sorted(fs, key=lambda f: (SEVERITY_ORDER.index(f["severity"]), f["rule"], f.get("path") or ""))


def unknown_licence(doc: dict[str, Any], limit: int = 5) -> list[str]:
    """When the licence verdict is unknown, why (the unresolved bases, lineage problems, unidentified
    texts): every report says this first, since "unknown" passes the default policy as a warning."""
    lic = doc["licenses"]
    if lic.get("verdict") != "unknown":
        return []
    why = [f["message"] for f in lic.get("findings", []) if f.get("rule", "").startswith("license.")]
    return why[:limit] or ["no licence evidence aitrail can judge"]


def headline(doc: dict[str, Any]) -> str:
    pol = doc.get("policy")
    if pol is None:
        return "no policy applied"
    if pol["passed"]:
        n = len(doc["openness"])  # one grade per scanned model
        return "PASSED: the model meets the policy" if n <= 1 else f"PASSED: all {n} models meet the policy"
    return f"FAILED: {len(pol['violations'])} policy violation(s)"
