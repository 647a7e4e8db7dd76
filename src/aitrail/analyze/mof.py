"""Model Openness Framework (MOF) grading, exactly as the Model Openness Tool (MOT) does it.

The facts are data (``knowledge/mof.yaml``, generated from the MOT's own configuration and licence
lists). The rules follow the MOT's ``ModelEvaluator`` (lfai/model_openness_tool), quirks included,
because a grade that differs from the MOT's for the same declaration would be useless to compare:

- licence ids are matched exactly and case-sensitively (``apache-2.0`` is not ``Apache-2.0``);
- ``PDDL-1.0`` is not on the MOT's open-data list while ``ODC-PDDL-1.0`` is (its SPDX entry is
  neither OSI-approved nor FSF-libre), so PDDL-1.0 data fails;
- a component's licence is its own if the declaration gives the key (an empty value means
  "unlicensed", with no fallback), else the global licence for its content type, else the
  distribution licence;
- an open licence that is not type-appropriate still counts (it only warns);
- a research paper stands in for a missing technical report; the MOT tests "is the technical report
  included" with PHP's ``array_search`` truthiness, so a report that is the *first* included
  Class III component counts as absent (the same test decides whether Class I needs one component
  fewer). We reproduce it and say so in the output (``quirks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .. import yamlsafe

LABELS = {
    0: "Unclassified",
    1: "Class I - Open Science Model",
    2: "Class II - Open Tooling Model",
    3: "Class III - Open Model",
}
TECH_REPORT, RESEARCH_PAPER = 11, 21
# SPDX's "no assertion": the licence of a component built from a scan that aitrail could not establish
# (an unidentified licence text, a base model whose licence is unresolved, a dataset without one)
UNKNOWN = "NOASSERTION"
SOURCE = "Model Openness Framework v1.0 (LF AI & Data), as implemented by the Model Openness Tool"


@dataclass(frozen=True)
class MofComponent:
    id: int
    name: str
    content_type: str  # code | data | document
    klass: int
    required: bool


@dataclass
class MofKnowledge:
    components: list[MofComponent]
    osi: frozenset[str]
    fsf: frozenset[str]
    open_data: frozenset[str]
    open_other: frozenset[str]
    type_appropriate: dict[str, frozenset[str]]
    source: str
    spdx_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # looked up for every component of every model graded: dicts, not list scans (first one wins)
        self._by_name: dict[str, MofComponent] = {}
        self._by_id: dict[int, MofComponent] = {}
        for c in self.components:
            self._by_name.setdefault(c.name, c)
            self._by_id.setdefault(c.id, c)

    def by_name(self, name: str) -> MofComponent | None:
        return self._by_name.get(name)

    def by_id(self, cid: int) -> MofComponent:
        return self._by_id[cid]  # ids come from by_name: an unknown one is a bug (KeyError)

    def required(self, klass: int) -> list[int]:
        return [c.id for c in self.components if c.klass == klass and c.required]

    def optional(self, klass: int) -> list[int]:
        return [c.id for c in self.components if c.klass == klass and not c.required]

    def is_open(self, lic: str) -> bool:
        return lic in self.fsf or lic in self.open_data or lic in self.osi or lic in self.open_other

    def known_id(self, lic: str) -> bool:
        return lic in self.spdx_ids or lic in self.open_data or lic in self.open_other

    def suggest(self, lic: str) -> str | None:
        """The id a near-miss name was probably meant to be (case or SPDX spelling)."""
        low = lic.lower()
        for known in sorted(self.spdx_ids | self.open_data):
            if known.lower() == low:
                return known
        return None


@lru_cache(maxsize=1)
def knowledge() -> MofKnowledge:
    raw = yamlsafe.load(resources.files("aitrail.knowledge").joinpath("mof.yaml").read_text("utf-8"))
    comps = [
        MofComponent(c["id"], c["name"], c["content_type"], c["class"], bool(c["required"])) for c in raw["components"]
    ]
    return MofKnowledge(
        comps,
        frozenset(raw["osi_approved"]),
        frozenset(raw["fsf_libre"]),
        frozenset(raw["open_data"]),
        frozenset(raw["open_other"]),
        {k: frozenset(v) for k, v in raw["type_appropriate"].items()},
        raw["source"],
        frozenset(raw["spdx_ids"]),
    )


@dataclass
class Declaration:
    """What a producer declares: components present, and licences (global by type, per component)."""

    name: str
    components: list[int]
    component_licenses: dict[int, str | None]  # only components that give a `license` key
    global_licenses: dict[str, str]  # distribution | code | data | document -> licence id
    evidence: dict[int, str] = field(default_factory=dict)  # component id -> where it was declared
    problems: list[str] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)  # component id -> its location (component_path)
    # Components the producer says are not released (aitrail's `release.not_released` list; the MOT
    # ignores the key, so its grade is the same). Any other component absent is only "not declared".
    not_released: list[int] = field(default_factory=list)
    origin: str = "declaration"  # "declaration" (a MOF YAML) or "scan" (built from a folder's files)
    # What a scanned document states, by topic (component id -> topic -> stated): a card of template
    # placeholders is a file, not documentation. Empty for a MOF YAML (the MOT records presence only).
    detail: dict[int, dict[str, bool]] = field(default_factory=dict)
    # A scanned model's bases (name -> the licence over its weights, as the licence verdicts read it;
    # NOASSERTION when unresolved). Empty for a MOF YAML and for a model with no declared base.
    bases: dict[str, str] = field(default_factory=dict)

    def absent(self, cid: int) -> str:
        """Why a component is not in the declaration, in words that claim no more than is known."""
        if cid in self.not_released:
            return "not released"
        lic = _resolve(knowledge(), self, cid)[0] if cid in self.components else None
        if withheld(lic):
            return f"not released (declared as licence '{lic}')"
        return "not found in the scanned files" if self.origin == "scan" else "not declared"


@lru_cache(maxsize=1)
def _withheld_patterns() -> list[Any]:
    import re

    text = resources.files("aitrail.knowledge").joinpath("openness.yaml").read_text("utf-8")
    spec = yamlsafe.load(text)["declarations"]["not_released_licences"]
    return [re.compile(p, re.I) for p in spec["patterns"]]


def withheld(lic: str | None) -> bool:
    """Whether a declared "licence" says the component is not there ("Component not included",
    "Undisclosed": knowledge/openness.yaml ``declarations``). The MOT grades it as a licence."""
    return bool(lic) and any(p.search(str(lic)) for p in _withheld_patterns())


def _php_search(items: list[int], value: int) -> int | bool:
    """PHP's array_search: the index, or False."""
    return items.index(value) if value in items else False


def _resolve(kb: MofKnowledge, d: Declaration, cid: int) -> tuple[str | None, str]:
    if cid in d.component_licenses:
        return (d.component_licenses[cid] or None), "component"
    ctype = kb.by_id(cid).content_type
    if d.global_licenses.get(ctype):
        return d.global_licenses[ctype], f"global {ctype} licence"
    if d.global_licenses.get("distribution"):
        return d.global_licenses["distribution"], "distribution licence"
    return None, "none"


def evaluate(d: Declaration) -> dict[Any, Any]:
    """The MOT's ModelEvaluator::evaluate(), step for step."""
    kb = knowledge()
    ev: dict[Any, Any] = {"not-type-appropriate": [], "license_source": {}}
    required: list[int] = []
    optional: list[int] = []
    for klass in (3, 2, 1):
        comp: dict[str, list[int]] = {"missing": [], "included": [], "invalid": [], "unlicensed": [], "optional": []}
        ev[klass] = {"components": comp, "licenses": {}}
        required += kb.required(klass)
        optional += kb.optional(klass)
        for cid, is_required in [(c, True) for c in required] + [(c, False) for c in optional]:
            if cid not in d.components:
                if is_required:
                    comp["missing"].append(cid)
                continue
            lic, how = _resolve(kb, d, cid)
            lic = lic or "unlicensed"
            ev["license_source"][cid] = how
            ctype = kb.by_id(cid).content_type
            appropriate = lic in kb.type_appropriate.get(ctype, frozenset())
            is_open = kb.is_open(lic)
            bucket = "included" if is_required else "optional"
            if is_open:
                comp[bucket].append(cid)
                if not appropriate and cid not in ev["not-type-appropriate"]:
                    ev["not-type-appropriate"].append(cid)
            elif lic == "unlicensed":
                comp["unlicensed"].append(cid)
            else:
                comp["invalid"].append(cid)
            ev[klass]["licenses"][cid] = lic
    # A research paper may stand in for the technical report (PHP truthiness kept: see module doc).
    if not _php_search(ev[3]["components"]["included"], TECH_REPORT):
        status = None
        for s in ("included", "invalid", "unlicensed"):
            if _php_search(ev[1]["components"][s], RESEARCH_PAPER) is not False:
                status = s
                break
        if status:
            for klass in (3, 2, 1):
                if TECH_REPORT in ev[klass]["components"]["missing"]:
                    ev[klass]["components"]["missing"].remove(TECH_REPORT)
            for klass in (3, 2):
                ev[klass]["components"][status].append(RESEARCH_PAPER)
                ev[klass]["licenses"][RESEARCH_PAPER] = ev[1]["licenses"][RESEARCH_PAPER]
    return ev


def progress(ev: dict[Any, Any], klass: int) -> float:
    """The MOT's ModelEvaluator::getProgress()."""
    kb = knowledge()
    total = included = 0
    i = 3
    while i >= klass:
        total += len(kb.required(i))
        included = len(ev[i]["components"]["included"])
        if included < total:
            break
        i -= 1
    if i > klass:
        return 0.0
    inc1 = ev[1]["components"]["included"]
    if klass == 1 and not _php_search(inc1, TECH_REPORT) and _php_search(inc1, RESEARCH_PAPER):
        total -= 1
    return float(min(included / total * 100, 100.0))


@dataclass
class MofGrade:
    klass: int
    label: str
    progress: dict[str, float]
    missing: list[dict[str, Any]]
    not_open: list[dict[str, Any]]
    unlicensed: list[dict[str, Any]]
    not_type_appropriate: list[str]
    next_class_needs: list[str]
    components: list[dict[str, Any]]
    quirks: list[str]
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.klass,
            "label": self.label,
            "progress": self.progress,
            "missing": self.missing,
            "not_open": self.not_open,
            "unlicensed": self.unlicensed,
            "not_type_appropriate": self.not_type_appropriate,
            "next_class_needs": self.next_class_needs,
            "components": self.components,
            "quirks": self.quirks,
            "problems": self.problems,
            "source": SOURCE,
        }


def grade(d: Declaration) -> MofGrade:
    kb = knowledge()
    ev = evaluate(d)
    prog = {str(k): progress(ev, k) for k in (1, 2, 3)}
    klass = 0
    for k in (3, 2, 1):
        if prog[str(k)] == 100.0:
            klass = k
    name = lambda cid: kb.by_id(cid).name  # noqa: E731

    def entry(cid: int, klass_: int) -> dict[str, Any]:
        lic = ev[klass_]["licenses"].get(cid)
        return {
            "component": name(cid),
            "class": kb.by_id(cid).klass,
            "license": lic,
            "license_from": ev["license_source"].get(cid),
            "declared_at": d.evidence.get(cid),
        }

    # Report per component from the Class I evaluation (it covers every component).
    c1 = ev[1]["components"]
    missing = [{"component": name(c), "class": kb.by_id(c).klass, "state": d.absent(c)} for c in c1["missing"]]
    not_open = [entry(c, 1) for c in c1["invalid"]]
    unlicensed = [entry(c, 1) for c in c1["unlicensed"]]
    target = klass - 1 if klass > 1 else (3 if klass == 0 else 0)
    needs: list[str] = []
    if target:
        comp = ev[target]["components"]
        for c in comp["missing"]:
            needs.append(f"{name(c)}: {d.absent(c)}")
        for c in comp["invalid"]:
            lic = ev[target]["licenses"][c]
            meant = reading(lic)
            if withheld(lic):
                needs.append(f"{name(c)}: {d.absent(c)}")
            elif lic == UNKNOWN:
                needs.append(f"{name(c)}: licence not known ({d.evidence.get(c) or 'no evidence'})")
            elif meant and meant != lic and kb.is_open(meant):  # the words must not call Apache 2.0 closed
                needs.append(
                    f"{name(c)}: under '{lic}', not a licence id the MOT recognises (aitrail reads it as {meant}, "
                    "an open licence: declare that id)"
                )
            elif meant is None and not lic.startswith("LicenseRef-"):  # no list knows the name: not thereby closed
                needs.append(f"{name(c)}: under '{lic}', a name neither the MOT nor aitrail knows (graded not open)")
            else:
                needs.append(f"{name(c)}: under {lic}, which is not an open licence")
        for c in comp["unlicensed"]:
            needs.append(
                f"{name(c)}: "
                + ("no licence found in the scanned files" if d.origin == "scan" else "released without a licence")
            )
    components = []
    for c in kb.components:
        if c.id in d.components:
            lic = ev[1]["licenses"].get(c.id) or ev[3]["licenses"].get(c.id)
            status = "open" if lic and kb.is_open(lic) else "unlicensed" if lic in (None, "unlicensed") else "not open"
            unknown_name = (  # a LicenseRef- is an id for terms off the SPDX list: known not open, not unknown
                status == "not open" and lic != UNKNOWN and not str(lic).startswith("LicenseRef-")
                and not withheld(lic) and reading(str(lic)) is None
            )
            state = {"unlicensed": "released without a licence", "not open": "released under a licence not open"}.get(
                status, "released under an open licence"
            )
            if withheld(lic):  # "Component not included" is no licence: the declaration says it is not there
                state = d.absent(c.id)
            elif lic == UNKNOWN:  # a licence aitrail could not establish: not open, and not said to be closed
                state = "licence not known"
            elif unknown_name:
                state = f"released under '{lic}', a licence name aitrail does not know (not open for the MOT)"
            elif status == "unlicensed" and d.origin == "scan":  # files show no licence: not "released without"
                state = "no licence found in the scanned files"
        else:
            lic, status, state = None, "missing", d.absent(c.id)
        components.append(
            {
                "component": c.name,
                "class": c.klass,
                "required": c.required,
                "type": c.content_type,
                "license": lic,
                "license_from": ev["license_source"].get(c.id),
                "status": status,
                "state": state,
                "declared_at": d.evidence.get(c.id),
                "clause": f"MOF 1.0, {LABELS[c.klass]}: {'required' if c.required else 'optional'} {c.content_type} "
                + "component, under an open licence"
                + (" (or a research paper in its stead)" if c.id == TECH_REPORT else ""),
            }
        )
    quirks = []
    inc3 = ev[3]["components"]["included"]
    if inc3[:1] == [TECH_REPORT]:
        quirks.append(
            "The technical report is the first included Class III component: the MOT's "
            "array_search() check treats it as absent (grade reproduced as the MOT gives it)."
        )
    for lic in sorted({v for v in list(d.component_licenses.values()) + list(d.global_licenses.values()) if v}):
        hint = None if kb.known_id(lic) else kb.suggest(lic)
        if hint and kb.is_open(hint):
            quirks.append(
                f"'{lic}' differs from the open licence id '{hint}' only in case: the MOT matches ids "
                "exactly, so it does not count as open."
            )
    if any(v == "PDDL-1.0" for v in list(d.component_licenses.values()) + list(d.global_licenses.values())):
        quirks.append("PDDL-1.0 is not on the MOT's open-data list (ODC-PDDL-1.0 is): graded as not open.")
    return MofGrade(
        klass,
        LABELS[klass],
        prog,
        missing,
        not_open,
        unlicensed,
        [name(c) for c in ev["not-type-appropriate"]],
        [f"{LABELS[target]} needs: " + "; ".join(needs)] if target and needs else [],
        components,
        quirks,
        list(d.problems),
    )


# -- reading MOT declarations ----------------------------------------------------------------


def reading(lic: str) -> str | None:
    """The licence id a declared name means when it is not one the MOT knows ("Apache 2.0" ->
    "Apache-2.0"), from the MOT's lists or aitrail's licence knowledge; None when it is not known."""
    kb = knowledge()
    if kb.known_id(lic):
        return lic
    hint = kb.suggest(lic)
    if hint is None:
        from .licenses import resolve

        r = resolve(lic)
        hint = (r.facts.spdx or r.facts.id) if r.facts is not None else None
    return hint


def _check_id(kb: MofKnowledge, lic: str, where: str, problems: list[str]) -> None:
    if kb.known_id(lic):
        return
    hint = kb.suggest(lic)
    if hint is None:  # what aitrail's licence knowledge base makes of the name, as a hint only
        from .licenses import resolve

        r = resolve(lic)
        if r.facts is not None:
            hint = r.facts.spdx or r.facts.name
    problems.append(
        f"{where} '{lic}' is not an SPDX licence id, so the MOT grades it as not open"
        + (f" (aitrail reads it as '{hint}')" if hint else "")
    )


def from_yaml(text: str, where: str) -> Declaration:
    """A MOF declaration in the MOT's YAML format. Problems are listed, never fatal unless unreadable."""
    doc = yamlsafe.load_bounded(text)  # a ShapeError is a ValueError: callers report it
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: a MOF declaration is a mapping with 'framework' and 'release'")
    return from_dict(doc, where)


def from_dict(doc: dict[str, Any], where: str) -> Declaration:
    kb = knowledge()
    problems: list[str] = []
    fw = doc.get("framework")
    if not isinstance(fw, dict) or fw.get("name") != "Model Openness Framework":
        problems.append(f"{where}: framework.name should be 'Model Openness Framework'")
    for key in ("version", "date"):  # required by the MOT's mof_schema.json
        if not isinstance(fw, dict) or not fw.get(key):
            problems.append(f"{where}: framework.{key} is missing (the MOT's schema requires it)")
    rel = doc.get("release")
    if not isinstance(rel, dict):
        raise ValueError(f"{where}: 'release' is missing or not a mapping")
    name = str(rel.get("name") or "")
    if not name:
        problems.append(f"{where}: release.name is empty")
    globals_: dict[str, str] = {}
    lic = rel.get("license") or {}
    if not isinstance(lic, dict):
        problems.append(f"{where}: release.license must be a mapping of distribution/code/data/document")
        lic = {}
    for key, val in lic.items():
        if key not in ("distribution", "code", "data", "document"):
            problems.append(f"{where}: release.license.{key} is not one of distribution, code, data, document")
            continue
        if isinstance(val, dict) and val.get("name"):
            globals_[key] = str(val["name"])
            _check_id(kb, str(val["name"]), f"{where}: release.license.{key}.name", problems)
    comps: list[int] = []
    comp_lics: dict[int, str | None] = {}
    evidence: dict[int, str] = {}
    paths: dict[int, str] = {}
    raw = rel.get("components") or []
    if not isinstance(raw, list):
        problems.append(f"{where}: release.components must be a list")
        raw = []
    for i, c in enumerate(raw):
        if not isinstance(c, dict) or not c.get("name"):
            problems.append(f"{where}: release.components[{i}] has no name")
            continue
        if "license" in c and c["license"] is not None and not isinstance(c["license"], str):
            problems.append(
                f"{where}: release.components[{i}].license must be a licence id (text), "
                f"not {type(c['license']).__name__}"
            )
            c = {**c, "license": None}
        mc = kb.by_name(str(c["name"]))
        if mc is None:
            problems.append(f"{where}: release.components[{i}].name '{c['name']}' is not a MOF component")
            continue
        if mc.id in comps:
            problems.append(f"{where}: release.components[{i}] '{c['name']}' is listed twice (first one kept)")
            continue
        comps.append(mc.id)
        evidence[mc.id] = f"{where} release.components[{i}]"
        if isinstance(c.get("component_path"), str) and c["component_path"].strip():
            paths[mc.id] = c["component_path"].strip()
        if "license" in c and c["license"] is not None:
            # "unlicensed" is the MOT's keyword for "released without a licence", not a licence name
            comp_lics[mc.id] = None if c["license"] in ("", "unlicensed") else str(c["license"])
            if withheld(comp_lics[mc.id]):
                problems.append(
                    f"{where}: release.components[{i}].license '{c['license']}' says the component is not "
                    "released: not a licence (the MOT grades it as one that is not open; aitrail: not released)"
                )
            elif comp_lics[mc.id] is not None:
                _check_id(kb, str(c["license"]), f"{where}: release.components[{i}].license", problems)
    not_released: list[int] = []
    raw_nr = rel.get("not_released") or []
    if not isinstance(raw_nr, list):
        problems.append(f"{where}: release.not_released must be a list of MOF component names")
        raw_nr = []
    for i, n in enumerate(raw_nr):
        mc = kb.by_name(str(n))
        if mc is None:
            problems.append(f"{where}: release.not_released[{i}] '{n}' is not a MOF component")
        elif mc.id in comps:
            problems.append(f"{where}: release.not_released[{i}] '{n}' is also listed as a released component")
        else:
            not_released.append(mc.id)
    return Declaration(name, comps, comp_lics, globals_, evidence, problems, paths, not_released)
