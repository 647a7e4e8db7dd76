"""Hub metadata tables (Parquet, JSONL, CSV) and JSON documents (scans, check documents, BOMs) as Arrow
record batches with one set of column names.

Hub dumps name their columns differently (``modelId``/``model_id``/``id``, ``lastModified``/
``last_modified``, ``card``/``readme``): every input is mapped onto :data:`COLUMNS` so the judgements
see one shape. A missing column is a null column (and a finding per input), never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pyarrow as pa

from ..errors import InputError

# canonical column -> the names hub dumps use for it (first found wins)
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "model_id", "modelId", "repo_id", "model"),
    "sha": ("sha", "revision", "commit"),
    "last_modified": ("last_modified", "lastModified", "last_modified_at", "creation_time", "createdAt"),
    "card": ("card", "card_text", "readme", "README.md", "model_card"),
    "tags": ("tags",),
    "license_tags": ("license_tags",),
    "siblings": ("siblings", "files"),
    "config_json": ("config_json", "config"),
    "config_architectures": ("config_architectures",),
    "pipeline_tag": ("pipeline_tag", "task"),
    "library_name": ("library_name", "library"),
    "author": ("author",),
}
LIST_COLUMNS = ("tags", "license_tags", "siblings", "config_architectures")
COLUMNS = tuple(ALIASES)
SCHEMA = pa.schema(
    [(c, pa.list_(pa.string()) if c in LIST_COLUMNS else pa.large_string() if c == "card" else pa.string())
     for c in COLUMNS]
)
BATCH_ROWS = 2048
# .json/.jsonld: one document (a scan, a check document, a CycloneDX or SPDX 3 BOM)
TABLE_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".csv", ".json", ".jsonld")
EXTRA = (("__error__", pa.string()), ("__doc__", pa.large_string()))  # a row's read error; a whole document


@dataclass
class Source:
    path: Path
    kind: str  # parquet | jsonl | csv | document
    missing: list[str] = field(default_factory=list)  # canonical columns the table lacks
    skipped: str | None = None  # why the whole table was not read (e.g. no id column: an edge list)


def sources(paths: Sequence[str | Path]) -> list[Source]:
    """The tables named (files, or folders holding them), in a stable order."""
    out: list[Source] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in TABLE_SUFFIXES)
        elif p.is_file():
            files = [p]
        else:
            raise InputError(f"{p}: no such file or folder")
        for f in files:
            suf = f.suffix.lower()
            kind = {".parquet": "parquet", ".csv": "csv", ".json": "document", ".jsonld": "document"}.get(suf, "jsonl")
            out.append(Source(f, kind))
    if not out:
        raise InputError(f"no hub input (Parquet, JSONL, CSV table; JSON scan, check document or BOM) in "
                         f"{', '.join(map(str, paths))}")
    return out


def _reader(src: Source, batch_rows: int) -> Iterator[pa.RecordBatch]:
    if src.kind == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(src.path).iter_batches(batch_size=batch_rows)
    elif src.kind == "csv":
        import pyarrow.csv as pcsv

        # every column read as text: a hub id "1e3" or a sha of digits must not become a number
        opts = pcsv.ConvertOptions(strings_can_be_null=True, column_types=_all_text(src.path))
        yield from pcsv.open_csv(src.path, convert_options=opts, read_options=pcsv.ReadOptions(block_size=1 << 22))
    elif src.kind == "document":
        from .documents import MAX_DOCUMENT

        size = src.path.stat().st_size
        if size > MAX_DOCUMENT:
            doc, error = None, f"{size:,} bytes, more than the {MAX_DOCUMENT:,} read of one document"
        else:
            doc, error = src.path.read_bytes().decode("utf-8", "replace"), None
        yield pa.RecordBatch.from_pydict({"__doc__": pa.array([doc], pa.large_string()),
                                          "__error__": pa.array([error], pa.string())})
    else:
        yield from _jsonl(src.path, batch_rows)


def _all_text(path: Path) -> dict[str, pa.DataType]:
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        head = next(csv.reader(fh), [])
    return {name: pa.large_string() for name in head}


def _jsonl(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """JSON lines read one by one: a malformed line becomes a row holding only its error."""
    import json

    rows: list[dict[str, object]] = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                row = obj if isinstance(obj, dict) else {"__error__": f"line {n}: not a JSON object"}
                bad = [k for k in ALIASES["card"] + ALIASES["id"] if row.get(k) is not None
                       and not isinstance(row[k], str)]
                if bad:
                    row = {"__error__": f"line {n}: {bad[0]} is {type(row[bad[0]]).__name__}, not text"}
            except ValueError as e:  # also UnicodeDecodeError
                row = {"__error__": f"line {n}: not valid JSON ({str(e)[:120]})"}
            rows.append(row)
            if len(rows) >= batch_rows:
                yield _from_rows(rows)
                rows = []
    if rows:
        yield _from_rows(rows)


def _from_rows(rows: list[dict[str, object]]) -> pa.RecordBatch:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    cols = {}
    for name in names:
        want = next((c for c, al in ALIASES.items() if name in al), None)
        vals = [r.get(name) for r in rows]
        cols[name] = _coerce(vals, want)
    return pa.RecordBatch.from_pydict(cols) if cols else pa.RecordBatch.from_pydict({"__error__": [None] * len(rows)})


def _coerce(vals: list[object], want: str | None) -> pa.Array:
    """JSON values of one column as Arrow, tolerating rows of the wrong type (they become null)."""
    import json

    if want in LIST_COLUMNS:
        out_l: list[list[str] | None] = []
        for v in vals:
            if isinstance(v, list):
                out_l.append([x if isinstance(x, str) else _sibling(x) for x in v])
            else:
                out_l.append(None if v is None else [str(v)])
        return pa.array(out_l, pa.list_(pa.string()))
    out: list[str | None] = []
    for v in vals:
        if v is None or isinstance(v, str):
            out.append(v)
        elif want == "config_json" and isinstance(v, (dict, list)):
            out.append(json.dumps(v))
        else:
            out.append(json.dumps(v) if isinstance(v, (dict, list)) else str(v))
    return pa.array(out, pa.large_string())


def _sibling(x: object) -> str:
    if isinstance(x, dict) and isinstance(x.get("rfilename"), str):  # the hub API's siblings
        return str(x["rfilename"])
    return str(x)


def normalise(batch: pa.RecordBatch, src: Source) -> pa.RecordBatch:
    """``batch`` with the canonical columns (null where the table has none), plus ``__error__``."""
    names = batch.schema.names
    cols: list[pa.Array] = []
    for c in COLUMNS:
        name = next((a for a in ALIASES[c] if a in names), None)
        if name is None:
            if c not in src.missing and src.kind != "document":
                src.missing.append(c)
            cols.append(pa.nulls(batch.num_rows, SCHEMA.field(c).type))
            continue
        cols.append(_cast(batch.column(name), SCHEMA.field(c).type))
    for name, typ in EXTRA:
        cols.append(batch.column(name).cast(typ) if name in names else pa.nulls(batch.num_rows, typ))
    schema = pa.schema([*SCHEMA, *(pa.field(n, t) for n, t in EXTRA)])
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def _cast(arr: pa.Array, to: pa.DataType) -> pa.Array:
    if arr.type == to:
        return arr
    try:
        return arr.cast(to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if pa.types.is_list(to):  # e.g. a CSV cell holding a JSON list
            import json

            out: list[list[str] | None] = []
            for v in arr.to_pylist():
                try:
                    parsed = json.loads(v) if isinstance(v, str) else v
                except ValueError:
                    parsed = [v]
                out.append([str(x) for x in parsed] if isinstance(parsed, list) else None if v is None else [str(v)])
            return pa.array(out, to)
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], to)


def batches(srcs: list[Source], batch_rows: int = BATCH_ROWS) -> Iterator[tuple[Source, int, pa.RecordBatch]]:
    """(source, first row number, normalised batch) for every batch of every table, in order."""
    for src in srcs:
        row = 0
        buf: list[pa.RecordBatch] = []
        n = 0
        for n_read, b in enumerate(_reader(src, batch_rows)):
            nb = normalise(b, src)
            if n_read == 0 and "id" in src.missing and "__error__" not in b.schema.names and src.kind != "document":
                # a table without model ids (an edge list beside the dumps): one note, not a million bad rows
                src.skipped = f"no model id column (looked for {', '.join(ALIASES['id'])}); columns: " + ", ".join(
                    b.schema.names[:12]
                )
                break
            buf.append(nb)
            n += b.num_rows
            while n >= batch_rows:  # readers' own batch sizes vary (CSV blocks): re-cut to batch_rows
                t = pa.Table.from_batches(buf).combine_chunks()
                yield src, row, t.slice(0, batch_rows).to_batches()[0]
                row += batch_rows
                rest = t.slice(batch_rows)
                buf, n = (rest.to_batches() if rest.num_rows else []), rest.num_rows
        if n:
            yield src, row, pa.Table.from_batches(buf).combine_chunks().to_batches()[0]
