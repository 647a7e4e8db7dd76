"""Lifecycle: support status and end-of-life declared per version, derived releases and supersessions,
served as TEA CLE (checked against the TEA consumer OpenAPI in shared/) and in the REST API."""

from __future__ import annotations

from pathlib import Path

from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401
from test_registry_tea import spec, valid  # noqa: F401


def test_lifecycle_in_the_api_and_as_tea_cle(db_url: str, tmp_path: Path, spec: dict) -> None:  # noqa: F811
    client = make_client(db_url)
    w = auth(make_token(db_url, "write"))

    def push(size: int) -> dict:
        doc = check_doc(tiny_model(tmp_path / f"m{size}", size=size))
        r = client.post("/api/v1/documents", json={"document": doc, "labels": ["org/life"]}, headers=w)
        assert r.status_code == 201, r.text
        return r.json()

    v1, v2 = push(3), push(4)  # the name moved to new bytes: v2 supersedes v1
    assert client.get(f"/api/v1/models/{v1['version']}/lifecycle").json()["support_status"] == "supported"

    def declare(vid: int, **event: object) -> object:
        return client.post(f"/api/v1/models/{vid}/lifecycle", json=event, headers=w)

    r = declare(v1["version"], type="endOfSupport", effective="2020-01-01", supportId="standard")
    assert r.status_code == 201, r.text
    assert r.json()["support_status"] == "unsupported"  # effective in the past
    r = declare(v1["version"], type="endOfLife", effective="2999-06-30T00:00:00Z", description="weights deleted")
    life = client.get(f"/api/v1/models/{v1['version']}/lifecycle").json()
    assert life["support_status"] == "unsupported" and life["end_of_life"] == "2999-06-30T00:00:00Z"
    assert life["end_of_support"] == "2020-01-01T00:00:00Z"
    page = client.get(f"/ui/models/{v1['version']}").text
    assert "<td id=support>unsupported; end of support 2020-01-01; end of life 2999-06-30</td>" in page
    for bad in (
        {"type": "released", "effective": "2020-01-01"},  # derived, not declared
        {"type": "endOfLife", "effective": "tomorrow"},
        {"type": "endOfLife", "effective": "2027-01-01T00:00:00"},  # no zone
        {"type": "endOfLife", "effective": "2027-01-01", "references": ["file:///etc/passwd"]},
    ):
        r = declare(v1["version"], **bad)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", bad
    assert declare(999999, type="endOfLife", effective="2027-01-01").status_code == 404
    assert client.post(f"/api/v1/models/{v1['version']}/lifecycle", json={}).status_code == 401  # writes need a token

    # TEA: the product (the name) has both releases, the supersession and the declared events
    product = client.get("/tea/v1/products", params={"idType": "PURL", "idValue": "pkg:huggingface/org/life"})
    puuid = product.json()["results"][0]["uuid"]
    cle = client.get(f"/tea/v1/product/{puuid}/cle").json()
    valid(spec, "cle", cle)
    ids = [e["id"] for e in cle["events"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)  # newest first, as CLE requires
    kinds = [e["type"] for e in reversed(cle["events"])]
    assert kinds == ["released", "released", "supersededBy", "endOfSupport", "endOfLife"]
    sup = next(e for e in cle["events"] if e["type"] == "supersededBy")
    assert sup["versions"] == [{"version": v1["identity"]}] and sup["supersededByVersion"] == v2["identity"]
    eos = next(e for e in cle["events"] if e["type"] == "endOfSupport")
    assert eos["versions"] == [{"version": v1["identity"]}] and eos["supportId"] == "standard"

    releases = client.get(f"/tea/v1/product/{puuid}/releases").json()["results"]
    by_version = {x["version"]: x["uuid"] for x in releases}
    old = client.get(f"/tea/v1/productRelease/{by_version[v1['identity']]}/cle").json()
    new = client.get(f"/tea/v1/productRelease/{by_version[v2['identity']]}/cle").json()
    valid(spec, "cle", old)
    valid(spec, "cle", new)
    assert [e["type"] for e in reversed(old["events"])] == ["released", "supersededBy", "endOfSupport", "endOfLife"]
    assert [e["type"] for e in new["events"]] == ["released"]
    comp = client.get(f"/tea/v1/productRelease/{by_version[v1['identity']]}").json()["components"][0]
    for path in (f"/tea/v1/component/{comp['uuid']}/cle", f"/tea/v1/componentRelease/{comp['release']}/cle"):
        c = client.get(path).json()
        valid(spec, "cle", c)
        assert [e["type"] for e in reversed(c["events"])] == ["released", "endOfSupport", "endOfLife"]
    assert client.get("/tea/v1/component/7ea00003-0000-4000-8000-0000000fffff/cle").status_code == 404

    # numbers never change as events are added
    before = {e["id"]: e["type"] for e in cle["events"]}
    declare(v2["version"], type="endOfDevelopment", effective="2030-01-01")
    after = {e["id"]: e["type"] for e in client.get(f"/tea/v1/product/{puuid}/cle").json()["events"]}
    assert {i: t for i, t in after.items() if i in before} == before and len(after) == len(before) + 1
    client.app.state.registry.db.dispose()
