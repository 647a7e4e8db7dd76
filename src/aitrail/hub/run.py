"""``aitrail hub run``: judge hub tables into ``DIR/parts`` and write ``DIR/summary.json``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

from . import engines, query

SUMMARY_FORMAT = 1
EXAMPLES = 5


def run(
    paths: Sequence[str | Path],
    out: Path,
    engine: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    batch_rows: int = 2048,
    progress: bool = False,
    hub_index: str | None = None,
) -> dict[str, Any]:
    """Judge ``paths`` into ``out``. ``hub_index``: the licence verdicts of every row may resolve bases
    through that index (each row then judged on its own: slower); the lineage step uses it too (cli)."""
    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    srcs = engines.prepare(out, paths, batch_rows)
    bar = _bar(progress, "judging", "rows")
    done = {"rows": 0}

    def tick(res: dict[str, int]) -> None:
        done["rows"] += res["rows"]
        if bar is not None:
            bar.update(res["rows"])

    try:
        if engine == "dask":
            engines.run_dask(out, srcs, batch_rows, workers, scheduler, tick, hub_index)
        else:
            engines.run_local(out, srcs, batch_rows, workers, tick, hub_index)
    finally:
        if bar is not None:
            bar.close()
    s = summarise(out)
    secs = engines.elapsed(t0)
    s.update(
        seconds=round(secs, 3),
        records_per_second=round(done["rows"] / secs, 1),
        rows_this_run=done["rows"],
        engine=engine,
        workers=workers,
        hub_index=hub_index,
        missing_columns={str(x.path): x.missing for x in srcs if x.missing and not x.skipped},
        skipped_inputs={str(x.path): x.skipped for x in srcs if x.skipped},
    )
    _write_json(out / "summary.json", s)
    return s


def summarise(out: Path) -> dict[str, Any]:
    """Counts over every finished batch (also those of earlier, interrupted runs)."""
    con = query.connect(out)
    one = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    records = one("select count(*) from results")[0][0]
    errors = one("select count(*) from errors")[0][0]
    dup = one("select id, count(*) n from results group by id having n > 1 order by n desc, id")
    # an example names the model, else where the row came from (a document's error has no id)
    err_rules = one("select rule, count(*) n, list(coalesce(id, source || ' (row ' || row || ')') order by row)[1:5] "
                    "from errors group by rule order by n desc")
    lic = one("select coalesce(license_id, '(none)') l, count(*) n from results group by l order by n desc limit 20")
    verdicts = one("select verdict_commercial, count(*) from results group by 1 order by 2 desc")
    return {
        "format": SUMMARY_FORMAT,
        "records": records,
        "errors": errors,  # rows not judged plus judged rows with an unreadable part (their front matter)
        "rejected": one("select count(*) from errors where rule = 'hub.row.malformed'")[0][0],
        "errors_by_rule": {r: {"count": n, "examples": ex} for r, n, ex in err_rules},
        "duplicate_ids": {
            "count": len(dup), "rows": sum(n for _, n in dup), "examples": [i for i, _ in dup[:EXAMPLES]]
        },
        "licences_top": dict(lic),
        "verdict_commercial": dict(verdicts),
        "with_card": one("select count(*) from results where has_card")[0][0],
        "with_front_matter": one("select count(*) from results where has_front_matter")[0][0],
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", "utf-8")
    os.replace(tmp, path)


def _bar(enabled: bool, desc: str, unit: str, total: int | None = None) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False, mininterval=0.5)
