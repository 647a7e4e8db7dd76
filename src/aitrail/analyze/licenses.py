"""Licences: resolve declarations against the knowledge base, flag conflicts and laundering,
and answer "may I use this for X?" with the evidence chain (component -> licence -> clause).

The facts are data (``knowledge/licenses.yaml``); this module only reads and combines them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .. import yamlsafe
from ..model import Component, ComponentType, DeclaredLicense, Finding, Inventory, RelationshipKind, Severity
from .license_ids import license_ref, to_spdx

USES = ("commercial", "research", "internal", "redistribute")
VERDICTS = ("allowed", "allowed_with_obligations", "unknown", "not_allowed")  # from best to worst
KB_SOURCE = "aitrail licence knowledge base"


@dataclass(frozen=True)
class Term:
    id: str
    text: str
    clause: str
    uses: tuple[str, ...]
    flows_down: bool = False
    kind: str = "obligation"  # obligation | restriction | condition
    cap: int | None = None


@dataclass(frozen=True)
class LicenseFacts:
    id: str
    name: str
    source: str
    spdx: str | None = None
    scancode: str | None = None
    kind: str = "software"
    osi: bool = False
    open_data: bool = False
    commercial: str = "unknown"
    commercial_clause: str | None = None
    redistribution: str = "unknown"
    redistribution_clause: str | None = None
    verified: bool = True
    terms: tuple[Term, ...] = ()
    keys: tuple[str, ...] = ()  # every spelling that resolves to this licence


@dataclass
class KnowledgeBase:
    version: int
    licenses: dict[str, LicenseFacts]
    index: dict[str, str]  # lower-cased spelling -> licence id
    bases: list[tuple[re.Pattern[str], str, str]]  # repo-id pattern -> licence id, source

    def lookup(self, key: str) -> LicenseFacts | None:
        lid = self.index.get(key.strip().lower())
        return self.licenses.get(lid) if lid else None


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    raw = yamlsafe.load(resources.files("aitrail.knowledge").joinpath("licenses.yaml").read_text("utf-8"))
    entries = {e["id"]: e for e in raw["licenses"]}
    # The rest of the SPDX list, identity only (generated from ScanCode's LicenseDB): never overrides.
    spdx = yamlsafe.load(resources.files("aitrail.knowledge").joinpath("licenses_spdx.yaml").read_text("utf-8"))
    for e in spdx["licenses"]:
        entries.setdefault(e["id"], e)

    def merged(e: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        if "base" not in e or depth > 8:
            return e
        parent = merged(entries[e["base"]], depth + 1)
        out = {k: v for k, v in parent.items() if k not in ("hf", "aliases", "id", "name", "scancode", "spdx")}
        out.update({k: v for k, v in e.items() if k != "base"})
        return out

    licenses: dict[str, LicenseFacts] = {}
    index: dict[str, str] = {}
    for lid, e in entries.items():
        m = merged(e)
        terms = tuple(
            Term(
                t["id"],
                t["text"],
                t["clause"],
                tuple(t["uses"]),
                bool(t.get("flows_down")),
                t.get("kind", "obligation"),
                t.get("cap"),
            )
            for t in m.get("terms") or []
        )
        keys = [lid, m.get("name"), m.get("spdx"), m.get("scancode")]
        if m.get("scancode"):
            keys.append(f"LicenseRef-scancode-{m['scancode']}")
        keys += list(m.get("hf") or []) + list(m.get("aliases") or [])
        keys = [k for k in keys if k]
        licenses[lid] = LicenseFacts(
            id=lid,
            name=m["name"],
            source=m["source"],
            spdx=m.get("spdx"),
            scancode=m.get("scancode"),
            kind=m.get("kind", "software"),
            osi=bool(m.get("osi")),
            open_data=bool(m.get("open_data")),
            commercial=str(m.get("commercial", "unknown")),
            commercial_clause=m.get("commercial_clause"),
            redistribution=str(m.get("redistribution", "unknown")),
            redistribution_clause=m.get("redistribution_clause"),
            verified=m.get("verified", True),
            terms=terms,
            keys=tuple(keys),
        )
        for k in keys:
            index.setdefault(k.lower(), lid)
    bases = [(re.compile(b["pattern"], re.I), b["license"], b["source"]) for b in raw.get("bases") or []]
    return KnowledgeBase(raw["version"], licenses, index, bases)


@dataclass
class Resolution:
    """What a declared licence string means."""

    declared: str
    id: str  # KB id, SPDX expression, or LicenseRef- for the unknown
    facts: LicenseFacts | None
    matched_by: str  # "knowledge base", "SPDX expression", "license_name", "unknown"
    parts: list[Resolution] = field(default_factory=list)  # for compound SPDX expressions
    operator: str | None = None  # "AND" | "OR"

    @property
    def known(self) -> bool:
        return self.facts is not None or (bool(self.parts) and all(p.known for p in self.parts))


def resolve(value: str, name: str | None = None, link: str | None = None) -> Resolution:
    kb = knowledge()
    v = (value or "").strip()
    if v.lower() in ("other", "unknown", "", "noassertion") and name:
        r = resolve(name)
        r.declared, r.matched_by = v or name, f"license_name ({r.matched_by})"
        return r
    facts = kb.lookup(v)
    if facts:
        return Resolution(v, facts.id, facts, "knowledge base")
    spdx = to_spdx(v)
    if spdx:
        facts = kb.lookup(spdx)
        if facts:
            return Resolution(v, facts.id, facts, "SPDX id")
        for op in (" OR ", " AND "):
            if op in spdx:
                parts = [resolve(p.strip("() ")) for p in _split(spdx, op)]
                return Resolution(v, spdx, None, "SPDX expression", parts, op.strip())
        return Resolution(v, spdx, None, "SPDX id (not in the knowledge base)")
    return Resolution(v, license_ref(name or v), None, "unknown")


def _split(expr: str, op: str) -> list[str]:
    """Split at top-level ``op`` (outside parentheses)."""
    out, depth, cur = [], 0, ""
    i = 0
    while i < len(expr):
        c = expr[i]
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and expr.startswith(op, i):
            out.append(cur)
            cur, i = "", i + len(op)
            continue
        cur += c
        i += 1
    return out + [cur]


def spdx_of(value: str) -> str | None:
    """The SPDX expression a declared value means: the knowledge base first (cheap), then SPDX parsing."""
    facts = knowledge().lookup(value) if value else None
    if facts is not None:
        return facts.spdx
    return to_spdx(value)


def of(lic: DeclaredLicense) -> Resolution:
    return resolve(lic.value, lic.name, lic.link)


def base_licence(repo_id: str) -> tuple[LicenseFacts, str] | None:
    """The licence of a well-known base model, from its repository name (knowledge base ``bases``)."""
    kb = knowledge()
    for pattern, lid, source in kb.bases:
        if pattern.search(repo_id):
            return kb.licenses[lid], source
    return None


@lru_cache(maxsize=1)
def _dpi() -> dict[str, Any]:
    import json

    return json.loads(resources.files("aitrail.knowledge").joinpath("datasets_dpi.json").read_text("utf-8"))  # type: ignore[no-any-return]


DPI_SOURCE = "Data Provenance Initiative licence audit"
_DPI_COMMERCIAL = {"commercial": "yes", "non-commercial": "no", "academic-only": "no", "unspecified": "unknown"}


def audited_dataset(name: str) -> tuple[LicenseFacts, str] | None:
    """A hub dataset's audited licence from the DPI catalogue (knowledge/datasets_dpi.json), if audited."""
    cat = _dpi()
    e = cat["datasets"].get(name)
    if e is None:
        return None
    use = e["use"]
    terms: tuple[Term, ...] = ()
    if e["attribution"]:
        terms += (
            Term(
                "attribution",
                "Attribution required by the audited licence(s)",
                "DPI audit: attribution",
                ("redistribute",),
            ),
        )
    if e["share_alike"]:
        terms += (
            Term(
                "share-alike",
                "Share-alike required by the audited licence(s)",
                "DPI audit: share-alike",
                ("redistribute",),
                flows_down=True,
            ),
        )
    facts = LicenseFacts(
        id=f"LicenseRef-dpi-{name.replace('/', '-')}",
        name=f"{' | '.join(e['licenses'])} (audited: {use})",
        source=cat["source"],
        kind="data",
        commercial=_DPI_COMMERCIAL[use],
        commercial_clause=f"{DPI_SOURCE}: {use} ({', '.join(e['uids'])})",
        redistribution="unknown",
        terms=terms,
    )
    return facts, f"{DPI_SOURCE} of {name} ({', '.join(e['uids'])})"


# -- verdicts -----------------------------------------------------------------------------


def _worst(verdicts: list[str]) -> str:
    return max(verdicts, key=VERDICTS.index) if verdicts else "unknown"


def _best(verdicts: list[str]) -> str:
    return min(verdicts, key=VERDICTS.index) if verdicts else "unknown"


def licence_verdict(r: Resolution, use: str, inherited: bool = False) -> tuple[str, list[Term], str | None]:
    """(verdict, terms that apply, the clause that decided a "not allowed")."""
    if r.parts:
        sub = [licence_verdict(p, use, inherited) for p in r.parts]
        pick = _best if r.operator == "OR" else _worst
        verdict = pick([s[0] for s in sub])
        chosen = [s for s in sub if s[0] == verdict] if r.operator == "OR" else sub
        terms = [t for s in chosen[: 1 if r.operator == "OR" else None] for t in s[1]]
        return verdict, terms, next((s[2] for s in chosen if s[2]), None)
    f = r.facts
    if f is None or not f.verified:
        return "unknown", [], None
    if use == "commercial" and f.commercial == "no":
        return "not_allowed", [], f.commercial_clause or "licence grant"
    if use == "redistribute" and f.redistribution == "no":
        return "not_allowed", [], f.redistribution_clause or "licence grant"
    if (use == "commercial" and f.commercial == "unknown") or (use == "redistribute" and f.redistribution == "unknown"):
        return "unknown", [], None
    terms = [t for t in f.terms if use in t.uses and (t.flows_down or not inherited)]
    return ("allowed_with_obligations" if terms else "allowed"), terms, None


@dataclass
class Entry:
    """One licence of one component, judged for one use."""

    component: Component
    role: str  # model | base-model | dataset | package
    declared: DeclaredLicense | None
    resolution: Resolution
    verdict: str
    terms: list[Term]
    deciding_clause: str | None
    evidence: list[str]

    def to_dict(self) -> dict[str, Any]:
        f = self.resolution.facts
        return {
            "component": self.component.id,
            "name": self.component.name,
            "role": self.role,
            "declared": self.resolution.declared,
            "license": self.resolution.id,
            "license_name": f.name if f else None,
            "known": self.resolution.known,
            "matched_by": self.resolution.matched_by,
            "verdict": self.verdict,
            "deciding_clause": self.deciding_clause,
            "source": f.source if f else None,
            "evidence": self.evidence,
        }


def entries(inv: Inventory, model: Component, use: str) -> list[Entry]:
    out: list[Entry] = []

    def add(c: Component, role: str, lic: DeclaredLicense | None, r: Resolution, evidence: list[str]) -> None:
        # A derivative contains its base (weights, or needs it to run): all of the base licence applies.
        # Training data is not contained: only the terms that must flow down reach the model.
        verdict, terms, clause = licence_verdict(r, use, inherited=role == "dataset")
        out.append(Entry(c, role, lic, r, verdict, terms, clause, evidence))

    def add_known(c: Component, role: str, facts: LicenseFacts, how: str, evidence: list[str]) -> None:
        """A licence aitrail knows from its own data (not declared by the artefact)."""
        add(c, role, None, Resolution(facts.name, facts.id, facts, how), evidence)

    for lic in model.licenses:
        add(model, "model", lic, of(lic), [str(lic.evidence)])
    if not model.licenses:
        add(model, "model", None, Resolution("", "NOASSERTION", None, "none declared"), ["no licence declared"])
    for rel in inv.outgoing(model.id, RelationshipKind.DERIVED_FROM):
        base = inv.component(rel.target)
        if base is None:
            continue
        via = f"{model.name} {rel.derivation or 'derived'} from {base.name} ({', '.join(map(str, rel.evidence))})"
        if base.licenses:
            for lic in base.licenses:
                add(base, "base-model", lic, of(lic), [via, str(lic.evidence)])
        else:
            known = base_licence(base.name)
            if known:
                facts, source = known
                add_known(
                    base,
                    "base-model",
                    facts,
                    "base model repository name",
                    [via, f"licence of {base.name} from its repository name ({source})"],
                )
    for ds in inv.related(model.id, RelationshipKind.TRAINED_ON):
        for lic in ds.licenses:
            add(ds, "dataset", lic, of(lic), [f"{model.name} trained on {ds.name}", str(lic.evidence)])
        audit = None if ds.licenses else audited_dataset(ds.name)
        if audit:
            facts, where = audit
            add_known(ds, "dataset", facts, "dataset licence catalogue", [f"{model.name} trained on {ds.name}", where])
    for rel in inv.incoming(model.id, RelationshipKind.CONTAINS):
        pkg = inv.component(rel.source)
        if pkg is not None and pkg.type == ComponentType.LIBRARY:
            for lic in pkg.licenses:
                add(pkg, "package", lic, of(lic), [f"{pkg.name} ships {model.name}", str(lic.evidence)])
    return out


def model_verdict(es: list[Entry]) -> str:
    """A model's verdict from its entries: its own declarations and its bases'. If they conflict the
    stricter one governs until resolved."""
    return _worst([e.verdict for e in es if e.role in ("model", "base-model")])


def report(inv: Inventory, use: str, models: list[Component] | None = None) -> dict[str, Any]:
    """The ``aitrail licenses --use`` answer: verdict, obligations, components, findings."""
    if use not in USES:
        raise ValueError(f"unknown use {use!r}: choose from {', '.join(USES)}")
    all_entries: list[Entry] = []
    per_model = []
    for m in inv.models() if models is None else models:
        es = entries(inv, m, use)
        all_entries += es
        per_model.append({"model": m.id, "verdict": model_verdict(es)})
    verdict = _worst([p["verdict"] for p in per_model]) if per_model else "unknown"
    obligations = []
    seen = set()
    for e in all_entries:
        if e.role == "dataset" and e.verdict == "not_allowed":
            continue  # reported as a finding: data licences bind the data, their reach into models is unsettled
        for t in e.terms:
            key = (e.resolution.id, t.id)
            if key in seen:
                continue
            seen.add(key)
            obligations.append(
                {
                    "license": e.resolution.id,
                    "term": t.id,
                    "kind": t.kind,
                    "text": t.text,
                    "clause": t.clause,
                    "source": e.resolution.facts.source if e.resolution.facts else None,
                    "flows_down": t.flows_down,
                    "via": e.component.name,
                    "role": e.role,
                }
            )
    findings = [f.to_dict() for f in inv.findings if f.rule.startswith("license.")]
    return {
        "use": use,
        "verdict": verdict,
        "models": per_model,
        "obligations": obligations,
        "components": [e.to_dict() for e in all_entries],
        "findings": findings,
        "knowledge_base_version": knowledge().version,
    }


# -- findings added to every scan ------------------------------------------------------------


def check(inv: Inventory) -> None:
    """Conflicting declarations, packager differences, laundering, non-commercial training data."""
    source = f"{KB_SOURCE} v{knowledge().version}"
    for m in inv.models():
        resolved = [(lic, of(lic)) for lic in m.licenses]
        ids = {r.id for _, r in resolved}
        if len(ids) > 1:
            where = "; ".join(f"{lic.value} ({lic.evidence})" for lic, _ in resolved)
            inv.findings.append(
                Finding(
                    Severity.MEDIUM,
                    "license.conflict",
                    f"{m.name}: declared licences disagree: {where}",
                    resolved[0][0].evidence.path,
                    resolved[0][0].evidence,
                    source,
                )
            )
        for rel in inv.incoming(m.id, RelationshipKind.CONTAINS):
            pkg = inv.component(rel.source)
            if pkg is None or not pkg.licenses:
                continue
            pids = {of(lic).id for lic in pkg.licenses}
            if ids and not pids & ids:
                lic = pkg.licenses[0]
                inv.findings.append(
                    Finding(
                        Severity.LOW,
                        "license.packager-differs",
                        f"{m.name}: the package {pkg.name} that ships it is licensed {lic.value} ({lic.evidence}), "
                        f"the model itself {', '.join(f'{x.value} ({x.evidence})' for x in m.licenses)}: the "
                        "package licence covers the packaging, not necessarily the weights",
                        lic.evidence.path,
                        lic.evidence,
                        source,
                    )
                )
        _laundering(inv, m, resolved, source)


def _laundering(inv: Inventory, m: Component, resolved: list[tuple[DeclaredLicense, Resolution]], source: str) -> None:
    said: set[tuple[str, str]] = set()  # a dataset with several licence entries is one finding, not one each
    for e in entries(inv, m, "commercial"):
        if e.role == "base-model" and e.resolution.facts:
            base = e.resolution.facts
            binding = [t for t in base.terms if t.flows_down] + (
                [Term("commercial", f"commercial use is {base.commercial}", base.commercial_clause or "grant", USES)]
                if base.commercial in ("no", "conditional")
                else []
            )
            if not binding:
                continue
            for lic, r in resolved:
                if (
                    r.facts
                    and r.facts.id != base.id
                    and not any(t.flows_down for t in r.facts.terms)
                    and r.facts.commercial == "yes"
                ):
                    inv.findings.append(
                        Finding(
                            Severity.HIGH,
                            "license.laundering",
                            f"{m.name}: declares {r.declared} ({r.facts.name}), but {'; '.join(e.evidence)}: "
                            f"{base.name} binds derivatives ({', '.join(f'{t.clause}: {t.id}' for t in binding[:4])})",
                            lic.evidence.path,
                            lic.evidence,
                            f"{base.name}, {base.source}",
                        )
                    )
        if e.role == "dataset" and e.resolution.facts and e.resolution.facts.commercial == "no":
            commercial = [(lic, r) for lic, r in resolved if r.facts and r.facts.commercial == "yes"]
            key = (e.component.id, e.resolution.id)
            if commercial and key not in said:
                said.add(key)
                where = next((ev for ev in e.component.evidence if ev.path), commercial[0][0].evidence)
                inv.findings.append(
                    Finding(
                        Severity.MEDIUM,
                        "license.noncommercial-data",
                        f"{m.name}: licensed for commercial use, but trained on {e.component.name} under "
                        f"{e.resolution.facts.name} ({e.resolution.facts.commercial_clause})",
                        where.path,
                        where,
                        e.resolution.facts.source,
                    )
                )
