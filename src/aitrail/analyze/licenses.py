"""Licences: resolve declarations against the knowledge base, flag conflicts and laundering,
and answer "may I use this for X?" with the evidence chain (component -> licence -> clause).

The facts are data (``knowledge/licenses.yaml``); this module only reads and combines them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from .. import yamlsafe
from ..model import (
    Component,
    ComponentType,
    DeclaredLicense,
    Evidence,
    Finding,
    Inventory,
    RelationshipKind,
    Severity,
)
from .license_ids import license_ref, to_spdx

# commercial: in a business's products or services; research: non-commercial research; internal: inside a
# business, not offered to others (commercial where the licence says so, e.g. CC BY-NC §1(i));
# redistribute: giving copies of the model or a derivative; host: offering the model to others as a
# network service (judged as commercial use plus the licence's hosting terms: AGPL §13, Gemma §1.1(b),
# OpenRAIL "Distribution"). docs/verdicts.md.
USES = ("commercial", "research", "internal", "redistribute", "host")
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
    internal: str = "unknown"  # internal use by a business: yes | no | unknown
    internal_clause: str | None = None
    hosting_clause: str | None = None  # set when the licence counts a hosted service as distribution
    derivatives: tuple[str, ...] | None = None  # licences a derivative may carry (None: any)
    derivatives_clause: str | None = None
    family: str = ""  # the root of the entry's ``base`` chain (Llama 2..4 are one family)
    links: tuple[str, ...] = ()  # URLs of the licence text (a card's license_link)


@dataclass
class KnowledgeBase:
    version: int
    licenses: dict[str, LicenseFacts]
    index: dict[str, str]  # lower-cased spelling -> licence id
    links: dict[str, str] = field(default_factory=dict)  # normalised licence URL -> licence id

    def lookup(self, key: str) -> LicenseFacts | None:
        lid = self.index.get(key.strip().lower())
        return self.licenses.get(lid) if lid else None

    def by_link(self, url: str) -> LicenseFacts | None:
        norm = _norm_link(url)
        lid = self.links.get(norm)
        if lid:
            return self.licenses.get(lid)
        # the licence sites' own address schemes: the address names the licence (a rule, not a list of URLs)
        for pattern, fmt in _LICENCE_SITES:
            m = pattern.match(norm)
            if m:
                return self.lookup(fmt.format(*m.groups()))
        return None


_LICENCE_SITES = (
    (re.compile(r"^creativecommons\.org/licenses/(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)(?:/.*)?$"), "cc-{}-{}"),
    (re.compile(r"^creativecommons\.org/publicdomain/zero/(1\.0)(?:/.*)?$"), "cc0-{}"),
    (re.compile(r"^opensource\.org/licenses?/([a-z0-9.+\-]+?)(?:-license)?(?:\.php|\.html)?$"), "{}"),
    (re.compile(r"^spdx\.org/licenses/([a-z0-9.+\-]+?)(?:\.html|\.json)?$"), "{}"),
    (re.compile(r"^choosealicense\.com/licenses/([a-z0-9.+\-]+)$"), "{}"),
)


def _norm_link(url: str) -> str:
    u = url.strip().lower().split("#", 1)[0].split("?", 1)[0].rstrip("/")
    u = re.sub(r"^https?://(www\.)?", "", u)
    # one file of a Hub repo, however the link reaches it: hf.co, /resolve/ or /raw/ (downloads), /blob/ (page)
    return re.sub(r"^(?:hf\.co|huggingface\.co)/([^/]+/[^/]+)/(?:blob|resolve|raw)/", r"huggingface.co/\1/blob/", u)


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
            return {**e, "family": e["id"]}
        parent = merged(entries[e["base"]], depth + 1)
        keep = ("hf", "aliases", "id", "name", "scancode", "spdx", "links", "derivatives", "derivatives_clause")
        out = {k: v for k, v in parent.items() if k not in keep}
        out.update({k: v for k, v in e.items() if k != "base"})
        return out

    licenses: dict[str, LicenseFacts] = {}
    index: dict[str, str] = {}
    links: dict[str, str] = {}
    for lid, e in entries.items():
        m = merged(e)
        commercial = str(m.get("commercial", "unknown"))
        # Internal use by a business is commercial use unless the licence says otherwise (CC BY-NC §1(i)).
        internal = str(m.get("internal", "no" if commercial == "no" else commercial))
        internal_clause = m.get("internal_clause") or (
            f"{m.get('commercial_clause') or 'licence grant'} (internal use by a business is commercial use)"
            if internal == "no"
            else None
        )
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
            commercial=commercial,
            commercial_clause=m.get("commercial_clause"),
            redistribution=str(m.get("redistribution", "unknown")),
            redistribution_clause=m.get("redistribution_clause"),
            verified=m.get("verified", True),
            terms=terms,
            keys=tuple(keys),
            internal=internal,
            internal_clause=internal_clause,
            hosting_clause=m.get("hosting_clause"),
            derivatives=tuple(m["derivatives"]) if m.get("derivatives") is not None else None,
            derivatives_clause=m.get("derivatives_clause"),
            family=m["family"],
            links=tuple(m.get("links") or [m["source"]]),
        )
        for k in keys:
            index.setdefault(k.lower(), lid)
        for url in licenses[lid].links:
            links.setdefault(_norm_link(url), lid)
    # other published addresses of a licence's text (a card's license_link): licenses.yaml `links`
    for url, lid in (raw.get("links") or {}).items():
        if lid in licenses:
            links.setdefault(_norm_link(url), lid)
    return KnowledgeBase(raw["version"], licenses, index, links)


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
    # license_link names the exact text: it beats a name that several versions share (Falcon 2 / Falcon 3).
    if link and v.lower() in ("other", "unknown", "", "noassertion"):
        facts = kb.by_link(link)
        if facts:
            return Resolution(v or link, facts.id, facts, "license_link")
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
    # An expression whose parts the SPDX list does not know ("LicenseRef-aitrail-llama-3.1 OR MIT"): still an
    # expression, each part resolved on its own (only ids, never free text joined by "and").
    for op in (" OR ", " AND "):
        pieces = [p.strip() for p in _split(v, op)] if op in v else []
        if len(pieces) > 1 and all(p and (" " not in p or p[0] + p[-1] == "()") for p in pieces):
            subs = [resolve(p[1:-1] if p[0] == "(" else p) for p in pieces]
            joined = f" {op.strip()} ".join(f"({x.id})" if x.parts else x.id for x in subs)
            return Resolution(v, joined, None, "SPDX expression", subs, op.strip())
    loose = _loose(v)
    if loose is not None:
        return loose
    return Resolution(v, license_ref(name or v), None, "unknown")


_URL = re.compile(r"https?://[^\s)]+")
_QUALIFIED = re.compile(
    r"(?i)non[- _]?commercial|\bresearch\b|\bacademic\b|\bpersonal\b|\bevaluation\b|\bonly\b|\bnot\b|\bno\b|"
    r"\bexcept|\bprohibit|\brestrict|\bmodified\b|\bamended\b|\bplus\b|\badditional\b"
)


def _loose(v: str) -> Resolution | None:
    """Free text naming one licence: "AGPL-3.0 License (https://ultralytics.com/license)",
    "Apache License, Version 2.0". Only a whole known name after dropping the URL, parentheses and a
    trailing "license" counts: a sentence that merely mentions a licence stays unknown."""
    kb = knowledge()
    bare = _URL.sub("", v)
    said = re.findall(r"\(([^)]*)\)", bare)
    # a parenthesis may qualify the licence ("Apache 2.0 (non-commercial use only)"): then it is not that licence
    if _QUALIFIED.search(" ".join(said)):
        return None
    unwrapped = re.sub(r"\s+", " ", re.sub(r"[()]", " ", bare)).strip(" .,;:-")  # "Apache License (Version 2.0)"
    bare = re.sub(r"\([^)]*\)", "", bare).strip(" .,;:-")
    # "terms of the MIT License", "Attribution-ShareAlike 3.0 Unported by <author>": the licence's name
    # inside the words around it (only a whole known name still counts)
    bare = re.sub(r"(?i)^(?:the\s+)?terms\s+of\s+(?:the\s+)?", "", bare)
    bare = re.sub(r"(?i)(\d(?:\.\d+)?(?:\s+(?:unported|international|generic))?)\s+by\s+[^\d]+$", r"\1", bare).strip()
    for cand in (spelled(unwrapped), bare, re.sub(r"\s+licen[sc]e$", "", bare, flags=re.I).strip(), spelled(bare)):
        if cand and cand != v and len(cand) <= 80:
            facts = kb.lookup(cand)
            spdx = None if facts else to_spdx(cand)
            facts = facts or (kb.lookup(spdx) if spdx and " " not in spdx else None)
            if facts and facts.id.endswith("-family"):
                # a family named with its member: "Creative Commons (CC BY-NC 4.0)" is CC BY-NC 4.0
                member = next((r for r in map(resolve, said) if r.facts is not None), None)
                if member is not None:
                    return Resolution(v, member.id, member.facts, f"licence named in free text ({member.declared!r})")
            if facts:
                return Resolution(v, facts.id, facts, f"licence named in free text ({cand!r})")
    for url in _URL.findall(v):
        facts = kb.by_link(url.rstrip(".,;"))
        if facts:
            return Resolution(v, facts.id, facts, "licence URL in free text")
    return None


_SPELLINGS = (
    (r"gnu\s+affero\s+general\s+public", "agpl"),
    (r"gnu\s+lesser\s+general\s+public", "lgpl"),
    (r"gnu\s+general\s+public", "gpl"),
    (r"creative\s+commons", "cc"),
    (r"\battribution\b", "by"),
    (r"\bnon-?commercial\b", "nc"),
    (r"\bshare-?alike\b", "sa"),
    (r"\bno-?deriv(?:ative)?s?\b", "nd"),
    (r"\b(?:the|licen[sc]e|international|unported|generic|version|or later)\b", " "),
    (r"\bv(?=\d)", " "),
)


def spelled(name: str) -> str:
    """A licence name as people spell it in prose, as an id: "Creative Commons Attribution-NonCommercial
    4.0 International" -> "cc-by-nc-4.0", "the Apache License, Version 2.0" -> "apache-2.0",
    "GNU General Public License v3" -> "gpl-3". Only ever looked up whole in the knowledge base."""
    s = name.lower()
    for pattern, repl in _SPELLINGS:
        s = re.sub(pattern, repl, s)
    out = "-".join(re.findall(r"[a-z]+(?:\+\+)?|\d+(?:\.\d+)*", s))  # "++" names another licence (OpenRAIL++)
    # a Creative Commons licence by its legal-code title alone: "Attribution-ShareAlike 3.0 Unported"
    return f"cc-{out}" if re.fullmatch(r"by(-(nc|sa|nd))*-\d+(\.\d+)?", out) else out


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


def declarations(licences: list[DeclaredLicense]) -> list[tuple[DeclaredLicense, Resolution]]:
    """Each declared licence resolved; a ``license_link`` naming another known licence than the value beside
    it (``license: apache-2.0`` linking the CC BY-NC legal code) is a declaration of its own."""
    out = []
    for lic in licences:
        r = of(lic)
        out.append((lic, r))
        linked = knowledge().by_link(lic.link) if lic.link and r.matched_by != "license_link" else None
        if linked is not None and linked.id != r.id:
            ev = Evidence(lic.evidence.path, key="license_link", line=lic.evidence.line, value=lic.link)
            link = str(lic.link)
            out.append((DeclaredLicense(link, ev), Resolution(link, linked.id, linked, "license_link")))
    return out


def base_licence(repo_id: str) -> tuple[LicenseFacts, str] | None:
    """The licence of a well-known base model family, from its repository id (the curated facts in
    knowledge/base_models.yaml), with the fact's source."""
    from ..resolvers.curated import CuratedResolver

    facts = CuratedResolver().lookup(repo_id)
    if facts is None:
        return None
    lic = knowledge().lookup(facts.licences[0].value)
    return (lic, facts.source) if lic else None


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
        # What the licence refuses is still refused when the rest of it is unknown: an unverified entry's
        # "no" (recorded with its clause), or a licence whose own name says non-commercial.
        refused = _refusal(r, use)
        return ("not_allowed", [], refused) if refused else ("unknown", [], None)
    if use in ("commercial", "host") and f.commercial == "no":
        return "not_allowed", [], f.commercial_clause or "licence grant"
    if use == "internal" and f.internal == "no":
        return "not_allowed", [], f.internal_clause or "licence grant"
    hosted_is_distribution = use == "host" and f.hosting_clause is not None
    if (use == "redistribute" or hosted_is_distribution) and f.redistribution == "no":
        return "not_allowed", [], f.redistribution_clause or "licence grant"
    stances = {
        "commercial": (f.commercial,),
        "internal": (f.internal,),
        "redistribute": (f.redistribution,),
        "host": (f.commercial, f.redistribution) if hosted_is_distribution else (f.commercial,),
    }
    if "unknown" in stances.get(use, ()):
        # the clause saying why the knowledge base cannot answer (a family tag whose members differ), if any
        why = {
            "commercial": f.commercial_clause,
            "internal": f.internal_clause,
            "redistribute": f.redistribution_clause,
        }
        why["host"] = f.commercial_clause or f.redistribution_clause
        return "unknown", [], why.get(use)
    triggers = {use} | ({"commercial"} if use == "host" else set())
    if hosted_is_distribution:
        triggers.add("redistribute")
    terms = [t for t in f.terms if triggers & set(t.uses) and (t.flows_down or not inherited)]
    return ("allowed_with_obligations" if terms else "allowed"), terms, None


# A licence named non-commercial by its own id or title ("insightface-non-commercial", "FLUX.1 [dev]
# Non-Commercial License", "exaone-...-nc"): whatever else it says, it does not grant commercial use.
_NC_NAME = re.compile(r"(?i)(?:^|[^a-z])(?:non[-_ ]?commercial|nc)(?:[^a-z]|$)")
# ... or a research licence by its own title ("DeepFloyd IF Research License", "Intel Research Use License",
# "Apple Model License for Research", "fish-audio-research-license"): research use only
_RESEARCH_NAME = re.compile(
    r"(?i)research[-_ ](?:use[-_ ])?(?:licen[cs]e|agreement|only)|licen[cs]e[-_ ]for[-_ ]research|"
    r"for[-_ ]research[-_ ](?:use|purposes)[-_ ]only"
)
_REFUSING_USES = {
    "commercial": "commercial",
    "host": "commercial",
    "internal": "internal",
    "redistribute": "redistribution",
}


def _refusal(r: Resolution, use: str) -> str | None:
    """The clause by which an unverified or unknown licence refuses ``use``, if it plainly does."""
    stance = _REFUSING_USES.get(use)
    f = r.facts
    if f is not None and stance is not None and getattr(f, stance) == "no":
        clause = getattr(f, f"{stance}_clause") or "licence grant"
        return f"{clause} (knowledge-base facts not yet checked against the whole text)"
    if stance in ("commercial", "internal"):
        names = [r.declared, r.id] + ([f.name] if f is not None else [])
        said = next((n for n in names if n and _NC_NAME.search(n)), None)
        if said:
            return f"the licence's own name, {said!r}, says non-commercial (its text is not in the knowledge base)"
        said = next((n for n in names if n and _RESEARCH_NAME.search(n)), None)
        if said:
            return f"the licence's own name, {said!r}, says research use only (its text is not in the knowledge base)"
    return None


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
    resolved_by: str | None = "scan"  # which resolver supplied the licence: scan, siblings, curated, ...
    depth: int = 0  # 0: the model itself; 1: a direct base; 2: its base...

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
            "resolved_by": self.resolved_by,
            "depth": self.depth,
        }


# -- lineage --------------------------------------------------------------------------------

_EXTRA: ContextVar[dict[str, Any] | None] = ContextVar("aitrail_resolvers", default=None)
RESOLVER_ORDER = ("siblings", "registry", "hub-index", "curated", "online")


def configure(**resolvers: Any) -> Token[dict[str, Any] | None]:
    """Add resolvers beyond the defaults (siblings and curated facts), by slot: ``registry=``,
    ``hub_index=``, ``online=``. Returns a token for ``_EXTRA.reset`` (the CLI sets them per command)."""
    return _EXTRA.set({k.replace("_", "-"): v for k, v in resolvers.items() if v is not None})


def configured_resolvers() -> Mapping[str, Any]:
    """The resolvers :func:`configure` added, by slot (``registry``, ``hub-index``, ``online``); empty when
    none. A read-only view: change them with :func:`configure` and :func:`reset_resolvers`."""
    return MappingProxyType(dict(_EXTRA.get() or {}))


def reset_resolvers(token: Token[dict[str, Any] | None]) -> None:
    """Undo the :func:`configure` call that returned ``token``."""
    _EXTRA.reset(token)


def resolvers_for(inv: Inventory) -> list[Any]:
    from ..resolvers.curated import CuratedResolver
    from ..resolvers.siblings import SiblingResolver

    # One sibling index per inventory (an HF cache of thousands of snapshots is indexed once, not per model).
    key = ("_aitrail_siblings", len(inv.components), len(inv.relationships))
    cached = inv.__dict__.get("_aitrail_siblings")
    if cached is None or cached[0] != key:
        cached = inv.__dict__["_aitrail_siblings"] = (key, SiblingResolver(inv))
    slots: dict[str, Any] = {"siblings": cached[1], "curated": CuratedResolver(), **(_EXTRA.get() or {})}
    return [slots[n] for n in RESOLVER_ORDER if n in slots]


def lineage(inv: Inventory, model: Component) -> list[Any]:
    """Every ancestor of ``model`` as :class:`aitrail.resolvers.lineage.Hop` (cached on the inventory:
    the verdicts for five uses and the findings walk it once)."""
    from ..resolvers import BaseRef
    from ..resolvers.lineage import walk

    cache: dict[tuple[Any, ...], list[Any]] = inv.__dict__.setdefault("_aitrail_lineage", {})
    key = (model.id, *sorted((k, id(v)) for k, v in (_EXTRA.get() or {}).items()))
    if key not in cache:
        starts = []
        for rel in inv.outgoing(model.id, RelationshipKind.DERIVED_FROM):
            base = inv.component(rel.target)
            if base is None:
                continue
            if base.id == model.id and all(e.key == "_name_or_path" for e in rel.evidence):
                continue  # config.json naming the checkpoint the model itself was saved as
            starts.append(BaseRef(base.name, str(rel.derivation or "unknown"), ", ".join(map(str, rel.evidence))))
        resolvers = resolvers_for(inv)
        # config.json's _name_or_path in the base's own folder names the folder's model itself.
        sib = resolvers[0]
        starts = [
            b
            for b in starts
            if not (b.evidence.endswith("[_name_or_path]") and (sib._find(b.model_id, None) or (None,))[0] is model)
        ]
        direct = {b.model_id.lower(): inv.component(f"model:{b.model_id}") for b in starts}
        # A base the scan itself carries a licence for (the manifest's base_models) is the scan's fact.
        declared = _DeclaredBases(direct)
        cache[key] = walk(_identity(model), starts, [declared, *resolvers])
    return cache[key]


def _identity(model: Component) -> str:
    return str(model.properties.get("repo_id") or model.name)


class _DeclaredBases:
    """Licences the scan found on a base model's own component (the manifest's ``base_models``)."""

    name = "scan"

    def __init__(self, comps: dict[str, Component | None]) -> None:
        self.comps = {
            k: c for k, c in comps.items() if c is not None and c.licenses and not c.properties.get("scanned")
        }

    def lookup(self, model_id: str, revision: str | None = None) -> Any:
        from ..resolvers import LicenceEvidence, ModelFacts

        c = self.comps.get(model_id.lower())
        if c is None:
            return None
        lics = tuple(LicenceEvidence(x.value, "declared", str(x.evidence), x.name, x.link) for x in c.licenses)
        # the manifest may have come with the model rather than from the user: curated facts are asked too
        return ModelFacts(model_id, "scan", "the scan's own declarations", licences=lics, local_claim=True)


def _is_companion(r: Resolution) -> bool:
    """A use policy (Llama AUP, Gemma PUP) is part of its licence, not a licence of its own."""
    return r.facts is not None and r.facts.kind == "policy"


def entries(inv: Inventory, model: Component, use: str) -> list[Entry]:
    out: list[Entry] = []

    def add(
        c: Component,
        role: str,
        lic: DeclaredLicense | None,
        r: Resolution,
        evidence: list[str],
        resolved_by: str | None = "scan",
        depth: int = 0,
    ) -> None:
        # A derivative contains its base (weights, or needs it to run): all of the base licence applies.
        # Training data is not contained: only the terms that must flow down reach the model.
        verdict, terms, clause = licence_verdict(r, use, inherited=role == "dataset")
        out.append(Entry(c, role, lic, r, verdict, terms, clause, evidence, resolved_by, depth))

    def add_known(c: Component, role: str, facts: LicenseFacts, how: str, evidence: list[str], by: str) -> None:
        """A licence aitrail knows from its own data (not declared by the artefact)."""
        add(c, role, None, Resolution(facts.name, facts.id, facts, how), evidence, by)

    own = declarations(model.licenses)
    companions = [f"{r.facts.name if r.facts else r.id} ({lic.evidence}), part of the licence" for lic, r in own
                  if _is_companion(r)]
    for lic, r in own:
        if not _is_companion(r):
            add(model, "model", lic, r, [str(lic.evidence), *companions])
    for path, why in unidentified_texts(inv, model):
        r = Resolution("", license_ref(path.rsplit("/", 1)[-1]), None, "unidentified licence text")
        role = "package" if ".dist-info/" in path else "model"  # the carrier's text: read with its licence
        add(model, role, DeclaredLicense("", Evidence(path)), r, [f"{path}: {why}"])
    if not out:
        none = Resolution("", "NOASSERTION", None, "none declared")
        add(model, "model", None, none, ["no licence declared", *companions])
    own_data = {c.name for c in inv.related(model.id, RelationshipKind.TRAINED_ON)}
    for hop in lineage(inv, model):
        comp = inv.component(f"model:{hop.model_id}") or Component(
            id=f"model:{hop.model_id}", type=ComponentType.MODEL, name=hop.model_id
        )
        how = hop.relation if hop.relation not in ("", "unknown") else "derived"
        via = f"{hop.parent} {how} from {hop.model_id}" + (f" ({hop.evidence})" if hop.evidence else "")
        if hop.problem or hop.facts is None:
            add(
                comp,
                "base-model",
                None,
                Resolution("", "NOASSERTION", None, f"unresolved ({hop.problem})"),
                [via, _hop_problem(hop)],
                None,
                hop.depth,
            )
            continue
        shown: set[str] = set()
        for said in (hop.facts, hop.curated):  # curated facts beside a local claim: only what the claim left out
            for ev in said.licences if said is not None else ():
                r = resolve(ev.value, ev.name, ev.link)
                if said is hop.curated and r.id in shown:
                    continue
                shown.add(r.id)
                where = f"{ev.location or ev.source} [{said.resolver}: {said.source}]"
                add(comp, "base-model", None, r, [via, where], said.resolver, hop.depth)
        for name in hop.facts.datasets:  # an ancestor's training data: its audited terms that flow down
            audit = audited_dataset(name)
            if audit and name not in own_data:
                own_data.add(name)
                facts, where = audit
                ds = inv.component(f"dataset:{name}") or Component(f"dataset:{name}", ComponentType.DATASET, name)
                res = Resolution(facts.name, facts.id, facts, "dataset licence catalogue")
                ev = [f"{hop.model_id} trained on {name} ({hop.facts.resolver})", where]
                add(ds, "dataset", None, res, ev, "dpi", hop.depth)
    for ds in inv.related(model.id, RelationshipKind.TRAINED_ON):
        for lic in ds.licenses:
            add(ds, "dataset", lic, of(lic), [f"{model.name} trained on {ds.name}", str(lic.evidence)])
        audit = None if ds.licenses else audited_dataset(ds.name)
        if audit:
            facts, where = audit
            add_known(
                ds, "dataset", facts, "dataset licence catalogue", [f"{model.name} trained on {ds.name}", where], "dpi"
            )
    for rel in inv.incoming(model.id, RelationshipKind.CONTAINS):
        pkg = inv.component(rel.source)
        if pkg is not None and pkg.type == ComponentType.LIBRARY:
            for lic in package_licences(inv, pkg):
                add(pkg, "package", lic, of(lic), [f"{pkg.name} ships {model.name}", str(lic.evidence)])
    if out[0].resolution.matched_by == "none declared" and any(e.role == "package" for e in out):
        out[0].evidence.append("read by the licence of the package that ships it")
    return out


def unidentified_texts(inv: Inventory, model: Component) -> list[tuple[str, str]]:
    """Licence texts in the model (LICENSE files, a text pasted into GGUF general.license) that could not
    be identified: (path, what is closest). Each makes the verdict unknown; none is dropped in silence."""
    out = []
    for c in inv.related(model.id, RelationshipKind.CONTAINS):
        if c.path and ".dist-info/" in c.path and model.licenses:
            # a package's licence file: the packager's evidence (package_licences), not the model's — unless
            # the model declares nothing, and so is read by its package's licence: then that text decides too
            continue
        ident = c.properties.get("identification") if c.type == ComponentType.LICENSE else None
        if c.path and isinstance(ident, dict) and not ident.get("known"):
            near = max((float(x.get("coverage") or 0) for x in ident.get("closest") or []), default=0.0)
            if c.path.rsplit("/", 1)[-1].lower().startswith("notice") and near < 0.5:
                continue  # an attribution notice (Apache §4(d)), not a licence: it carries no terms of its own
            closest = ", ".join(
                f"{x.get('id')} ({float(x.get('coverage') or 0):.0%} of its text)" for x in ident.get("closest") or []
            )[:300]
            out.append((c.path, f"a licence text aitrail cannot identify (closest: {closest or 'none'})"))
        elif c.path and c.properties.get("license_text_unidentified"):
            out.append((c.path, f"an unidentified licence text ({c.properties['license_text_unidentified']})"))
    return out


def package_licences(inv: Inventory, pkg: Component) -> list[DeclaredLicense]:
    """A package's licence evidence: METADATA License / License-Expression, its licence classifiers,
    and the licence files inside its dist-info folder (License-File), each identified by its text."""
    out = list(pkg.licenses)
    meta = next((e.path for e in pkg.evidence if e.path and e.path.endswith("/METADATA")), None)
    for c in pkg.properties.get("license_classifiers") or []:
        if meta and knowledge().lookup(str(c)) is not None:  # "License :: OSI Approved :: MIT License"
            out.append(DeclaredLicense(str(c), Evidence(meta, key="Classifier", value=str(c))))
    if meta:
        folder = meta.rsplit("/", 1)[0] + "/"
        for c in inv.components:
            if c.path and c.path.startswith(folder) and c.type == ComponentType.LICENSE:
                out.extend(c.licenses)
    seen: set[str] = set()
    unique = []
    for lic in out:  # the same licence from two places is one entry (the first evidence)
        rid = of(lic).id
        if rid not in seen:
            seen.add(rid)
            unique.append(lic)
    return unique


def _hop_problem(hop: Any) -> str:
    if hop.problem in ("unresolved", "no-licence"):
        tried = ", ".join(hop.tried) or "none"
        failed = f"; failed: {'; '.join(hop.errors)}" if hop.errors else ""
        known = f" (known to {hop.facts.resolver}, which has no licence for it)" if hop.facts else ""
        return f"base {hop.model_id}: licence unresolved{known} (resolvers tried: {tried}{failed})"
    if hop.problem in ("cycle", "self-loop"):
        return f"base {hop.model_id}: lineage {hop.problem} ({'; '.join(hop.tried)})"
    return f"base {hop.model_id}: lineage not followed further ({hop.problem} reached at depth {hop.depth})"


def model_verdict(es: list[Entry]) -> str:
    """A model's verdict from its entries: its own declarations and its bases'. If they conflict the
    stricter one governs until resolved. A model that declares nothing itself is read by the licence
    of the package that ships it (the strictest credible reading, not "no licence")."""
    own = any(e.role == "model" and e.declared is not None for e in es)
    if own:
        return _worst([e.verdict for e in es if e.role in ("model", "base-model")])
    if any(e.role == "package" for e in es):
        # the weights ship inside the package under its licence: "none declared" gives way to it
        return _worst([e.verdict for e in es if e.role in ("base-model", "package")])
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
    """Conflicting declarations, packager differences, unresolved or cyclic lineage, laundering,
    non-commercial training data."""
    source = f"{KB_SOURCE} v{knowledge().version}"
    for m in inv.models():
        resolved = [(lic, r) for lic, r in declarations(m.licenses) if not _is_companion(r)]
        ids = {r.id for _, r in resolved}
        if len(ids) > 1:
            where = "; ".join(f"{lic.value} ({lic.evidence})" for lic, _ in resolved)
            inv.findings.append(
                Finding(
                    Severity.MEDIUM,
                    "license.conflict",
                    f"{m.name}: declared licences disagree: {where}; the verdict takes the strictest reading",
                    resolved[0][0].evidence.path,
                    resolved[0][0].evidence,
                    source,
                )
            )
        for rel in inv.incoming(m.id, RelationshipKind.CONTAINS):
            pkg = inv.component(rel.source)
            if pkg is None or pkg.type != ComponentType.LIBRARY:
                continue
            plics = package_licences(inv, pkg)
            if not plics:
                continue
            pids = {of(lic).id for lic in plics}
            if len(pids) > 1:
                where = "; ".join(f"{lic.value} ({lic.evidence})" for lic in plics)
                inv.findings.append(
                    Finding(
                        Severity.MEDIUM,
                        "license.conflict",
                        f"{pkg.name}: the package's licence evidence disagrees: {where}; the verdict takes the "
                        "strictest reading",
                        plics[0].evidence.path,
                        plics[0].evidence,
                        source,
                    )
                )
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
        for path, why in unidentified_texts(inv, m):
            inv.findings.append(
                Finding(
                    Severity.MEDIUM,
                    "license.unidentified-text",
                    f"{m.name}: {path}: {why}; the licence verdict is unknown until the text is read",
                    path,
                    Evidence(path),
                    source,
                )
            )
        _lineage_findings(inv, m, source)
        _laundering(inv, m, resolved)
        _noncommercial_data(inv, m, resolved)


_PROBLEM_RULES = {
    "unresolved": "license.base-unresolved",
    "no-licence": "license.base-unresolved",
    "cycle": "license.lineage-cycle",
    "self-loop": "license.lineage-cycle",
    "depth-limit": "license.lineage-limit",
    "width-limit": "license.lineage-limit",
}


def _where(m: Component) -> tuple[str | None, Evidence | None]:
    ev = next((lic.evidence for lic in m.licenses), None) or next(iter(m.evidence), None)
    return (ev.path if ev else None), ev


def _lineage_findings(inv: Inventory, m: Component, source: str) -> None:
    path, ev = _where(m)
    for hop in lineage(inv, m):
        if hop.curated is not None and hop.facts is not None:
            local = {resolve(x.value, x.name, x.link).id for x in hop.facts.licences}
            known = {resolve(x.value, x.name, x.link).id for x in hop.curated.licences}
            if local != known:
                inv.findings.append(
                    Finding(
                        Severity.MEDIUM,
                        "license.conflict",
                        f"{m.name}: base {hop.model_id}: {hop.facts.resolver} ({hop.facts.source}) declares "
                        f"{', '.join(sorted(local))}, but the curated facts ({hop.curated.source}) say "
                        f"{', '.join(sorted(known))}; both are kept and the verdict takes the strictest reading",
                        path,
                        ev,
                        source,
                    )
                )
        if hop.problem:
            inv.findings.append(
                Finding(
                    Severity.MEDIUM,
                    _PROBLEM_RULES[hop.problem],
                    f"{m.name}: {_hop_problem(hop)}; the licence verdict is unknown until it is resolved",
                    path,
                    ev,
                    source,
                )
            )


def carries(declared: LicenseFacts, ancestor: LicenseFacts) -> bool:
    """Does a derivative declared under ``declared`` keep the terms of its ancestor's licence?"""
    if declared.id == ancestor.id:
        return True
    if ancestor.derivatives is not None:  # the licence's own list (copyleft compatibility, NC)
        return declared.id in ancestor.derivatives or (
            "non-commercial" in ancestor.derivatives and declared.commercial == "no"
        )
    if ancestor.commercial != "no" and not any(t.flows_down for t in ancestor.terms):
        return True  # permissive: a derivative may carry any licence
    return declared.family == ancestor.family  # model licences: only their own family carries their terms


def _carried(r: Resolution, ancestor: LicenseFacts) -> bool | None:
    """Does a declaration keep the ancestor's terms? None when it cannot be told (an unknown licence).
    An SPDX expression: under ``A OR B`` a recipient may take either, so every choice must carry them;
    under ``A AND B`` both apply, so one that carries them is enough."""
    if r.parts:
        said = [_carried(p, ancestor) for p in r.parts]
        if r.operator == "OR":
            return False if False in said else (None if None in said else True)
        return True if True in said else (None if None in said else False)
    return None if r.facts is None else carries(r.facts, ancestor)


def binding_terms(f: LicenseFacts) -> list[str]:
    out = [f"{f.commercial_clause or 'grant'}: non-commercial"] if f.commercial == "no" else []
    if f.derivatives_clause:
        out.append(f.derivatives_clause)
    out += [f"{t.clause}: {t.id}" for t in f.terms if t.flows_down]
    return out


def _laundering(inv: Inventory, m: Component, resolved: list[tuple[DeclaredLicense, Resolution]]) -> None:
    """Any ancestor's binding terms the declared licence does not carry (NC dropped, share-alike dropped,
    copyleft relicensed, a model licence replaced by OpenRAIL or Apache), with the clause."""
    said: set[tuple[str, str]] = set()
    for e in entries(inv, m, "commercial"):
        base = e.resolution.facts
        if e.role != "base-model" or base is None or not base.verified and base.commercial != "no":
            continue
        for lic, r in resolved:
            if _carried(r, base) is not False or (r.id, base.id) in said:
                continue
            said.add((r.id, base.id))
            chain = " <- ".join(e.evidence[:1])
            name = r.facts.name if r.facts else r.id
            inv.findings.append(
                Finding(
                    Severity.HIGH,
                    "license.laundering",
                    f"{m.name}: declares {r.declared} ({name}), but its ancestor {e.component.name} "
                    f"({chain}; resolved by {e.resolved_by}) is under {base.name}, whose terms bind derivatives "
                    f"({'; '.join(binding_terms(base)[:5])}) and {name} does not carry them",
                    lic.evidence.path,
                    lic.evidence,
                    f"{base.name}, {base.source}",
                )
            )


def _noncommercial_data(inv: Inventory, m: Component, resolved: list[tuple[DeclaredLicense, Resolution]]) -> None:
    said: set[tuple[str, str]] = set()  # a dataset with several licence entries is one finding, not one each
    for e in entries(inv, m, "commercial"):
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
