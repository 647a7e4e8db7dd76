"""`aitrail diff OLD NEW`: what changed between two versions of a model.

Each side is a model folder or file (scanned here; its weights sampled by ``compare``), an aitrail
scan JSON, or an aitrail check document. Sections: files (by digest), tensors (sampled, by how much),
config, card, licences, datasets, lineage, findings, verdicts. A section one side cannot supply
(tensors from a JSON, verdicts from a scan) is reported as not compared, never as unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError

MAX_LISTED = 200  # entries of one section listed; the rest counted
MAX_VALUE = 300  # characters of a changed value shown
MAX_JSON = 256 << 20  # a scan or check document larger than this is refused
CARD_KEYS = ("description", "language", "tags", "library", "pipeline_tag", "task", "name_or_path")


class Side:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = ""  # folder | scan | check
        self.inventory: dict[str, Any] = {}
        self.check: dict[str, Any] | None = None
        self.root: Path | None = None  # what the weights are read from


def load(path: Path, follow_symlinks: bool = False) -> Side:
    s = Side(path)
    if not path.exists():
        raise InputError(f"{path}: does not exist")
    if path.is_file() and path.suffix == ".json":
        if path.stat().st_size > MAX_JSON:
            raise InputError(f"{path}: {path.stat().st_size} bytes, larger than the {MAX_JSON} aitrail reads")
        from .. import jsonsafe

        try:
            doc = jsonsafe.loads(path.read_bytes())
        except (ValueError, RecursionError) as e:
            raise InputError(f"{path}: not valid JSON ({str(e)[:200]})") from None
        if isinstance(doc, dict) and isinstance(doc.get("inventory"), dict) and "policy" in doc:
            s.kind, s.check, s.inventory = "check", _clean_check(doc), _clean_inventory(doc["inventory"])
        elif isinstance(doc, dict) and isinstance(doc.get("components"), list):
            s.kind, s.inventory = "scan", _clean_inventory(doc)
        else:
            raise InputError(
                f"{path}: neither an aitrail scan JSON (components) nor a check document (inventory, policy)"
            )
        return s
    from ..scanner import scan

    s.kind, s.root = "folder", path
    s.inventory = scan(path, follow_symlinks=follow_symlinks).to_dict()
    return s


def _dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _dicts(x: Any) -> list[dict[str, Any]]:
    return [c for c in x if isinstance(c, dict)] if isinstance(x, list) else []


def _clean_inventory(inv: dict[str, Any]) -> dict[str, Any]:
    """A JSON document is untrusted: every list and object the sections read is given its expected type
    (entries of another type dropped), so a malformed document is compared as far as it holds, never a crash."""
    comps = [
        {**c, "properties": _dict(c.get("properties")), "licenses": _dicts(c.get("licenses"))}
        for c in _dicts(inv.get("components"))
    ]
    return {**inv, "components": comps, "relationships": _dicts(inv.get("relationships")),
            "findings": _dicts(inv.get("findings"))}


def _clean_check(doc: dict[str, Any]) -> dict[str, Any]:
    sec = _dict(doc.get("security"))
    files = [{**f, "findings": _dicts(f.get("findings"))} for f in _dicts(sec.get("files"))]
    lic = _dict(doc.get("licenses"))
    opn = [{**o, "mof": _dict(o.get("mof"))} for o in _dicts(doc.get("openness"))]
    pol = _dict(doc.get("policy"))
    return {
        **doc,
        "security": {**sec, "files": files},
        "licenses": {**lic, "models": _dicts(lic.get("models"))},
        "openness": opn,
        "policy": {**pol, "violations": pol.get("violations") if isinstance(pol.get("violations"), list) else []},
    }


def diff(old: Path, new: Path, tensors: bool = True, follow_symlinks: bool = False) -> dict[str, Any]:
    a, b = load(old, follow_symlinks), load(new, follow_symlinks)
    doc: dict[str, Any] = {
        "old": {"path": str(old), "kind": a.kind},
        "new": {"path": str(new), "kind": b.kind},
        "not_compared": [],
        "problems": [],
    }
    doc["files"] = _files(a.inventory, b.inventory, doc)
    doc["tensors"] = _tensors(a, b, doc, follow_symlinks) if tensors else None
    if not tensors:
        doc["not_compared"].append("tensors: --no-tensors")
    doc["config"] = _configs(a.inventory, b.inventory)
    doc["card"] = _card(a.inventory, b.inventory)
    doc["licenses"] = _licenses(a, b)
    doc["datasets"] = _targets(a.inventory, b.inventory, "trained-on")
    doc["lineage"] = _targets(a.inventory, b.inventory, "derived-from")
    doc["findings"] = _findings(a, b)
    doc["verdicts"] = _verdicts(a, b, doc)
    doc["changed"] = _any_change(doc)
    return doc


# -- sections -------------------------------------------------------------------------------------


def _file_components(inv: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for c in inv.get("components") or []:
        if isinstance(c, dict) and isinstance(c.get("path"), str) and str(c.get("id", "")).startswith("file:"):
            out[c["path"]] = c
    return out


def _files(a: dict[str, Any], b: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    fa, fb = _file_components(a), _file_components(b)
    added = sorted(set(fb) - set(fa))
    removed = sorted(set(fa) - set(fb))
    changed, unknown = [], []
    same = 0
    for p in sorted(set(fa) & set(fb)):
        ha, hb = fa[p].get("sha256"), fb[p].get("sha256")
        if ha and hb:
            if ha != hb:
                changed.append({"path": p, "old_sha256": ha, "new_sha256": hb, "old_size": fa[p].get("size"),
                                "new_size": fb[p].get("size")})
            else:
                same += 1
        elif fa[p].get("size") != fb[p].get("size"):
            changed.append({"path": p, "old_size": fa[p].get("size"), "new_size": fb[p].get("size")})
        else:
            unknown.append(p)  # same size, no digest on a side: not known to be equal
    if unknown:
        doc["problems"].append(f"{len(unknown)} files not hashed on one side (scan --no-hash): equality unknown")
    return {
        "added": [{"path": p, "sha256": fb[p].get("sha256"), "size": fb[p].get("size")} for p in added][:MAX_LISTED],
        "removed": [{"path": p, "sha256": fa[p].get("sha256"), "size": fa[p].get("size")} for p in removed][
            :MAX_LISTED
        ],
        "changed": changed[:MAX_LISTED],
        "unknown": unknown[:MAX_LISTED],
        "unchanged": same,
        "counts": {"added": len(added), "removed": len(removed), "changed": len(changed), "unknown": len(unknown)},
    }


def _tensors(a: Side, b: Side, doc: dict[str, Any], follow_symlinks: bool = False) -> dict[str, Any] | None:
    """Folders: the weights compared (sampled); JSONs: the weight files' tensor counts and dtypes."""
    if a.root is not None and b.root is not None:
        try:
            from .compare import compare
            from .tensors import WeightsError
        except ImportError as e:
            doc["not_compared"].append(f"tensor values: numpy is not installed ({e}); pip install 'aitrail[lineage]'")
            return None

        try:
            res = compare(a.root, b.root, follow_symlinks=follow_symlinks).to_dict()
        except WeightsError as e:
            doc["problems"].append(f"tensors: {e}")
            return None
        changed = [
            {k: lay[k] for k in ("name", "status", "shape", "dtypes", "r", "change", "note") if k in lay}
            for lay in res["layers"]
            if lay["status"] not in ("identical", "uninformative")
        ]
        changed.sort(key=lambda x: -(x.get("change") or 0))
        return {
            "sampled": True,
            "verdict": res["verdict"],
            "kind": res["kind"],
            "confidence": res["confidence"],
            "bytes_read": res["bytes_read"],
            "summary": res["summary"],
            "structure": res["structure"],
            "changed": changed[:MAX_LISTED],
            "changed_count": len(changed),
            "problems": res["problems"][:20],
        }
    doc["not_compared"].append("tensor values: a side is a JSON document (weights not at hand); weight files compared "
                               "by their headers only")
    out = []
    fa, fb = _file_components(a.inventory), _file_components(b.inventory)
    for p in sorted(set(fa) & set(fb)):
        if fa[p].get("type") != "weights" and fb[p].get("type") != "weights":
            continue
        ch = _dict_changes(_weights_props(fa[p]), _weights_props(fb[p]))
        if ch:
            out.append({"path": p, "changes": ch})
    return {"sampled": False, "files": out}


def _weights_props(c: dict[str, Any]) -> dict[str, Any]:
    props = c.get("properties") or {}
    keys = ("tensor_count", "parameter_count", "dtypes", "tensor_types", "file_type", "quantization")
    return {k: props[k] for k in keys if k in props}


def _configs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    fa, fb = _file_components(a), _file_components(b)
    out = []
    for p in sorted(set(fa) & set(fb)):  # added and removed files are in the files section
        ca, cb = fa[p], fb[p]
        if "config" not in (ca.get("type"), cb.get("type")):
            continue
        ch = _dict_changes(ca.get("properties") or {}, cb.get("properties") or {})
        if ch:
            out.append({"path": p, "changes": ch})
    return out[:MAX_LISTED]


def _model(inv: dict[str, Any]) -> dict[str, Any]:
    for c in inv.get("components") or []:
        if isinstance(c, dict) and c.get("type") == "model" and (c.get("properties") or {}).get("scanned"):
            return c
    return next((c for c in inv.get("components") or [] if isinstance(c, dict) and c.get("type") == "model"), {})


def _card(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    ma, mb = _model(a), _model(b)

    def props(m: dict[str, Any]) -> dict[str, Any]:
        p = m.get("properties") or {}
        out = {k: v for k, v in p.items() if k.startswith("card") or k in CARD_KEYS}
        out["name"] = m.get("name")
        if m.get("description"):
            out["description"] = m["description"]
        return out

    return _dict_changes(props(ma), props(mb))


def _lic_values(inv: dict[str, Any]) -> list[str]:
    m = _model(inv)
    lics = [lic for lic in m.get("licenses") or [] if isinstance(lic, dict)]
    return sorted({str(lic.get("spdx") or lic.get("value")) for lic in lics})


def _licenses(a: Side, b: Side) -> dict[str, Any]:
    la, lb = _lic_values(a.inventory), _lic_values(b.inventory)
    out: dict[str, Any] = {"old": la, "new": lb, "changed": la != lb}
    if a.check and b.check:
        va, vb = (a.check.get("licenses") or {}).get("verdict"), (b.check.get("licenses") or {}).get("verdict")
        out["verdict"] = {"old": va, "new": vb, "changed": va != vb}
    return out


def _targets(a: dict[str, Any], b: dict[str, Any], kind: str) -> dict[str, Any]:
    def rel(inv: dict[str, Any]) -> dict[str, str]:
        out = {}
        for r in inv.get("relationships") or []:
            if isinstance(r, dict) and r.get("kind") == kind:
                out[str(r.get("target"))] = str(r.get("derivation") or "")
        return out

    ra, rb = rel(a), rel(b)
    changed = [{"target": t, "old": ra[t], "new": rb[t]} for t in sorted(set(ra) & set(rb)) if ra[t] != rb[t]]
    return {
        "added": sorted(set(rb) - set(ra))[:MAX_LISTED],
        "removed": sorted(set(ra) - set(rb))[:MAX_LISTED],
        "changed": changed[:MAX_LISTED],
    }


def _finding_set(s: Side) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    found = list(s.inventory.get("findings") or [])
    sec = (s.check or {}).get("security") or {}
    for f in sec.get("files") or [] if isinstance(sec, dict) else []:
        for x in f.get("findings") or [] if isinstance(f, dict) else []:
            if isinstance(x, dict):
                found.append({**x, "path": x.get("path") or f.get("path")})
    for f in found:
        if isinstance(f, dict):
            key = (str(f.get("rule")), str(f.get("path")), str(f.get("message")))
            out[key] = {k: f.get(k) for k in ("severity", "rule", "path", "message")}
    return out


def _findings(a: Side, b: Side) -> dict[str, Any]:
    fa, fb = _finding_set(a), _finding_set(b)
    added = [fb[k] for k in sorted(set(fb) - set(fa))]
    removed = [fa[k] for k in sorted(set(fa) - set(fb))]
    # the same finding at another severity (other rules, another unknown-globals setting) is a change
    changed = [{**fb[k], "old_severity": fa[k]["severity"]} for k in sorted(set(fa) & set(fb))
               if fa[k]["severity"] != fb[k]["severity"]]
    return {"added": added[:MAX_LISTED], "removed": removed[:MAX_LISTED], "changed": changed[:MAX_LISTED],
            "counts": {"added": len(added), "removed": len(removed), "changed": len(changed)}}


def _verdicts(a: Side, b: Side, doc: dict[str, Any]) -> list[dict[str, Any]]:
    if not (a.check and b.check):
        doc["not_compared"].append("verdicts: only check documents carry them (aitrail check --format json)")
        return []
    out = []

    def pick(d: dict[str, Any]) -> dict[str, Any]:
        pol = d.get("policy") or {}
        lic = d.get("licenses") or {}
        opn = d.get("openness") or []
        v = {"policy.passed": pol.get("passed"), "licenses.verdict": lic.get("verdict")}
        v["policy.violations"] = len(pol.get("violations") or [])
        for o in opn if isinstance(opn, list) else []:
            if isinstance(o, dict):
                v[f"openness[{o.get('model')}].mof_class"] = (o.get("mof") or {}).get("class")
        for m in lic.get("models") or []:
            if isinstance(m, dict):
                v[f"licenses[{m.get('model')}]"] = m.get("verdict")
        return v

    va, vb = pick(a.check), pick(b.check)
    for k in sorted(set(va) | set(vb)):
        if va.get(k) != vb.get(k):
            out.append({"key": k, "old": va.get(k), "new": vb.get(k)})
    return out


# -- helpers --------------------------------------------------------------------------------------


def _short(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        s = json.dumps(v, default=str, ensure_ascii=False)
        return v if len(s) <= MAX_VALUE else s[: MAX_VALUE - 1] + "…"
    if isinstance(v, str) and len(v) > MAX_VALUE:
        return v[: MAX_VALUE - 1] + "…"
    return v


def _dict_changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k in sorted(set(a) | set(b), key=str):
        if a.get(k) != b.get(k):
            out.append({"key": k, "old": _short(a.get(k)), "new": _short(b.get(k))})
    return out[:MAX_LISTED]


def _any_change(doc: dict[str, Any]) -> bool:
    f = doc["files"]["counts"]
    if f["added"] or f["removed"] or f["changed"]:
        return True
    t = doc["tensors"]
    if t and (t.get("changed_count") or t.get("files")):
        return True
    lic = doc["licenses"]
    if doc["config"] or doc["card"] or lic["changed"] or (lic.get("verdict") or {}).get("changed"):
        return True
    for sec in ("datasets", "lineage"):
        if doc[sec]["added"] or doc[sec]["removed"] or doc[sec]["changed"]:
            return True
    f = doc["findings"]
    return bool(f["added"] or f["removed"] or f["changed"] or doc["verdicts"])


# -- markdown -------------------------------------------------------------------------------------


def _cell(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
    return s.replace("|", "\\|").replace("\n", " ")[:MAX_VALUE]


def markdown(doc: dict[str, Any]) -> str:
    out = [f"# aitrail diff: `{doc['old']['path']}` → `{doc['new']['path']}`", ""]
    out.append("Something changed." if doc["changed"] else "No change found.")
    out.append("")
    f = doc["files"]
    out += ["## Files", "", f"{f['counts']['added']} added, {f['counts']['removed']} removed, "
            f"{f['counts']['changed']} changed, {f['unchanged']} unchanged", ""]
    if f["added"] or f["removed"] or f["changed"]:
        out += ["| change | file | old sha256 | new sha256 |", "|---|---|---|---|"]
        out += [f"| added | `{_cell(x['path'])}` | | {_cell(x.get('sha256') or '')[:12]} |" for x in f["added"]]
        out += [f"| removed | `{_cell(x['path'])}` | {_cell(x.get('sha256') or '')[:12]} | |" for x in f["removed"]]
        out += [
            f"| changed | `{_cell(x['path'])}` | {_cell(x.get('old_sha256') or '')[:12]} | "
            f"{_cell(x.get('new_sha256') or '')[:12]} |"
            for x in f["changed"]
        ]
        out.append("")
    t = doc["tensors"]
    if t:
        out += ["## Tensors", ""]
        if t.get("sampled"):
            kind = f" ({t['kind']})" if t.get("kind") else ""
            out.append(f"Weights compared (sampled, {t['bytes_read']:,} bytes read): **{t['verdict']}**{kind}, "
                       f"confidence {t['confidence']}; " + ", ".join(f"{n} {k}" for k, n in t["summary"].items()))
            if t["changed"]:
                out += ["", "| tensor | status | row correlation | relative change | note |", "|---|---|---|---|---|"]
                for x in t["changed"][:50]:
                    out.append(f"| `{_cell(x['name'])}` | {x['status']} | {x.get('r', '')} | {x.get('change', '')} | "
                               f"{_cell(x.get('note', ''))} |")
                if t["changed_count"] > 50:
                    out.append(f"\n{t['changed_count'] - 50} more changed tensors in the JSON output.")
        else:
            for x in t["files"]:
                out += [f"- `{_cell(x['path'])}`: " + "; ".join(f"{c['key']}: {_cell(c['old'])} → {_cell(c['new'])}"
                                                              for c in x["changes"])]
        out.append("")
    for title, key in (("Config", "config"),):
        if doc[key]:
            out += [f"## {title}", ""]
            for x in doc[key]:
                out += [f"- `{_cell(x['path'])}`: " + "; ".join(f"{c['key']}: {_cell(c['old'])} → {_cell(c['new'])}"
                                                              for c in x["changes"])]
            out.append("")
    if doc["card"]:
        out += ["## Card", "", "| key | old | new |", "|---|---|---|"]
        out += [f"| {_cell(c['key'])} | {_cell(c['old'])} | {_cell(c['new'])} |" for c in doc["card"]]
        out.append("")
    lic = doc["licenses"]
    if lic["changed"] or (lic.get("verdict") or {}).get("changed"):
        out += ["## Licences", "", f"- declared: {', '.join(lic['old']) or 'none'} → {', '.join(lic['new']) or 'none'}"]
        if lic.get("verdict"):
            out.append(f"- verdict: {lic['verdict']['old']} → {lic['verdict']['new']}")
        out.append("")
    for title, key in (("Datasets", "datasets"), ("Lineage", "lineage")):
        d = doc[key]
        if d["added"] or d["removed"] or d["changed"]:
            out += [f"## {title}", ""]
            out += [f"- added `{_cell(x)}`" for x in d["added"]]
            out += [f"- removed `{_cell(x)}`" for x in d["removed"]]
            out += [f"- `{_cell(x['target'])}`: {x['old'] or '?'} → {x['new'] or '?'}" for x in d["changed"]]
            out.append("")
    fi = doc["findings"]
    if fi["added"] or fi["removed"] or fi["changed"]:
        out += ["## Findings", "", "| change | severity | rule | path | message |", "|---|---|---|---|---|"]
        for tag, xs in (("new", fi["added"]), ("gone", fi["removed"])):
            out += [
                f"| {tag} | {x['severity']} | {x['rule']} | `{_cell(x['path'])}` | {_cell(x['message'])} |" for x in xs
            ]
        out += [f"| severity | {x['old_severity']} → {x['severity']} | {x['rule']} | `{_cell(x['path'])}` | "
                f"{_cell(x['message'])} |" for x in fi["changed"]]
        out.append("")
    if doc["verdicts"]:
        out += ["## Verdicts", "", "| verdict | old | new |", "|---|---|---|"]
        out += [f"| {_cell(v['key'])} | {_cell(v['old'])} | {_cell(v['new'])} |" for v in doc["verdicts"]]
        out.append("")
    if doc["not_compared"] or doc["problems"]:
        out += ["## Not compared", ""] + [f"- {_cell(x)}" for x in doc["not_compared"] + doc["problems"]] + [""]
    return "\n".join(out)
