"""The write rate is shared by every worker: counted in the database, not per process. Two apps on one
database stand for two ``--workers`` processes. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401


def test_rate_limit_is_shared_across_workers(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    one = make_client(db_url, write_rate=0.001, write_burst=2)
    two = make_client(db_url, write_rate=0.001, write_burst=2)
    w = auth(make_token(db_url, "write"))
    other = auth(make_token(db_url, "write"))
    doc = check_doc(tiny_model(tmp_path / "m", size=2))

    def post(client, label: str, headers: dict) -> int:  # type: ignore[no-untyped-def]
        return client.post("/api/v1/documents", json={"document": doc, "labels": [label]}, headers=headers).status_code

    assert [post(one, "org/a", w), post(one, "org/b", w)] == [201, 201]
    # the second worker's own bucket is full, but the token has used its burst on the first one
    r = two.post("/api/v1/documents", json={"document": doc, "labels": ["org/c"]}, headers=w)
    assert r.status_code == 429 and r.headers["retry-after"] and "all workers" in r.json()["detail"]
    assert post(two, "org/a", w) == 201  # a repeat of stored content writes nothing: not counted, not refused
    assert post(two, "org/d", other) == 201  # another token has its own allowance
    assert set(one.get("/api/v1/models").json()["items"][0]["labels"]) == {"org/a", "org/b", "org/d"}
    for c in (one, two):
        c.app.state.registry.db.dispose()
