"""Batch judgements at hub speed: every distinct card is judged once, by :func:`batch.judge` itself.

Hub cards are heavily templated. A record's judgement (everything in its result row but the columns of
the record itself: id, sha, dates, source, row, card length) depends only on its *template key*: the card
text, the hub fields the judgements read (task, library, architectures, licence tags, weight files, an
arXiv tag, whether a sha is given) and the shape of the model id. The first record of a key is judged by
the reference (:func:`batch.judge`) under a placeholder id; the next ones copy that row and its findings,
with the placeholders replaced by their own id.

A card whose front matter *opens* with ``base_model: X`` (as hub tools write it) is keyed with a
placeholder for X when nothing resolves X (an unknown base is judged the same whatever its name), so the
fine-tunes of a thousand different bases share one judgement; a base a resolver knows keeps its name.

Anything the placeholders cannot stand for goes to the reference path record by record: a model named
like one of its bases or a curated ancestor, an id that is not a hub repo id, a card quoting a
placeholder, a judgement whose columns quote a placeholder anywhere but in the bases and findings.
tests/test_hub_batch_fast.py proves the rows and findings equal the reference on every real card.
"""

from __future__ import annotations

import functools
import gc
import threading
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..analyze import licenses
from ..catalog.lineage import is_repo_id
from . import batch, frontmatter

MID = "ZzAitrailMid0/ZzPlaceholderModel0"  # a placeholder model id (a hub repo id no resolver knows)
BASE = "ZzAitrailBase0/ZzPlaceholderBase0"  # a placeholder base id
_HELD = "ZzAitrail"  # the start of both: a card or id holding it is judged record by record
_MARK = _HELD.lower()  # a column or message holding it after the placeholders are filled: not a template
PER_ROW = ("id", "sha", "last_modified", "year", "org", "source", "row", "card_chars", "bases")
_OPEN = "---\nbase_model: "
TEMPLATES_MAX = 100_000
_TEMPLATES: dict[tuple[Any, ...], Any] = {}
_SLOW = object()  # a key whose records are judged one by one by the reference
# the text columns that carry the record's words (the others hold verdicts, rule ids, element names, flags)
_FROM_RECORD = ("licenses", "license_evidence", "license_id", "license_spdx", "license_matched_by", "relation",
                "datasets", "task", "library", "architecture", "weights_formats")
_FRONT_ERRORS = ("scan.yaml", "scan.card.front-matter", "scan.limit-exceeded")
_TEMPLATE_SCHEMA = pa.schema([f for f in batch.RESULT_SCHEMA if f.name not in PER_ROW])


class _Store:
    """Template rows as Arrow (a batch takes its rows from here instead of converting them again)."""

    def __init__(self) -> None:
        self.table = _TEMPLATE_SCHEMA.empty_table()
        self.pending: list[_Template] = []

    def add(self, t: _Template) -> int:
        if t.at < 0:
            t.at = self.table.num_rows + len(self.pending)
            self.pending.append(t)
        return t.at

    def flush(self) -> pa.Table:
        if self.pending:
            new = pa.Table.from_pylist([t.row for t in self.pending], _TEMPLATE_SCHEMA)
            self.table = pa.concat_tables([self.table, new])
            if self.table.column(0).num_chunks > 64:
                self.table = self.table.combine_chunks()
            self.pending = []
        return self.table


_STORE = _Store()
_LOCK = threading.RLock()


def clear() -> None:
    """Forget every template (and the reference's memos)."""
    global _STORE
    with _LOCK:
        _TEMPLATES.clear()
        _STORE = _Store()
        batch._MEMO.clear()
        batch._FINDINGS.clear()
        batch._PARSED.clear()
        batch._SECTIONS.clear()
        batch._BODY_LINKS.clear()
        batch._parsed_size[0] = 0


@functools.lru_cache(maxsize=65536)
def _resolves(base: str) -> bool:
    """Whether a resolver of the batch path knows ``base`` (the curated facts; the scan and sibling
    resolvers of a one-model inventory know only the model itself, excluded by the caller)."""
    from ..resolvers.curated import CuratedResolver

    return CuratedResolver().lookup(base) is not None


class _Template:
    __slots__ = ("row", "findings", "base_lows", "err", "at")

    def __init__(self, row: dict[str, Any], findings: list[dict[str, Any]]) -> None:
        self.row = row
        self.at = -1  # its row in _STORE, once stored
        self.findings = [(f["severity"], f["rule"], f["message"], f["evidence"], f["rule_source"]) for f in findings]
        self.base_lows = frozenset(b.strip().lower() for b in row["bases"])
        bad = next((f for f in findings if f["rule"] in _FRONT_ERRORS), None)
        self.err = bad["message"] if bad else None


def _opening_base(card: str) -> tuple[str, str] | None:
    """(X, the card with X replaced by BASE) when the front matter opens with a plain ``base_model: X``
    line followed by a key or the end of the front matter (so X is the whole scalar); else None."""
    end = card.find("\n", len(_OPEN))
    if end < 0:
        return None
    x = card[len(_OPEN) : end]
    nxt = card[end + 1 : end + 2]
    if not x or len(x) > 96 or not (nxt.isascii() and (nxt.isalpha() or nxt in "_-")):
        return None
    if nxt == "-" and not card.startswith("---\n", end + 1) or frontmatter._value(x) != x or x[0] in "\"'":
        return None
    return x, _OPEN + BASE + card[end:]


def _substitute(s: str | None, mid: str, base: str | None) -> str | None:
    if s is None:
        return None
    s = s.replace(MID, mid)
    return s.replace(BASE, base) if base is not None else s


def _template(rec: dict[str, Any], card: str, source: str, n: int) -> Any:
    """The reference's judgement of ``rec`` under the placeholder id with ``card``, or _SLOW."""
    try:
        out, fnds = batch.judge({**rec, "id": MID, "card": card}, source, n, shared=True)
    except (ValueError, RecursionError, MemoryError):
        return _SLOW
    sha = batch._str(rec.get("sha"))
    if BASE in card and any(f["rule"] in _FRONT_ERRORS for f in fnds):
        return _SLOW  # a malformed front matter's message may quote the base line: judged record by record
    for k in _FROM_RECORD:
        v = out[k]
        for s in v if isinstance(v, list) else [v]:
            if isinstance(s, str) and _MARK in s.lower():
                return _SLOW  # a placeholder inside a column that is not filled per record
    for f in fnds:
        for s in (f["message"], f["evidence"]):
            if s and ((sha and sha in s) or _MARK in s.replace(MID, "").replace(BASE, "").lower()):
                return _SLOW  # the record's sha, or a placeholder changed (lower-cased, cut): not a template
    return _Template({k: v for k, v in out.items() if k not in PER_ROW or k == "bases"}, fnds)


_WEIGHT_CANDIDATE = (  # a superset of the names batch.WEIGHTS matches (exact test in Python): an ASCII suffix
    # matched without case, or any suffix with a non-ASCII character (str.lower() may map it to ASCII)
    r"\.(?:[^.]*[^\x00-\x7f][^.]*|(?i:" + "|".join(x[1:] for x in batch.WEIGHTS) + r"))\z"
)


def _weights(b: pa.RecordBatch) -> list[tuple[str, ...]]:
    """Per record, the formats of batch.judge's weight files in order (what its judgements read of them):
    candidates found in Arrow, each checked in Python as batch.judge does."""
    out: list[tuple[str, ...]] = [()] * b.num_rows
    if "siblings" not in b.schema.names:
        return out
    sib = b.column("siblings")
    flat = pc.list_flatten(sib)
    if len(flat) == 0:
        return out
    hit = pc.fill_null(pc.match_substring_regex(flat, _WEIGHT_CANDIDATE), False)
    names = pc.filter(flat, hit).to_pylist()
    rows = pc.filter(pc.list_parent_indices(sib), hit).to_pylist()
    by: dict[int, list[str]] = {}
    fmt_of = _suffix_format
    for s, r in zip(names, rows):
        fmt = fmt_of(s[s.rfind("."):])
        if fmt is not None:
            by.setdefault(r, []).append(fmt)
    for r, fs in by.items():
        out[r] = tuple(fs)
    return out


def _adapters(b: pa.RecordBatch) -> list[bool]:
    """Per record, whether its siblings hold an adapter_config.json as model_card.relation_from_files reads
    names (basename lower-cased): candidates found in Arrow (a superset: "onfig" without case), checked in Python."""
    out = [False] * b.num_rows
    for r, names in _grouped(b, "siblings", lambda f, rs: pc.match_substring(f, "onfig", ignore_case=True)).items():
        out[r] = any(isinstance(n, str) and n.rsplit("/", 1)[-1].lower() == "adapter_config.json" for n in names)
    return out


def _grouped(b: pa.RecordBatch, name: str, keep: Any = None) -> dict[int, list[Any]]:
    """The elements of list column ``name`` per record (only those ``keep`` marks, when given; nulls kept)."""
    if name not in b.schema.names:
        return {}
    lists = b.column(name)
    flat = pc.list_flatten(lists)
    rows = pc.list_parent_indices(lists)
    if keep is not None:
        mask = pc.fill_null(keep(flat, rows), False)
        flat, rows = pc.filter(flat, mask), pc.filter(rows, mask)
    by: dict[int, list[Any]] = {}
    for v, r in zip(flat.to_pylist(), rows.to_pylist()):
        by.setdefault(r, []).append(v)
    return by


def _hub_fields(b: pa.RecordBatch) -> tuple[list[bool], list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Per record, what batch.judge reads of its hub lists: (an arXiv id in its tags, its licence tags, its
    architectures). Only records whose tags hold "arx" (any case: batch._ARXIV's literal) or "license:"
    are looked at in Python."""
    n = b.num_rows
    arxiv = [False] * n
    if "tags" in b.schema.names:
        tags = b.column("tags")
        flat = pc.list_flatten(tags)
        rows = pc.list_parent_indices(tags)
        cand = pc.fill_null(pc.match_substring(flat, "arx", ignore_case=True), False)
        want = pc.unique(pc.filter(rows, cand))
        if len(want):
            for r, ts in _grouped(b, "tags", lambda f, rs: pc.is_in(rs, want)).items():
                arxiv[r] = bool(batch._ARXIV.search(" ".join(str(t) for t in ts)))
    ltags: list[tuple[str, ...]] = [()] * n
    for r, ts in _grouped(b, "license_tags", lambda f, rs: pc.greater(pc.utf8_length(f), 0)).items():
        ltags[r] = tuple(ts)
    for r, ts in _grouped(b, "tags", lambda f, rs: pc.starts_with(f, "license:")).items():
        if not ltags[r]:
            ltags[r] = tuple(t[8:] for t in ts)
    archs: list[tuple[str, ...]] = [()] * n
    for r, ts in _grouped(b, "config_architectures", lambda f, rs: pc.is_valid(f)).items():
        archs[r] = tuple(ts)
    return arxiv, ltags, archs


@functools.lru_cache(maxsize=4096)
def _suffix_format(suffix: str) -> str | None:
    return batch.WEIGHTS.get(suffix.lower())


_NO_CARD = "Error: the path 'README.md' does not exist"  # the 2022 scrape's marker (batch.judge)


def _card(card: str) -> tuple[str, str, str | None] | None:
    """(the card as batch.judge reads it, its template text, the opening base X or None); None: judge the
    records with this card one by one."""
    if len(card) > batch.MAX_CARD or "\x00" in card[:8192] or _HELD in card:
        return None
    if card.startswith(_NO_CARD):
        card = ""
    card = card.lstrip("\ufeff")
    if card.startswith(_OPEN):
        got = _opening_base(card)
        if got is not None and not _resolves(got[0]):
            return card, got[1], got[0]
    return card, card, None


def judge_batch(b: pa.RecordBatch, source: str, first_row: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """:func:`batch.judge_batch`'s tables, each distinct template judged once.

    The cyclic garbage collector is paused during the batch and run on its young objects after it: the
    judgements allocate many short-lived objects and the kept templates made each automatic pass
    re-scan a large heap (a quarter of the time); what the batch left is collected before it returns."""
    with _LOCK:  # one batch at a time per process (a Dask worker may run tasks in threads): they share the store
        was = gc.isenabled()
        gc.disable()
        try:
            return _judge_batch(b, source, first_row)
        finally:
            if was:
                gc.enable()
                gc.collect(1)


def _judge_batch(b: pa.RecordBatch, source: str, first_row: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    n = b.num_rows
    names = b.schema.names
    none = [None] * n
    col = lambda c: b.column(c).to_pylist() if c in names else none  # noqa: E731
    card_type = b.column("card").type if "card" in names else pa.string()
    # resolvers configured beyond the curated facts (licenses.configure: a hub index, online) may know a
    # base the placeholder stands for: then every record is judged on its own
    if licenses.configured_resolvers() or not (pa.types.is_string(card_type) or pa.types.is_large_string(card_type)):
        rows, f, e = batch.judge_rows(b.to_pylist(), source, first_row)
        return (pa.Table.from_pylist(rows, batch.RESULT_SCHEMA), pa.Table.from_pylist(f, batch.FINDING_SCHEMA),
                pa.Table.from_pylist(e, batch.ERROR_SCHEMA))
    if "card" in names:
        enc = pc.dictionary_encode(b.column("card"))
        card_no = enc.indices.to_pylist()
        cards_u: list[Any] = [_card(c) for c in enc.dictionary.to_pylist()]
    else:
        card_no, cards_u = none, []
    ids, shas, lms = col("id"), col("sha"), col("last_modified")
    arxiv_c, ltags_c, arch_c = _hub_fields(b)
    task_c, lib_c = col("pipeline_tag"), col("library_name")
    doc_c, err_c = col("__doc__"), col("__error__")
    cols: dict[str, list[Any]] = {}
    needs = [0]

    def rec(i: int) -> dict[str, Any]:
        """Record i as the reference reads it: a few records value by value, then every column at once."""
        needs[0] += 1
        if not cols and needs[0] <= 16:
            return {c: b.column(c)[i].as_py() for c in names}
        if not cols:
            cols.update((c, col(c)) for c in names)
        return {k: v[i] for k, v in cols.items()}
    weights_c = _weights(b)
    adapter_c = _adapters(b)  # (GGUF siblings are in weights_c): what batch._settle_kinds reads of the files
    curated_lows = batch.curated_ancestors()
    empty = ("", "", None)

    store = _STORE
    local: list[dict[str, Any]] = []  # rows of records judged one by one
    take: list[int] = []  # per result row: its template's row in the store, or -1 - its index in local
    per_row: dict[str, list[Any]] = {k: [] for k in PER_ROW}
    fnds: list[dict[str, Any]] = []
    errs: list[dict[str, Any]] = []

    def reference(i: int) -> None:
        rows, f, e = batch.judge_rows([rec(i)], source, first_row + i)
        for out in rows:
            take.append(-1 - len(local))
            local.append(out)
            for k in PER_ROW:
                per_row[k].append(out[k])
        fnds.extend(f)
        errs.extend(e)

    for i in range(n):
        mid = ids[i]
        if doc_c[i] is not None or err_c[i] or not isinstance(mid, str) or not mid or not is_repo_id(mid):
            reference(i)
            continue
        cn = card_no[i]
        got = empty if cn is None else cards_u[cn]
        if got is None or _HELD in mid:
            reference(i)
            continue
        card, keyed, x = got
        if x is not None and x.lower() == mid.lower():
            reference(i)
            continue
        sha = shas[i] if isinstance(shas[i], str) and shas[i] else None
        key = (keyed, sha is not None, batch._str(task_c[i]), batch._str(lib_c[i]), arch_c[i], ltags_c[i], arxiv_c[i],
               weights_c[i], adapter_c[i])
        t = _TEMPLATES.get(key)
        if t is None:
            t = _template(rec(i), keyed, source, first_row + i)
            if len(_TEMPLATES) >= TEMPLATES_MAX:  # full: start again from an empty store (this batch too)
                clear()
                return _judge_batch(b, source, first_row)
            _TEMPLATES[key] = t
        if t is _SLOW or t.base_lows and (mid.lower() in t.base_lows or mid.lower() in curated_lows):
            reference(i)  # the model is one of its bases or their curated ancestors: the names matter
            continue
        take.append(store.add(t))
        lm = lms[i] if isinstance(lms[i], str) and lms[i] else None
        per_row["id"].append(mid)
        per_row["sha"].append(sha)
        per_row["last_modified"].append(lm)
        per_row["year"].append(int(lm[:4]) if lm and lm[:4].isdigit() else None)
        per_row["org"].append(mid.split("/", 1)[0] if "/" in mid else None)
        per_row["source"].append(source)
        per_row["row"].append(first_row + i)
        per_row["card_chars"].append(len(card))
        per_row["bases"].append([x if s == BASE else s for s in t.row["bases"]] if x is not None else t.row["bases"])
        if t.findings:
            fnds.extend(
                {"id": mid, "severity": sev, "rule": rule, "message": _substitute(msg, mid, x),
                 "evidence": _substitute(ev, mid, x), "rule_source": src}
                for sev, rule, msg, ev, src in t.findings
            )
            if t.err is not None:
                errs.append({"id": mid, "source": source, "row": first_row + i, "rule": "hub.card.front-matter",
                             "message": (_substitute(t.err, mid, x) or "")[:500]})
    table = store.flush()
    if local:
        at = table.num_rows
        table = pa.concat_tables([table, pa.Table.from_pylist(local, _TEMPLATE_SCHEMA)])
        take = [j if j >= 0 else at - 1 - j for j in take]
    base = table.take(pa.array(take, pa.int64()))
    arrays = [
        pa.array(per_row[f.name], f.type) if f.name in PER_ROW else base.column(f.name)
        for f in batch.RESULT_SCHEMA
    ]
    return (
        pa.Table.from_arrays(arrays, schema=batch.RESULT_SCHEMA),
        pa.Table.from_pylist(fnds, batch.FINDING_SCHEMA),
        pa.Table.from_pylist(errs, batch.ERROR_SCHEMA),
    )

