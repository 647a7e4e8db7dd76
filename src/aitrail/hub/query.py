"""``aitrail hub query DIR "SQL"``: DuckDB over a run's Parquet parts.

Views: ``results`` (one row per judged model), ``findings``, ``errors``, and, when the run has them,
``lineage`` (edges) and ``closure`` (the lineage summary per model).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import InputError

VIEWS = ("results", "findings", "errors")


def connect(out: Path) -> Any:
    import duckdb

    from . import batch

    if not (out / "parts").is_dir() and not (out / "lineage").is_dir():
        raise InputError(f"{out}: not an aitrail hub run folder (no parts/; run `aitrail hub run` first)")
    con = duckdb.connect(":memory:")
    schemas = {"results": batch.RESULT_SCHEMA, "findings": batch.FINDING_SCHEMA, "errors": batch.ERROR_SCHEMA}
    for v in VIEWS:
        files = sorted((out / "parts" / v).glob("part-*.parquet"))
        if files:
            con.execute(f"create view {v} as select * from read_parquet({_list(files)}, union_by_name=true)")
        else:  # an empty run still answers queries (zero rows), with the columns it would have
            cols = ", ".join(f'cast(null as {_duck(t)}) as "{n}"' for n, t in zip(schemas[v].names, schemas[v].types))
            con.execute(f"create view {v} as select {cols} where false")
    for v in ("lineage", "closure"):
        p = out / "lineage" / f"{v}.parquet"
        if p.is_file():
            con.execute(f"create view {v} as select * from read_parquet({_list([p])})")
    return con


def _list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _duck(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_list(t):
        return _duck(t.value_type) + "[]"
    return {"string": "varchar", "large_string": "varchar", "bool": "boolean", "int64": "bigint", "int16": "smallint",
            "int8": "tinyint", "float": "float", "double": "double"}.get(str(t), "varchar")


def run(out: Path, sql: str, fmt: str = "csv") -> str:
    import duckdb

    con = connect(out)
    try:
        cur = con.execute(sql)
    except duckdb.Error as e:
        raise InputError(f"query failed: {str(e).splitlines()[0]}") from None
    if cur.description is None:
        return ""
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if fmt == "json":
        return json.dumps([dict(zip(names, r)) for r in rows], indent=2, default=str) + "\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for r in rows:
        w.writerow(["" if v is None else json.dumps(v) if isinstance(v, (list, dict)) else v for v in r])
    return buf.getvalue()
