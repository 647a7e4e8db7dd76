"""Serving-time settings of the registry that only show in its latency (measured in
benchmarks/registry_bench.py), checked here by what they do."""

from __future__ import annotations

import gc
from pathlib import Path

from test_registry_support import make_client


def test_serving_freezes_what_start_up_built(tmp_path: Path) -> None:
    gc.unfreeze()
    try:
        with make_client(str(tmp_path / "r.db")) as client:  # runs the lifespan, as uvicorn does
            assert gc.get_freeze_count() > 10_000  # the app, SQLAlchemy, the policies
            assert client.get("/api/v1/models").status_code == 200
    finally:
        gc.unfreeze()  # the rest of the test session collects as before


def test_security_headers_on_every_response(tmp_path: Path) -> None:
    client = make_client(str(tmp_path / "r.db"))
    for path in ("/api/v1/models", "/api/v1/models/999", "/openapi.json", "/"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
    client.app.state.registry.db.dispose()  # type: ignore[attr-defined]
