"""BOM uploads validated against the official schemas: SPDX 3.0.1 (the JSON schema in shared/) and
CycloneDX 1.6/1.7; invalid ones are 422 problems naming the JSON path and what is wrong, storing nothing."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import MINILM, STANDARDS
from test_registry_support import SPDX_SCHEMA, auth, make_client, make_token

EXAMPLES = STANDARDS / "spdx3-examples"


@pytest.fixture(scope="module")
def own_spdx() -> dict:
    from aitrail.export import writer
    from aitrail.scanner import scan

    return json.loads(writer("spdx")(scan(MINILM)))


@pytest.fixture
def reg(tmp_path):  # type: ignore[no-untyped-def]
    url = str(tmp_path / "r.db")  # validation is the same on both backends; storing nothing is checked on SQLite
    client = make_client(url)
    client.w = auth(make_token(url, "write"))  # type: ignore[attr-defined]
    yield client
    client.app.state.registry.db.dispose()  # type: ignore[attr-defined]


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def _element(doc: dict, cls: str) -> int:
    return next(i for i, e in enumerate(doc["@graph"]) if e.get("type") == cls)


def test_official_examples_and_our_export_are_valid(own_spdx: dict) -> None:
    from aitrail.registry.crud import spdx

    for f in sorted(EXAMPLES.glob("*.json")):
        assert spdx.schema_errors(json.loads(f.read_text())) == [], f.name
    assert spdx.schema_errors(own_spdx) == []


def test_valid_spdx_uploads_are_stored(reg, own_spdx: dict) -> None:  # type: ignore[no-untyped-def]
    for name in ("ai-example01-simplehtr.json", "ai-example02-sbom.spdx3.json"):
        r = reg.post("/api/v1/boms", content=(EXAMPLES / name).read_bytes(), headers=reg.w)
        assert r.status_code == 201, (name, r.text)
        assert not any("not validated" in w for w in r.json()["warnings"])
        if name.startswith("ai-example02"):  # schema-valid, but short of what the AI profile requires: said
            gaps = [w for w in r.json()["warnings"] if "AI/Dataset profile" in w]
            assert gaps and "suppliedBy" in gaps[0] and "builtTime" in gaps[0], r.json()["warnings"]
    r = reg.post("/api/v1/boms", json=own_spdx, params={"name": "acme/minilm"}, headers=reg.w)
    assert r.status_code == 201 and r.json()["identity_kind"] == "files", r.text
    assert not any("profile" in w for w in r.json()["warnings"])  # aitrail's own export conforms
    # schema-valid but with no AI package: a 422 for that reason, not a schema one
    r = reg.post("/api/v1/boms", content=(EXAMPLES / "dataset-example01.spdx3.json").read_bytes(), headers=reg.w)
    assert r.status_code == 422 and "ai_AIPackage" in r.json()["detail"] and "errors" not in r.json()


def _mutations(doc: dict) -> list[tuple[str, dict, str, str]]:
    """(what, document, path expected in the errors, word expected in that error's message)."""
    i = _element(doc, "ai_AIPackage")
    out = []
    d = copy.deepcopy(doc)
    d["@graph"][i]["ai_bogusProperty"] = "x"
    out.append(("unknown property", d, f"/@graph/{i}", "ai_bogusProperty"))
    d = copy.deepcopy(doc)
    d["@graph"][i]["name"] = 5
    out.append(("wrong type", d, f"/@graph/{i}/name", "string"))
    d = copy.deepcopy(doc)
    d["@graph"][i]["ai_autonomyType"] = "sometimes"
    out.append(("not in the enumeration", d, f"/@graph/{i}/ai_autonomyType", ""))
    d = copy.deepcopy(doc)
    d["@graph"].append({"type": "ai_NoSuchClass", "spdxId": "urn:x"})
    out.append(("unknown class", d, f"/@graph/{len(doc['@graph'])}/type", "ai_NoSuchClass"))
    return out


@pytest.mark.parametrize("which", range(4))
def test_invalid_spdx_is_a_422_naming_path_and_problem(reg, which: int) -> None:  # type: ignore[no-untyped-def]
    what, bad, path, word = _mutations(_load("ai-example01-simplehtr.json"))[which]
    r = reg.post("/api/v1/boms", json=bad, headers=reg.w)
    assert r.status_code == 422, (what, r.text)
    p = r.json()
    assert r.headers["content-type"] == "application/problem+json" and "SPDX 3.0.1" in p["detail"]
    hits = [e for e in p["errors"] if e["path"].startswith(path)]
    assert hits and any(word in e["message"] for e in hits), (what, p["errors"])
    assert path in p["detail"]
    if what != "unknown property":  # a failing property is not also reported as "unevaluated"
        assert not any("Unevaluated" in e["message"] for e in p["errors"]), p["errors"]
    assert reg.get("/api/v1/models").json()["total"] == 0  # nothing stored


def test_invalid_attached_bom_names_its_place_in_the_body(reg, own_spdx: dict) -> None:  # type: ignore[no-untyped-def]
    from test_registry_support import check_doc

    bad = copy.deepcopy(own_spdx)
    i = _element(bad, "ai_AIPackage")
    bad["@graph"][i]["name"] = ["not", "a", "string"]
    r = reg.post("/api/v1/documents", json={"document": check_doc(MINILM), "boms": {"spdx": bad}}, headers=reg.w)
    assert r.status_code == 422, r.text
    assert any(e["path"] == f"/boms/spdx/@graph/{i}/name" for e in r.json()["errors"]), r.json()
    assert reg.get("/api/v1/models").json()["total"] == 0


def test_cyclonedx_errors_name_the_path(reg) -> None:  # type: ignore[no-untyped-def]
    for version in ("1.6", "1.7"):
        bom = json.loads((STANDARDS / f"cyclonedx-examples/valid-machine-learning-{version}.json").read_text())
        bom["components"][0]["type"] = "bogus"
        r = reg.post("/api/v1/boms", json=bom, headers=reg.w)
        assert r.status_code == 422, r.text
        assert any(e["path"].startswith("/components/0") for e in r.json()["errors"]), r.json()
    assert reg.get("/api/v1/models").json()["total"] == 0


def test_without_a_schema_the_response_says_not_validated(reg, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from aitrail.registry.crud import spdx

    monkeypatch.delenv(spdx.ENV)
    monkeypatch.setattr(spdx, "PACKAGED", "no-such-file.json")
    r = reg.post("/api/v1/boms", content=(EXAMPLES / "ai-example01-simplehtr.json").read_bytes(), headers=reg.w)
    assert r.status_code == 201
    assert any("not validated against the SPDX 3.0.1 JSON schema" in w for w in r.json()["warnings"])


def test_serve_checks_the_schema_it_is_given(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from aitrail.errors import InputError
    from aitrail.registry.cli import _spdx_schema
    from aitrail.registry.crud import spdx

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"type": "object"}))
    with pytest.raises(InputError, match="not the SPDX 3.0.1 JSON schema"):
        _spdx_schema(str(wrong))  # refused at start, before serving
    with pytest.raises(InputError, match="--spdx-schema"):
        _spdx_schema(str(tmp_path / "missing.json"))
    monkeypatch.delenv(spdx.ENV)
    _spdx_schema(str(SPDX_SCHEMA))
    assert os.environ[spdx.ENV] == str(SPDX_SCHEMA)  # what --workers processes inherit
