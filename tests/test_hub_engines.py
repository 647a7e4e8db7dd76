"""Engines: local processes and Dask give the same rows; a lost Dask worker loses and duplicates none."""

from __future__ import annotations

import json

import pytest

from aitrail.hub import query, run


@pytest.fixture(scope="module")
def table(hub_table):
    return hub_table


def test_local_processes_equal_one_process(table):
    d, expected = table
    out = d / "procs"
    s = run.run([str(d / "m.parquet")], out, workers=2, batch_rows=40)
    assert s["records"] + s["rejected"] == 480 and s["workers"] == 2
    assert query.run(out, "select * exclude (source) from results order by id") == expected


# A lost Dask worker (SIGKILL while it holds tasks): tests/test_hub_dask.py.


def test_cli_dask_engine_writes_the_same_summary(table, tmp_path):
    from test_hub import hub_main

    d, expected = table
    out = tmp_path / "run"
    assert hub_main(["hub", "run", str(d / "m.parquet"), "--out", str(out), "--engine", "dask", "--workers", "2",
                     "--batch-rows", "120", "-q"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["engine"] == "dask" and s["records"] + s["rejected"] == 480
    assert query.run(out, "select * exclude (source) from results order by id") == expected
