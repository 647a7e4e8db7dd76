"""The registry's storage and API, on SQLite and PostgreSQL (every test runs on both)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from conftest import MINILM
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401


@pytest.fixture(scope="module")
def minilm_doc() -> dict:
    return check_doc(MINILM)


@pytest.fixture(scope="module")
def minilm_boms() -> dict:
    from aitrail.export import writer
    from aitrail.scanner import scan

    inv = scan(MINILM)
    return {
        "cyclonedx": json.loads(writer("cyclonedx")(inv, spec_version="1.6")),
        "spdx": json.loads(writer("spdx")(inv)),
    }


@pytest.fixture
def reg(db_url: str):  # noqa: F811
    client = make_client(db_url)
    client.db_url = db_url  # type: ignore[attr-defined]
    client.w = auth(make_token(db_url, "write"))  # type: ignore[attr-defined]
    yield client
    client.app.state.registry.db.dispose()  # type: ignore[attr-defined]


def push(reg, doc: dict, labels: list[str] | None = None, **extra) -> dict:  # type: ignore[no-untyped-def]
    r = reg.post("/api/v1/documents", json={"document": doc, "labels": labels or [], **extra}, headers=reg.w)
    assert r.status_code == 201, r.text
    return r.json()


def test_migrations_create_exactly_the_models(db_url: str) -> None:  # noqa: F811
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from aitrail.registry.core.db import Database
    from aitrail.registry.models import Base, include_name

    db = Database(db_url)
    db.migrate()
    db.migrate()  # a second run is a no-op
    with db.engine.connect() as conn:
        # the full-text search structures (migration 0004) are not models: skipped as migrations/env.py does
        ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(ctx, Base.metadata) == []
    db.dispose()


def test_check_document_ingested_and_queried(reg, minilm_doc: dict) -> None:  # type: ignore[no-untyped-def]
    r = push(reg, minilm_doc, ["acme/minilm"])
    assert r["created"] and r["identity_kind"] == "files" and r["identity"].startswith("sha256:")
    assert r["labels"] == ["acme/minilm"]  # a bare model name (a folder name) is searchable, not a label
    for params in (
        {"dataset": "MS_MARCO"},  # case-insensitive
        {"license": "Apache-2.0"},
        {"base_model": "nreimers/MiniLM-L6-H384-uncased"},
        {"digest": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
        {"label": "acme/minilm"},
        {"q": "sentence"},
    ):
        body = reg.get("/api/v1/models", params=params).json()
        assert body["total"] == 1 and body["items"][0]["id"] == r["version"], params
    assert reg.get("/api/v1/models", params={"dataset": "imagenet"}).json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
    d = reg.get(f"/api/v1/models/{r['version']}").json()
    assert len(d["files"]) == len([c for c in minilm_doc["inventory"]["components"] if c.get("path")])
    assert d["lineage"][0]["evidence"].startswith("config.json [_name_or_path]")
    assert d["lineage"][0]["resolver"]
    assert reg.get(f"/api/v1/models/{r['version']}/document").json() == minilm_doc


def test_idempotent_and_identity_by_content(reg, minilm_doc: dict, minilm_boms: dict) -> None:  # type: ignore[no-untyped-def]
    a = push(reg, minilm_doc, ["acme/minilm"])
    again = push(reg, minilm_doc, ["acme/minilm"])
    assert again["duplicate"] and again["version"] == a["version"]
    boms = {"cyclonedx": minilm_boms["cyclonedx"]}
    for serial in ("urn:uuid:00000000-0000-4000-8000-000000000001", "urn:uuid:00000000-0000-4000-8000-000000000002"):
        push(reg, minilm_doc, ["acme/minilm"], boms={"cyclonedx": {**boms["cyclonedx"], "serialNumber": serial}})
    assert [b["format"] for b in reg.get(f"/api/v1/models/{a['version']}").json()["boms"]] == ["cyclonedx"]
    other = push(reg, minilm_doc, ["team-b/embedder"])  # same bytes under another name: one version, two labels
    assert not other["created"] and other["version"] == a["version"]
    assert "team-b/embedder" in other["labels"] and "acme/minilm" in other["labels"]
    assert reg.get("/api/v1/models").json()["total"] == 1


def test_same_name_new_bytes_is_a_new_version_with_a_diff(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v1 = push(reg, check_doc(tiny_model(tmp_path / "a", size=3)), ["hub/reused-name"])
    v2 = push(reg, check_doc(tiny_model(tmp_path / "b", size=4, license="cc-by-nc-4.0")), ["hub/reused-name"])
    assert v2["created"] and v2["version"] != v1["version"]
    moved = v2["label_moved"][0]
    assert moved["label"] == "hub/reused-name" and moved["previous_version"] == v1["version"]
    assert moved["diff"]["files_changed"] == ["README.md", "model.safetensors"]
    assert "CC-BY-NC-4.0" in moved["diff"]["licenses_added"]
    assert any("different bytes" in w for w in v2["warnings"])
    h = reg.get("/api/v1/history", params={"label": "hub/reused-name"}).json()
    assert [x["id"] for x in h["items"]] == [v1["version"], v2["version"]]
    assert h["items"][1]["diff"]["files_changed"] == ["README.md", "model.safetensors"]
    events = reg.get(f"/api/v1/models/{v2['version']}").json()["events"]
    assert events[0]["kind"] == "label-moved"


def test_base_model_query_is_transitive(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mid = push(reg, check_doc(tiny_model(tmp_path / "mid", base="root/foundation", size=2)), ["org/mid"])
    leaf = push(reg, check_doc(tiny_model(tmp_path / "leaf", base="org/mid", size=5)), ["org/leaf"])
    push(reg, check_doc(tiny_model(tmp_path / "other", base="else/where", size=6)), ["org/other"])
    ids = {x["id"] for x in reg.get("/api/v1/models", params={"base_model": "root/foundation"}).json()["items"]}
    assert ids == {mid["version"], leaf["version"]}
    # filters combine with AND, whichever drives the query
    for params, want in (
        ({"base_model": "root/foundation", "license": "Apache-2.0"}, {mid["version"], leaf["version"]}),
        ({"base_model": "root/foundation", "label": "org/leaf"}, {leaf["version"]}),
        ({"license": "apache-2.0", "q": "org/mi", "policy_passed": "true"}, {mid["version"]}),
        ({"base_model": "root/foundation", "dataset": "none/such"}, set()),
    ):
        body = reg.get("/api/v1/models", params=params).json()
        assert {x["id"] for x in body["items"]} == want and body["total"] == len(want), params
    # a cycle in the stored lineage ends the recursion
    push(reg, check_doc(tiny_model(tmp_path / "cyc", base="org/leaf", size=7)), ["root/foundation"])
    assert reg.get("/api/v1/models", params={"base_model": "root/foundation"}).json()["total"] == 3


def test_boms_from_any_tool(reg, minilm_boms: dict, minilm_doc: dict) -> None:  # type: ignore[no-untyped-def]
    cdx = reg.post("/api/v1/boms", json=minilm_boms["cyclonedx"], params={"name": "from-cdx"}, headers=reg.w)
    assert cdx.status_code == 201, cdx.text
    spdx = reg.post("/api/v1/boms", json=minilm_boms["spdx"], params={"name": "from-spdx"}, headers=reg.w)
    assert spdx.status_code == 201, spdx.text
    # same files, same identity, whatever the format: one version
    assert cdx.json()["identity"] == spdx.json()["identity"]
    d = reg.get(f"/api/v1/models/{cdx.json()['version']}").json()
    assert {b["format"] for b in d["boms"]} == {"cyclonedx", "spdx"}
    assert {x["name"] for x in d["datasets"]} >= {"ms_marco", "gooaq"}
    assert d["lineage"][0]["base"] == "nreimers/MiniLM-L6-H384-uncased"
    assert d["policy_passed"] is None  # a BOM alone is not judged: unknown, never "passed"
    # then the check document of the same bytes: the record gains aitrail's judgement
    full = push(reg, minilm_doc)
    assert full["version"] == cdx.json()["version"] and full["policy"]["passed"] is True
    assert reg.get(f"/api/v1/models/{full['version']}/boms/cyclonedx").json() == minilm_boms["cyclonedx"]


def test_official_examples(reg) -> None:  # type: ignore[no-untyped-def]
    from conftest import STANDARDS

    for name in ("valid-machine-learning-1.6.json", "valid-machine-learning-1.7.json"):
        r = reg.post("/api/v1/boms", content=(STANDARDS / "cyclonedx-examples" / name).read_bytes(), headers=reg.w)
        assert r.status_code == 201, (name, r.text)
        assert r.json()["identity_kind"] == "document"  # no file digests: said, not hidden
    r = reg.post(
        "/api/v1/boms", content=(STANDARDS / "spdx3-examples/ai-example01-simplehtr.json").read_bytes(), headers=reg.w
    )
    assert r.status_code == 201, r.text  # valid against the official SPDX 3.0.1 JSON schema


def test_dependency_track_upload_shape(reg, minilm_boms: dict) -> None:  # type: ignore[no-untyped-def]
    raw = json.dumps(minilm_boms["cyclonedx"]).encode()
    body = {
        "projectName": "payments-ml",
        "projectVersion": "2.1",
        "autoCreate": True,
        "bom": base64.b64encode(raw).decode(),
    }
    put = reg.put("/api/v1/bom", json=body, headers={"X-Api-Key": reg.w["Authorization"][7:]})
    assert put.status_code == 200, put.text and "token" in put.json()
    assert reg.get(f"/api/v1/bom/token/{put.json()['token']}").json() == {"processing": False}
    multi = reg.post(
        "/api/v1/bom",
        data={"projectName": "payments-ml", "projectVersion": "2.2", "autoCreate": "true"},
        files={"bom": ("bom.json", raw, "application/json")},
        headers={"X-Api-Key": reg.w["Authorization"][7:]},
    )
    assert multi.status_code == 200, multi.text
    labels = reg.get(f"/api/v1/models/{put.json()['version']}").json()["labels"]
    assert {x["name"] for x in labels} >= {"payments-ml", "payments-ml@2.1", "payments-ml@2.2"}


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"{not json", 400, "not JSON"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.4"}', 422, "1.4"),
        (
            b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "bogus", "name": "x"}]}',
            422,
            "bogus",
        ),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}', 422, "machine-learning-model"),
        (b'{"@context": "https://example.com/ctx", "@graph": []}', 422, "@context"),
        (b'{"hello": 1}', 422, "not a CycloneDX"),
        (b"[" * 100000 + b"]" * 100000, 400, "not JSON"),
    ],
)
def test_bad_uploads_are_4xx_problems_and_store_nothing(reg, body: bytes, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    r = reg.post("/api/v1/boms", content=body, headers=reg.w)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == status and words in p["detail"] + p["title"] and p["instance"] == "/api/v1/boms"
    assert reg.get("/api/v1/models").json()["total"] == 0


def test_invalid_check_document_names_the_problem(reg, minilm_doc: dict) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads(json.dumps(minilm_doc))
    bad["inventory"]["components"][0]["type"] = 42
    r = reg.post("/api/v1/documents", json={"document": bad}, headers=reg.w)
    assert r.status_code == 422 and "check.schema.json" in r.json()["detail"]
    assert reg.get("/api/v1/models").json()["total"] == 0


def test_upload_size_limit(db_url: str) -> None:  # noqa: F811
    client = make_client(db_url, max_upload_bytes=1000)
    tok = make_token(db_url, "write")
    r = client.post("/api/v1/boms", content=b" " * 2000, headers=auth(tok))
    assert r.status_code == 413 and r.json()["type"].endswith("too-large")
    client.app.state.registry.db.dispose()


def test_tokens_scopes_and_read_protection(db_url: str, minilm_doc: dict) -> None:  # noqa: F811
    from sqlalchemy import select

    from aitrail.registry.models import Token

    client = make_client(db_url, read_token_required=True)
    read, write, admin = (make_token(db_url, s) for s in ("read", "write", "admin"))
    assert client.post("/api/v1/documents", json={"document": minilm_doc}).status_code == 401
    assert client.post("/api/v1/documents", json={"document": minilm_doc}, headers=auth(read)).status_code == 403
    assert (
        client.post("/api/v1/documents", json={"document": minilm_doc}, headers=auth("ait_forged")).status_code == 401
    )
    assert client.post("/api/v1/documents", json={"document": minilm_doc}, headers=auth(admin)).status_code == 201
    assert client.get("/api/v1/models").status_code == 401
    assert client.get("/api/v1/models", headers=auth(read)).json()["total"] == 1
    assert client.get("/api/v1/models", headers=auth(write)).status_code == 200
    with client.app.state.registry.db.read() as s:
        stored = s.scalars(select(Token.hash)).all()
    assert len(stored) == 3 and not any(t in stored for t in (read, write, admin))  # hashed, never the token
    client.app.state.registry.db.dispose()


def test_write_rate_limit(db_url: str, minilm_doc: dict) -> None:  # noqa: F811
    client = make_client(db_url, write_rate=0.001, write_burst=2)
    tok = auth(make_token(db_url, "write"))
    codes = [client.post("/api/v1/documents", json={"document": minilm_doc}, headers=tok).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    client.app.state.registry.db.dispose()


def test_pagination_and_problem_on_bad_query(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        push(reg, check_doc(tiny_model(tmp_path / f"m{i}", size=10 + i)), [f"org/m{i}"])
    page = reg.get("/api/v1/models", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    all_ids = [x["id"] for x in reg.get("/api/v1/models").json()["items"]]
    assert [x["id"] for x in page["items"]] == all_ids[2:4]
    bad = reg.get("/api/v1/models", params={"limit": "lots"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert reg.get("/api/v1/models", params={"limit": 100000}).status_code == 422
    assert reg.get("/api/v1/models/999999").json()["status"] == 404


def test_openapi_served(reg) -> None:  # type: ignore[no-untyped-def]
    spec = reg.get("/openapi.json").json()
    assert "/api/v1/models" in spec["paths"] and "/api/v1/bom" in spec["paths"]


def test_nul_characters_are_stored_the_same_on_both_databases(reg, minilm_doc: dict) -> None:  # type: ignore[no-untyped-def]
    """A UTF-16 README read as UTF-8 is full of NULs (real hub cards are): PostgreSQL cannot store them in
    text or jsonb, so both databases store U+FFFD and the upload says how many were replaced."""
    doc = json.loads(json.dumps(minilm_doc))
    doc["inventory"]["components"][0]["description"] = "h\x00e\x00l\x00"
    r = push(reg, doc, ["nul/model"], card="\xff\xfeh\x00i\x00")
    assert any("5 NUL character(s)" in w for w in r["warnings"]), r["warnings"]
    got = reg.get(f"/api/v1/models/{r['version']}").json()
    assert "\x00" not in json.dumps(got)
