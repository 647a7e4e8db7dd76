"""Models scanned together: HF cache snapshots, folders of models, a base card in a sibling folder.

A base named ``org/name`` is the scanned model whose hub repo id is ``org/name`` (an HF cache
snapshot), or whose name is ``org/name``, or — only when exactly one matches — whose folder is
called ``name``. The facts are the scanned model's own declarations and derived-from edges.
"""

from __future__ import annotations

from ..model import Component, Inventory, RelationshipKind
from . import BaseRef, LicenceEvidence, ModelFacts

NAME = "siblings"


class SiblingResolver:
    name = NAME

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.exact: dict[str, list[Component]] = {}
        self.folder: dict[str, list[Component]] = {}
        for m in inv.models():
            if not m.properties.get("scanned"):
                continue
            for key in {m.name, str(m.properties.get("repo_id") or "")} - {""}:
                self.exact.setdefault(key.lower(), []).append(m)
            root = str(m.properties.get("root") or "")
            if root not in ("", "."):
                self.folder.setdefault(root.rstrip("/").rsplit("/", 1)[-1].lower(), []).append(m)

    def _find(self, model_id: str, revision: str | None) -> tuple[Component, str] | None:
        key = model_id.strip().lower()
        hits = self.exact.get(key, [])
        if revision:  # an HF cache may hold several revisions of one repo: the asked one, if present
            hits = [m for m in hits if m.version == revision] or hits
        main = [m for m in hits if m.properties.get("is_main_revision")] or hits
        if main:
            # a HF cache snapshot of that repo is that model; a folder or card merely named so is a local claim
            strong = any(str(m.properties.get("repo_id") or "").lower() == key for m in main)
            return main[0], "scanned model" if strong else "scanned model named like it"
        tail = key.rsplit("/", 1)[-1]
        folders = self.folder.get(tail, [])
        if len(folders) == 1:  # several folders of that name: no guess
            return folders[0], f"sibling folder {folders[0].properties.get('root')} (named like {model_id})"
        return None

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        found = self._find(model_id, revision)
        if found is None:
            return None
        m, how = found
        lics = tuple(
            LicenceEvidence(lic.value, "declared", str(lic.evidence), lic.name, lic.link) for lic in m.licenses
        )
        bases = []
        for rel in self.inv.outgoing(m.id, RelationshipKind.DERIVED_FROM):
            target = self.inv.component(rel.target)
            if target is None:
                continue
            ev = ", ".join(map(str, rel.evidence))
            # config.json's _name_or_path names the checkpoint the model was loaded from: in the base's
            # own folder that is the base itself, not an edge.
            if target.name.lower() == model_id.lower() and all(e.key == "_name_or_path" for e in rel.evidence):
                continue
            bases.append(BaseRef(target.name, str(rel.derivation or "unknown"), ev))
        datasets = tuple(c.name for c in self.inv.related(m.id, RelationshipKind.TRAINED_ON))
        return ModelFacts(
            model_id=model_id,
            resolver=NAME,
            source=f"{how}: {m.properties.get('root') or m.name}",
            revision=m.version,
            licences=lics,
            bases=tuple(bases),
            datasets=datasets,
            local_claim=True,  # even a cache snapshot's card is a file on this disk: the curated facts are asked too
        )
