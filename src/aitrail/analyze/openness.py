"""Openness: MOF class, OSI Open Source AI Definition checklist and the European Open Source AI
Index profile, from one MOF declaration (written by a producer, or built from a scanned folder).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import fsutil, yamlsafe
from ..model import Component, ComponentType, Inventory, RelationshipKind
from . import completeness, mof
from . import licenses as lic_kb


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return yamlsafe.load(resources.files("aitrail.knowledge").joinpath("openness.yaml").read_text("utf-8"))  # type: ignore[no-any-return]


def _component_licence(d: mof.Declaration, name: str) -> tuple[bool, str | None]:
    """(released, licence) for a MOF component of the declaration, resolved as the MOT does."""
    kb = mof.knowledge()
    c = kb.by_name(name)
    if c is None or c.id not in d.components:
        return False, None
    lic, _how = mof._resolve(kb, d, c.id)
    if mof.withheld(lic):  # "Component not included" in the licence field: declared, not released
        return False, None
    return True, lic


def _not_released(d: mof.Declaration, cid: int) -> bool:
    return cid in d.not_released or d.absent(cid).startswith("not released")


def osaid(d: mof.Declaration) -> dict[str, Any]:
    kb = mof.knowledge()
    spec = rules()["osaid"]
    reqs = []
    missing_any = licence_any = False
    for r in spec["requirements"]:
        items = []
        for it in r["items"]:
            found = [(n, *_component_licence(d, n)) for n in it["components"]]
            # judged on what the declared name means ("Apache 2.0" is Apache-2.0), unlike the MOF
            # grade, which follows the MOT's exact-id matching
            present = [(n, (mof.reading(lic) or lic) if lic else None) for n, released, lic in found if released]
            ok_lic = [
                (n, lic) for n, lic in present if lic and (kb.is_open(lic) if r["licence"] == "open" else lic in kb.osi)
            ]
            # "licence": released under terms that do not qualify; "unlicensed": released without a
            # licence (the MOT's keyword); "missing": absent from the declaration, in the words of
            # ``state`` (not declared / not found in the scanned files / not released)
            status = (
                "met"
                if ok_lic
                else "licence"
                if any(lic for _, lic in present)
                else "unlicensed"
                if present
                else "optional-missing"
                if it.get("optional")
                else "missing"
            )
            missing_any |= status == "missing"
            licence_any |= status in ("licence", "unlicensed")
            comps = [c for n in it["components"] if (c := kb.by_name(n))]
            withheld_ = [c for c in comps if c.id in d.components and not present]  # "Component not included"
            state = (
                "released"
                if present
                else "not released"
                if comps and all(_not_released(d, c.id) for c in comps)
                else d.absent(comps[0].id)
                if comps
                else "not declared"
            )
            items.append(
                {
                    "item": it["item"],
                    "status": status,
                    "state": state,
                    "components": [n for n, _ in present],
                    "licenses": [lic for _, lic in present],
                    "evidence": [d.evidence.get(c.id) for n, _ in present if (c := kb.by_name(n))]
                    + [f"{d.evidence.get(c.id)}: {d.absent(c.id)}" for c in withheld_],
                }
            )
        reqs.append(
            {
                "requirement": r["title"],
                "clause": r["clause"],
                "licence_rule": "OSI-approved" if r["licence"] == "osi" else "open (OSD-conformant)",
                "items": items,
            }
        )
    verdict = "fail" if missing_any else "pass_if_licenses_changed" if licence_any else "pass"
    return {"verdict": verdict, "requirements": reqs, "source": spec["source"]}


def _host(path: str) -> str:
    m = re.match(r"(?:https?://)?(?:www\.)?([^/\s]+)(/\S*)?", path.strip().lower())
    return (m.group(1) + (m.group(2) or "")) if m else ""


def _on(path: str | None, hosts: list[str]) -> bool:
    """Whether a location is on one of ``hosts`` ("arxiv.org", "doi.org/10.1145")."""
    if not path:
        return False
    if path.lower().startswith("arxiv:"):
        return "arxiv.org" in hosts
    h = _host(path)
    return any(h == x or h.startswith(x + "/") or h.startswith(x + ".") or h.endswith("." + x) for x in hosts)


def _grade_dimension(d: mof.Declaration, dim: dict[str, Any], spec: dict[str, Any]) -> tuple[str, str]:
    """(class, basis) of one Index dimension from the evidence the declaration holds.

    open / partial / closed as the Index uses them. Nothing declared on a dimension is "closed" as
    the Index counts what it cannot find, and the basis says it was not declared (or not found in
    the scanned files): absence is not evidence that a thing is withheld, and the words say so.
    """
    kb = mof.knowledge()
    rule = dim["grade"]
    if d.bases and dim.get("base") == "data":
        names = ", ".join(sorted(d.bases))
        return "closed", f"base model {names}: its training data is not in the scanned files (only the folder's own)"
    if d.bases and dim.get("base") == "weights":
        lics = sorted(set(d.bases.values()))
        shown = "; ".join(f"{n}: {lic}" for n, lic in sorted(d.bases.items()))
        if UNKNOWN in lics:
            return "closed", f"base model {shown}: licence not known"
        return ("open" if all(kb.is_open(x) for x in lics) else "partial"), f"base model {shown}"
    if d.origin == "scan" and dim.get("scan_topic"):
        topic, card = dim["scan_topic"], d.detail.get(MODEL_CARD, {})
        if card.get(topic):
            return "open", f"the model card states the {topic} ({d.evidence.get(MODEL_CARD, 'found')})"
        cited = [
            f"{c.name} {d.paths.get(c.id, '')}".strip()
            for n in dim["components"]
            if (c := kb.by_name(n)) is not None and c.id in d.components
        ]
        also = f"; cited, not read: {', '.join(cited)}" if cited else ""
        return "closed", f"{topic}: not found in the scanned files (no model card section states it{also})"
    if rule == "licence_only":
        dist = d.global_licenses.get("distribution")
        params = _component_licence(d, "Model parameters (Final)")[1]
        lic = params or dist
        if not lic:
            return "closed", "no licence declared"
        if lic not in kb.osi | kb.open_data | kb.open_other:
            return "partial", f"licence {lic}"
        # "fully covered ..., including all data sources and training pipeline code": what of those is
        # released must be under open licences too
        others = [
            (n, x) for n in dim.get("covers", []) for released, x in [_component_licence(d, n)] if released
        ]
        closed_ = [f"{n}: {x or 'no licence'}" for n, x in others if not (x and kb.is_open(x))]
        if closed_:
            return "partial", f"licence {lic}; not covered: {'; '.join(closed_)}"
        return "open", f"licence {lic}" + (f"; {', '.join(n for n, _ in others)} open too" if others else "")
    present = [(n, lic) for n in dim["components"] for released, lic in [_component_licence(d, n)] if released]
    comps = [c for n in dim["components"] if (c := kb.by_name(n))]
    if not present:
        if comps and all(_not_released(d, c.id) for c in comps):
            return "closed", "declared not released: " + ", ".join(dim["components"])
        why = d.absent(comps[0].id) if comps else "not declared"
        return "closed", f"{', '.join(dim['components'])}: {why} (closed, as the Index counts what it cannot find)"
    where = {n: d.paths.get(c.id) for n, _ in present if (c := kb.by_name(n))}
    names = ", ".join(f"{n}" + (f" at {where[n]}" if where.get(n) else "") for n, _ in present)
    detail = next((d.detail[c.id] for n, _ in present if (c := kb.by_name(n)) and c.id in d.detail), None)
    if rule == "available" and detail is not None:  # a scanned document: graded on what it states
        said = [t for t, ok in detail.items() if ok and t in CARD_TOPICS]
        unsaid = [t for t, ok in detail.items() if not ok and t in CARD_TOPICS]
        basis = f"{names} ({d.evidence.get(comps[0].id, 'found')})"
        if not said and detail.get("description"):
            return "partial", f"{basis} states a description only; not {', '.join(unsaid)}"
        if not said:
            return "closed", f"{basis} states none of: {', '.join(unsaid)} (template placeholders or nothing)"
        if unsaid:
            return "partial", f"{basis} states {', '.join(said)}; not {', '.join(unsaid)}"
        return "open", f"{basis} states {', '.join(said)}"
    if rule == "available":
        return "open", f"released: {names}"
    if rule == "licence":  # open when released under an open licence, partial otherwise
        opened = [(n, lic) for n, lic in present if lic and kb.is_open(lic)]
        if opened:
            return "open", f"{opened[0][0]}: {opened[0][1]}"
        n, lic = present[0]
        return "partial", f"{n}: {lic or 'released without a licence'}"
    if rule == "licence_all":  # open only when every listed component is released under an open licence
        if len(present) == len(dim["components"]) and all(lic and kb.is_open(lic) for _, lic in present):
            return "open", "; ".join(f"{n}: {lic}" for n, lic in present)
        return "partial", "; ".join(f"{n}: {lic or 'released without a licence'}" for n, lic in present) + (
            "; not all of " + ", ".join(dim["components"]) if len(present) < len(dim["components"]) else ""
        )
    if rule == "preprint":  # a research paper, or a report archived on a preprint server
        for n, _ in present:
            if n == "Research paper" or _on(where.get(n), spec["preprint_hosts"]):
                return "open", f"{n}" + (f" at {where[n]}" if where.get(n) else " declared")
        return "closed", f"{names}: not an archived preprint (no preprint server named)"
    if rule == "peer_reviewed":  # a preprint is not a peer-reviewed paper
        for n, _ in present:
            if _on(where.get(n), spec["peer_reviewed_hosts"]):
                return "open", f"{n} at {where[n]} (peer-reviewed venue)"
        return "closed", f"{names}: no peer-reviewed venue named (a preprint is not a peer-reviewed paper)"
    raise ValueError(f"openness.yaml: unknown grade rule {rule!r}")


def index(d: mof.Declaration) -> dict[str, Any]:
    spec = rules()["index"]
    dims: dict[str, Any] = {}
    for dim in spec["dimensions"]:
        cls, basis = _grade_dimension(d, dim, spec)
        clause = f"European Open Source AI Index, '{dim['title']}': {dim['question']}"
        dims[dim["id"]] = {"class": cls, "title": dim["title"], "basis": basis, "clause": clause}
    score = sum({"open": 1.0, "partial": 0.5}.get(v["class"], 0.0) for v in dims.values())
    return {"dimensions": dims, "score": score, "max": len(dims), "source": spec["source"]}


PROPRIETARY = ("proprietary", "closed", "closed source", "not released", "none", "n/a", "commercial")


def summary(grade: mof.MofGrade, osaid_: dict[str, Any], d: mof.Declaration) -> str:
    """Plain words that claim no more than the evidence: "not declared" (or "not found in the scanned
    files") is not "not released", and "released without a licence" is not a licence."""
    kb = mof.knowledge()
    weights_released, weights_lic = _component_licence(d, "Model parameters (Final)")
    weights_lic = (mof.reading(weights_lic) or weights_lic) if weights_lic else None
    open_weights = weights_released and weights_lic is not None and kb.is_open(weights_lic)
    if osaid_["verdict"] == "pass":
        return f"Open source AI: {grade.label}; the training data information, code and weights are openly released."
    items = [it for r in osaid_["requirements"] for it in r["items"]]
    weights_state = next((it["state"] for it in items if it["item"] == "Model parameters"), "not declared")
    if open_weights:
        head = "Open weights, not open source AI"
    elif weights_released and weights_lic == UNKNOWN:
        head = "Weights released, licence not known: not open source AI"
    elif weights_released and weights_lic and weights_lic.strip().lower() in PROPRIETARY:
        head = f"Not open source AI: the weights are declared {weights_lic}"
    elif weights_released and weights_lic:
        head = "Weights released under restrictive terms, not open source AI"
    elif weights_released and d.origin == "scan":
        head = "Weights found with no licence in the scanned files, not open source AI"
    elif weights_released:
        head = "Weights released without a licence, not open source AI"
    elif weights_state == "not released":
        head = "Not open source AI: the weights are not released"
    elif d.origin == "scan":
        head = "Not open source AI: no weights found in the scanned files"
    else:
        head = "Not open source AI: the declaration does not include the weights"
    why = []
    for state in ("not released", "not declared", "not found in the scanned files"):
        names = [it["item"].lower() for it in items if it["status"] == "missing" and it["state"] == state]
        if names:
            why.append(f"{state}: " + ", ".join(names[:4]) + (" and more" if len(names) > 4 else ""))
    unlicensed = [it["item"].lower() for it in items if it["status"] == "unlicensed"]
    if unlicensed:
        more = " and more" if len(unlicensed) > 4 else ""
        said = "no licence found in the scanned files" if d.origin == "scan" else "released without a licence"
        why.append(f"{said}: " + ", ".join(unlicensed[:4]) + more)
    unknown = [it["item"].lower() for it in items if it["status"] == "licence" and set(it["licenses"]) == {UNKNOWN}]
    if unknown:
        why.append("licence not known: " + ", ".join(unknown[:4]) + (" and more" if len(unknown) > 4 else ""))
    odd = [  # "BSD-3": a name no licence list knows is not thereby closed
        it for it in items if it["status"] == "licence" and it["item"].lower() not in unknown
        and all(lic in (None, UNKNOWN) or _unrecognised(lic) for lic in it["licenses"])
    ]
    if odd:
        names = sorted({str(lic) for it in odd for lic in it["licenses"] if lic not in (None, UNKNOWN)})
        why.append(f"under licence names aitrail does not recognise ({', '.join(names[:3])}): "
                   + ", ".join(it["item"].lower() for it in odd[:4]) + (" and more" if len(odd) > 4 else ""))
    closed = [
        it["item"].lower() for it in items
        if it["status"] == "licence" and it["item"].lower() not in unknown and it not in odd
    ]
    if closed:
        more = " and more" if len(closed) > 4 else ""
        why.append("released but not under open licences: " + ", ".join(closed[:4]) + more)
    return f"{head} ({grade.label}): " + "; ".join(why) + "."


def _unrecognised(lic: str) -> bool:
    """A licence name that neither the MOT's lists nor aitrail's licence knowledge read ("BSD-3")."""
    return lic.strip().lower() not in PROPRIETARY and not lic.startswith("LicenseRef-") and mof.reading(lic) is None


def memo_key(d: mof.Declaration) -> tuple[Any, ...]:
    """Everything ``assess`` depends on but the model's name, for a memo of its grades: a location
    counts only as whether it is on a preprint server or at a peer-reviewed venue."""
    spec = rules()["index"]
    hosts = spec["preprint_hosts"], spec["peer_reviewed_hosts"]
    return (
        tuple(d.components),
        tuple(sorted(d.component_licenses.items())),
        tuple(sorted(d.global_licenses.items())),
        tuple(sorted((c, *(_on(p, h) for h in hosts)) for c, p in d.paths.items())),
        tuple(d.not_released),
        d.origin,
        tuple(sorted((c, tuple(sorted(t.items()))) for c, t in d.detail.items())),
        tuple(sorted(set(d.bases.values()))),
    )


def assess(d: mof.Declaration) -> dict[str, Any]:
    g = mof.grade(d)
    o = osaid(d)
    return {"model": d.name, "mof": g.to_dict(), "osaid": o, "index": index(d), "summary": summary(g, o, d)}


# -- a declaration from a scanned folder ------------------------------------------------------

_ARXIV = re.compile(r"arxiv:\s*(\d{4}\.\d{4,5})", re.I)
MODEL_CARD, WEIGHTS = 13, 10  # MOF component ids of the model card and the final parameters (knowledge/mof.yaml)
# What a model card documents (Mitchell et al. 2019, "Model Cards for Model Reporting"; the Index asks
# for insight on training and evaluation), each from the card sections or aitrail.yaml keys read.
CARD_TOPICS = {
    "intended use": ("card.intended_uses", "intended_use"),
    "limitations": ("card.limitations", "card.bias", "limitations"),
    "training": ("card.training_data", "card.training_procedure"),
    "evaluation": ("card.evaluation", "evaluation_results", "evaluation"),
}
# Other topics a scanned card can document, for the Index dimensions with a ``scan_topic``
SCAN_TOPICS = {"hardware": ("card.environmental_impact",), "description": ("description",)}
# a licence aitrail could not establish: not open, and the words say "licence not known", never
# "released without a licence" (that is a fact about the release)
UNKNOWN = mof.UNKNOWN


def _graded_id(r: lic_kb.Resolution) -> str:
    """The licence id graded for one resolved licence: an expression's alternative that is open (OR), or
    its first part that is not (AND); an unidentified licence is UNKNOWN."""
    kb = mof.knowledge()
    if r.parts:
        ids = [_graded_id(p) for p in r.parts]
        if r.operator == "OR":
            return next((i for i in ids if kb.is_open(i)), ids[0])
        return next((i for i in ids if not kb.is_open(i)), ids[0])
    if r.facts is None:
        return UNKNOWN
    return r.facts.spdx or r.id


def _governing(lics: list[tuple[str, str]]) -> str | None:
    """One licence standing for several that all apply (a model's own and its bases'): open only when
    every one is; else the first that is not. None when there are none."""
    kb = mof.knowledge()
    if not lics:
        return None
    return next((lic for lic, _ in lics if not kb.is_open(lic)), lics[0][0])


def weights_licences(
    inv: Inventory, m: Component
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """(own, bases, base names with their licences): every licence that governs the weights, as the
    licence verdicts read them (analyze.licenses.entries), each with its evidence. Own: the model's
    declared licences and any licence text in it that could not be identified (the package's when the
    model declares none). Bases: each ancestor's licence (a derivative contains its base), or UNKNOWN
    when it could not be resolved."""
    es = lic_kb.entries(inv, m, "redistribute")
    own = [e for e in es if e.role == "model" and e.resolution.matched_by != "none declared"]
    if not own:
        own = [e for e in es if e.role == "package"]
    bases = [e for e in es if e.role == "base-model"]
    def why(e: lic_kb.Entry, n: int) -> str:  # an expression is named whole: which part was graded shows
        return (f"{e.resolution.id}: " if e.resolution.parts else "") + "; ".join(e.evidence[:n])

    return (
        # a package's entry: "pkg ships model" and the file it was read from
        [(_graded_id(e.resolution), why(e, 2 if e.role == "package" else 1)) for e in own],
        [(_graded_id(e.resolution), why(e, 2)) for e in bases],
        [(e.component.name, _graded_id(e.resolution)) for e in bases],
    )


def declaration_from_inventory(inv: Inventory, m: Component, overlay: mof.Declaration | None = None) -> mof.Declaration:
    """Fill MOF components from what the scan found, each with where its evidence came from.

    What the folder shows: weights (Model parameters), a model card, architecture and training /
    inference code, evaluation results, references to datasets (referenced, not released: they count
    only when an aitrail.yaml gives their licence and location), papers named in the card's tags.
    A MOF YAML or aitrail.yaml next to the model adds what the folder cannot show (``overlay``).
    """
    kb = mof.knowledge()
    comps: list[int] = []
    comp_lics: dict[int, str | None] = {}
    evidence: dict[int, str] = {}
    own, bases, base_names = weights_licences(inv, m)
    spdx_model = own[0][0] if own else None
    files = [c for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.path]
    # code in the folder is under the folder's licences (its LICENSE texts are among them): when several are
    # declared, which covers the code is not said, so all apply (not its bases': code is not derived from them)
    code_lic = _governing(own)
    code_named = "; ".join(f"{lic} ({why})" for lic, why in own) or "no licence declared"

    def add(name: str, lic: str | None, where: str) -> None:
        c = kb.by_name(name)
        if c is not None and c.id not in comps:
            comps.append(c.id)
            comp_lics[c.id] = lic
            evidence[c.id] = where

    weights = [c for c in files if c.type == ComponentType.WEIGHTS]
    lics: list[tuple[str, str]] = []
    if weights:
        # the weights are open only when every licence over them is: their own and their bases'
        lics = own + bases
        named = "; ".join(f"{lic} ({why})" for lic, why in lics)
        named = named if own else "no licence declared" + (f" (bases: {named})" if named else "")
        # a base's licence does not license the derivative: without one of its own it has none
        lic = _governing(lics) if own else None
        add("Model parameters (Final)", lic, f"found: {weights[0].path}; licences: {named}")
    card = next((c for c in files if c.format == "model-card"), None)
    topics: dict[str, bool] = {}
    if card:
        topics = {
            t: any(completeness.stated(m.properties.get(k)) for k in keys)
            for t, keys in {**CARD_TOPICS, **SCAN_TOPICS}.items()
        }
        add("Model card", spdx_model, f"found: {card.path}")
    arch = [c for c in files if c.type == ComponentType.CODE and "model-definition" in c.properties.get("roles", [])]
    if arch:
        add("Model architecture", code_lic, f"found: {arch[0].path}; licences: {code_named}")
    for role, name in (("training", "Training code"), ("inference", "Inference code")):
        hit = [c for c in files if c.type == ComponentType.CODE and role in c.properties.get("roles", [])]
        if hit:
            add(name, code_lic, f"found: {hit[0].path}; licences: {code_named}")
    if completeness.stated(m.properties.get("training_code")):  # a location: its licence is not in the files
        add("Training code", UNKNOWN, f"declared: training_code {m.properties['training_code']} (licence not known)")
    if completeness.stated(m.properties.get("evaluation_results")):
        add("Evaluation results", spdx_model, "found: model card model-index")
    for kind, name in ((RelationshipKind.TRAINED_ON, "Datasets"), (RelationshipKind.TESTED_ON, "Evaluation data")):
        lic, why = _data_licence(inv.related(m.id, kind))
        if why:
            add(name, lic, why)
    tags = " ".join(map(str, m.properties.get("tags") or []))
    paper = _ARXIV.search(tags)
    if paper:
        add("Research paper", UNKNOWN, f"found: card tag arxiv:{paper.group(1)} (licence of the paper not known)")
    d = mof.Declaration(
        m.name, comps, comp_lics, {"distribution": spdx_model} if spdx_model else {}, evidence, origin="scan"
    )
    if paper:
        d.paths[mof.RESEARCH_PAPER] = f"arxiv:{paper.group(1)}"
    if card:
        d.detail[MODEL_CARD] = topics
    for name, lic in base_names:  # every ancestor; one with several licences: the one that is not open
        prev = d.bases.get(name)
        if prev is not None:
            lic = UNKNOWN if UNKNOWN in (prev, lic) else _governing([(prev, ""), (lic, "")]) or lic
        d.bases[name] = lic
    if overlay is not None:  # the producer's declaration wins where it says something
        for cid in overlay.components:
            d.detail.pop(cid, None)  # the producer declares the component: graded as declared
            if cid not in d.components:
                d.components.append(cid)
            if cid in overlay.component_licenses:
                d.component_licenses[cid] = overlay.component_licenses[cid]
            d.evidence[cid] = overlay.evidence.get(cid, "declared")
            declared = overlay.component_licenses.get(cid)
            if cid == WEIGHTS and weights and declared and lics:
                # a producer's licence adds to what the files and the bases say, it cannot remove them
                # (a mof.yml saying Apache-2.0 does not make a Llama 2 fine-tune open)
                allof = [(declared, d.evidence[cid]), *lics]
                d.component_licenses[cid] = _governing(allof)
                d.evidence[cid] += f"; found: {weights[0].path}; licences: " + "; ".join(
                    f"{lic} ({why})" for lic, why in allof
                )
        d.global_licenses.update(overlay.global_licenses)
        d.problems += overlay.problems
        d.paths.update(overlay.paths)
        d.not_released += [c for c in overlay.not_released if c not in d.components]
    return d


@lru_cache(maxsize=1)
def _dpi() -> dict[str, Any]:
    import json

    text = resources.files("aitrail.knowledge").joinpath("datasets_dpi.json").read_text("utf-8")
    return json.loads(text)["datasets"]  # type: ignore[no-any-return]


def _dataset_licences(ds: Component) -> tuple[list[str], str]:
    """A dataset's licences (graded ids) and where they were read: its own declaration, else the Data
    Provenance Initiative's audit of a hub dataset (knowledge/datasets_dpi.json, which the licence
    verdicts use too); none known: []."""
    if ds.licenses:
        return [_graded_id(lic_kb.of(x)) for x in ds.licenses], ", ".join(x.value for x in ds.licenses)
    lics, where = _audited(ds.name)
    return list(lics), where


@lru_cache(maxsize=4096)
def _audited(name: str) -> tuple[tuple[str, ...], str]:
    audit = _dpi().get(name)
    if audit is None:
        return (), "licence not given"
    where = f"Data Provenance Initiative audit ({', '.join(audit['uids'][:2])})"
    if audit["use"] in ("non-commercial", "academic-only"):  # its terms bar some use: not open, whatever the names
        return (f"LicenseRef-dpi-{name}",), f"{audit['use']}: {', '.join(audit['licenses'])} [{where}]"
    if audit["use"] != "commercial":
        return (UNKNOWN,), f"use {audit['use']}: {', '.join(audit['licenses'])} [{where}]"
    return tuple(_graded_id(lic_kb.resolve(x)) for x in audit["licenses"]), f"{', '.join(audit['licenses'])} [{where}]"


def _data_licence(datasets: list[Component]) -> tuple[str | None, str | None]:
    """(licence, evidence) of the data component standing for ``datasets``, or (None, None) when none
    is released (a licence and a location). The component is the whole of the data: open only when
    every dataset has a location and open licences; a dataset whose licence is not known makes it
    UNKNOWN; one under terms that are not open makes it that licence."""
    read = {d.name: _dataset_licences(d) for d in datasets}
    released = [d for d in datasets if read[d.name][0] and d.properties.get("url")]
    if not released:
        return None, None
    lics = [(lic, d.name) for d in released for lic in read[d.name][0]]
    lics += [(UNKNOWN, d.name) for d in datasets if d not in released]
    named = "; ".join(
        f"{d.name}: {read[d.name][1]}" + ("" if d.properties.get("url") else ", location not given")
        for d in datasets[:6]
    ) + (f"; and {len(datasets) - 6} more" if len(datasets) > 6 else "")
    return _governing(lics), f"declared: {len(datasets)} datasets ({named})"


def export_mof(d: mof.Declaration) -> dict[str, Any]:
    """A MOF declaration in the MOT's YAML format, for a producer to complete and submit."""
    kb = mof.knowledge()
    comps = []
    for cid in d.components:
        c = kb.by_id(cid)
        entry: dict[str, Any] = {
            "name": c.name,
            "description": next((x.get("description") for x in _raw_components() if x["id"] == cid), ""),
        }
        if cid in d.component_licenses:
            entry["license"] = d.component_licenses[cid] or ""
        comps.append(entry)
    rel: dict[str, Any] = {
        "name": d.name,
        "version": "",
        "date": "",
        "type": "",
        "architecture": "",
        "origin": "",
        "producer": "",
        "contact": "",
        "repository": "",
        "huggingface": "",
    }
    rel["license"] = {k: {"name": v, "path": ""} for k, v in d.global_licenses.items()}
    rel["components"] = comps
    return {"framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"}, "release": rel}


@lru_cache(maxsize=1)
def _raw_components() -> list[dict[str, Any]]:
    raw = yamlsafe.load(resources.files("aitrail.knowledge").joinpath("mof.yaml").read_text("utf-8"))
    return list(raw["components"])


def badge(assessment: dict[str, Any]) -> str:
    """A small SVG badge: MOF class and OSAID verdict."""
    from html import escape

    klass = assessment["mof"]["class"]
    label = {0: "unclassified", 1: "Class I", 2: "Class II", 3: "Class III"}[klass]
    osaid_ = {
        "pass": "open source AI",
        "pass_if_licenses_changed": "not open source AI (licences)",
        "fail": "not open source AI",
    }[assessment["osaid"]["verdict"]]
    colour = {0: "#9f9f9f", 1: "#2e7d32", 2: "#689f38", 3: "#f9a825"}[klass]
    right = f"MOF {label} · {osaid_}"
    w_left, w_right = 64, 8 + 7 * len(right)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w_left + w_right}" height="20" role="img" '
        f'aria-label="openness: {escape(right)}"><title>{escape(assessment["summary"])}</title>'
        f'<rect width="{w_left}" height="20" fill="#555"/><rect x="{w_left}" width="{w_right}" height="20" '
        f'fill="{colour}"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">openness</text><text x="{w_left + 4}" y="14">{escape(right)}</text></g></svg>\n'
    )


MOF_SIDECARS = ("mof.yml", "mof.yaml", "MOF.yml")


def declarations(inv: Inventory, target: Path) -> list[mof.Declaration]:
    """A declaration per scanned model, with a mof.yml beside the model for what files cannot show.

    Raises ValueError or OSError (and yamlsafe.YAMLError) for a sidecar that cannot be read.
    """
    out = []
    for m in inv.models():
        root = target if target.is_dir() else target.parent
        sub = root / str(m.properties.get("root", ".")) if target.is_dir() else root
        side = next((sub / n for n in MOF_SIDECARS if (sub / n).is_file()), None)
        overlay = mof.from_yaml(fsutil.read_text(side, 1 << 20), side.name) if side else None
        out.append(declaration_from_inventory(inv, m, overlay))
    return out
