"""SPDX 3.0.1 uploads checked against the official SPDX 3.0.1 JSON schema, offline.

No package on PyPI ships that schema (the published validators download it), so the server reads it
from a file: ``$AITRAIL_SPDX_SCHEMA`` (``aitrail serve --spdx-schema FILE`` sets it for every worker)
or a copy packaged beside this module. Without one an SPDX upload is still structure-checked and
stored, but the response says it was not schema-validated (never passed off as valid).

The schema's root is a ``oneOf`` over "a @graph" / "one element" whose error names no element; when
the whole document fails, each @graph element is validated against its own class's definition so the
problem names the element (``@graph/3/name``) and what is wrong with it.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

ENV = "AITRAIL_SPDX_SCHEMA"
PACKAGED = "spdx-3.0.1.schema.json"
MAX_ERRORS = 5
MAX_MESSAGE = 300


def schema_source() -> str | None:
    """Where the schema is read from, or None when no schema is available."""
    given = os.environ.get(ENV)
    if given:
        return given
    packaged = resources.files("aitrail.registry").joinpath("schemas", PACKAGED)
    return str(packaged) if packaged.is_file() else None


@lru_cache(maxsize=4)
def _schema(source: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(source).read_text("utf-8"))
    return data


def load(source: str) -> None:
    """Read and compile the schema at ``source``; ValueError when it is not SPDX 3.0.1's."""
    try:
        context = _schema(source)["properties"]["@context"]["const"]
    except (KeyError, TypeError):
        context = None
    if context != "https://spdx.org/rdf/3.0.1/spdx-context.jsonld" or "$defs" not in _schema(source):
        raise ValueError("not the SPDX 3.0.1 JSON schema (its @context must be SPDX 3.0.1's)")
    _root_validator(source)


@lru_cache(maxsize=4)
def _root_validator(source: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(_schema(source))


@lru_cache(maxsize=512)
def _class_validator(source: str, cls: str) -> Any:
    import jsonschema_rs

    defs = _schema(source)["$defs"]
    return jsonschema_rs.validator_for(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": defs,
            "$ref": f"#/$defs/{cls}",
            "unevaluatedProperties": False,
        }
    )


def _message(e: Any, prefix: str = "") -> dict[str, str]:
    path = "/".join(map(str, [*([prefix] if prefix else []), *e.instance_path]))
    msg = str(e.message)  # a oneOf's message quotes the whole instance: cut
    return {"path": "/" + path, "message": msg if len(msg) <= MAX_MESSAGE else msg[:MAX_MESSAGE] + "…"}


def schema_errors(doc: Any) -> list[dict[str, str]] | None:
    """Errors of ``doc`` against the SPDX 3.0.1 JSON schema as {path, message} (at most MAX_ERRORS);
    ``[]`` when valid; None when no schema is available (not checked)."""
    source = schema_source()
    if source is None:
        return None
    root = _root_validator(source)
    if root.is_valid(doc):
        return []
    errors: list[dict[str, str]] = []
    graph = doc.get("@graph") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and doc.get("@context") != _schema(source)["properties"]["@context"]["const"]:
        errors.append({"path": "/@context", "message": f"must be {_schema(source)['properties']['@context']['const']}"})
    if isinstance(graph, list):
        defs = _schema(source)["$defs"]
        for i, element in enumerate(graph):
            cls = element.get("type") if isinstance(element, dict) else None
            where = f"@graph/{i}"
            if not isinstance(cls, str) or cls not in defs or f"{cls}_props" not in defs:
                errors.append({"path": f"/{where}/type", "message": f"not an SPDX 3.0.1 class: {cls!r}"})
            else:
                found = list(_class_validator(source, cls).iter_errors(element))
                # a property that fails its own check also counts as "unevaluated": only the real error is said
                real = [e for e in found if type(e.kind).__name__ != "UnevaluatedProperties"]
                errors.extend(_message(e, where) for e in (real or found))
            if len(errors) >= MAX_ERRORS:
                break
    if not errors:  # the per-element check found nothing: report what the whole-document check said
        errors = [_message(e) for e in root.iter_errors(doc)]
    return errors[:MAX_ERRORS]


def profile_gaps(doc: dict[str, Any], limit: int = MAX_ERRORS) -> list[str]:
    """What the SPDX 3.0.1 AI and Dataset profiles require and neither the schema nor the published
    SHACL checks (mandatory properties, exactly one declared and one concluded licence): said as
    warnings — the document is valid SPDX, the BOM is incomplete as an AI BOM."""
    from aitrail.export.spdx import AI_REQUIRED, DATASET_REQUIRED

    graph = [e for e in doc.get("@graph") or [] if isinstance(e, dict)]
    rels: dict[tuple[Any, Any], int] = {}
    for e in graph:
        if e.get("type") == "Relationship":
            key = (e.get("from"), e.get("relationshipType"))
            rels[key] = rels.get(key, 0) + len(e.get("to") or [])
    gaps = []
    for e in graph:
        t = e.get("type")
        required = AI_REQUIRED if t == "ai_AIPackage" else DATASET_REQUIRED if t == "dataset_DatasetPackage" else ()
        if not required:
            continue
        name = e.get("name") or e.get("spdxId")
        missing = [p for p in required if not e.get(p)]
        if missing:
            gaps.append(f"{t} {name!r} lacks {', '.join(missing)}")
        for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
            n = rels.get((e.get("spdxId"), kind), 0)
            if n != 1:
                gaps.append(f"{t} {name!r} has {n} {kind} relationship(s), the profile wants exactly one")
    if len(gaps) > limit:
        gaps = gaps[:limit] + [f"and {len(gaps) - limit} more"]
    return gaps
