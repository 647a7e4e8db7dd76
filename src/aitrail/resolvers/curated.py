"""Curated facts on well-known base-model families (knowledge/base_models.yaml), each with its source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .. import yamlsafe
from . import BaseRef, LicenceEvidence, ModelFacts

NAME = "curated"


@dataclass(frozen=True)
class Family:
    pattern: re.Pattern[str]
    license: str
    source: str
    bases: tuple[BaseRef, ...]


@lru_cache(maxsize=1)
def families() -> tuple[Family, ...]:
    raw = yamlsafe.load(resources.files("aitrail.knowledge").joinpath("base_models.yaml").read_text("utf-8"))
    return tuple(
        Family(
            re.compile(f["pattern"], re.I),
            f["license"],
            f["source"],
            tuple(
                BaseRef(b["id"], b.get("relation", "unknown"), f"curated: {f['source']}") for b in f.get("bases") or []
            ),
        )
        for f in raw["families"]
    )


class CuratedResolver:
    name = NAME

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        for f in families():
            if f.pattern.search(model_id.strip()):
                return ModelFacts(
                    model_id=model_id,
                    resolver=NAME,
                    source=f.source,
                    revision=revision,
                    licences=(LicenceEvidence(f.license, "curated fact", "aitrail knowledge/base_models.yaml"),),
                    bases=f.bases,
                )
        return None
