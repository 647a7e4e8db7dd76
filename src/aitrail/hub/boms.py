"""CycloneDX 1.5-1.7 and SPDX 3.0.1 AI BOMs (aitrail's own or any tool's) as inventories to judge.

Every model in a BOM becomes a scanned model of an :class:`~aitrail.model.Inventory`: its licences
(the BOM's licence entries, with the BOM file and path as evidence), its bases (CycloneDX
``pedigree.ancestors`` or a ``base_model`` property of the component or its modelCard; SPDX
``descendantOf``/``ancestorOf``), its datasets (modelCard datasets; SPDX ``trainedOn``/``testedOn``,
with their licences), its files, and the card facts the completeness and openness checks read. The hub
then grades it with the same functions as any other record (``documents.judge``). Only the BOM's own
data is read: no URL in it is fetched. A BOM that fails its schema is still judged, with a
``hub.bom.invalid`` finding naming the first errors.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

from ..model import (
    Component,
    ComponentType,
    DeclaredLicense,
    Derivation,
    Evidence,
    Finding,
    Inventory,
    Relationship,
    RelationshipKind,
    Severity,
)

CDX_VERSIONS = ("1.5", "1.6", "1.7")
SPDX_CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
NO_ASSERTION = ("NOASSERTION", "NONE", "spdx:ExpandedLicensing/NoAssertionLicense",
                "spdx:ExpandedLicensing/NoneLicense")
UNNAMED = "(BOM)"  # the file's name until the caller knows it (relabel)
SCHEMA_ERRORS = 3  # schema errors named in the finding
DERIVATIONS = {
    "fine-tune": Derivation.FINE_TUNE, "finetune": Derivation.FINE_TUNE, "finetuned": Derivation.FINE_TUNE,
    "adapter": Derivation.ADAPTER, "quantization": Derivation.QUANTIZATION, "quantized": Derivation.QUANTIZATION,
    "merge": Derivation.MERGE, "merged": Derivation.MERGE,
}
BASE_KEYS = ("base_model", "basemodel", "base-model")  # a property naming the base (after its last ':')
# aitrail's own CycloneDX properties that carry card facts (the judgements are recomputed, never read)
CDX_FACTS = ("architecture", "library", "task", "model_type", "language", "parameter_count")


def kind(doc: Any) -> str | None:
    """'cyclonedx' or 'spdx' for a parsed BOM, None for anything else."""
    if not isinstance(doc, dict):
        return None
    if doc.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    if "@graph" in doc or "@context" in doc or str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return "spdx"
    return None


def inventory(doc: dict[str, Any], name: str = UNNAMED) -> Inventory:
    """The inventory of a BOM (``name``: its file, for the evidence). ValueError when it holds no model
    or is not a BOM this reads (the message says which)."""
    if kind(doc) == "cyclonedx":
        return _cyclonedx(doc, name)
    return _spdx(doc, name)


# -- shared ------------------------------------------------------------------------------------


def _hub_id(purl: Any) -> str | None:
    p = str(purl or "")
    if p.startswith("pkg:huggingface/"):
        return p[len("pkg:huggingface/"):].split("?")[0].split("#")[0].split("@")[0] or None
    return None


def _derivation(v: Any) -> Derivation:
    return DERIVATIONS.get(str(v or "").strip().lower(), Derivation.UNKNOWN)


def _base(inv: Inventory, model: Component, base: str, derivation: Derivation, ev: Evidence,
          lics: list[DeclaredLicense] | None = None) -> None:
    b = inv.add_component(Component(id=f"model:{base}", type=ComponentType.MODEL, name=base))
    b.licenses.extend(x for x in lics or [] if x not in b.licenses)
    inv.add_relationship(Relationship(model.id, b.id, RelationshipKind.DERIVED_FROM, derivation, [ev]))


def _dataset(inv: Inventory, model: Component, name: str, kind: RelationshipKind, ev: Evidence,
             lics: list[DeclaredLicense], url: str | None = None) -> None:
    d = inv.add_component(Component(id=f"dataset:{name}", type=ComponentType.DATASET, name=name,
                                    properties={"url": url} if url else {}))
    d.licenses.extend(x for x in lics if x not in d.licenses)
    inv.add_relationship(Relationship(model.id, d.id, kind, evidence=[ev]))


def _file(inv: Inventory, model: Component, path: str, typ: str | None, fmt: str | None, sha256: str | None,
          size: int | None, lics: list[DeclaredLicense]) -> None:
    from .batch import WEIGHTS

    ext = path[path.rfind("."):].lower() if "." in path else ""
    ctype = ComponentType(typ) if typ in set(ComponentType) else None
    if ctype is None:
        ctype = ComponentType.WEIGHTS if ext in WEIGHTS else ComponentType.FILE
        fmt = fmt or WEIGHTS.get(ext)
    if ctype == ComponentType.DOCUMENTATION and not fmt and path.rsplit("/", 1)[-1].lower() == "readme.md":
        fmt = "model-card"
    c = inv.add_component(Component(id=f"file:{model.name}/{path}", type=ctype, name=path.rsplit("/", 1)[-1],
                                    path=path, format=fmt, sha256=sha256, size=size, licenses=lics))
    inv.add_relationship(Relationship(model.id, c.id, RelationshipKind.CONTAINS))


def _library(inv: Inventory, model: Component, name: str, version: str | None, purl: str | None,
             lics: list[DeclaredLicense], carrier: bool) -> None:
    """A software package the model needs (depends-on) or that carries it (contains the model)."""
    lib = inv.add_component(Component(id=f"library:{purl or name}", type=ComponentType.LIBRARY, name=name,
                                      version=version, purl=purl, licenses=lics))
    if carrier:
        inv.add_relationship(Relationship(lib.id, model.id, RelationshipKind.CONTAINS))
    else:
        inv.add_relationship(Relationship(model.id, lib.id, RelationshipKind.DEPENDS_ON))


def _model(inv: Inventory, mid: str, version: str | None, purl: str | None, description: str | None) -> Component:
    m = Component(id=f"model:{mid}", type=ComponentType.MODEL, name=mid, version=version, purl=purl,
                  description=description)
    m.properties.update(scanned=True, repo_id=mid)
    return inv.add_component(m)


def _invalid(inv: Inventory, name: str, what: str, errors: list[str]) -> None:
    inv.findings.append(Finding(
        Severity.MEDIUM, "hub.bom.invalid",
        f"{what} fails its schema ({len(errors)} error(s)); judged on what could be read: " + "; ".join(
            errors[:SCHEMA_ERRORS]),
        name, Evidence(path=name, value="; ".join(errors[:SCHEMA_ERRORS])[:500]), what + " schema",
    ))


# -- CycloneDX ---------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _cdx_validator(version: str) -> Any:
    """The official strict schema of that version (bundled with cyclonedx-python-lib), offline."""
    import jsonschema_rs
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON_STRICT

    from ..export.cyclonedx import _REFERENCED, _load

    registry = jsonschema_rs.Registry([(uri, _load(path)) for uri, path in _REFERENCED])
    schema = _load(BOM_JSON_STRICT[SchemaVersion.from_version(version)])
    return jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True)


def _cdx_licences(c: dict[str, Any], name: str, where: str) -> list[DeclaredLicense]:
    out = []
    for i, e in enumerate(c.get("licenses") or []):
        if not isinstance(e, dict):
            continue
        ev = Evidence(path=name, key=f"{where}.licenses[{i}]")
        if isinstance(e.get("expression"), str):
            v = e["expression"]
        elif isinstance(e.get("license"), dict):
            lic = e["license"]
            v = lic.get("id") or lic.get("name")
            url = lic.get("url")
            if v and not isinstance(v, str):
                v = None
            text = _cdx_text(lic.get("text"))
            if not lic.get("id") and text:  # a named licence with its text: identified by the text
                out += _text_licences(text, ev, v or "unnamed licence")
                continue
            if v and v not in NO_ASSERTION:
                out.append(DeclaredLicense(v, Evidence(ev.path, ev.key, value=v), link=url if isinstance(url, str)
                                           else None))
            continue
        else:
            continue
        if v and v not in NO_ASSERTION:
            out.append(DeclaredLicense(v, Evidence(ev.path, ev.key, value=v)))
    return out


def _cdx_text(t: Any) -> str | None:
    """The text of a CycloneDX licence (``text.content``, plain or base64), bounded."""
    from ..analyze.license_text import MAX_TEXT

    if not isinstance(t, dict) or not isinstance(t.get("content"), str):
        return None
    content = t["content"][: MAX_TEXT * 2]
    if t.get("encoding") == "base64":
        import base64
        import binascii

        try:
            content = base64.b64decode(content[: MAX_TEXT * 4 // 3 + 4], validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return content if content.strip() else None


def _text_licences(text: str, ev: Evidence, fallback: str) -> list[DeclaredLicense]:
    """The licences a licence text is identified as (as a LICENSE file is); one it is not identified as
    stays under its name (an unknown licence: never "allowed")."""
    from ..analyze.license_text import identify_text

    ident = identify_text(text, f"{ev.path} [{ev.key}]")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:120]
    if ident.known and ident.licenses:
        return [DeclaredLicense(m.license_id, Evidence(ev.path, ev.key, value=first)) for m in ident.licenses]
    return [DeclaredLicense(fallback, Evidence(ev.path, ev.key, value=first))]


def _props(c: dict[str, Any]) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("value")) for p in c.get("properties") or []
            if isinstance(p, dict) and p.get("name") is not None and p.get("value") is not None}


def _cdx_id(c: dict[str, Any]) -> str:
    hub = _hub_id(c.get("purl"))
    if hub:
        return hub
    name = str(c.get("name") or c.get("bom-ref") or "unnamed")
    group = c.get("group")
    return f"{group}/{name}" if isinstance(group, str) and group and "/" not in name else name


def _walk(items: Any, where: str, parent: dict[str, Any] | None) -> Iterator[tuple[dict[str, Any], str, Any]]:
    """(component, JSON path, the component it is nested in) for every component, depth first."""
    todo = [(c, f"{where}[{i}]", parent) for i, c in enumerate(items or [])][::-1]
    while todo:
        c, path, up = todo.pop()
        if not isinstance(c, dict):
            continue
        yield c, path, up
        todo += [(s, f"{path}.components[{i}]", c) for i, s in enumerate(c.get("components") or [])][::-1]


def _cyclonedx(bom: dict[str, Any], name: str) -> Inventory:
    version = str(bom.get("specVersion", ""))
    if version not in CDX_VERSIONS:
        raise ValueError(f"CycloneDX specVersion {version!r} is not read (AI BOMs: {', '.join(CDX_VERSIONS)})")
    meta = _dict(bom.get("metadata")).get("component")
    comps = list(_walk([meta] if meta else [], "metadata.component", None)) + list(
        _walk(bom.get("components"), "components", None))
    comps = [(c, p.replace("metadata.component[0]", "metadata.component"), up) for c, p, up in comps]
    models = [(c, p) for c, p, _ in comps if c.get("type") == "machine-learning-model"]
    if not models:
        raise ValueError("a CycloneDX BOM without a machine-learning-model component (no model to judge)")
    inv = Inventory(target=name, tool_version=_tool(bom))
    errors = [f"/{'/'.join(map(str, e.instance_path))}: {e.message}"[:300]
              for e in _cdx_validator(version).iter_errors(bom)]
    if errors:
        _invalid(inv, name, f"CycloneDX {version}", errors)
    by_ref = {c["bom-ref"]: c for c, _, _ in comps if isinstance(c.get("bom-ref"), str)}
    mine: dict[int, Component] = {}
    for c, path in models:
        m = _model(inv, _cdx_id(c), _str(c.get("version")), _str(c.get("purl")), _str(c.get("description")))
        mine[id(c)] = m
        m.licenses.extend(x for x in _cdx_licences(c, name, path) if x not in m.licenses)
        _cdx_facts(m, c)
        props = _props(c)
        card = _dict(c.get("modelCard"))
        props.update(_props(card))
        for i, a in enumerate(_dict(c.get("pedigree")).get("ancestors") or []):
            if not isinstance(a, dict):
                continue
            ap = _props(a)
            ev = Evidence(path=name, key=f"{path}.pedigree.ancestors[{i}]",
                          value=ap.get("aitrail:evidence") or "CycloneDX pedigree.ancestors")
            _base(inv, m, _cdx_id(a), _derivation(ap.get("aitrail:derivation")), ev,
                  _cdx_licences(a, name, f"{path}.pedigree.ancestors[{i}]"))
        relation = next((v for k, v in props.items() if k.rsplit(":", 1)[-1].lower() == "base_model_relation"), None)
        for k, v in props.items():
            if k.rsplit(":", 1)[-1].lower() in BASE_KEYS:
                for b in filter(None, (x.strip() for x in v.split(","))):
                    _base(inv, m, b, _derivation(relation), Evidence(path=name, key=f"{path} property {k}", value=b))
        params = _dict(card.get("modelParameters"))
        for i, d in enumerate(params.get("datasets") or []):
            if not isinstance(d, dict):
                continue
            ref = by_ref.get(d.get("ref")) if isinstance(d.get("ref"), str) else None
            dc = ref or d
            dname = _str(dc.get("name")) or _str(d.get("ref"))
            if dname:
                ev = Evidence(path=name, key=f"{path}.modelCard.modelParameters.datasets[{i}]", value=dname)
                url = next((str(x["url"]) for x in dc.get("externalReferences") or [] if isinstance(x, dict)
                            and x.get("type") in ("distribution", "website") and x.get("url")), None)
                url = url or _str(_dict(dc.get("contents")).get("url"))
                _dataset(inv, m, dname.removeprefix("dataset:"), RelationshipKind.TRAINED_ON, ev,
                         _cdx_licences(dc, name, f"{path}.modelCard.modelParameters.datasets[{i}]"), url)
    by_model = {c.get("bom-ref"): mine[id(c)] for c, _ in models if isinstance(c.get("bom-ref"), str)}
    for i, dep in enumerate(bom.get("dependencies") or []):
        if not isinstance(dep, dict):
            continue
        src = by_ref.get(dep.get("ref")) if isinstance(dep.get("ref"), str) else None
        for t in dep.get("dependsOn") or []:
            tgt = by_ref.get(t) if isinstance(t, str) else None
            if src is None or tgt is None:
                continue
            carrier = src.get("type") == "library" and t in by_model and _props(src).get("aitrail:role") == "carrier"
            owner, lib = (by_model[t], src) if carrier else (by_model.get(dep.get("ref")), tgt)
            if owner is not None and lib.get("type") in ("library", "framework", "application"):
                _library(inv, owner, str(lib.get("name") or t), _str(lib.get("version")), _str(lib.get("purl")),
                         _cdx_licences(lib, name, f"dependencies[{i}] {t}"), carrier)
    single = next(iter(mine.values())) if len(mine) == 1 else None
    for c, path, up in comps:
        if c.get("type") != "file":
            continue
        owner = mine.get(id(up)) if up is not None else None
        owner = owner or single
        if owner is None:
            continue
        fp = _props(c)
        size = fp.get("aitrail:size")
        _file(inv, owner, str(c.get("name") or "?"), fp.get("aitrail:type"), fp.get("aitrail:format"),
              _sha256(c.get("hashes"), "alg", "content"), int(size) if size and size.isdigit() else None,
              _cdx_licences(c, name, path))
    return inv


def _cdx_facts(m: Component, c: dict[str, Any]) -> None:
    props = _props(c)
    for k in CDX_FACTS:
        v = props.get(f"aitrail:{k}")
        if v:
            m.properties[k] = v
    card = _dict(c.get("modelCard"))
    params = _dict(card.get("modelParameters"))
    if isinstance(params.get("task"), str):
        m.properties.setdefault("task", params["task"])
    if isinstance(params.get("modelArchitecture"), str):
        m.properties.setdefault("architecture", params["modelArchitecture"])
    cons = _dict(card.get("considerations"))
    uses = [u for u in cons.get("useCases") or [] if isinstance(u, str)]
    if uses:
        m.properties["intended_use"] = "\n".join(uses)
    lim = [u for u in cons.get("technicalLimitations") or [] if isinstance(u, str)]
    if lim:
        m.properties["limitations"] = "\n".join(lim)
    qa = _dict(card.get("quantitativeAnalysis"))
    metrics = [{"metric": str(x.get("type")), "value": x.get("value")}
               for x in qa.get("performanceMetrics") or [] if isinstance(x, dict)]
    if metrics:
        m.properties["evaluation_results"] = metrics
    supplier = _dict(c.get("supplier"))
    who = _str(supplier.get("name")) or _str(c.get("publisher")) or _str(c.get("author"))
    if who:
        m.properties["supplier"] = who


def _sha256(hashes: Any, alg_key: str, value_key: str) -> str | None:
    for h in hashes or []:
        if isinstance(h, dict) and str(h.get(alg_key, "")).replace("-", "").lower() == "sha256":
            v = h.get(value_key)
            return str(v).lower() if v else None
    return None


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v and v != "NOASSERTION" else None


def _tool(bom: dict[str, Any]) -> str:
    tools = _dict(bom.get("metadata")).get("tools")
    comps = tools.get("components") if isinstance(tools, dict) else tools if isinstance(tools, list) else []
    for t in comps or []:
        if isinstance(t, dict) and t.get("name"):
            return f"{t.get('name')} {t.get('version') or ''}".strip()
    return "unknown"


# -- SPDX 3.0.1 --------------------------------------------------------------------------------


def _spdx(doc: dict[str, Any], name: str) -> Inventory:
    if str(doc.get("spdxVersion", "")).startswith("SPDX-2"):
        raise ValueError(f"an {doc['spdxVersion']} document: SPDX 2 has no AI profile (read: SPDX 3.0.1 JSON-LD)")
    ctx = doc.get("@context")
    graph = doc.get("@graph")
    if ctx != SPDX_CONTEXT and not (isinstance(ctx, list) and SPDX_CONTEXT in ctx):
        raise ValueError(f"an SPDX document whose @context is not {SPDX_CONTEXT} (read: SPDX 3.0.1 JSON-LD)")
    if not isinstance(graph, list):
        raise ValueError("an SPDX document whose @graph is not a list of elements")
    elements = [e for e in graph if isinstance(e, dict) and isinstance(e.get("type"), str)]
    bad = len(graph) - len(elements)
    by_id = {str(e.get("spdxId") or e.get("@id")): e for e in elements}
    models = [e for e in elements if e["type"] == "ai_AIPackage"]
    if not models:
        raise ValueError("an SPDX document without an ai_AIPackage element (no model to judge)")
    inv = Inventory(target=name, tool_version="unknown")
    if bad:
        _invalid(inv, name, "SPDX 3.0.1", [f"{bad} @graph item(s) are not typed elements"])
    rels = [e for e in elements if e["type"].endswith("Relationship") and isinstance(e.get("from"), str)
            and isinstance(e.get("to"), list)]
    out: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}  # from -> (kind, to, rel)
    inc: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}  # to -> (kind, from, rel)
    for r in rels:
        for to in r["to"]:
            if isinstance(to, str):
                out.setdefault(r["from"], []).append((str(r.get("relationshipType")), to, r))
                inc.setdefault(to, []).append((str(r.get("relationshipType")), r["from"], r))

    def licences(sid: str) -> list[DeclaredLicense]:
        got: dict[str, list[DeclaredLicense]] = {}
        for k, to, r in out.get(sid, []):
            if k not in ("hasDeclaredLicense", "hasConcludedLicense") or to in NO_ASSERTION:
                continue
            el = by_id.get(to) or {}
            ev = Evidence(path=name, key=f"{k} {r.get('spdxId')}")
            v = el.get("simplelicensing_licenseExpression")
            if not v and to.startswith("https://spdx.org/licenses/"):
                v = to.rsplit("/", 1)[-1]  # a listed licence named by its IRI only
            text = el.get("simplelicensing_licenseText")
            if not v and isinstance(text, str) and text.strip():  # a custom licence: identified by its text
                got.setdefault(k, []).extend(_text_licences(text, ev, str(el.get("name") or to)))
                continue
            v = v or el.get("name") or to
            if isinstance(v, str) and v not in NO_ASSERTION:
                got.setdefault(k, []).append(DeclaredLicense(v, Evidence(ev.path, ev.key, value=v)))
        return got.get("hasDeclaredLicense") or got.get("hasConcludedLicense") or []  # declared first

    def ident(el: dict[str, Any], sid: str) -> str:
        return _hub_id(el.get("software_packageUrl")) or _str(el.get("name")) or sid

    mine = {}
    for e in models:
        sid = str(e.get("spdxId") or e.get("@id"))
        m = _model(inv, ident(e, sid), _str(e.get("software_packageVersion")), _str(e.get("software_packageUrl")),
                   _str(e.get("description")))
        mine[sid] = m
        m.licenses.extend(x for x in licences(sid) if x not in m.licenses)
        _spdx_facts(m, e, by_id)
    for sid, m in mine.items():
        bases = [(to, r, "descendantOf") for k, to, r in out.get(sid, []) if k == "descendantOf"]
        bases += [(frm, r, "ancestorOf") for k, frm, r in inc.get(sid, []) if k == "ancestorOf"]
        for bid, r, k in bases:
            el = by_id.get(bid) or {}
            comment = str(r.get("comment") or "")
            deriv = comment.split("derivation: ", 1)[1].split(";", 1)[0] if "derivation: " in comment else None
            b = ident(el, bid)
            ev = Evidence(path=name, key=f"{k} {r.get('spdxId')}", value=b)
            _base(inv, m, b, _derivation(deriv), ev, licences(bid))
        for k, to, r in out.get(sid, []):
            if k in ("trainedOn", "testedOn"):
                el = by_id.get(to) or {}
                kind_ = RelationshipKind.TRAINED_ON if k == "trainedOn" else RelationshipKind.TESTED_ON
                dname = ident(el, to)
                _dataset(inv, m, dname, kind_, Evidence(path=name, key=f"{k} {r.get('spdxId')}", value=dname),
                         licences(to), _str(el.get("software_downloadLocation")))
            elif k in ("contains", "hasDocumentation"):
                el = by_id.get(to) or {}
                if el.get("type") == "software_File":
                    _spdx_file(inv, m, el, to, k, licences(to))
            elif k == "dependsOn" and (by_id.get(to) or {}).get("type") == "software_Package":
                el = by_id[to]
                _library(inv, m, ident(el, to), _str(el.get("software_packageVersion")),
                         _str(el.get("software_packageUrl")), licences(to), False)
        for k, frm, _r in inc.get(sid, []):
            el = by_id.get(frm) or {}
            if k == "contains" and el.get("type") == "software_Package":
                _library(inv, m, ident(el, frm), _str(el.get("software_packageVersion")),
                         _str(el.get("software_packageUrl")), licences(frm), True)
    return inv


PURPOSES = {"model": "weights", "documentation": "documentation", "configuration": "config", "source": "code",
            "data": "data"}


def _spdx_file(inv: Inventory, m: Component, el: dict[str, Any], sid: str, rel: str,
               lics: list[DeclaredLicense]) -> None:
    path = _str(el.get("name")) or sid
    comment = str(el.get("comment") or "")  # aitrail's own: "format: X; size: N bytes"
    fmt = comment.split("format: ", 1)[1].split(";", 1)[0].strip() if comment.startswith("format: ") else None
    size = comment.split("size: ", 1)[1].split(" ", 1)[0] if "; size: " in comment else ""
    typ = PURPOSES.get(str(el.get("software_primaryPurpose"))) if fmt else None
    if rel == "hasDocumentation" and path.rsplit("/", 1)[-1].lower() == "readme.md":
        typ, fmt = "documentation", fmt or "model-card"
    _file(inv, m, path, typ, fmt, _sha256(el.get("verifiedUsing"), "algorithm", "hashValue"),
          int(size) if size.isdigit() else None, lics)


def _spdx_facts(m: Component, e: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    def first(key: str) -> str | None:
        v = e.get(key)
        v = v[0] if isinstance(v, list) and v else v
        return v if isinstance(v, str) and v else None

    for prop, key in (("architecture", "ai_typeOfModel"), ("task", "ai_domain"),
                      ("intended_use", "ai_informationAboutApplication"), ("limitations", "ai_limitation")):
        v = first(key)
        if v:
            m.properties[prop] = v
    metrics = [{"metric": str(x.get("key")), "value": x.get("value")} for x in e.get("ai_metric") or []
               if isinstance(x, dict)]
    if metrics:
        m.properties["evaluation_results"] = metrics
    who = by_id.get(str(e.get("suppliedBy"))) or {}
    supplier = _str(who.get("name"))
    if supplier:
        m.properties["supplier"] = supplier


def relabel(inv: Inventory, name: str) -> None:
    """Name the BOM file in the evidence of an inventory read as :data:`UNNAMED` (the batch reader parses
    a document before it is told the file)."""
    from dataclasses import replace

    def fix(e: Evidence) -> Evidence:
        return replace(e, path=name) if e.path == UNNAMED else e

    for c in inv.components:
        for lic in c.licenses:
            lic.evidence = fix(lic.evidence)
    for r in inv.relationships:
        r.evidence = [fix(e) for e in r.evidence]
    for f in inv.findings:
        f.path = name if f.path == UNNAMED else f.path
        f.evidence = fix(f.evidence) if f.evidence else None
    inv.target = name
