"""SARIF 2.1.0 for code-scanning UIs: security findings, licence findings and policy violations."""

from __future__ import annotations

from typing import Any

from ..analyze import security

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def _result(rule: str, severity: str, message: str, uri: str, **props: Any) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "level": LEVEL[severity],
        "message": {"text": message},
        "properties": {"severity": severity, **{k: v for k, v in props.items() if v is not None}},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
    }


def from_check(doc: dict[str, Any]) -> dict[str, Any]:
    """One run: what `aitrail security --format sarif` reports, plus licence findings and policy violations."""
    out = security.sarif(doc["security"])
    run = out["runs"][0]
    results = run["results"]
    target = doc["inventory"]["target"]
    for f in doc["inventory"]["findings"]:
        if f["rule"].startswith("security.") or f["severity"] == "info":
            continue  # the security rules are reported above, per file with its digest
        results.append(_result(f["rule"], f["severity"], f["message"], f.get("path") or target, source=f.get("source")))
    for v in (doc.get("policy") or {}).get("violations", []):
        text = v["message"] + ("; " + "; ".join(v["evidence"][:5]) if v["evidence"] else "")
        results.append(_result(f"policy/{v['policy_key']}", "high", text, target, policy=doc["policy"]["source"]))
    results.sort(
        key=lambda r: (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["message"]["text"],
        )
    )
    ids = sorted({r["ruleId"] for r in results})
    run["tool"]["driver"]["rules"] = [{"id": r, "shortDescription": {"text": r}} for r in ids]
    return out
