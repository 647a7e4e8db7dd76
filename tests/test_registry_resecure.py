"""When aitrail's security rules change, stored security findings are re-derived from what was stored
(a file digest another document scanned with the current rules) or marked stale ("re-scan needed")
and listed with where they run and who owns them — never silently kept as current. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401


def _bump(monkeypatch: pytest.MonkeyPatch, by: int = 1) -> int:
    from aitrail.analyze import security

    rules = dict(security.rules())
    rules["rules_version"] = int(rules["rules_version"]) + by
    monkeypatch.setattr(security, "rules", lambda: rules)
    return int(rules["rules_version"])


def test_rules_change_rederives_or_marks_stale(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    client = make_client(db_url)
    w, admin = auth(make_token(db_url, "write")), auth(make_token(db_url, "admin"))

    def push(doc: dict, label: str) -> dict:
        r = client.post("/api/v1/documents", json={"document": doc, "labels": [label]}, headers=w)
        assert r.status_code == 201, r.text
        return r.json()

    # a and b share their weights file (same bytes), c has its own
    doc_a = check_doc(tiny_model(tmp_path / "a", size=3, card_body="# a\n"))
    doc_b = check_doc(tiny_model(tmp_path / "b", size=3, card_body="# b\n"))
    doc_c = check_doc(tiny_model(tmp_path / "c", size=5, card_body="# c\n"))
    a, b, c = push(doc_a, "org/a")["version"], push(doc_b, "org/b")["version"], push(doc_c, "org/c")["version"]
    dep = {"environment": "production", "service": "search-api", "owner": "team-search"}
    assert client.post(f"/api/v1/models/{a}/deployments", json=dep, headers=w).status_code == 201
    old = doc_a["security"]["rules_version"]
    r = client.post("/api/v1/rejudge", headers=admin).json()
    assert r["security"]["rescan_needed"] == [] and r["security"]["rederived"] == []  # nothing stale yet

    new = _bump(monkeypatch)
    r = client.post("/api/v1/rejudge", headers=admin).json()
    stale = {x["version"]: x for x in r["security"]["rescan_needed"]}
    assert set(stale) == {a, b, c}
    assert stale[a]["files"] == ["model.safetensors"]  # the card is not a file the security rules judge
    assert stale[a]["deployments"] == [dep] and stale[a]["rules_version"] == {"stored": old, "current": new}
    assert {x["version"] for x in r["changed"] if x.get("security")} == {a, b, c}  # webhooks hear of it
    # "which are affected" answers where and who, and a rule query does not silently leave them out
    hit = client.get("/api/v1/affected", params={"rule": "registry.rescan-needed"}).json()
    assert hit["total"] == 3
    assert [d["owner"] for x in hit["items"] if x["id"] == a for d in x["deployments"]] == ["team-search"]
    other = client.get("/api/v1/affected", params={"rule": "pickle-dangerous-global"}).json()
    assert other["total"] == 0 and {x["id"] for x in other["unknown"]} == {a, b, c}
    assert next(x for x in other["unknown"] if x["id"] == a)["deployments"][0]["owner"] == "team-search"
    detail = client.get(f"/api/v1/models/{a}").json()
    assert detail["max_severity"] == "high" and detail["events"][-1]["kind"] == "security-stale"
    assert any(f["rule"] == "registry.rescan-needed" and f["path"] == "model.safetensors" for f in detail["findings"])
    # said once: a second re-judge lists them again but records no new event
    r = client.post("/api/v1/rejudge", headers=admin).json()
    assert {x["version"] for x in r["security"]["rescan_needed"]} == {a, b, c}
    assert not [x for x in r["changed"] if x.get("security")]

    # b is pushed again, scanned with the new rules, which now find something in the shared weights
    rescanned = json.loads(json.dumps(doc_b))
    rescanned["security"]["rules_version"] = new
    for f in rescanned["security"]["files"]:
        if f["path"] == "model.safetensors":
            f["findings"] = [
                {"rule": "new-rule", "severity": "medium", "message": "found by the new rules", "location": f["path"]}
            ]
    again = push(rescanned, "org/b")
    assert again["version"] == b and not again["created"]
    db = client.get(f"/api/v1/models/{b}").json()
    assert db["events"][-1]["kind"] == "rescanned"
    assert [(f["rule"], f["rules_version"]) for f in db["findings"]] == [("new-rule", new)]

    # a shares those bytes: its findings are re-derived from b's scan; c still needs a re-scan
    r = client.post("/api/v1/rejudge", headers=admin).json()
    assert [(x["version"], x["from_versions"]) for x in r["security"]["rederived"]] == [(a, [b])]
    assert [x["version"] for x in r["security"]["rescan_needed"]] == [c]
    da = client.get(f"/api/v1/models/{a}").json()
    assert da["max_severity"] == "medium" and da["events"][-1]["kind"] == "security-rederived"
    assert [(f["rule"], f["path"], f["rules_version"]) for f in da["findings"]] == [
        ("new-rule", "model.safetensors", new)
    ]
    stored = client.get(f"/api/v1/models/{a}/document").json()["security"]
    assert stored["rules_version"] == new
    hit = client.get("/api/v1/affected", params={"rule": "new-rule"}).json()
    assert {x["id"]: [d["owner"] for d in x["deployments"]] for x in hit["items"]} == {a: ["team-search"], b: []}
    assert [x["id"] for x in hit["unknown"]] == [c]
    client.app.state.registry.db.dispose()
