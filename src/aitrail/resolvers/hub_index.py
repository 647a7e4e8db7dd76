"""The hub index as a resolver: offline lineage knowledge built by ``aitrail hub index``."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from . import BaseRef, LicenceEvidence, ModelFacts, ResolverError

FORMAT = "1"  # the aitrail.hub.index format this reader understands


class HubIndexResolver:
    """Answers from ``DIR/index.sqlite`` (read only). A model indexed at another revision than the one
    asked is not answered for (its facts may differ); a missing or broken index is a ResolverError."""

    name = "hub index"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path / "index.sqlite" if self.path.is_dir() else self.path
        self._local = threading.local()

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            if not self._file.is_file():
                raise ResolverError(f"{self._file}: no hub index there (build one with `aitrail hub index`)")
            try:
                con = sqlite3.connect(f"file:{self._file}?mode=ro", uri=True, check_same_thread=False)
                row = con.execute("select value from meta where key = 'format'").fetchone()
            except sqlite3.Error as e:
                raise ResolverError(f"{self._file}: not a readable hub index ({e})") from None
            if row is None or row[0] != FORMAT:
                raise ResolverError(f"{self._file}: hub index format {row[0] if row else '?'}, expected {FORMAT}")
            self._local.con = con
        return con

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        con = self._con()
        try:
            row = con.execute(
                "select m.sha, m.last_modified, m.licences, m.bases, m.datasets, s.path, s.indexed_at, m.row "
                "from models m join sources s on s.id = m.source where m.id = ?",
                (model_id,),
            ).fetchone()
            edges = con.execute(
                "select e.parent, e.relation, e.evidence, s.path from edges e join sources s on s.id = e.source "
                "where e.child = ?",
                (model_id,),
            ).fetchall()
        except sqlite3.Error as e:
            raise ResolverError(f"{self._file}: {e}") from None
        if row is None and not edges:
            return None
        if row is not None and revision and row[0] and revision != row[0]:
            return None
        bases: list[BaseRef] = []
        lics: tuple[LicenceEvidence, ...] = ()
        datasets: tuple[str, ...] = ()
        source = f"{self._file}"
        sha = None
        if row is not None:
            sha, modified, lic_json, bases_json, ds_json, table, date, n = row
            try:
                # [value, source, location] or, with the card's license_name and license_link, five items
                lics = tuple(
                    LicenceEvidence(v, s, f"{loc} (index row {n} of {table})", *(list(more) + [None, None])[:2])
                    for v, s, loc, *more in json.loads(lic_json)
                )
                bases = [BaseRef(b, r, e) for b, r, e in json.loads(bases_json)]
                datasets = tuple(json.loads(ds_json))
            except (ValueError, TypeError) as e:
                raise ResolverError(f"{self._file}: entry for {model_id} is corrupt ({e})") from None
            source = f"{self._file}: {table} (indexed {date}, lastModified {modified})"
        named = {b.model_id for b in bases}
        bases += [BaseRef(p, rel, f"{ev} of {path}") for p, rel, ev, path in edges if p not in named]
        return ModelFacts(model_id, self.name, source, sha, lics, tuple(bases), datasets)
