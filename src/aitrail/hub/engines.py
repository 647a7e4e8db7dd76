"""Where batches are judged: local processes (default) or a Dask cluster, resumably.

Every batch has a key (input number, first row) and writes its three part files (results, findings,
errors) under ``DIR/parts/``, each atomically (temporary name, then rename), results last: a batch is
done when its results part exists. A rerun skips done batches (an interrupted run continues from its
last finished batch); a batch retried after a lost worker overwrites its own parts, so no row is lost
or written twice.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from . import inputs

TABLES = ("findings", "errors", "results")  # results last: its presence marks the batch done
RUN_FORMAT = 1


def part_key(source_no: int, first_row: int) -> str:
    return f"{source_no:04d}-{first_row:012d}"


def part_path(out: Path, table: str, key: str) -> Path:
    return out / "parts" / table / f"part-{key}.parquet"


def _write_atomic(table: pa.Table, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, dest)


def work(ipc: bytes, source: str, first_row: int, out: str, key: str, hub_index: str | None = None) -> dict[str, int]:
    """Judge one batch (Arrow IPC bytes) and write its parts; returns row counts. Runs in a worker.
    ``hub_index``: an index whose facts the licence verdicts of each row may use for bases the row's own
    card does not settle, as ``aitrail licenses --hub-index`` does for one model."""
    from . import batch as judge

    with pa.ipc.open_stream(ipc) as r:
        b = r.read_next_batch()
    token = None
    if hub_index:
        from ..analyze import licenses
        from ..resolvers.hub_index import HubIndexResolver

        token = licenses.configure(hub_index=HubIndexResolver(Path(hub_index)))
    try:
        tables = dict(zip(("results", "findings", "errors"), judge.judge_batch(b, source, first_row)))
    finally:
        if token is not None:
            licenses.reset_resolvers(token)
    for t in TABLES:
        _write_atomic(tables[t], part_path(Path(out), t, key))
    return {"records": tables["results"].num_rows, "errors": tables["errors"].num_rows, "rows": b.num_rows}


def _ipc(b: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, b.schema) as w:
        w.write_batch(b)
    return bytes(sink.getvalue().to_pybytes())


def prepare(out: Path, paths: Sequence[str | Path], batch_rows: int) -> list[inputs.Source]:
    """Create DIR's layout and its run.json; a resumed run must name the same inputs and batch size."""
    srcs = inputs.sources(paths)
    state = {
        "format": RUN_FORMAT,
        "inputs": [{"path": str(s.path.resolve()), "size": s.path.stat().st_size,
                    "mtime_ns": s.path.stat().st_mtime_ns} for s in srcs],
        "batch_rows": batch_rows,
    }
    run = out / "run.json"
    if run.exists():
        try:
            old = json.loads(run.read_text("utf-8"))
        except ValueError as e:
            raise InputError(f"{run}: not readable ({e}); remove {out} to start over") from None
        if old != state:
            raise InputError(f"{out} holds a run of other inputs or another batch size; use another --out folder "
                             "(or remove it to start over)")
    for t in TABLES:
        (out / "parts" / t).mkdir(parents=True, exist_ok=True)
    tmp = run.with_name(".run.json.tmp")
    tmp.write_text(json.dumps(state, indent=2), "utf-8")
    os.replace(tmp, run)
    return srcs


def _todo(out: Path, srcs: list[inputs.Source], batch_rows: int) -> Iterator[tuple[str, str, int, pa.RecordBatch]]:
    for no, src in enumerate(srcs):
        for s, first, b in inputs.batches([src], batch_rows):
            key = part_key(no, first)
            if part_path(out, "results", key).exists():
                continue  # finished by an earlier run
            yield key, str(s.path), first, b


def run_local(out: Path, srcs: list[inputs.Source], batch_rows: int, workers: int,
              tick: Callable[[dict[str, int]], None], hub_index: str | None = None) -> None:
    """Batches judged by ``workers`` processes (1: in this process), at most 2 per worker in flight."""
    jobs = ((_ipc(b), src, first, str(out), key, hub_index) for key, src, first, b in _todo(out, srcs, batch_rows))
    if workers <= 1:
        for j in jobs:
            tick(work(*j))
        return
    import multiprocessing as mp
    from collections import deque

    ctx = mp.get_context("spawn")  # no fork of a parent holding a progress bar thread and big buffers
    with ctx.Pool(workers) as pool:
        # a window of batches in flight: Pool.imap would read the whole input into its queue
        pending: deque[Any] = deque()
        for j in jobs:
            pending.append(pool.apply_async(work, j))
            while len(pending) >= 2 * workers:
                tick(pending.popleft().get())
        while pending:
            tick(pending.popleft().get())


def run_dask(out: Path, srcs: list[inputs.Source], batch_rows: int, workers: int, scheduler: str | None,
             tick: Callable[[dict[str, int]], None], hub_index: str | None = None) -> None:
    """The same batches as tasks on a Dask cluster (``scheduler`` address) or a LocalCluster of ``workers``.

    Dask reschedules the tasks of a lost worker; each task rewrites only its own parts, so a retried
    batch never duplicates rows. The output folder must be shared by the workers (same path).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        limit = 2 * max(1, len(client.scheduler_info()["workers"]) or workers)
        # bound to this client's loop: as_completed() alone takes the default client's, which is another
        # one when the caller holds a client of its own (the futures then wait on the wrong event loop)
        pending = as_completed(loop=client.loop)
        n = 0
        for key, src, first, b in _todo(out, srcs, batch_rows):
            pending.add(client.submit(work, _ipc(b), src, first, str(out), key, hub_index, key=f"hub-{key}",
                                      pure=False, retries=3))
            n += 1
            while pending.count() >= limit:
                tick(next(pending).result())
        for fut in pending:
            tick(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def elapsed(t0: float) -> float:
    return max(time.monotonic() - t0, 1e-9)
