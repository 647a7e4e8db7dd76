"""A version is the same only when the upload is the same: identity over (path, digest) pairs, a signature
identifies an upload only when it covers all of it, a partial identity says "same" only when every unhashed
file and every declared fact agree, and a known version's judgement is never silently kept when the upload's
is stricter. Each case is an upload that used to merge into a clean version, its critical finding stored
nowhere (review2 F4, F5, F11). Fixtures: models written by safetensors, signed by model-signing, pickles
written by the pickle module (never loaded). SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from test_registry_signed import body, keys, sign  # noqa: F401
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401

PICKLE = pickle.dumps(os.system, protocol=0)  # imports posix.system / nt.system: critical under a pickle name


@pytest.fixture
def reg(db_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    client = make_client(db_url)
    client.w = auth(make_token(db_url, "write"))  # type: ignore[attr-defined]
    yield client
    client.app.state.registry.db.dispose()  # type: ignore[attr-defined]


def post(reg, payload: dict) -> dict:  # type: ignore[no-untyped-def]
    r = reg.post("/api/v1/documents", json=payload, headers=reg.w)
    assert r.status_code == 201, r.text
    return r.json()


def model(reg, vid: int) -> dict:  # type: ignore[no-untyped-def]
    return reg.get(f"/api/v1/models/{vid}").json()


def test_a_signature_identifies_only_an_upload_it_covers(reg, tmp_path: Path, keys: list[Path]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    good = tiny_model(tmp_path / "good")
    sign(good, keys[0])
    first = post(reg, body(good, ["acme/good"]))
    assert first["identity_kind"] == "oms" and model(reg, first["version"])["policy_passed"] is True

    # the signed files plus a pickle the signature does not cover, signature attached
    evil = tmp_path / "evil"
    shutil.copytree(good, evil)
    (evil / "extra.pkl").write_bytes(PICKLE)
    r = post(reg, body(evil, ["acme/evil"]))
    assert r["created"] and r["version"] != first["version"] and r["identity_kind"] == "files"
    assert any("does not cover" in w and "extra.pkl" in w for w in r["warnings"])
    d = model(reg, r["version"])
    assert d["max_severity"] == "critical" and d["policy_passed"] is False

    # unsigned, the same files plus files under OMS's default ignores (.github/, .gitattributes)
    evil2 = tmp_path / "evil2"
    shutil.copytree(good, evil2)
    (evil2 / "model.sig").unlink()
    (evil2 / ".github").mkdir()
    (evil2 / ".github" / "extra.pkl").write_bytes(PICKLE)
    (evil2 / ".gitattributes").write_text("*.pkl filter=lfs\n")
    r2 = post(reg, body(evil2, ["acme/evil2"]))
    assert r2["created"] and r2["version"] not in (first["version"], r["version"])
    assert model(reg, r2["version"])["max_severity"] == "critical"
    assert [x["name"] for x in model(reg, first["version"])["labels"]] == ["acme/good"]
    hit = reg.get("/api/v1/affected", params={"rule": "pickle.dangerous-global"}).json()
    assert {x["id"] for x in hit["items"]} == {r["version"], r2["version"]}

    # the signed bytes pushed unsigned are still the signed version
    plain = tmp_path / "plain"
    shutil.copytree(good, plain)
    (plain / "model.sig").unlink()
    again = post(reg, body(plain, ["acme/plain"]))
    assert not again["created"] and again["version"] == first["version"]


def test_identity_is_over_paths_not_a_set_of_digests(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v1 = tiny_model(tmp_path / "v1")
    (v1 / "notes.txt").write_bytes(PICKLE)  # judged by its name: a text file (or, by content, a pickle)
    a = post(reg, {"document": check_doc(v1), "labels": ["acme/v1"]})
    v2 = tmp_path / "v2"
    shutil.copytree(v1, v2)
    (v2 / "model.pkl").write_bytes(PICKLE)  # the same bytes again, under a name the rules judge as a pickle
    b = post(reg, {"document": check_doc(v2), "labels": ["acme/v2"]})
    assert b["created"] and b["version"] != a["version"]  # the digest set is the same, the files are not
    d = model(reg, b["version"])
    assert d["max_severity"] == "critical" and d["policy_passed"] is False
    assert any(f["path"] == "model.pkl" and f["severity"] == "critical" for f in d["findings"])
    # a rename alone is another version too
    v3 = tmp_path / "v3"
    shutil.copytree(v1, v3)
    (v3 / "notes.txt").rename(v3 / "notes2.txt")
    c = post(reg, {"document": check_doc(v3), "labels": ["acme/v3"]})
    assert c["created"] and c["version"] not in (a["version"], b["version"])


def _nohash_bom(folder: Path, drop: tuple[str, ...]) -> dict:
    """aitrail's CycloneDX BOM of the folder, as a tool that hashes only some files would write it."""
    from aitrail.export import writer
    from aitrail.scanner import scan

    bom = json.loads(writer("cyclonedx")(scan(folder), spec_version="1.6"))
    for c in _files(bom):
        if c["name"] in drop:
            c.pop("hashes", None)
    return bom


def _files(bom: dict) -> list[dict]:
    out, todo = [], [bom["metadata"]["component"], *bom.get("components", [])]
    while todo:
        c = todo.pop()
        todo += c.get("components", [])
        if c.get("type") == "file":
            out.append(c)
    return out


def test_a_partial_identity_says_same_only_when_everything_agrees(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from builders import safetensors_file

    # the same config, weights of the same size but other bytes, cards of the same size, other licences
    pa = tiny_model(tmp_path / "pA", license="apache-2.0", card_body="# tiny..\n")
    pb = tiny_model(tmp_path / "pB", license="cc-by-nc-4.0", card_body="# tiny\n")
    for d, tag in ((pa, "a"), (pb, "b")):
        safetensors_file(d / "model.safetensors", {"w": ("float32", [3, 2])}, metadata={"v": tag})
        (d / "config.json").write_text('{"model_type": "bert"}')
    assert (pa / "README.md").stat().st_size == (pb / "README.md").stat().st_size
    assert (pa / "model.safetensors").stat().st_size == (pb / "model.safetensors").stat().st_size
    drop = ("README.md", "model.safetensors")

    def up(bom: dict, name: str) -> dict:
        r = reg.post("/api/v1/boms", json=bom, params={"name": name}, headers=reg.w)
        assert r.status_code == 201, r.text
        return r.json()

    a = up(_nohash_bom(pa, drop), "acme/pA")
    b = up(_nohash_bom(pb, drop), "acme/pB")
    assert a["identity_kind"] == b["identity_kind"] == "partial"
    assert b["created"] and b["version"] != a["version"]
    res = reg.get("/api/v1/resolve", params={"model_id": "acme/pB"}).json()
    assert res["version"] == b["version"] and "CC-BY-NC-4.0" in json.dumps(res)
    # the same partial BOM again (another serial number, so other bytes): every file and fact agrees
    again = _nohash_bom(pa, drop)
    again["serialNumber"] = "urn:uuid:00000000-0000-4000-8000-0000000000aa"
    assert up(again, "acme/pA-again")["version"] == a["version"]
    # an unhashed file whose size is not given can never agree: always a new version
    unsized = _nohash_bom(pa, drop)
    for c in _files(unsized):
        if c["name"] == "model.safetensors":
            c["properties"] = [p for p in c.get("properties", []) if p.get("name") != "aitrail:size"]
    u = up(unsized, "acme/pA-unsized")
    assert u["created"] and u["version"] not in (a["version"], b["version"])


def test_a_stricter_judgement_of_a_known_version_replaces_the_stored_one(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    m = tiny_model(tmp_path / "m")
    (m / "model.pkl").write_bytes(PICKLE)
    doc = check_doc(m)
    assert any(f["findings"] for f in doc["security"]["files"])
    lenient = json.loads(json.dumps(doc))  # the same files, their findings left out (a doctored or older document)
    for f in lenient["security"]["files"]:
        f["findings"] = []
    lenient["security"]["max_severity"] = None
    first = post(reg, {"document": lenient, "labels": ["acme/m"]})
    assert model(reg, first["version"])["policy_passed"] is True
    r = post(reg, {"document": doc, "labels": ["acme/m"]})
    assert r["version"] == first["version"] and not r["created"]
    assert any("more lenient judgement" in w for w in r["warnings"])
    d = model(reg, r["version"])
    assert d["max_severity"] == "critical" and d["policy_passed"] is False
    assert d["events"][-1]["kind"] == "judgement-replaced"
    # the lenient one pushed again (other bytes: another label order) cannot clean it, and says so
    back = post(reg, {"document": lenient, "labels": ["acme/m", "acme/m2"]})
    assert back["version"] == first["version"] and any("kept" in w for w in back["warnings"])
    d = model(reg, r["version"])
    assert d["max_severity"] == "critical" and d["policy_passed"] is False
    assert d["events"][-1]["kind"] == "judgement-differs"


def test_migration_recomputes_stored_identities(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """A database written with identities by digest set (migration 0004) keeps finding its versions."""
    import hashlib

    from sqlalchemy import text
    from test_registry_support import migrate_to

    from aitrail.registry.core.db import Database

    db = Database(db_url)
    migrate_to(db, "0004")
    m = tiny_model(tmp_path / "m")
    doc = check_doc(m)
    files = [c for c in doc["inventory"]["components"] if c.get("path")]
    old = "sha256:" + hashlib.sha256("\n".join(sorted({c["sha256"] for c in files})).encode()).hexdigest()
    with db.write_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO versions (id, identity, identity_kind, name, name_key, source_kind, created_at, "
                "knowledge_version, document) VALUES (1, :i, 'files', 'm', 'm', 'check', CURRENT_TIMESTAMP, 'x', :d)"
            ),
            {"i": old, "d": json.dumps(doc)},
        )
        for c in files:
            conn.execute(
                text("INSERT INTO files (version_id, path, sha256, size) VALUES (1, :p, :h, :s)"),
                {"p": c["path"], "h": c["sha256"], "s": c.get("size")},
            )
    db.migrate()
    with db.engine.connect() as conn:
        new = conn.execute(text("SELECT identity FROM versions WHERE id = 1")).scalar()
    db.dispose()
    assert new != old and new.startswith("sha256:")
    client = make_client(db_url)
    try:
        r = client.post(
            "/api/v1/documents", json={"document": doc, "labels": ["acme/m"]}, headers=auth(make_token(db_url, "write"))
        )
        assert r.status_code == 201 and r.json()["version"] == 1 and not r.json()["created"]
    finally:
        client.app.state.registry.db.dispose()


def test_the_same_signed_digests_under_other_names_are_another_version(reg, tmp_path: Path, keys: list[Path]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """An OMS root digest hashes the signed digests in name order, not the names: two signed folders
    holding the same bytes under other names (weights as .txt, a pickle as weights...) have one root."""
    a, b = tiny_model(tmp_path / "a"), tmp_path / "b"
    (a / "m1.data").write_bytes(PICKLE)
    (a / "m2.pkl").write_bytes(b"not a pickle\n")
    shutil.copytree(a, b)
    (b / "m1.data").rename(b / "m1.pkl")  # the pickle now under a pickle name...
    (b / "m2.pkl").rename(b / "m2.data")  # ...in the same name order, so the same root digest
    ra, rb = sign(a, keys[0]), sign(b, keys[0])
    assert ra == rb
    first = post(reg, body(a, ["acme/a"]))
    second = post(reg, body(b, ["acme/b"]))
    assert second["created"] and second["version"] != first["version"] and second["identity_kind"] == "files"
    assert any("other file names" in w for w in second["warnings"])
    assert model(reg, second["version"])["max_severity"] == "critical"


def test_signed_bytes_pushed_unsigned_keep_the_signed_judgement(db_url: str, tmp_path: Path, keys: list[Path]) -> None:  # noqa: F811
    """Under a policy requiring a verified signature, the signed version's bytes pushed without model.sig
    are that version (found by their would-be root digest): the missing signature file is not a stricter
    judgement of these files, so the verified one is kept."""
    from cryptography.hazmat.primitives import serialization

    from aitrail.check import check
    from aitrail.registry.cli import signature_files

    pol = tmp_path / "signed.yaml"
    pol.write_text("aitrail_policy: 1\nsignatures:\n  required: true\n")
    client = make_client(db_url, policy_path=str(pol))
    w = auth(make_token(db_url, "write"))
    key = serialization.load_pem_private_key(keys[0].read_bytes(), None)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    good = tiny_model(tmp_path / "good")
    sign(good, keys[0])
    result = check(good, signature_key=pub)
    sigs, _ = signature_files(result)
    signed = client.post(
        "/api/v1/documents", json={"document": result.to_dict(), "signatures": sigs, "labels": ["acme/good"]}, headers=w
    ).json()
    assert signed["identity_kind"] == "oms" and signed["policy"]["passed"] is True
    plain = tmp_path / "plain"
    shutil.copytree(good, plain)
    (plain / "model.sig").unlink()
    again = client.post("/api/v1/documents", json={"document": check(plain).to_dict()}, headers=w).json()
    assert again["version"] == signed["version"] and not again["created"]
    d = client.get(f"/api/v1/models/{signed['version']}").json()
    assert d["policy_passed"] is True and "judgement-replaced" not in [e["kind"] for e in d["events"]]
    client.app.state.registry.db.dispose()
