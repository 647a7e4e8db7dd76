"""Deployments, "which are affected" (where, who), per-environment policies, re-judging stored
documents when the knowledge changed, and webhooks — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401


def _setup(db_url: str, tmp_path: Path, **settings):  # type: ignore[no-untyped-def]  # noqa: F811
    prod = tmp_path / "prod.yaml"
    prod.write_text("aitrail_policy: 1\nlicenses:\n  deny: [MIT]\n")
    client = make_client(db_url, env_policies=(("production", str(prod)),), **settings)
    return client, auth(make_token(db_url, "write")), auth(make_token(db_url, "admin"))


def test_deployments_affected_and_violations(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    client, w, _ = _setup(db_url, tmp_path)
    doc = check_doc(tiny_model(tmp_path / "m", license="mit", datasets=("acme/poisoned",)))
    vid = client.post("/api/v1/documents", json={"document": doc, "labels": ["acme/m"]}, headers=w).json()["version"]
    dep = {"environment": "production", "service": "search-api", "owner": "team-search", "since": "2026-01-10"}
    r = client.post(f"/api/v1/models/{vid}/deployments", json=dep, headers=w)
    assert r.status_code == 201 and r.json()["policy_passed"] is False
    assert "MIT" in json.dumps(r.json()["policy"]["violations"])
    staging = {**dep, "environment": "staging"}
    assert client.post(f"/api/v1/models/{vid}/deployments", json=staging, headers=w).json()["policy_passed"] is None
    hit = client.get("/api/v1/affected", params={"dataset": "acme/poisoned"}).json()
    assert hit["total"] == 1
    assert {(d["environment"], d["owner"]) for d in hit["items"][0]["deployments"]} == {
        ("production", "team-search"),
        ("staging", "team-search"),
    }
    assert client.get("/api/v1/affected").status_code == 422
    v = client.get("/api/v1/violations").json()
    assert [d["environment"] for d in v["deployments"]] == ["production"]
    assert client.get("/api/v1/models", params={"environment": "production"}).json()["total"] == 1
    bad = client.post(f"/api/v1/models/{vid}/deployments", json={"environment": ""}, headers=w)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/models/99999/deployments", json=dep, headers=w).status_code == 404
    client.app.state.registry.db.dispose()


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        n = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a: object) -> None:
        pass


def test_rejudge_after_knowledge_change_lists_what_changed(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    from aitrail.registry.models import Version

    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    client, w, admin = _setup(db_url, tmp_path, webhooks=(f"http://127.0.0.1:{hook.server_port}/hook",))
    doc = check_doc(tiny_model(tmp_path / "m", license="mit"))
    vid = client.post("/api/v1/documents", json={"document": doc}, headers=w).json()["version"]
    client.post(
        f"/api/v1/models/{vid}/deployments", json={"environment": "production", "service": "s", "owner": "o"}, headers=w
    )
    # the document says it was judged with the current knowledge (check stamps it): nothing to re-judge
    assert doc["inventory"]["tool"]["knowledge_version"]
    assert client.post("/api/v1/rejudge", headers=admin).json()["judged"] == 0
    assert client.post("/api/v1/rejudge", headers=w).status_code == 403
    # this document was judged by an older knowledge base that did not know MIT allows commercial use
    with client.app.state.registry.db.write() as s:
        v = s.get(Version, vid)
        stale = json.loads(json.dumps(v.document))
        stale["licenses"]["verdict"] = "unknown"
        v.document, v.verdict, v.knowledge_version = stale, "unknown", "0.0.1+old"
    r = client.post("/api/v1/rejudge", headers=admin).json()
    assert r["judged"] == 1
    assert r["changed"][0]["from"]["verdict"] == "unknown" and r["changed"][0]["to"]["verdict"] == "allowed"
    assert r["webhooks"][0]["status"] == 204 and _Hook.received[-1]["changed"][0]["version"] == vid
    d = client.get(f"/api/v1/models/{vid}").json()
    assert d["verdict"] == "allowed" and d["events"][-1]["kind"] == "verdict-changed"
    assert client.post("/api/v1/rejudge", headers=admin).json()["judged"] == 0  # now current
    assert client.post("/api/v1/rejudge", params={"force": True}, headers=admin).json()["changed"] == []
    hook.shutdown()
    client.app.state.registry.db.dispose()


def test_stats_for_the_dashboard(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    client, w, _ = _setup(db_url, tmp_path)
    for i, lic in enumerate(("mit", "mit", "apache-2.0")):
        doc = check_doc(tiny_model(tmp_path / f"m{i}", license=lic, size=2 + i))
        client.post("/api/v1/documents", json={"document": doc}, headers=w)
    st = client.get("/api/v1/stats").json()
    assert st["versions"] == 3 and st["licenses"] == {"MIT": 2, "Apache-2.0": 1}
    assert sum(st["versions_by_day"].values()) == 3
    client.app.state.registry.db.dispose()


def test_obligations_across_the_inventory(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    client, w, _ = _setup(db_url, tmp_path)
    ids = []
    for i, lic in enumerate(("llama3", "llama3", "mit")):
        doc = check_doc(tiny_model(tmp_path / f"m{i}", license=lic, size=2 + i))
        ids.append(client.post("/api/v1/documents", json={"document": doc}, headers=w).json()["version"])
    dep = {"environment": "production", "service": "chat", "owner": "team-x"}
    client.post(f"/api/v1/models/{ids[0]}/deployments", json=dep, headers=w)
    every = client.get("/api/v1/obligations").json()["items"]
    built_with = [o for o in every if o["term"] == "built-with"]
    assert built_with and built_with[0]["versions"] == 2 and built_with[0]["clause"]
    prod = client.get("/api/v1/obligations", params={"environment": "production"}).json()["items"]
    assert {o["versions"] for o in prod} == {1} and any(o["term"] == "built-with" for o in prod)
    client.app.state.registry.db.dispose()


def test_migration_0003_fills_obligations_of_stored_versions(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func, insert, select

    from aitrail.registry.core.db import Database
    from aitrail.registry.crud.extract import from_check
    from aitrail.registry.models import Obligation, Version

    db = Database(str(tmp_path / "old.db"))
    cfg = Config()
    cfg.set_main_option("script_location", "aitrail.registry:migrations")
    doc = check_doc(tiny_model(tmp_path / "m", license="llama3"))
    with db.write_engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")  # a registry from before obligations were kept
        row = {"identity": "sha256:x", "identity_kind": "files", "name": "m", "name_key": "m", "source_kind": "check"}
        now = datetime.now(timezone.utc)
        conn.execute(
            insert(Version.__table__), [{**row, "created_at": now, "knowledge_version": "old", "document": doc}]
        )
        conn.commit()
    db.migrate()
    with db.read() as s:
        n = s.scalar(select(func.count()).select_from(Obligation))
    db.dispose()
    assert n and n == len(from_check(doc).obligations)


def test_label_moved_to_new_bytes_is_sent_to_webhooks(tmp_path: Path) -> None:
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    db = str(tmp_path / "r.db")
    client, w, _ = _setup(db, tmp_path, webhooks=(f"http://127.0.0.1:{hook.server_port}/hook",))
    for size in (2, 3):
        doc = check_doc(tiny_model(tmp_path / f"m{size}", size=size))
        r = client.post("/api/v1/documents", json={"document": doc, "labels": ["hub/popular-name"]}, headers=w).json()
    assert r["webhooks"][0]["status"] == 204
    sent = _Hook.received[-1]
    assert sent["event"] == "label-moved" and sent["changed"][0]["label"] == "hub/popular-name"
    assert sent["changed"][0]["diff"]["files_changed"] == ["model.safetensors"]
    hook.shutdown()
    client.app.state.registry.db.dispose()


def test_rejudge_reruns_the_licence_findings_and_trusts_no_stamp_it_did_not_get(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """A document written by an aitrail that did not know the base's licence (no laundering finding, verdict
    allowed) is stamped "unknown", not with the server's knowledge: the next re-judge runs the whole licence
    judgement (licenses.check too) and the policy fails on license.laundering. Review2 F9."""
    from aitrail.registry.core.config import knowledge_version

    client, w, admin = _setup(db_url, tmp_path)

    def finetune(name: str, size: int) -> dict:  # a fine-tune of Llama 2 that says MIT
        ft = tiny_model(tmp_path / name, license="mit", base="meta-llama/Llama-2-7b-hf", size=size)
        cfg = {"_name_or_path": "meta-llama/Llama-2-7b-hf", "model_type": "llama"}
        (ft / "config.json").write_text(json.dumps(cfg))
        doc = check_doc(ft)
        assert any(f["rule"] == "license.laundering" for f in doc["licenses"]["findings"])
        return doc

    def older(d: dict, stamp: str | None) -> dict:
        d = json.loads(json.dumps(d))
        d["inventory"]["findings"] = [f for f in d["inventory"]["findings"] if f["rule"] != "license.laundering"]
        lic = d["licenses"]
        lic["findings"] = [f for f in lic["findings"] if f["rule"] != "license.laundering"]
        lic["verdict"], lic["obligations"] = "allowed", []
        lic["components"] = [x for x in lic["components"] if x.get("role") != "base-model"]
        for m in lic["models"]:
            m["verdict"] = "allowed"
        if stamp:
            d["inventory"]["tool"]["knowledge_version"] = stamp
        else:  # as an aitrail from before the stamp wrote it
            d["inventory"]["tool"].pop("knowledge_version", None)
        return d

    a = client.post("/api/v1/documents", json={"document": older(finetune("a", 3), None)}, headers=w).json()
    assert a["policy"]["passed"] is True
    assert client.get(f"/api/v1/models/{a['version']}").json()["knowledge_version"] == "unknown"
    # stamped with the current knowledge by the uploader: skipped until forced
    b = client.post("/api/v1/documents", json={"document": older(finetune("b", 4), knowledge_version())}, headers=w)
    b = b.json()
    r = client.post("/api/v1/rejudge", headers=admin).json()
    assert r["judged"] == 1 and [x["version"] for x in r["changed"]] == [a["version"]]
    d = client.get(f"/api/v1/models/{a['version']}").json()
    assert d["policy_passed"] is False and d["knowledge_version"] == knowledge_version()
    stored = client.get(f"/api/v1/models/{a['version']}/document").json()
    assert any(f["rule"] == "license.laundering" for f in stored["licenses"]["findings"])
    assert any(f["rule"] == "license.laundering" for f in stored["inventory"]["findings"])
    assert client.get(f"/api/v1/models/{b['version']}").json()["policy_passed"] is True
    r = client.post("/api/v1/rejudge", params={"force": True}, headers=admin).json()
    assert [x["version"] for x in r["changed"]] == [b["version"]]
    assert client.get(f"/api/v1/models/{b['version']}").json()["policy_passed"] is False
    client.app.state.registry.db.dispose()


def test_a_webhook_answering_a_redirect_is_not_reported_delivered(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """urllib would follow the 302 with a GET without the body and report 200: the change never arrived."""
    from aitrail.registry.api.routes.manage import _notify

    class Moved(BaseHTTPRequestHandler):
        got: list[str] = []

        def _any(self) -> None:
            Moved.got.append(self.command + " " + self.path)
            if self.path == "/hook":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _any

        def log_message(self, *a: object) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), Moved)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        out = _notify((f"http://127.0.0.1:{srv.server_port}/hook",), {"changed": [{"version": 1}]})
    finally:
        srv.shutdown()
        srv.server_close()
    assert out[0]["error"] == "HTTP 302 (redirect not followed)" and "status" not in out[0]
    assert Moved.got == ["POST /hook"]


def test_a_policy_change_is_rejudged_without_force(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """A server restarted with a stricter --policy or --env-policy judges again, on the next non-forced
    re-judge, every verdict made under another policy (Review2 F17)."""
    from aitrail.registry.core.config import knowledge_version

    lenient, strict = tmp_path / "lenient.yaml", tmp_path / "strict.yaml"
    lenient.write_text("aitrail_policy: 1\nlicenses:\n  deny: [GPL-3.0-only]\n")
    strict.write_text("aitrail_policy: 1\nlicenses:\n  deny: [Apache-2.0]\n")
    doc = check_doc(tiny_model(tmp_path / "m", license="apache-2.0"))
    doc["inventory"]["tool"]["knowledge_version"] = knowledge_version()  # judged with the current knowledge
    first = make_client(db_url, env_policies=(("production", str(lenient)),))
    w, admin = auth(make_token(db_url, "write")), auth(make_token(db_url, "admin"))
    vid = first.post("/api/v1/documents", json={"document": doc}, headers=w).json()["version"]
    dep = {"environment": "production", "service": "s", "owner": "o"}
    assert first.post(f"/api/v1/models/{vid}/deployments", json=dep, headers=w).json()["policy_passed"] is True
    assert first.post("/api/v1/rejudge", headers=admin).json()["judged"] == 0  # nothing judged otherwise
    first.app.state.registry.db.dispose()

    # restarted with a stricter environment policy only: the deployment is judged again
    second = make_client(db_url, env_policies=(("production", str(strict)),))
    r = second.post("/api/v1/rejudge", headers=admin).json()
    assert r["judged"] == 1 and r["changed"][0]["deployments"][0]["to"] is False
    assert second.get(f"/api/v1/models/{vid}").json()["policy_passed"] is True
    assert second.post("/api/v1/rejudge", headers=admin).json()["judged"] == 0
    second.app.state.registry.db.dispose()

    # and with a stricter policy for every version
    third = make_client(db_url, policy_path=str(strict), env_policies=(("production", str(strict)),))
    r = third.post("/api/v1/rejudge", headers=admin).json()
    assert r["judged"] == 1 and r["changed"][0]["to"]["policy_passed"] is False
    d = third.get(f"/api/v1/models/{vid}").json()
    assert d["policy_passed"] is False and "Apache-2.0" in json.dumps(d["policy"]["violations"])
    assert third.post("/api/v1/rejudge", headers=admin).json()["judged"] == 0
    third.app.state.registry.db.dispose()
