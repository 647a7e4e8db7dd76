"""The TEA read API, checked against the TEA consumer OpenAPI and well-known schema in shared/data."""

from __future__ import annotations

import hashlib
import json

import jsonschema
import pytest
import yaml
from conftest import MINILM, SHARED
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster  # noqa: F401

TEA = SHARED / "data" / "tea-spec"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load((TEA / "spec" / "openapi.yaml").read_text())


def valid(spec: dict, name: str, value: object) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)


@pytest.fixture(scope="module")
def upload() -> dict:
    from aitrail.export import writer
    from aitrail.scanner import scan

    inv = scan(MINILM)
    return {
        "document": check_doc(MINILM),
        "boms": {
            "cyclonedx": json.loads(writer("cyclonedx")(inv, spec_version="1.6")),
            "spdx": json.loads(writer("spdx")(inv)),
        },
        "card": "# all-MiniLM-L6-v2\nA card.\n",
        "labels": ["sentence-transformers/all-MiniLM-L6-v2"],
    }


def test_tea_discovery_to_artefacts(db_url: str, spec: dict, upload: dict) -> None:  # noqa: F811
    client = make_client(db_url)
    r = client.post("/api/v1/documents", json=upload, headers=auth(make_token(db_url, "write")))
    assert r.status_code == 201, r.text
    tei = "urn:tei:purl:registry.example.com:pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2"
    found = client.get("/tea/v1/discovery", params={"tei": tei}).json()
    for x in found:
        valid(spec, "discovery-info", x)
    pr = client.get(f"/tea/v1/productRelease/{found[0]['productReleaseUuid']}").json()
    valid(spec, "productRelease", pr)
    assert pr["productName"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert pr["identifiers"] == [
        {"idType": "PURL", "idValue": "pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2"}
    ]
    product = client.get(f"/tea/v1/product/{pr['product']}").json()
    valid(spec, "product", product)
    releases = client.get(f"/tea/v1/product/{pr['product']}/releases").json()
    valid(spec, "paginated-product-release-response", releases)
    assert releases["totalResults"] == 1
    cr = client.get(f"/tea/v1/componentRelease/{pr['components'][0]['release']}").json()
    valid(spec, "component-release-with-collection", cr)
    col = cr["latestCollection"]
    kinds = sorted((a["type"], a["name"]) for a in col["artifacts"])
    assert kinds == [("BOM", "cyclonedx 1.6"), ("BOM", "spdx 3.0.1"), ("OTHER", "model-card")]
    assert col["version"] == 2 and col["belongsTo"] == "COMPONENT_RELEASE"
    first = client.get(f"/tea/v1/componentRelease/{pr['components'][0]['release']}/collection/1").json()
    valid(spec, "collection", first)
    assert [a["type"] for a in first["artifacts"]] == ["BOM", "OTHER"] and first["updateReason"][
        "type"
    ] == "INITIAL_RELEASE"
    for a in col["artifacts"]:
        fmt = a["formats"][0]
        path = fmt["url"].split("://", 1)[1].split("/", 1)[1]
        got = client.get("/" + path)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == fmt["checksums"][0]["algValue"]
        valid(spec, "artifact", client.get(f"/tea/v1/artifact/{a['uuid']}/latest").json())
        if a["name"].startswith("cyclonedx"):
            assert json.loads(got.content) == upload["boms"]["cyclonedx"]
        if a["name"] == "model-card":
            assert got.text == upload["card"] and "sandbox" in got.headers["content-security-policy"]
    digest = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    by_hash = client.get("/tea/v1/discovery", params={"tei": f"urn:tei:hash:x.org:SHA256:{digest}"}).json()
    assert {x["productReleaseUuid"] for x in by_hash} >= {found[0]["productReleaseUuid"]}
    products = client.get(
        "/tea/v1/products", params={"idType": "PURL", "idValue": pr["identifiers"][0]["idValue"]}
    ).json()
    valid(spec, "paginated-product-response", products)
    assert [p["uuid"] for p in products["results"]] == [pr["product"]]
    valid(spec, "component", client.get(f"/tea/v1/component/{pr['components'][0]['uuid']}").json())
    assert client.get("/tea/v1.0.0/products").status_code == 200  # the version the well-known document advertises
    client.app.state.registry.db.dispose()


def test_tea_errors_and_well_known(db_url: str) -> None:  # noqa: F811
    client = make_client(db_url)
    wk = client.get("/.well-known/tea").json()
    jsonschema.validate(wk, json.loads((TEA / "discovery" / "tea-well-known.schema.json").read_text()))
    assert client.get("/tea/v1/product/09e8c73b-ac45-4475-acac-33e6a7314e6d").status_code == 404
    assert client.get("/tea/v1/discovery", params={"tei": "not-a-tei"}).status_code == 400
    assert client.get("/tea/v1/discovery", params={"tei": "urn:tei:purl:x:pkg:huggingface/a/b"}).status_code == 404
    assert client.get("/tea/v1/products", params={"pageSize": 0}).status_code == 400
    client.app.state.registry.db.dispose()
