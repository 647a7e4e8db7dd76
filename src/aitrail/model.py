"""The core data model: what a scan finds.

An :class:`Inventory` holds
- components (the model, its files, datasets, base models, libraries...),
- relationships between them (contains, derived-from, trained-on, ...),
- findings (problems or facts worth a human's attention), each with evidence,
- completeness (which minimum elements are present, and where to supply the rest).

Everything here is plain data; readers live in ``catalog/``, judgements in ``analyze/``,
writers in ``export/``.  ``Inventory.to_dict()`` is the documented JSON inventory
(``schemas/inventory.schema.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = "1.0"


class ComponentType(StrEnum):
    MODEL = "model"  # a model as a whole: the scanned one, or a base model it derives from
    WEIGHTS = "weights"  # a file holding parameters (safetensors, GGUF, ONNX, pickle...)
    DATASET = "dataset"
    CODE = "code"  # Python or other source that trains or runs the model
    LIBRARY = "library"  # a software package the model needs or ships in
    TOKENIZER = "tokenizer"
    CONFIG = "config"
    DOCUMENTATION = "documentation"  # model card, README
    LICENSE = "license"  # a LICENSE/NOTICE/COPYING file
    DATA = "data"  # arrays or other data files that are not weights
    FILE = "file"  # anything else


class RelationshipKind(StrEnum):
    CONTAINS = "contains"
    DERIVED_FROM = "derived-from"
    TRAINED_ON = "trained-on"
    TESTED_ON = "tested-on"
    DEPENDS_ON = "depends-on"


class Derivation(StrEnum):
    """How a model was derived from its base (``derived-from`` only)."""

    FINE_TUNE = "fine-tune"
    ADAPTER = "adapter"
    QUANTIZATION = "quantization"
    MERGE = "merge"
    UNKNOWN = "unknown"  # a hint (e.g. config.json _name_or_path) without the kind


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Evidence:
    """Where a fact came from: a file (relative to the scan root) and a key, line or offset."""

    path: str | None = None
    key: str | None = None
    line: int | None = None
    offset: int | None = None
    value: str | None = None  # a short excerpt of what was read

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def __str__(self) -> str:
        where = self.path or "(declared)"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f" [{self.key}]"
        if self.offset is not None:
            where += f" @{self.offset}"
        return where


@dataclass
class DeclaredLicense:
    """A licence as some artefact states it. Identification and judgement belong to analyze/."""

    value: str  # exactly as written ("apache-2.0", "other", "MIT License"...)
    evidence: Evidence
    name: str | None = None  # license_name (for "other")
    link: str | None = None  # license_link
    spdx: str | None = None  # SPDX expression when the value is a valid one

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"value": self.value, "evidence": self.evidence.to_dict()}
        for k in ("name", "link", "spdx"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        return d


@dataclass
class Component:
    id: str  # stable within an inventory: "model:<name>", "file:<model>/<path>", "dataset:<name>"
    type: ComponentType
    name: str
    version: str | None = None
    path: str | None = None  # files: POSIX path relative to the scan root
    size: int | None = None
    sha256: str | None = None
    format: str | None = None  # files: what the content is (sniffed), e.g. "safetensors"
    purl: str | None = None
    description: str | None = None
    licenses: list[DeclaredLicense] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)  # where this component was seen

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": str(self.type), "name": self.name}
        for k in ("version", "path", "size", "sha256", "format", "purl", "description"):
            v = getattr(self, k)
            if v is not None or (k in ("path", "size", "sha256", "format") and self.path):
                d[k] = v
        if self.licenses:
            d["licenses"] = [lic.to_dict() for lic in self.licenses]
        if self.properties:
            d["properties"] = self.properties
        if self.evidence:
            d["evidence"] = [e.to_dict() for e in self.evidence]
        return d


@dataclass
class Relationship:
    source: str  # component id
    target: str  # component id
    kind: RelationshipKind
    derivation: Derivation | None = None  # for derived-from
    evidence: list[Evidence] = field(default_factory=list)
    # derived-from only: how strong the evidence is, weakest first: declared (a card or config says so),
    # hash-shared (both scanned, weights files with the same SHA-256), weight-similar (aitrail lineage
    # compare found it derived), signed (a verified signature binds it)
    grade: str | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.source, self.target, str(self.kind))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source, "target": self.target, "kind": str(self.kind)}
        if self.derivation:
            d["derivation"] = str(self.derivation)
        if self.evidence:
            d["evidence"] = [e.to_dict() for e in self.evidence]
        if self.grade:
            d["grade"] = self.grade
        return d


LINEAGE_GRADES = ("declared", "hash-shared", "weight-similar", "signed")  # weakest first


@dataclass
class Finding:
    severity: Severity
    rule: str  # stable id, e.g. "scan.safetensors.header-too-large"; see docs/findings.md
    message: str  # names the file and the problem
    path: str | None  # file relative to the scan root (None: the scan as a whole)
    evidence: Evidence | None = None
    source: str | None = None  # where the rule comes from (spec section, licence clause...)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "severity": str(self.severity),
            "rule": self.rule,
            "message": self.message,
            "path": self.path,
        }
        if self.evidence:
            d["evidence"] = self.evidence.to_dict()
        if self.source:
            d["source"] = self.source
        return d


@dataclass
class CompletenessItem:
    element: str  # id, e.g. "model.hash"
    framework: str  # "cisa-g7-ai-sbom-2026" or "spdx-3.0.1-ai"
    title: str
    present: bool
    evidence: str | None = None  # what satisfied it
    how_to_supply: str | None = None  # for missing ones
    model: str | None = None  # id of the model it is about

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        return {k: v for k, v in d.items() if v is not None}


@dataclass
class Inventory:
    """Components and relationships are kept in lists (their order is the output's) and indexed by
    id and by relationship key, so building and reading stay linear in the number of files."""

    target: str  # what was scanned, as given
    tool_version: str
    components: list[Component] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    completeness: list[CompletenessItem] = field(default_factory=list)
    hashed: bool = True

    def __post_init__(self) -> None:
        self._by_id: dict[str, Component] = {}
        self._by_key: dict[tuple[str, str, str], Relationship] = {}
        self._out: dict[str, list[Relationship]] = {}
        self._in: dict[str, list[Relationship]] = {}
        self._indexed = (0, 0)  # how many components / relationships the indexes cover
        self._reindex()

    def _reindex(self) -> None:
        # Callers may append to the public lists directly; pick up whatever was added since.
        nc, nr = self._indexed
        if nc == len(self.components) and nr == len(self.relationships):
            return
        if nc > len(self.components) or nr > len(self.relationships):  # lists were replaced: start over
            self._by_id, self._by_key, self._out, self._in, nc, nr = {}, {}, {}, {}, 0, 0
        for c in self.components[nc:]:
            self._by_id.setdefault(c.id, c)
        for r in self.relationships[nr:]:
            self._by_key.setdefault(r.key(), r)
            self._out.setdefault(r.source, []).append(r)
            self._in.setdefault(r.target, []).append(r)
        self._indexed = (len(self.components), len(self.relationships))

    # -- building -------------------------------------------------------------
    def component(self, cid: str) -> Component | None:
        self._reindex()
        return self._by_id.get(cid)

    def add_component(self, comp: Component) -> Component:
        """Add, or merge into the component with the same id (first value wins, lists extend)."""
        have = self.component(comp.id)
        if have is None:
            self.components.append(comp)
            self._reindex()
            return comp
        for k in ("version", "path", "size", "sha256", "format", "purl", "description"):
            if getattr(have, k) is None and getattr(comp, k) is not None:
                setattr(have, k, getattr(comp, k))
        for k, v in comp.properties.items():
            have.properties.setdefault(k, v)
        have.licenses.extend(x for x in comp.licenses if x not in have.licenses)
        if comp.evidence:  # a shared dataset or base named by thousands of models: a set, not a list scan
            seen = set(have.evidence)
            for x in comp.evidence:
                if x not in seen:
                    seen.add(x)
                    have.evidence.append(x)
        return have

    def add_relationship(self, rel: Relationship) -> None:
        self._reindex()
        have = self._by_key.get(rel.key())
        if have is not None:
            have.evidence.extend(e for e in rel.evidence if e not in have.evidence)
            # a known derivation kind beats a mere hint
            if rel.derivation and have.derivation in (None, Derivation.UNKNOWN):
                have.derivation = rel.derivation
            return
        self.relationships.append(rel)
        self._reindex()

    # -- reading --------------------------------------------------------------
    def models(self) -> list[Component]:
        """The scanned models (not base models named in lineage)."""
        return [c for c in self.components if c.type == ComponentType.MODEL and c.properties.get("scanned")]

    def outgoing(self, source: str, kind: RelationshipKind | None = None) -> list[Relationship]:
        """Relationships from ``source`` (of one kind), in the order they were added."""
        self._reindex()
        rels = self._out.get(source, [])
        return [r for r in rels if kind is None or r.kind == kind]

    def incoming(self, target: str, kind: RelationshipKind | None = None) -> list[Relationship]:
        """Relationships to ``target`` (of one kind), in the order they were added."""
        self._reindex()
        rels = self._in.get(target, [])
        return [r for r in rels if kind is None or r.kind == kind]

    def related(self, source: str, kind: RelationshipKind) -> list[Component]:
        out = []
        for r in self.outgoing(source, kind):
            c = self.component(r.target)
            if c:
                out.append(c)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "aitrail", "version": self.tool_version},
            "target": self.target,
            "hashed": self.hashed,
            "components": [c.to_dict() for c in self.components],
            "relationships": [r.to_dict() for r in self.relationships],
            "findings": [f.to_dict() for f in self.findings],
            "completeness": [c.to_dict() for c in self.completeness],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Inventory:
        """The Inventory a JSON inventory was written from (the inverse of ``to_dict``), for the registry
        and the hub, which judge stored documents again. Raises KeyError / ValueError / TypeError for a
        document that is not one (callers turn them into their own errors)."""

        def ev(e: dict[str, Any] | None) -> Evidence:
            e = e or {}
            return Evidence(e.get("path"), e.get("key"), e.get("line"), e.get("offset"), e.get("value"))

        inv = cls(target=d.get("target", ""), tool_version=(d.get("tool") or {}).get("version", ""))
        inv.hashed = bool(d.get("hashed", True))
        for c in d["components"]:
            inv.add_component(
                Component(
                    id=c["id"],
                    type=ComponentType(c["type"]),
                    name=c["name"],
                    version=c.get("version"),
                    path=c.get("path"),
                    size=c.get("size"),
                    sha256=c.get("sha256"),
                    format=c.get("format"),
                    purl=c.get("purl"),
                    description=c.get("description"),
                    licenses=[
                        DeclaredLicense(x["value"], ev(x.get("evidence")), x.get("name"), x.get("link"), x.get("spdx"))
                        for x in c.get("licenses", [])
                    ],
                    properties=dict(c.get("properties") or {}),
                    evidence=[ev(e) for e in c.get("evidence", [])],
                )
            )
        for r in d.get("relationships", []):
            inv.add_relationship(
                Relationship(
                    r["source"],
                    r["target"],
                    RelationshipKind(r["kind"]),
                    Derivation(r["derivation"]) if r.get("derivation") else None,
                    [ev(e) for e in r.get("evidence", [])],
                    r.get("grade"),
                )
            )
        for f in d.get("findings", []):
            inv.findings.append(
                Finding(
                    Severity(f["severity"]),
                    f["rule"],
                    f["message"],
                    f.get("path"),
                    ev(f["evidence"]) if f.get("evidence") else None,
                    f.get("source"),
                )
            )
        inv.completeness = [CompletenessItem(**x) for x in d.get("completeness", [])]
        return inv
