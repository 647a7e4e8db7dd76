"""Components that catalogers name but do not hold: base models, datasets, libraries."""

from __future__ import annotations

import re
from urllib.parse import quote

from ..model import Component, ComponentType, Evidence

# A Hugging Face repo id: "name" or "org/name" (letters, digits, - _ .), no path tricks.
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.\-]{0,95}/)?[A-Za-z0-9][\w.\-]{0,95}$")


def is_repo_id(s: object) -> bool:
    return isinstance(s, str) and bool(_REPO_ID.match(s)) and ".." not in s and not s.endswith((".json", ".bin"))


def hub_purl(repo_id: str, revision: str | None = None, kind: str = "model") -> str | None:
    """purl for a hub repository (purl type "huggingface"); datasets are not in that type."""
    if kind != "model" or not is_repo_id(repo_id):
        return None
    ns, _, name = repo_id.rpartition("/")
    p = f"pkg:huggingface/{quote(ns)}/{quote(name)}" if ns else f"pkg:huggingface/{quote(name)}"
    return p + (f"@{revision}" if revision else "")


def model_component(ident: str, evidence: Evidence) -> Component:
    """A model known by name only (a base model, a merge input)."""
    return Component(
        id=f"model:{ident}", type=ComponentType.MODEL, name=ident, purl=hub_purl(ident), evidence=[evidence]
    )


def dataset_component(ident: str, evidence: Evidence) -> Component:
    c = Component(id=f"dataset:{ident}", type=ComponentType.DATASET, name=ident, evidence=[evidence])
    if is_repo_id(ident):
        c.properties["url"] = f"https://huggingface.co/datasets/{ident}"
    return c


def library_component(name: str, version_spec: str | None, evidence: Evidence, ecosystem: str = "pypi") -> Component:
    norm = re.sub(r"[-_.]+", "-", name).lower()
    c = Component(id=f"library:{ecosystem}:{norm}", type=ComponentType.LIBRARY, name=norm, evidence=[evidence])
    if version_spec:
        c.properties["version_spec"] = version_spec
        m = re.fullmatch(r"==\s*([\w.\-+!]+)", version_spec.strip())
        if m:
            c.version = m.group(1)
    if ecosystem == "pypi":
        c.purl = f"pkg:pypi/{norm}" + (f"@{c.version}" if c.version else "")
    elif ecosystem == "conda":
        c.purl = f"pkg:conda/{norm}" + (f"@{c.version}" if c.version else "")
    return c
