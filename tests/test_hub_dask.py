"""A Dask worker lost mid-run (SIGKILL, no goodbye) loses and duplicates no row: robust under load.

The workers are separate ``dask worker --no-nanny`` processes joined to a scheduler by address (the
``--scheduler`` path of a real cluster), so no nanny restarts the killed one while the cluster winds
down, and the test knows each worker's process. The worker killed is one holding tasks at that moment,
so its tasks must be rescheduled; timeouts are generous (a loaded machine is slow, never wrong).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from aitrail.hub import engines, query

WAIT = 300  # seconds a step may take on a loaded machine before the test gives up


@pytest.fixture(scope="module")
def table(hub_table):
    return hub_table


def test_a_worker_killed_while_holding_tasks_loses_and_duplicates_no_row(table):
    import dask
    from dask.distributed import Client, LocalCluster, default_client

    d, expected = table
    out = d / "dask"
    timeouts = {"distributed.comm.timeouts.connect": f"{WAIT}s", "distributed.comm.timeouts.tcp": f"{WAIT}s"}
    procs: list[subprocess.Popen[bytes]] = []
    with dask.config.set(timeouts), LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        addr = cluster.scheduler_address
        try:
            for n in range(2):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--no-nanny", "--nthreads", "1",
                     "--name", f"w{n}", "--death-timeout", str(WAIT)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": f"{WAIT}s"},
                ))
            with Client(addr, timeout=WAIT) as client:
                client.wait_for_workers(2, timeout=WAIT)
                pid_of = client.run(os.getpid)
            # no second client beside run_dask's while it runs: a lost result's rescheduling then waits on
            # an event of the other client's loop ("bound to a different event loop")
            killed: list[tuple[int, int]] = []  # (pid, tasks it held)

            def tick(res: dict[str, int]) -> None:
                if killed:
                    return
                held = {w: len(ts) for w, ts in default_client().processing().items() if ts}
                if not held:  # nothing in flight on any worker (the last batches): kill later or never
                    return
                w = max(held, key=lambda k: held[k])
                os.kill(pid_of[w], signal.SIGKILL)
                killed.append((pid_of[w], held[w]))

            srcs = engines.prepare(out, [str(d / "m.parquet")], 40)
            engines.run_dask(out, srcs, 40, 2, addr, tick)
        finally:
            for p in procs:  # only the processes this test started
                if p.poll() is None:
                    p.kill()
                p.wait(timeout=WAIT)
    assert killed and killed[0][1] >= 1  # a worker died holding work
    assert killed[0][0] in [p.pid for p in procs] and any(p.returncode == -signal.SIGKILL for p in procs)
    assert query.run(out, "select * exclude (source) from results order by id") == expected
    dup = json.loads(query.run(out, "select id, count(*) n from results group by id having n > 1", "json"))
    assert dup == []
    assert len(list((out / "parts" / "results").glob("part-*.parquet"))) == 12
