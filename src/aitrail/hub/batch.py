"""Judge hub model records in batches with the single-model judgements.

Each record becomes the smallest inventory the single-model path would have built for that model
(the card's front matter read by ``catalog.model_card``, the hub's file list as file components), and
the same functions grade it: ``licenses.entries``/``model_verdict`` and ``licenses.check`` for the use
verdicts and licence findings, ``completeness.assess`` for the minimum elements,
``openness.declaration_from_inventory``/``assess`` for the MOF class and OSAID verdict. Nothing touches
the filesystem per record; knowledge is loaded once per process; pure judgements are memoised on
exactly what they read.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import __version__, jsonsafe
from ..analyze import completeness, licenses, openness
from ..catalog import model_card
from ..catalog.base import MODEL, CatalogError, FileRef, Found, read_yaml
from ..catalog.lineage import hub_purl
from ..model import (
    Component,
    ComponentType,
    DeclaredLicense,
    Derivation,
    Evidence,
    Inventory,
    Relationship,
    RelationshipKind,
    Severity,
)
from . import frontmatter

MAX_CARD = 16 << 20  # characters of a card judged; a larger one is an error row (absurd size)
USES = licenses.USES
WEIGHTS = {
    ".safetensors": "safetensors",
    ".bin": "pickle",
    ".pt": "pickle",
    ".pth": "pickle",
    ".ckpt": "pickle",
    ".pkl": "pickle",
    ".h5": "keras-h5",
    ".msgpack": "flax-msgpack",
    ".onnx": "onnx",
    ".gguf": "gguf",
    ".tflite": "tflite",
}
_CODE_LINK = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/[\w.\-]{1,100}/[\w.\-]{1,100}")
_ARXIV = re.compile(r"arxiv(?:\.org/(?:abs|pdf)/|:)\s*(\d{4}\.\d{4,5})", re.I)

RESULT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("sha", pa.string()),
        ("last_modified", pa.string()),
        ("year", pa.int16()),
        ("org", pa.string()),
        ("source", pa.string()),
        ("row", pa.int64()),
        ("has_card", pa.bool_()),
        ("card_chars", pa.int64()),
        ("has_front_matter", pa.bool_()),
        ("licenses", pa.list_(pa.string())),
        ("license_evidence", pa.string()),
        ("license_id", pa.string()),
        ("license_spdx", pa.string()),
        ("license_known", pa.bool_()),
        ("license_matched_by", pa.string()),
        *[(f"verdict_{u}", pa.string()) for u in USES],
        ("bases", pa.list_(pa.string())),
        ("relation", pa.string()),
        ("datasets", pa.list_(pa.string())),
        ("task", pa.string()),
        ("library", pa.string()),
        ("architecture", pa.string()),
        ("completeness_present", pa.int16()),
        ("completeness_total", pa.int16()),
        ("completeness_missing", pa.list_(pa.string())),
        ("mof_class", pa.int8()),
        ("osaid", pa.string()),
        ("openness_score", pa.float32()),
        ("open_weights_licence", pa.bool_()),
        ("data_declared", pa.bool_()),
        ("code_linked", pa.bool_()),
        ("paper", pa.bool_()),
        ("evaluation", pa.bool_()),
        ("weights_formats", pa.list_(pa.string())),
        ("findings", pa.list_(pa.string())),
    ]
)
FINDING_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("severity", pa.string()),
        ("rule", pa.string()),
        ("message", pa.string()),
        ("evidence", pa.string()),
        ("rule_source", pa.string()),
    ]
)
ERROR_SCHEMA = pa.schema(
    [("id", pa.string()), ("source", pa.string()), ("row", pa.int64()), ("rule", pa.string()), ("message", pa.string())]
)


_NO_PATH = Path("README.md")  # a card in memory has no file (FileRef.path is never read for it)


class _CardRef(FileRef):
    """A model card held in memory: the cataloger's FileRef without a file behind it."""

    def __init__(self, model_id: str, text: str) -> None:
        super().__init__(_NO_PATH, f"{model_id}/README.md", len(text), b"", "model-card", "README.md")
        self.text = text

    def read_text(self, limit: int = 0) -> str:
        return self.text


PARSE_MEMO = True  # identical front matters / bodies read once (tests compare with PARSE_MEMO = False)
PARSE_MEMO_CHARS = 64 << 20  # characters of front matter and body kept read, per process
_PARSED: dict[str, Any] = {}
_SECTIONS: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
_BODY_LINKS: dict[str, tuple[bool, bool]] = {}  # body -> (a code repository linked, an arXiv id)
_parsed_size = [0]


def _load(yml: str, ref: FileRef) -> Any:
    """frontmatter.parse(yml) through the parse memo; a front matter opening with ``base_model`` lines
    (frontmatter.opening) is the opening plus its rest, parsed (and remembered) once for every base."""
    loaded = _PARSED.get(yml)
    if loaded is not None:
        return loaded
    loaded = frontmatter.fast(yml) if frontmatter.FAST_ENABLED else None
    got = frontmatter.opening(yml) if loaded is None else None
    if got is not None:
        head, rest = got
        try:
            tail = _load(rest, ref)
            if isinstance(tail, dict) and not any(k in tail for k in head):
                loaded = {**head, **tail}
                jsonsafe.check_shape(loaded)
        except (CatalogError, jsonsafe.ShapeError):
            loaded = None  # the whole is parsed below, with its own message
    if loaded is None:
        loaded = read_yaml(ref, yml)
    if _parsed_size[0] + len(yml) <= PARSE_MEMO_CHARS:
        _PARSED[yml] = loaded  # only what parsed (an error's message names the model)
        _parsed_size[0] += len(yml)
    return loaded


def read_card(model_id: str, text: str) -> tuple[Found, dict[str, Any], str]:
    """What ``model_card.catalog`` reads from a card's front matter and headings: (found, meta, body).

    The front matter is parsed by :func:`frontmatter.parse` (a fast path proven identical to the safe
    loader, falling back to it), then handed to the cataloger's own front-matter reader.
    """
    ref = _CardRef(model_id, text)
    found = Found(file_type=ComponentType.DOCUMENTATION, format="model-card")
    try:
        yml, body, body_line = model_card.split_front_matter(text)
    except CatalogError as e:
        found.finding(Severity.MEDIUM, e.rule, f"{ref.rel}: {e}", ref.ev(line=1), model_card.CARD_SPEC)
        yml, body, body_line = None, text, 1
    meta: dict[str, Any] = {}
    if yml is not None:
        try:
            loaded = _load(yml, ref) if PARSE_MEMO else frontmatter.parse(yml, lambda y: read_yaml(ref, y))
        except CatalogError as e:
            found.finding(
                Severity.MEDIUM, "scan.card.front-matter", f"{e} (in the front matter)", ref.ev(line=1),
                model_card.CARD_SPEC,
            )
            loaded = None
        if isinstance(loaded, dict):
            meta = loaded
        elif loaded is not None:
            found.finding(
                Severity.LOW, "scan.card.front-matter", f"{ref.rel}: front matter is not a mapping of keys",
                ref.ev(line=1), model_card.CARD_SPEC,
            )
    found.properties["has_front_matter"] = bool(meta)
    model_card._front_matter(ref, meta, found)
    if "#" in body:
        secs = _SECTIONS.get((body, body_line)) if PARSE_MEMO else None
        if secs is None:
            secs = model_card.sections(body, body_line)
            if PARSE_MEMO and _parsed_size[0] + len(body) <= PARSE_MEMO_CHARS:
                _SECTIONS[(body, body_line)] = secs  # read only below: shared by the cards with this body
                _parsed_size[0] += len(body)
        for k, v in secs.items():
            found.fact(f"card.{k}", v["excerpt"] or v["heading"], ref.ev(key=v["heading"], line=v["line"]))
    if model_card.BODY_LINEAGE:  # the trainers' "fine-tuned version of [X]" sentence, as the folder scan reads it
        model_card.body_lineage(ref, body, body_line, found)
    return found, meta, body


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


# What the judgements read of a model, besides licences, lineage, datasets and files (completeness.CHECKS,
# openness.declaration_from_inventory): only whether each is present, and stated (completeness.stated), matters.
READ_PROPERTIES = (
    "supplier", "architecture", "task", "card.intended_uses", "intended_use", "card.limitations", "card.bias",
    "limitations", "library", "training_code", "evaluation_results", "evaluation", "release_time",
    # the card topics openness reads (openness.CARD_TOPICS / SCAN_TOPICS)
    "card.training_data", "card.training_procedure", "card.evaluation", "card.environmental_impact", "description",
)
MEMO = True  # judgements memoised on their inputs' signature (tests compare with MEMO = False)
_MEMO: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_FINDINGS: dict[tuple[Any, ...], list[Any]] = {}  # judge(shared=True): licence findings per signature and id
MEMO_MAX = 200_000


def judge(
    rec: dict[str, Any], source: str = "", row: int = 0, shared: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One hub record's judgements (a RESULT_SCHEMA row) and its findings (FINDING_SCHEMA rows).

    ``shared``: the licence findings are memoised too, on the signature, the id and where the licences
    were read (all their messages and evidence name): for fast.py's templates, judged under one id.

    Raises ValueError for a record that cannot be judged (no id, binary or absurdly large card).
    """
    mid = _str(rec.get("id"))
    if mid is None:
        raise ValueError("no model id")
    card = rec.get("card")
    if card is not None and not isinstance(card, str):
        raise ValueError(f"card is {type(card).__name__}, not text")
    card = card or ""
    if len(card) > MAX_CARD:
        raise ValueError(f"card of {len(card):,} characters, more than the {MAX_CARD:,} judged")
    if "\x00" in card[:8192]:
        raise ValueError("card holds NUL bytes: binary content, not text")
    if card.startswith("Error: the path 'README.md' does not exist"):  # the 2022 scrape's marker for "no card"
        card = ""
    card = card.lstrip("\ufeff")
    found, meta, body = read_card(mid, card)
    _settle_kinds(found, rec.get("siblings"))
    facts: dict[str, Any] = {}
    for f in found.facts:
        facts.setdefault(f.key, f.value)
    sha = _str(rec.get("sha"))
    task = facts.get("task") or _str(rec.get("pipeline_tag"))
    library = facts.get("library") or _str(rec.get("library_name"))
    archs = rec.get("config_architectures") or []
    arch = ", ".join(a for a in archs if isinstance(a, str)) or None
    for key, val in (("task", task), ("library", library), ("architecture", arch)):
        if val:
            facts[key] = val
    lic_source = "card license"
    lics = list(found.licenses)
    if not lics:
        ltags = [t for t in rec.get("license_tags") or [] if isinstance(t, str) and t]
        ltags = ltags or [t[8:] for t in rec.get("tags") or [] if isinstance(t, str) and t.startswith("license:")]
        lics = [DeclaredLicense(t, Evidence(path=f"{mid}", key="hub tag license", value=t)) for t in ltags]
        lic_source = "hub tag license" if ltags else ""
    weights = [(s, WEIGHTS[s[s.rfind("."):].lower()]) for s in rec.get("siblings") or []
               if isinstance(s, str) and "." in s and s[s.rfind("."):].lower() in WEIGHTS]
    rels = _dedupe(found.relationships)
    derived = [r for r in rels if r.kind == RelationshipKind.DERIVED_FROM]
    trained = [r.target.removeprefix("dataset:") for r in rels if r.kind == RelationshipKind.TRAINED_ON]
    tags = " ".join(map(str, facts.get("tags") or []))
    signature = (
        tuple((x.value, x.name, x.link) for x in lics),
        # the lineage walk compares ids without case, and a curated ancestor may be the model itself (a cycle)
        tuple((r.target, r.derivation, r.target.lower() == f"model:{mid.lower()}") for r in derived),
        bool(derived) and mid.strip().lower() in curated_ancestors(),
        tuple((r.target, r.kind) for r in rels if r.kind != RelationshipKind.DERIVED_FROM),
        # present, and stated beyond template placeholders (completeness reads the second, others may read the first)
        tuple((k, completeness.stated(v)) for k in READ_PROPERTIES if (v := facts.get(k)) not in (None, "", [], {})),
        sha is not None,
        bool(card),
        tuple(f for _, f in weights),
        bool(openness._ARXIV.search(tags)),
        # the resolvers beyond the curated facts (a hub index...): one process may judge with and without
        tuple((slot, str(getattr(r, "path", id(r)))) for slot, r in sorted(licenses.configured_resolvers().items())),
    )
    hit = _MEMO.get(signature) if MEMO else None
    fnds = list(found.findings)
    fkey = (signature, mid, lic_source) if shared and MEMO else None
    kept = _FINDINGS.get(fkey) if fkey is not None and hit is not None and hit[-1] else None
    if kept is not None:
        fnds += kept
    elif hit is None or hit[-1]:  # a licence finding's message names the model: judged on its own inventory
        inv, model = _inventory(mid, sha, facts, lics, card, weights, found)
        licenses.check(inv)
        fnds += inv.findings
        if fkey is not None and len(_FINDINGS) < MEMO_MAX:
            _FINDINGS[fkey] = list(inv.findings)
        if hit is None:
            verdicts = tuple(licenses.model_verdict(licenses.entries(inv, model, u)) for u in USES)
            completeness.assess(inv)
            missing = tuple(c.element for c in inv.completeness if not c.present)
            first = licenses.of(lics[0]) if lics else None
            lic_cols = (first.id, _spdx(first), first.known, first.matched_by) if first else (None, None, False, None)
            hit = (verdicts, missing, len(inv.completeness), _openness(openness.declaration_from_inventory(inv, model)),
                   lic_cols, tuple(sorted({f.rule for f in inv.findings})))
            if MEMO and len(_MEMO) < MEMO_MAX:
                _MEMO[signature] = hit
    assert hit is not None  # judged above when the memo did not hold it
    verdicts, missing, total, (mof_class, osaid, score, open_weights), lic_cols, _rules = hit
    links = _BODY_LINKS.get(body) if PARSE_MEMO else None
    if links is None:
        links = (bool(_CODE_LINK.search(body)), bool(_ARXIV.search(body))) if body else (False, False)
        if PARSE_MEMO and _parsed_size[0] + len(body) <= PARSE_MEMO_CHARS:
            _BODY_LINKS[body] = links
            _parsed_size[0] += len(body)
    lm = _str(rec.get("last_modified"))
    year = int(lm[:4]) if lm and lm[:4].isdigit() else None
    hub_tags = " ".join(str(t) for t in rec.get("tags") or [])
    out = {
        "id": mid,
        "sha": sha,
        "last_modified": lm,
        "year": year,
        "org": mid.split("/", 1)[0] if "/" in mid else None,
        "source": source,
        "row": row,
        "has_card": bool(card.strip()),
        "card_chars": len(card),
        "has_front_matter": bool(found.properties.get("has_front_matter")),
        "licenses": [x.value for x in lics],
        "license_evidence": lic_source or None,
        "license_id": lic_cols[0],
        "license_spdx": lic_cols[1],
        "license_known": lic_cols[2],
        "license_matched_by": lic_cols[3],
        **{f"verdict_{u}": v for u, v in zip(USES, verdicts)},
        "bases": [r.target.removeprefix("model:") for r in derived],
        "relation": str(derived[0].derivation) if derived and derived[0].derivation else None,
        "datasets": trained,
        "task": task,
        "library": library,
        "architecture": arch,
        "completeness_present": total - len(missing),
        "completeness_total": total,
        "completeness_missing": list(missing),
        "mof_class": mof_class,
        "osaid": osaid,
        "openness_score": score,
        "open_weights_licence": open_weights,
        "data_declared": bool(trained),
        "code_linked": links[0],
        "paper": bool(_ARXIV.search(tags) or _ARXIV.search(hub_tags) or links[1]),
        "evaluation": bool(facts.get("evaluation_results")),
        "weights_formats": sorted({f for _, f in weights}),
        "findings": sorted({f.rule for f in fnds}),
    }
    findings = [
        {
            "id": mid,
            "severity": str(f.severity),
            "rule": f.rule,
            "message": f.message,
            "evidence": str(f.evidence) if f.evidence else None,
            "rule_source": f.source,
        }
        for f in fnds
    ]
    return out, findings


def _settle_kinds(found: Found, siblings: Any) -> None:
    """The kind of a card's base when the card gives no ``base_model_relation``, as the hub (and the folder
    scan, scanner._settle_kinds) reads it from the repository's files: adapter_config.json -> adapter, a GGUF
    -> quantization (model_card.relation_from_files); the card's single-base fine-tune default is replaced."""
    if any(f.key == "base_model_relation" and f.value for f in found.facts):
        return
    kind = model_card.relation_from_files([s for s in siblings or [] if isinstance(s, str)])
    if kind is None:
        return
    found.relationships = [
        Relationship(r.source, r.target, r.kind, kind, r.evidence)
        if r.kind == RelationshipKind.DERIVED_FROM and r.derivation == Derivation.FINE_TUNE and r.evidence
        and all(e.key == "base_model" for e in r.evidence) else r
        for r in found.relationships
    ]


@functools.cache
def curated_ancestors() -> frozenset[str]:
    """The lower-cased ids the curated base-model facts name as bases (ancestors of every model they resolve)."""
    from ..resolvers.curated import families

    return frozenset(b.model_id.strip().lower() for f in families() for b in f.bases)


def _dedupe(rels: list[Relationship]) -> list[Relationship]:
    """Relationships as the inventory keeps them: one per (target, kind), in order (Inventory.add_relationship)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rels:
        k = (r.target, r.kind)
        if k not in seen and r.target != MODEL:
            seen.add(k)
            out.append(r)
    return out


def _inventory(
    mid: str, sha: str | None, facts: dict[str, Any], lics: list[DeclaredLicense], card: str,
    weights: list[tuple[str, str]], found: Found,
) -> tuple[Inventory, Component]:
    """The inventory a scan of this model's folder would hold: the model, its card, weights, bases, datasets."""
    model = Component(id=f"model:{mid}", type=ComponentType.MODEL, name=mid, version=sha, purl=hub_purl(mid, sha))
    model.properties.update(facts)
    model.properties.update(scanned=True, root=".", repo_id=mid, download_location=f"https://huggingface.co/{mid}")
    model.licenses = lics
    inv = Inventory(target=mid, tool_version=__version__)
    inv.add_component(model)
    if card:
        doc = Component(id=f"file:{mid}/README.md", type=ComponentType.DOCUMENTATION, name="README.md",
                        path="README.md", format="model-card")
        inv.add_component(doc)
        inv.add_relationship(Relationship(model.id, doc.id, RelationshipKind.CONTAINS))
    for s, fmt in weights:
        w = Component(id=f"file:{mid}/{s}", type=ComponentType.WEIGHTS, name=s, path=s, format=fmt)
        inv.add_component(w)
        inv.add_relationship(Relationship(model.id, w.id, RelationshipKind.CONTAINS))
    for c in found.components:
        inv.add_component(c)
    for r in found.relationships:
        inv.add_relationship(Relationship(model.id, r.target, r.kind, r.derivation, r.evidence))
    return inv, model


def _spdx(r: licenses.Resolution | None) -> str | None:
    if r is None:
        return None
    return r.facts.spdx if r.facts else r.id if r.parts else None


def _openness(decl: Any) -> tuple[int, str, float, bool]:
    return _assess(openness.memo_key(decl), decl)  # what assess reads, as openness defines it


_OPENNESS: dict[tuple[Any, ...], tuple[int, str, float, bool]] = {}


def _assess(key: tuple[Any, ...], decl: Any) -> tuple[int, str, float, bool]:
    """openness.assess is a pure function of the declaration's components and licences: memoised on them."""
    hit = _OPENNESS.get(key)
    if hit is None:
        a = openness.assess(decl)
        kb = openness.mof.knowledge()
        released, lic = openness._component_licence(decl, "Model parameters (Final)")
        hit = (int(a["mof"]["class"]), str(a["osaid"]["verdict"]), float(a["index"]["score"]),
               bool(released and lic and kb.is_open(lic)))
        if len(_OPENNESS) < 65536:
            _OPENNESS[key] = hit
    return hit


FAST = True  # judge_batch through fast.judge_batch (each distinct template judged once); False: record by record


def judge_batch(batch: pa.RecordBatch, source: str, first_row: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(results, findings, errors) of one normalised batch; a record that cannot be judged is an error row."""
    if FAST:
        from . import fast

        return fast.judge_batch(batch, source, first_row)
    rows, fnds, errs = judge_rows(batch.to_pylist(), source, first_row)
    return (
        pa.Table.from_pylist(rows, RESULT_SCHEMA),
        pa.Table.from_pylist(fnds, FINDING_SCHEMA),
        pa.Table.from_pylist(errs, ERROR_SCHEMA),
    )


def judge_rows(
    recs: list[dict[str, Any]], source: str, first_row: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The reference: each record judged on its own, as (RESULT_SCHEMA rows, FINDING_SCHEMA rows, ERROR_SCHEMA rows)."""
    rows: list[dict[str, Any]] = []
    fnds: list[dict[str, Any]] = []
    errs: list[dict[str, Any]] = []
    for i, rec in enumerate(recs):
        n = first_row + i
        rid = rec.get("id") if isinstance(rec.get("id"), str) else None
        if rec.get("__doc__") is not None and not rec.get("__error__"):
            from . import documents

            try:
                got, f = documents.judge(documents.parse(rec["__doc__"]), source, n)
            except ValueError as e:
                errs.append({"id": None, "source": source, "row": n, "rule": "hub.row.malformed",
                             "message": str(e)[:500]})
                continue
            rows += got
            fnds += f
            continue
        if rec.get("__error__"):
            errs.append({"id": rid, "source": source, "row": n, "rule": "hub.row.malformed",
                         "message": rec["__error__"]})
            continue
        try:
            out, f = judge(rec, source, n)
        except (ValueError, RecursionError, MemoryError) as e:
            errs.append({"id": rid, "source": source, "row": n, "rule": "hub.row.malformed", "message": str(e)[:500]})
            continue
        rows.append(out)
        fnds += f
        if out["findings"] and any(r in out["findings"] for r in ("scan.yaml", "scan.card.front-matter",
                                                                  "scan.limit-exceeded")):
            bad = next(x for x in f if x["rule"] in ("scan.yaml", "scan.card.front-matter", "scan.limit-exceeded"))
            errs.append({"id": rid, "source": source, "row": n, "rule": "hub.card.front-matter",
                         "message": bad["message"][:500]})
    return rows, fnds, errs
