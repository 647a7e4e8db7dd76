"""CycloneDX 1.6 / 1.7 JSON ML-BOM, built with cyclonedx-python-lib and validated against its schemas.

cyclonedx-python-lib has no ``modelCard`` model, so the card is added to the serialised JSON
here and the whole document is validated again afterwards (``validate``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CxComponent
from cyclonedx.model.component import ComponentType as CxType
from cyclonedx.model.component import Pedigree
from cyclonedx.model.dependency import Dependable, Dependency
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6, JsonV1Dot7
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from packageurl import PackageURL

from .. import __version__
from ..analyze import judgements
from ..analyze.license_ids import license_ref
from ..model import Component, ComponentType, DeclaredLicense, Inventory, RelationshipKind

VERSIONS = {"1.6": (JsonV1Dot6, SchemaVersion.V1_6), "1.7": (JsonV1Dot7, SchemaVersion.V1_7)}
TEXT_TASKS = ("text", "sentence", "token", "fill-mask", "question", "summarization", "translation", "feature")


class ValidationError(Exception):
    pass


def _index_dependencies(bom: Bom) -> Bom:
    """The library's ``register_dependency`` finds the target's entry by scanning every dependency, and
    ``Bom.validate`` calls it for each component: quadratic over a BOM of many models. The same, indexed
    (set on the instance: the serialiser works from the class, so a subclass would not be written)."""
    index: dict[str, Dependency] = {}

    def register_dependency(target: Dependable, depends_on: Iterable[Dependable] | None = None) -> None:
        ref = target.bom_ref
        if len(index) != len(bom.dependencies):  # entries added some other way: index them (first wins)
            index.clear()
            for d in bom.dependencies:
                if d.ref.value is not None:
                    index.setdefault(d.ref.value, d)
        if ref.value is not None:
            have = index.get(ref.value)
        else:  # a ref without a value only matches itself, as in the library
            have = next((d for d in bom.dependencies if d.ref is ref), None)
        deps = list(depends_on or ())
        if have is not None:
            have.dependencies.update(Dependency(ref=d.bom_ref) for d in deps)
        else:
            entry = Dependency(ref=ref, dependencies=[Dependency(ref=d.bom_ref) for d in deps])
            bom.dependencies.add(entry)
            if ref.value is not None and len(index) + 1 == len(bom.dependencies):
                index.setdefault(ref.value, entry)
        for d in deps:
            register_dependency(d)

    setattr(bom, "register_dependency", register_dependency)  # noqa: B010 (mypy: no assigning to a method)
    return bom


def _licenses(lics: list[DeclaredLicense]) -> list[Any]:
    out: list[Any] = []
    seen = set()
    for lic in lics:
        key = lic.spdx or lic.value
        if key in seen:
            continue
        seen.add(key)
        ack = LicenseAcknowledgement.DECLARED
        if lic.spdx and " " in lic.spdx:
            out.append(LicenseExpression(lic.spdx, acknowledgement=ack))
        elif lic.spdx:
            out.append(DisjunctiveLicense(id=lic.spdx, acknowledgement=ack))
        else:
            name = lic.name or lic.value
            url = XsUri(lic.link) if lic.link and lic.link.startswith("http") else None
            out.append(
                DisjunctiveLicense(
                    name=name if name != "other" else license_ref(lic.link or "other"), url=url, acknowledgement=ack
                )
            )
    # CycloneDX allows one expression, or any number of single licences, not both.
    if any(isinstance(x, LicenseExpression) for x in out) and len(out) > 1:
        out = [x for x in out if isinstance(x, LicenseExpression)][:1]
    return out


def _purl(c: Component) -> PackageURL | None:
    if not c.purl:
        return None
    try:
        return PackageURL.from_string(c.purl)
    except ValueError:
        return None


def _props(c: Component, keys: tuple[str, ...]) -> list[Property]:
    out = []
    for k in keys:
        v = c.properties.get(k)
        if v not in (None, "", [], {}):
            out.append(Property(name=f"aitrail:{k}", value=v if isinstance(v, str) else json.dumps(v, default=str)))
    return out


def _file(c: Component) -> CxComponent:
    cx = CxComponent(
        type=CxType.FILE,
        name=c.path or c.name,
        bom_ref=c.id,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=c.sha256)] if c.sha256 else [],
        licenses=_licenses(c.licenses),
    )
    cx.properties.update([Property(name="aitrail:type", value=str(c.type))])
    if c.format:
        cx.properties.add(Property(name="aitrail:format", value=c.format))
    if c.size is not None:
        cx.properties.add(Property(name="aitrail:size", value=str(c.size)))
    cx.properties.update(
        _props(
            c,
            (
                "parameter_count",
                "tensor_count",
                "dtypes",
                "file_type",
                "opsets",
                "producer_name",
                "chat_template_sha256",
                "vocab_size",
                "kind",
                "security_max_severity",
            ),
        )
    )
    return cx


def _other(c: Component) -> CxComponent:
    kind = {ComponentType.DATASET: CxType.DATA, ComponentType.MODEL: CxType.MACHINE_LEARNING_MODEL}.get(
        c.type, CxType.LIBRARY
    )
    cx = CxComponent(
        type=kind,
        name=c.name,
        version=c.version,
        bom_ref=c.id,
        purl=_purl(c),
        licenses=_licenses(c.licenses),
        description=c.description,
    )
    url = c.properties.get("url")
    if isinstance(url, str) and url.startswith("http"):
        cx.external_references.add(ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url)))
    cx.properties.update(_props(c, ("version_spec", "digest", "role", "declared")))
    return cx


def _model(inv: Inventory, m: Component) -> CxComponent:
    cx = CxComponent(
        type=CxType.MACHINE_LEARNING_MODEL,
        name=m.name,
        version=m.version,
        bom_ref=m.id,
        purl=_purl(m),
        description=m.description,
        licenses=_licenses(m.licenses),
    )
    if m.properties.get("supplier"):
        cx.publisher = str(m.properties["supplier"])
    loc = m.properties.get("download_location")
    if isinstance(loc, str) and loc.startswith("http"):
        cx.external_references.add(ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(loc)))
    cx.properties.update(
        _props(
            m,
            (
                "architecture",
                "model_type",
                "parameter_count",
                "dtype",
                "quantization",
                "library",
                "transformers_version",
                "chat_template_sha256",
                "language",
                "remote_code_files",
                "release_time",
                "training_code",
            ),
        )
    )
    for key, value in judgements.for_model(inv, m):
        cx.properties.add(Property(name=f"aitrail:{key}", value=value))
    for f in inv.related(m.id, RelationshipKind.CONTAINS):
        if f.path:
            cx.components.add(_file(f))
    ancestors = []
    for r in inv.outgoing(m.id, RelationshipKind.DERIVED_FROM):
        base = inv.component(r.target)
        if base:
            a = _other(base)
            a.properties.add(Property(name="aitrail:derivation", value=str(r.derivation or "unknown")))
            a.properties.add(Property(name="aitrail:lineage-grade", value=r.grade or "declared"))
            a.properties.add(Property(name="aitrail:evidence", value="; ".join(map(str, r.evidence))))
            ancestors.append(a)
    if ancestors:
        cx.pedigree = Pedigree(ancestors=ancestors)
    return cx


def model_card(inv: Inventory, m: Component) -> dict[str, Any]:
    """The CycloneDX ``modelCard`` object for a scanned model."""
    p = m.properties
    params: dict[str, Any] = {}
    if p.get("task"):
        params["task"] = str(p["task"])
    if p.get("model_type"):
        params["architectureFamily"] = str(p["model_type"])
    if p.get("architecture"):
        params["modelArchitecture"] = str(p["architecture"])
    datasets = inv.related(m.id, RelationshipKind.TRAINED_ON) + inv.related(m.id, RelationshipKind.TESTED_ON)
    if datasets:
        params["datasets"] = [{"ref": i} for i in dict.fromkeys(d.id for d in datasets)]
    task = str(p.get("task") or "")
    if task:
        text = any(t in task for t in TEXT_TASKS)
        params["inputs"] = [{"format": "string" if text else "unspecified"}]
        params["outputs"] = [
            {
                "format": "number[]"
                if task in ("feature-extraction", "sentence-similarity")
                else "string"
                if text
                else "unspecified"
            }
        ]
    card: dict[str, Any] = {}
    if params:
        card["modelParameters"] = params
    results = p.get("evaluation_results") or []
    if results:
        card["quantitativeAnalysis"] = {
            "performanceMetrics": [
                {
                    k: v
                    for k, v in {
                        "type": r.get("metric") or "metric",
                        "value": str(r.get("value")),
                        "slice": "/".join(x for x in (r.get("dataset"), r.get("config"), r.get("split")) if x) or None,
                    }.items()
                    if v
                }
                for r in results[:500]
            ]
        }
    cons: dict[str, Any] = {}
    if p.get("card.intended_uses") or p.get("intended_use"):
        cons["useCases"] = [str(p.get("intended_use") or p["card.intended_uses"])]
    if p.get("card.limitations") or p.get("limitations"):
        cons["technicalLimitations"] = [str(p.get("limitations") or p["card.limitations"])]
    if p.get("card.bias"):
        cons["ethicalConsiderations"] = [{"name": str(p["card.bias"])}]
    if p.get("card.environmental_impact"):
        cons["environmentalConsiderations"] = {
            "properties": [{"name": "aitrail:card.environmental_impact", "value": str(p["card.environmental_impact"])}]
        }
    if cons:
        card["considerations"] = cons
    return card


def build(inv: Inventory) -> Bom:
    bom = _index_dependencies(Bom())
    bom.metadata.tools.components.add(
        CxComponent(type=CxType.APPLICATION, name="aitrail", version=__version__, bom_ref="tool:aitrail")
    )
    models = inv.models()
    cx_models = {m.id: _model(inv, m) for m in models}
    if len(models) == 1:
        bom.metadata.component = cx_models[models[0].id]
    else:
        bom.components.update(cx_models.values())
    placed = {f.id for m in models for f in inv.related(m.id, RelationshipKind.CONTAINS)} | set(cx_models)
    # base models live in pedigree.ancestors; everything else that is not a file of a model is a component
    ancestors_only = {r.target for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM}
    others: dict[str, CxComponent] = {}
    for c in inv.components:
        if c.id in placed or (c.id in ancestors_only and c.type == ComponentType.MODEL):
            continue
        if c.path:  # a file outside any model (e.g. a carrier package's metadata)
            others[c.id] = _file(c)
        else:
            others[c.id] = _other(c)
    bom.components.update(others.values())
    for m in models:
        deps = [others[c.id] for c in inv.related(m.id, RelationshipKind.DEPENDS_ON) if c.id in others]
        deps += [others[c.id] for c in inv.related(m.id, RelationshipKind.TRAINED_ON) if c.id in others]
        bom.register_dependency(cx_models[m.id], deps)
    for c in inv.components:
        if c.id in others and c.type == ComponentType.LIBRARY:
            inner = [cx_models[x.id] for x in inv.related(c.id, RelationshipKind.CONTAINS) if x.id in cx_models]
            bom.register_dependency(others[c.id], inner)
    return bom


def dumps(inv: Inventory, spec_version: str = "1.6", **_: Any) -> str:
    if spec_version not in VERSIONS:
        raise ValueError(f"CycloneDX spec version {spec_version!r} is not supported (use 1.6 or 1.7)")
    writer, schema = VERSIONS[spec_version]
    with warnings.catch_warnings():
        # the library warns when the described model depends on nothing; for a bare weights file that is true
        warnings.filterwarnings("ignore", message=".*has no defined dependencies.*")
        doc = json.loads(writer(build(inv)).output_as_string())
    refs = _by_ref(doc)
    for m in inv.models():
        card = model_card(inv, m)
        target = refs.get(m.id)
        if target is not None and card:
            target["modelCard"] = card
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    errors = validate(text, spec_version)
    if errors:
        raise ValidationError(f"aitrail produced CycloneDX {spec_version} that fails its schema: {errors}")
    return text


def _by_ref(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component by bom-ref, walked once (a walk per model was quadratic); the first met wins."""
    out: dict[str, dict[str, Any]] = {}
    todo = [doc.get("metadata", {}).get("component")] + list(doc.get("components", []))
    while todo:
        c = todo.pop()
        if not c:
            continue
        ref = c.get("bom-ref")
        if ref is not None:
            out.setdefault(ref, c)
        todo.extend(c.get("components", []))
    return out


def validate(text: str, spec_version: str = "1.6") -> str | None:
    """None when ``text`` is valid CycloneDX JSON of that version, else the first error (offline).

    jsonschema-rs, when installed, checks the same strict schema with its formats in milliseconds;
    python-jsonschema parses every IRI with an Earley grammar (0.16 s each with the format extra) and
    took ~40 s more on a 1,000-model BOM.
    """
    rs = _rs_validator(spec_version)
    if rs is not None:
        err = next(iter(rs.iter_errors(json.loads(text))), None)
        return None if err is None else f"{err.message} (at /{'/'.join(map(str, err.instance_path))})"
    found = next(iter(_py_validator(spec_version).iter_errors(json.loads(text))), None)
    return None if found is None else f"{found.message} (at /{'/'.join(map(str, found.absolute_path))})"


def _same(x: Any) -> Any:
    """A hashable stand-in with JSON Schema's equality (true is not 1, 1 is 1.0, key order is moot)."""
    if isinstance(x, bool) or x is None:
        return ("b", x)
    if isinstance(x, (int, float, str)):
        return ("v", x)
    if isinstance(x, list):
        return ("l", tuple(_same(i) for i in x))
    if isinstance(x, dict):
        return ("d", frozenset((k, _same(v)) for k, v in x.items()))
    return ("o", repr(x))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    # python-jsonschema compares unsortable items (objects) pairwise: quadratic in a BOM's components
    from jsonschema import ValidationError as SchemaError

    if unique and validator.is_type(instance, "array"):
        seen: set[Any] = set()
        for i, item in enumerate(instance):
            key = _same(item)
            if key in seen:  # not the whole array in the message: it may hold every component
                yield SchemaError(f"has non-unique elements: item {i} repeats an earlier one ({str(item)[:200]})")
                return
            seen.add(key)


@lru_cache(maxsize=None)
def _py_validator(spec_version: str) -> Any:
    """The library's strict validator, with a linear uniqueItems and without the IRI formats: the
    format extra parses each IRI with an Earley grammar (0.16 s an IRI); without that extra they are
    not checked at all."""
    import jsonschema  # imported on use: with the format extra it takes seconds, jsonschema-rs milliseconds
    import jsonschema.validators
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    schema = _load(BOM_JSON_STRICT[VERSIONS[spec_version][1]])
    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT7.create_resource(_load(path))) for uri, path in _REFERENCED
    )
    formats = jsonschema.FormatChecker()
    formats.checkers = {
        k: v for k, v in jsonschema.Draft7Validator.FORMAT_CHECKER.checkers.items() if k not in ("iri", "iri-reference")
    }
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"uniqueItems": _unique_items})
    return cls(schema, registry=registry, format_checker=formats)


def _load(path: str | None) -> Any:
    with open(str(path), encoding="utf-8") as f:
        return json.load(f)


# the schemas the BOM schema refers to, as the library's own validator registers them: nothing is fetched
_PREFIX = "http://cyclonedx.org/schema/"
_REFERENCED = (
    (f"{_PREFIX}spdx.SNAPSHOT.schema.json", SPDX_JSON),
    (f"{_PREFIX}jsf-0.82.SNAPSHOT.schema.json", JSF),
    (f"{_PREFIX}cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
)


@lru_cache(maxsize=None)
def _rs_validator(spec_version: str) -> Any:
    try:
        import jsonschema_rs
    except ImportError:
        return None
    if not hasattr(jsonschema_rs, "Registry"):  # older than 0.30: no offline references, use the library's
        return None
    registry = jsonschema_rs.Registry([(uri, _load(path)) for uri, path in _REFERENCED])
    schema = _load(BOM_JSON_STRICT[VERSIONS[spec_version][1]])
    try:
        return jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True, offline=True)
    except TypeError:  # no `offline` switch yet: the registry alone resolves every reference
        return jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True)
