"""Policies: what a team accepts in a model, as a YAML file (docs/policy.md).

A policy is judged against the ``aitrail check`` document (inventory, licenses, openness,
security), not against live objects, so a stored document — the registry's — can be judged
again later by the same code. Every violation names the policy key that failed and the evidence.

    aitrail_policy: 1
    use: commercial                       # the intended use (aitrail check --use overrides it)
    security:
      fail_on: high                       # a finding at or above this severity fails
      unknown_globals: high               # severity of a pickle global on no allowlist
      ignore: [{rule: remote-code.present, path: "modeling_*.py", reason: "reviewed in PR 12"}]
    licenses:
      verdict: allowed_with_obligations   # the worst acceptable verdict for the use
      allow: [Apache-2.0, MIT]            # every licence of the model and its bases must be one of these
      deny: [CC-BY-NC-4.0]                # none of these anywhere (model, base, data, package)
      fail_on_findings: [license.laundering]
    openness:
      min_mof_class: 2                    # 1 (open science) .. 3 (open model)
      osaid: true                         # require the OSAID 1.0 checklist to pass
    documentation:
      required: [model.license, model.hash, dataset.training]
    formats:
      banned: [pickle, pytorch-legacy]
    signatures:
      required: true                      # a model.sig that verifies with --signature-key
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import yamlsafe
from .analyze.licenses import USES, VERDICTS
from .errors import PolicyError
from .model import Severity

SEVERITIES = tuple(s.value for s in Severity)  # lowest to highest


# The schema, as data: key -> (type, allowed values or None, what it means). Nested dicts are sections.
_SCHEMA: dict[str, Any] = {
    "aitrail_policy": (int, (1,), "policy format version"),
    "name": (str, None, "a name shown in reports"),
    "use": (str, USES, "intended use"),
    "security": {
        "fail_on": (str, (*SEVERITIES, "never"), "fail on a finding at or above this severity"),
        "unknown_globals": (str, ("critical", "high", "medium", "low"), "severity of an unlisted pickle global"),
        "ignore": (list, None, "waivers: [{rule, path, reason}]"),
    },
    "licenses": {
        "verdict": (str, VERDICTS, "worst acceptable verdict for the use"),
        "allow": (list, None, "licences the model and its base models may carry"),
        "deny": (list, None, "licences nothing in the model may carry"),
        "fail_on_findings": (list, None, "licence finding rules that fail the policy"),
    },
    "openness": {
        "min_mof_class": (int, (1, 2, 3), "worst acceptable MOF class"),
        "osaid": (bool, None, "require the OSI Open Source AI Definition to be met"),
    },
    "documentation": {
        "required": (list, None, "completeness element ids that must be present"),
    },
    "formats": {
        "banned": (list, None, "file formats that must not appear"),
    },
    "signatures": {
        "required": (bool, None, "require a verified model signature (aitrail check --signature-key)"),
    },
}
_WAIVER_KEYS = {"rule", "path", "reason"}


@dataclass
class Policy:
    data: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in default"

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return (self.data.get(section) or {}).get(key, default)

    @property
    def use(self) -> str:
        return str(self.data.get("use", "commercial"))

    @property
    def unknown_globals(self) -> str:
        return str(self.get("security", "unknown_globals", "high"))


DEFAULT = Policy({"aitrail_policy": 1, "security": {"fail_on": "high"}, "licenses": {"verdict": "unknown"}})


def parse(doc: Any, where: str) -> Policy:
    """Check a policy document against the schema; unknown keys and wrong types name the key."""
    if not isinstance(doc, dict):
        raise PolicyError(f"{where}: a policy is a mapping of sections (see docs/policy.md)")
    _check(doc, _SCHEMA, where, "")
    if "aitrail_policy" not in doc:
        raise PolicyError(f"{where}: missing key 'aitrail_policy' (the format version; write 'aitrail_policy: 1')")
    for i, w in enumerate(doc.get("security", {}).get("ignore") or []):
        if not isinstance(w, dict) or "rule" not in w or not set(w) <= _WAIVER_KEYS:
            raise PolicyError(f"{where}: security.ignore[{i}]: a waiver is {{rule, path, reason}} with at least 'rule'")
        for k, v in w.items():
            if not isinstance(v, str):
                raise PolicyError(f"{where}: security.ignore[{i}].{k}: expected a string")
    for section, key in (("licenses", "allow"), ("licenses", "deny"), ("licenses", "fail_on_findings")):
        _strings(doc, section, key, where)
    _strings(doc, "documentation", "required", where)
    _strings(doc, "formats", "banned", where)
    from .analyze.completeness import elements

    known = {e["id"] for e in elements()["elements"]}
    for el in (doc.get("documentation") or {}).get("required") or []:
        if el not in known:
            raise PolicyError(
                f"{where}: documentation.required: unknown element {el!r} (known: {', '.join(sorted(known))})"
            )
    return Policy(doc, f"{doc['name']} ({where})" if doc.get("name") else where)


def _check(doc: dict[str, Any], schema: dict[str, Any], where: str, prefix: str) -> None:
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if key not in schema:
            raise PolicyError(f"{where}: unknown key {name!r} (allowed here: {', '.join(schema)})")
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise PolicyError(f"{where}: {name}: expected a mapping, got {type(value).__name__}")
            _check(value, spec, where, f"{name}.")
            continue
        typ, allowed, _ = spec
        # bool is an int in Python: `min_mof_class: true` must not pass as 1
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise PolicyError(f"{where}: {name}: expected {typ.__name__}, got {type(value).__name__} ({value!r})")
        if allowed and value not in allowed:
            raise PolicyError(f"{where}: {name}: {value!r} is not one of {', '.join(map(str, allowed))}")


def _strings(doc: dict[str, Any], section: str, key: str, where: str) -> None:
    for i, v in enumerate((doc.get(section) or {}).get(key) or []):
        if not isinstance(v, str):
            raise PolicyError(f"{where}: {section}.{key}[{i}]: expected a string, got {type(v).__name__}")


def load(path: str | Path) -> Policy:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"{p}: cannot read the policy ({getattr(e, 'strerror', None) or e})") from None
    try:
        doc = yamlsafe.load(text)
    except yamlsafe.YAMLError as e:
        raise PolicyError(f"{p}: not valid YAML: {e}") from None
    return parse(doc, str(p))


# -- judging a check document -----------------------------------------------------------------


def evaluate(policy: Policy, doc: dict[str, Any]) -> dict[str, Any]:
    """``{"passed", "violations", "waived", "source"}`` for an ``aitrail check`` document."""
    violations: list[dict[str, Any]] = []
    waived: list[dict[str, Any]] = []

    def fail(key: str, message: str, evidence: list[str]) -> None:
        violations.append({"policy_key": key, "message": message, "evidence": sorted(set(evidence))[:50]})

    _security(policy, doc, fail, waived)
    _licenses(policy, doc, fail)
    _openness(policy, doc, fail)
    _documentation(policy, doc, fail)
    _formats(policy, doc, fail)
    _signatures(policy, doc, fail)
    return {"passed": not violations, "violations": violations, "waived": waived, "source": policy.source}


def _waiver(policy: Policy, rule: str, path: str) -> dict[str, Any] | None:
    for w in policy.get("security", "ignore") or []:
        if fnmatch.fnmatchcase(rule, w["rule"]) and fnmatch.fnmatchcase(path, w.get("path", "*")):
            return dict(w)
    return None


def _security(policy: Policy, doc: dict[str, Any], fail: Any, waived: list[dict[str, Any]]) -> None:
    fail_on = policy.get("security", "fail_on", "high")
    if fail_on == "never":
        return
    floor = SEVERITIES.index(fail_on)
    hits: dict[str, list[str]] = {}
    for f in doc["security"]["files"]:
        for x in f["findings"]:
            if SEVERITIES.index(x["severity"]) < floor:
                continue
            w = _waiver(policy, x["rule"], f["path"])
            if w:
                waived.append({"rule": x["rule"], "path": f["path"], "reason": w.get("reason", ""), "waiver": w})
                continue
            hits.setdefault(x["severity"], []).append(f"{x['location']}: {x['rule']} ({x['message']})")
    for sev in sorted(hits, key=SEVERITIES.index, reverse=True):
        fail(
            "security.fail_on",
            f"{len(hits[sev])} {sev} security finding(s); the policy fails on {fail_on} and above",
            hits[sev],
        )


def _licenses(policy: Policy, doc: dict[str, Any], fail: Any) -> None:
    lic = doc["licenses"]
    worst_ok = policy.get("licenses", "verdict")
    if worst_ok and VERDICTS.index(lic["verdict"]) > VERDICTS.index(worst_ok):
        ev = [
            f"{c['name']} ({c['role']}): {c['license'] or 'no licence'} -> {c['verdict']}"
            + (f" [{c['deciding_clause']}]" if c.get("deciding_clause") else "")
            for c in lic["components"]
            if c["role"] in ("model", "base-model") and VERDICTS.index(c["verdict"]) > VERDICTS.index(worst_ok)
        ]
        fail(
            "licenses.verdict",
            f"licence verdict for {lic['use']} use is {lic['verdict'].replace('_', ' ')}; the policy accepts at "
            f"worst {worst_ok.replace('_', ' ')}",
            ev or [f"models: {', '.join(m['model'] + '=' + m['verdict'] for m in lic['models'])}"],
        )
    allow = policy.get("licenses", "allow")
    if allow is not None:
        ok = {a.lower() for a in allow}
        bad = [
            f"{c['name']} ({c['role']}): {c['license'] or c['declared'] or 'none declared'}"
            for c in lic["components"]
            if c["role"] in ("model", "base-model") and not _licence_in(c, ok)
        ]
        if bad:
            fail("licenses.allow", "a licence of the model or its base models is not on the allow list", bad)
    deny = {d.lower() for d in policy.get("licenses", "deny") or []}
    if deny:
        bad = [f"{c['name']} ({c['role']}): {c['license']}" for c in lic["components"] if _licence_in(c, deny)]
        if bad:
            fail("licenses.deny", "a denied licence is present", bad)
    rules = policy.get("licenses", "fail_on_findings") or []
    bad = [
        f"{f.get('path') or doc['inventory']['target']}: {f['rule']} ({f['message']})"
        for f in lic["findings"]
        if any(fnmatch.fnmatchcase(f["rule"], r) for r in rules)
    ]
    if bad:
        fail("licenses.fail_on_findings", "licence findings the policy does not accept", bad)


def _licence_in(entry: dict[str, Any], ids: set[str]) -> bool:
    names = {str(entry.get(k) or "").lower() for k in ("license", "declared")} - {""}
    # an SPDX expression's parts: "MIT OR Apache-2.0" is allowed when every part is
    parts = {p.strip("() ").lower() for n in names for p in n.replace(" and ", " or ").split(" or ")}
    return bool(names & ids) or bool(parts) and parts <= ids


def _openness(policy: Policy, doc: dict[str, Any], fail: Any) -> None:
    want = policy.get("openness", "min_mof_class")
    need_osaid = policy.get("openness", "osaid", False)
    for a in doc["openness"]:
        cls = a["mof"]["class"]
        if want is not None and (cls is None or cls == 0 or cls > want):
            fail(
                "openness.min_mof_class",
                f"{a['model']}: {a['mof']['label']}; the policy requires MOF Class {want} or better",
                list(a["mof"].get("next_class_needs") or []) or [a["summary"]],
            )
        if need_osaid and a["osaid"]["verdict"] != "pass":
            fail(
                "openness.osaid",
                f"{a['model']}: OSI Open Source AI Definition 1.0: {a['osaid']['verdict'].replace('_', ' ')}",
                [
                    f"{it['item']}: {it['status']} ({r['clause']})"
                    for r in a["osaid"]["requirements"]
                    for it in r["items"]
                    if it["status"] in ("missing", "licence")
                ]
                or [a["summary"]],
            )


def _documentation(policy: Policy, doc: dict[str, Any], fail: Any) -> None:
    required = policy.get("documentation", "required") or []
    for el in required:
        missing = [
            f"{c.get('model') or 'model'}: {c['title']} — {c.get('how_to_supply') or 'not found'}"
            for c in doc["inventory"]["completeness"]
            if c["element"] == el and not c["present"]
        ]
        if missing:
            fail(f"documentation.required[{el}]", f"required element {el} is missing", missing)


def _formats(policy: Policy, doc: dict[str, Any], fail: Any) -> None:
    banned = set(policy.get("formats", "banned") or [])
    if not banned:
        return
    bad = [
        f"{c['path']}: {c['format']}"
        for c in doc["inventory"]["components"]
        if c.get("path") and c.get("format") in banned
    ]
    bad += [f"{f['path']}: {f['format']}" for f in doc["security"]["files"] if f.get("format") in banned]
    if bad:
        fail("formats.banned", f"banned format(s) present: {', '.join(sorted(banned))}", bad)


def _signatures(policy: Policy, doc: dict[str, Any], fail: Any) -> None:
    if not policy.get("signatures", "required", False):
        return
    sigs = doc["security"].get("signatures", [])
    if not any(x["verified"] is True for x in sigs):
        fail(
            "signatures.required",
            "no verified model signature" + (" (signature files found, none verified)" if sigs else ""),
            [f"{x['path']}: {x['status']}" for x in sigs] or ["no model.sig (OpenSSF model signing) beside the model"],
        )
