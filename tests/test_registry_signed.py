"""Signed uploads: a version is identified by the OMS root digest of its signature (made here by the
OpenSSF model-signing library), the same root digest is the same version, and the signature file is
kept as uploaded and served as a TEA attestation. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from test_registry_support import auth, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401
from test_registry_tea import spec, valid  # noqa: F401


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> list[Path]:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    d = tmp_path_factory.mktemp("keys")
    out = []
    for name in ("one", "two"):
        k = ec.generate_private_key(ec.SECP256R1())
        (d / name).write_bytes(
            k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        out.append(d / name)
    return out


def sign(model: Path, key: Path) -> str:
    """Sign with model-signing (the signature written outside, then put where aitrail looks); its root digest."""
    import model_signing.signing

    sig = model.parent / (model.name + ".sig.tmp")
    (model / "model.sig").unlink(missing_ok=True)  # a re-signature signs the model, not its old signature
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(key)).sign(model, sig)
    shutil.move(sig, model / "model.sig")
    envelope = json.loads((model / "model.sig").read_bytes())["dsseEnvelope"]
    return str(json.loads(base64.b64decode(envelope["payload"]))["subject"][0]["digest"]["sha256"])


def body(model: Path, labels: list[str]) -> dict:
    """What ``aitrail push`` sends: the check document and the signature files' bytes."""
    from aitrail.check import check
    from aitrail.registry.cli import signature_files

    result = check(model)
    sigs, notes = signature_files(result)
    assert notes == []
    out = {"document": result.to_dict(), "labels": labels}
    if sigs:
        out["signatures"] = sigs
    return out


def test_identity_by_root_digest_and_signature_as_attestation(
    db_url: str, tmp_path: Path, keys: list[Path], spec: dict  # noqa: F811
) -> None:
    client = make_client(db_url)
    w = auth(make_token(db_url, "write"))

    def push(b: dict) -> dict:
        r = client.post("/api/v1/documents", json=b, headers=w)
        assert r.status_code == 201, r.text
        return r.json()

    # stored unsigned first; then signed (a new file, model.sig): the same version, now with its signature
    m = tiny_model(tmp_path / "m", size=3)
    first = push(body(m, ["org/m"]))
    root = sign(m, keys[0])
    signed = push(body(m, ["org/m"]))
    assert signed["version"] == first["version"] and not signed["created"]
    assert signed["signatures"][0]["root_digest"] == root and signed["signatures"][0]["matches_files"]
    sig_one = (m / "model.sig").read_bytes()
    # signed again by another key: other signature bytes, same root digest, same version; both kept
    assert sign(m, keys[1]) == root
    again = push(body(m, ["org/m"]))
    assert again["version"] == first["version"]
    sig_two = (m / "model.sig").read_bytes()

    # the signatures are TEA attestations with their bytes and checksums
    release = client.get("/tea/v1/productReleases", params={"idType": "PURL", "idValue": "pkg:huggingface/org/m"})
    rel = release.json()["results"][0]["uuid"]
    collection = client.get(f"/tea/v1/productRelease/{rel}/collection/latest").json()
    valid(spec, "collection", collection)  # the TEA consumer OpenAPI's shape
    arts = collection["artifacts"]
    atts = [a for a in arts if a["type"] == "ATTESTATION"]
    assert len(atts) == 2 and all(a["name"] == "signature model.sig" for a in atts)
    served = []
    for a in atts:
        fmt = a["formats"][0]
        data = client.get(fmt["url"]).content
        assert fmt["checksums"][0]["algValue"] == hashlib.sha256(data).hexdigest()
        served.append(data)
    assert sorted(served) == sorted([sig_one, sig_two])

    # signed before it was ever stored: identified by the root digest; the same bytes unsigned find it
    n = tiny_model(tmp_path / "n", size=4)
    root_n = sign(n, keys[0])
    s = push(body(n, ["org/n"]))
    assert s["created"] and s["identity"] == f"oms:sha256:{root_n}" and s["identity_kind"] == "oms"
    (n / "model.sig").unlink()
    plain = push(body(n, ["org/n-unsigned"]))
    assert plain["version"] == s["version"] and not plain["created"]

    # a signature that does not describe the uploaded bytes is neither kept nor used as the identity
    p = tiny_model(tmp_path / "p", size=5)
    sign(p, keys[0])
    (p / "README.md").write_text("---\nlicense: apache-2.0\n---\n# changed after signing\n")
    t = push(body(p, ["org/p"]))
    assert t["identity_kind"] == "files" and not t["signatures"][0]["matches_files"]
    assert any("README.md" in x and "not kept" in x for x in t["warnings"])
    assert [b for b in client.get(f"/api/v1/models/{t['version']}").json()["boms"] if b["format"] == "oms"] == []
    client.app.state.registry.db.dispose()


def test_a_bundle_that_is_not_a_signature_is_a_422_storing_nothing(tmp_path: Path) -> None:
    url = str(tmp_path / "r.db")
    client = make_client(url)
    m = tiny_model(tmp_path / "m", size=3)
    b = body(m, [])
    b["signatures"] = [{"path": "model.sig", "content": base64.b64encode(b'{"mediaType": "nope"}').decode()}]
    r = client.post("/api/v1/documents", json=b, headers=auth(make_token(url, "write")))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "/signatures/0/content", r.text
    assert "not an OMS model signature" in r.json()["detail"]
    assert client.get("/api/v1/models").json()["total"] == 0
    client.app.state.registry.db.dispose()


def test_push_attaches_the_signature(tmp_path: Path, keys: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    """``aitrail push`` of a signed folder: the registry identifies it by the root digest, over real HTTP."""
    import argparse

    from test_registry_support import live_server

    from aitrail.cli import _common
    from aitrail.registry.cli import register

    p = argparse.ArgumentParser()
    handlers = register(p.add_subparsers(dest="command"), _common)
    db = str(tmp_path / "r.db")
    m = tiny_model(tmp_path / "m", size=3)
    root = sign(m, keys[0])
    with live_server(db) as (url, _app):
        args = p.parse_args(["push", str(m), "--to", url, "--token", make_token(db, "write"), "--name", "org/m"])
        assert handlers["push"](args) == 0
        resp = json.loads(capsys.readouterr().out)
    assert resp["identity"] == f"oms:sha256:{root}" and resp["signatures"][0]["matches_files"]
