"""Engines: local processes and Dask give the same rows; a lost Dask worker loses and duplicates none."""

from __future__ import annotations

import json
import os
import signal

import pyarrow.parquet as pq
import pytest
from test_hub import real_rows

from aitrail.hub import engines, query, run


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("hubeng")
    pq.write_table(real_rows(480), d / "m.parquet")
    serial = d / "serial"
    run.run([str(d / "m.parquet")], serial, batch_rows=40)
    return d, query.run(serial, "select * exclude (source) from results order by id")


def test_local_processes_equal_one_process(table):
    d, expected = table
    out = d / "procs"
    s = run.run([str(d / "m.parquet")], out, workers=2, batch_rows=40)
    assert s["records"] + s["rejected"] == 480 and s["workers"] == 2
    assert query.run(out, "select * exclude (source) from results order by id") == expected


def test_dask_local_cluster_survives_a_killed_worker(table):
    from dask.distributed import Client, LocalCluster

    d, expected = table
    out = d / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            killed: list[int] = []

            def tick(res: dict[str, int]) -> None:
                if not killed:  # after the first batch, one worker dies (SIGKILL: no goodbye to the scheduler)
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

            srcs = engines.prepare(out, [str(d / "m.parquet")], 40)
            engines.run_dask(out, srcs, 40, 2, cluster.scheduler_address, tick)
    assert killed
    assert query.run(out, "select * exclude (source) from results order by id") == expected
    dup = json.loads(query.run(out, "select id, count(*) n from results group by id having n > 1", "json"))
    assert dup == []
    assert len(list((out / "parts" / "results").glob("part-*.parquet"))) == 12


def test_cli_dask_engine_writes_the_same_summary(table, tmp_path):
    from test_hub import hub_main

    d, expected = table
    out = tmp_path / "run"
    assert hub_main(["hub", "run", str(d / "m.parquet"), "--out", str(out), "--engine", "dask", "--workers", "2",
                     "--batch-rows", "120", "-q"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["engine"] == "dask" and s["records"] + s["rejected"] == 480
    assert query.run(out, "select * exclude (source) from results order by id") == expected
