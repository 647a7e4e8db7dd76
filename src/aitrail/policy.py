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

import difflib
import fnmatch
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

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
        "unknown": (str, ("warn", "fail"), "an unknown verdict or an unresolved base: warn (default) or fail"),
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

# Format names aitrail reports (catalog/sniff.py WEIGHT_FORMATS and the catalogers' own), and families:
# a banned family name bans its variants too ("joblib" bans "joblib-zlib", "pytorch" bans "pytorch-zip").
_OTHER_FORMATS = {
    "zip", "tar", "json", "yaml", "text", "model-card", "python", "python-metadata", "dependency-manifest",
    "ollama-modelfile", "weights-index", "onnx-external-data", "xgboost-json", "xgboost-ubj", "lightgbm-text",
    "catboost", "openvino-ir", "openvino-weights", "flax-msgpack",
}  # fmt: skip
_FAMILIES = {"pytorch", "numpy", "joblib", "tensorflow"}
# "pickle" bans every format its loader unpickles: a compressed pickle, joblib's files, torch.save's archives
_UNPICKLED = {"pickle", "joblib", "pytorch-zip", "pytorch-legacy", "pytorch-tar"}
_CODECS = ("gzip", "bz2", "xz", "lzma", "lz4", "zstd", "zlib")
_LICENSEREF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")


def known_formats() -> set[str]:
    from .catalog.sniff import WEIGHT_FORMATS

    return set(WEIGHT_FORMATS) | _OTHER_FORMATS | _FAMILIES | {f"joblib-{c}" for c in _CODECS}


def _closest(value: Any, choices: Iterable[Any]) -> str:
    """The suffix "; did you mean 'x'?" for the closest choice (difflib, case-insensitive), or ""."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(str(c).lower(), str(c))
    hit = difflib.get_close_matches(str(value).lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[hit[0]]!r}?" if hit else ""


@functools.cache
def known_rules() -> frozenset[str]:
    """Finding rule ids, read from aitrail's own source (where each is raised), with their security-report
    spelling ("scan.onnx.not-protobuf" is "onnx.not-protobuf" there). Empty when the source is not shipped."""
    calls = re.compile(
        r"""(?:\.add\(|finding\(|Finding\()\s*[^,()]+,\s*f?["']([a-z][a-z0-9._-]*)["']|"""
        r"""\brule\s*=\s*["']([a-z][a-z0-9._-]*)["']|"""
        r"""["']((?:scan|security|integrity|license|pickle|remote-code|zip|tar|keras|tensorflow|torchscript|gguf"""
        r"""|npy|dataset|format|file|manifest)\.[a-z0-9][a-z0-9._-]*[a-z0-9])["']"""
    )
    ids: set[str] = set()
    stack = [resources.files("aitrail")]
    while stack:
        d = stack.pop()
        for child in d.iterdir():
            if child.is_dir():
                stack.append(child)
            elif child.name.endswith(".py"):
                for m in calls.finditer(child.read_text(encoding="utf-8")):
                    ids.add(next(g for g in m.groups() if g))
    ids |= {i.removeprefix("scan.") for i in ids if i.startswith("scan.")}
    return frozenset(i for i in ids if not i.endswith((".py", ".json", ".yaml", ".md", ".txt")))


def _check_rule(pattern: str, known: frozenset[str], key: str, where: str, strict: bool) -> None:
    """A rule glob must name a known family of rules; a plain id close to a known one is a typo.

    ``strict``: every plain id must be known (licence rules: a short, fixed list)."""
    if not known:
        return
    hits = [k for k in known if fnmatch.fnmatchcase(k, pattern)]
    if hits:
        return
    wild = any(ch in pattern for ch in "*?[")
    namespaces = {k.split(".", 1)[0] for k in known}
    head = pattern.split(".", 1)[0]
    if wild or strict or (not any(ch in head for ch in "*?[") and head not in namespaces):
        choices = {f"{ns}.*" for ns in namespaces if ns in {k.split(".", 1)[0] for k in known if "." in k}}
        near = _closest(pattern, choices if wild else known)
        raise PolicyError(f"{where}: {key}: {pattern!r} matches no rule aitrail raises{near}")
    near = _closest(pattern, known)
    if near and difflib.get_close_matches(pattern, list(known), n=1, cutoff=0.85):
        raise PolicyError(f"{where}: {key}: unknown rule {pattern!r}{near}")


def _licence_known(value: str) -> bool:
    from .analyze.licenses import resolve

    if _LICENSEREF.fullmatch(value) or value.strip().lower() == "other":
        return True
    r = resolve(value)
    return r.facts is not None or r.matched_by.startswith("SPDX")


def _licence_ids(values: Iterable[str]) -> set[str]:
    """Lower-cased licence ids as written and as resolved (an alias like "apache 2.0" means Apache-2.0)."""
    from .analyze.licenses import resolve

    out = set()
    for v in values:
        out.add(v.lower())
        r = resolve(v)
        if r.facts is not None or r.matched_by.startswith("SPDX"):
            out.add(r.id.lower())
    return out


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


# Fails on a licence that does not allow the use, on laundering (a high licence finding) and on high
# security findings; an unknown verdict warns (docs/policy.md: licenses.unknown).
DEFAULT = Policy(
    {
        "aitrail_policy": 1,
        "security": {"fail_on": "high"},
        "licenses": {"verdict": "unknown", "fail_on_findings": ["license.laundering"], "unknown": "warn"},
    }
)


def parse(doc: Any, where: str) -> Policy:
    """Check a policy document against the schema; unknown keys and wrong types name the key."""
    if not isinstance(doc, dict):
        raise PolicyError(f"{where}: a policy is a mapping of sections (see docs/policy.md)")
    _check(doc, _SCHEMA, where, "")
    if "aitrail_policy" not in doc:
        raise PolicyError(f"{where}: missing key 'aitrail_policy' (the format version; write 'aitrail_policy: 1')")
    for i, w in enumerate(doc.get("security", {}).get("ignore") or []):
        if not isinstance(w, dict) or "rule" not in w or not set(w) <= _WAIVER_KEYS:
            extra = sorted(map(str, set(w) - _WAIVER_KEYS)) if isinstance(w, dict) else []
            hint = f" (unknown key {extra[0]!r}{_closest(extra[0], _WAIVER_KEYS)})" if extra else ""
            raise PolicyError(
                f"{where}: security.ignore[{i}]: a waiver is {{rule, path, reason}} with at least 'rule'{hint}"
            )
        for k, v in w.items():
            if not isinstance(v, str) or not v.strip():
                raise PolicyError(f"{where}: security.ignore[{i}].{k}: expected a non-empty string")
        _check_rule(w["rule"], known_rules(), f"security.ignore[{i}].rule", where, strict=False)
    for section, key in (("licenses", "allow"), ("licenses", "deny"), ("licenses", "fail_on_findings")):
        _strings(doc, section, key, where)
    _strings(doc, "documentation", "required", where)
    _strings(doc, "formats", "banned", where)
    _values(doc, where)
    return Policy(doc, f"{doc['name']} ({where})" if doc.get("name") else where)


def _values(doc: dict[str, Any], where: str) -> None:
    """List values name things aitrail knows: a typo ("pikle") would make a rule silently match nothing."""
    from .analyze.completeness import elements
    from .analyze.licenses import knowledge

    lic = doc.get("licenses") or {}
    for key in ("allow", "deny"):
        for i, v in enumerate(lic.get(key) or []):
            if not _licence_known(v):
                near = _closest(v, [f.id for f in knowledge().licenses.values()])
                raise PolicyError(
                    f"{where}: licenses.{key}[{i}]: {v!r} is not a licence id aitrail knows nor a valid SPDX "
                    f"expression (write a custom licence as 'LicenseRef-…'){near}"
                )
    licence_rules = frozenset(r for r in known_rules() if r.startswith("license."))
    for i, r in enumerate(lic.get("fail_on_findings") or []):
        _check_rule(r, licence_rules, f"licenses.fail_on_findings[{i}]", where, strict=True)
    known_elements = {e["id"] for e in elements()["elements"]}
    for i, el in enumerate((doc.get("documentation") or {}).get("required") or []):
        if el not in known_elements:
            raise PolicyError(
                f"{where}: documentation.required[{i}]: unknown element {el!r}{_closest(el, known_elements)} "
                f"(known: {', '.join(sorted(known_elements))})"
            )
    formats = known_formats()
    for i, fmt in enumerate((doc.get("formats") or {}).get("banned") or []):
        if fmt not in formats:
            raise PolicyError(
                f"{where}: formats.banned[{i}]: unknown format {fmt!r}{_closest(fmt, formats)} "
                f"(known: {', '.join(sorted(formats))})"
            )


def _check(doc: dict[str, Any], schema: dict[str, Any], where: str, prefix: str) -> None:
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if key not in schema:
            raise PolicyError(
                f"{where}: unknown key {name!r}{_closest(key, schema)} (allowed here: {', '.join(schema)})"
            )
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
            near = _closest(value, allowed) if isinstance(value, str) else ""
            raise PolicyError(f"{where}: {name}: {value!r} is not one of {', '.join(map(str, allowed))}{near}")


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
    # Integrity and format findings the scan raised itself (a HF cache file modified after download, a
    # GGUF tensor past the end of the file, a shard or remote code outside the folder) gate the same
    # way, unless the file's security report already carries the same rule.
    judged = {(f["path"], x["rule"]) for f in doc["security"]["files"] for x in f["findings"]}
    for x in doc.get("inventory", {}).get("findings", []):
        rule, path = x.get("rule", ""), x.get("path") or ""
        if not rule.startswith(("integrity.", "scan.")) or x.get("severity") not in SEVERITIES:
            continue
        if SEVERITIES.index(x["severity"]) < floor or {(path, rule), (path, rule.removeprefix("scan."))} & judged:
            continue
        w = _waiver(policy, rule, path) or _waiver(policy, rule.removeprefix("scan."), path)
        if w:
            waived.append({"rule": rule, "path": path, "reason": w.get("reason", ""), "waiver": w})
            continue
        hits.setdefault(x["severity"], []).append(f"{path}: {rule} ({x.get('message', '')})")
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
        ok = _licence_ids(allow)
        bad = [
            f"{c['name']} ({c['role']}): {c['license'] or c['declared'] or 'none declared'}"
            for c in lic["components"]
            if c["role"] in ("model", "base-model") and not _licence_in(c, ok)
        ]
        if bad:
            fail("licenses.allow", "a licence of the model or its base models is not on the allow list", bad)
    deny = _licence_ids(policy.get("licenses", "deny") or [])
    if deny:
        bad = [f"{c['name']} ({c['role']}): {c['license']}" for c in lic["components"] if _denied(c, deny)]
        if bad:
            fail("licenses.deny", "a denied licence is present", bad)
    if policy.get("licenses", "unknown", "warn") == "fail":
        unknown = [
            f"{c['name']} ({c['role']}): {c['license'] or 'no licence'} -> unknown" + (
                f" ({c['evidence'][-1]})" if c.get("evidence") else ""
            )
            for c in lic["components"]
            if c["role"] in ("model", "base-model") and c["verdict"] == "unknown"
        ]
        if unknown:
            fail("licenses.unknown", f"the licence verdict for {lic['use']} use is unknown for part of the lineage",
                 unknown)
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


def _denied(entry: dict[str, Any], ids: set[str]) -> bool:
    """Whether the component carries a denied licence whatever choice is made: its licence is one, or its
    SPDX expression needs one — any part of an AND, every alternative of an OR, the licence under a WITH
    exception. A licence string that is no expression is split on and/or, every part counting (fail closed)."""
    names = {str(entry.get(k) or "").strip() for k in ("license", "declared")} - {""}
    if {n.lower() for n in names} & ids:
        return True
    for n in names:
        tree = _expression(n)
        if tree is None:
            if any(p.strip("() ").lower() in ids for p in re.split(r"\s+(?:and|or)\s+", n, flags=re.I)):
                return True
        elif _needs(tree, ids):
            return True
    return False


def _expression(value: str) -> Any:
    from .analyze.license_ids import licensing

    try:
        return licensing().parse(value, validate=False)
    except Exception:  # noqa: BLE001 - any parse failure: not an expression (the caller splits it, fail closed)
        return None


def _needs(node: Any, ids: set[str]) -> bool:
    from license_expression import LicenseSymbol, LicenseWithExceptionSymbol

    from .analyze.licenses import resolve

    if isinstance(node, LicenseWithExceptionSymbol):
        return _needs(node.license_symbol, ids) or node.render().lower() in ids
    if isinstance(node, LicenseSymbol):
        key = str(node.key)
        r = resolve(key)
        known = r.facts is not None or r.matched_by.startswith("SPDX")
        return key.lower() in ids or known and r.id.lower() in ids
    args = getattr(node, "args", ())
    if not args:
        return False
    if "AND" in str(getattr(node, "operator", "")).upper():
        return any(_needs(a, ids) for a in args)
    return all(_needs(a, ids) for a in args)


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
                    if it["status"] in ("missing", "licence", "unlicensed")
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

    def hit(fmt: Any) -> bool:  # a family bans its variants: "joblib" bans "joblib-zlib"
        if not isinstance(fmt, str):
            return False
        if "pickle" in banned and (fmt in _UNPICKLED or fmt.startswith(("joblib-", "pickle-"))):
            return True  # whatever its container, loading it runs the pickle module on its bytes
        return any(fmt == b or fmt.startswith(b + "-") for b in banned)

    bad = [
        f"{c['path']}: {c['format']}" for c in doc["inventory"]["components"] if c.get("path") and hit(c.get("format"))
    ]
    bad += [f"{f['path']}: {f['format']}" for f in doc["security"]["files"] if hit(f.get("format"))]
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
        return
    # a file the signer did not sign may be one added after signing (an extra pickle a loader picks up)
    unsigned = [
        f"{p}: not covered by {x['path']}" for x in sigs if x["verified"] is True for p in x.get("unsigned") or []
    ]
    if unsigned:
        fail("signatures.required", f"{len(unsigned)} model file(s) not covered by the verified signature", unsigned)
