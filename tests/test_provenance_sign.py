"""`aitrail sign` / `aitrail verify`: OpenSSF model signing v1.0, against the spec's schemas and test
vectors (/work/shared/data/oms-spec) and the real `model-signing` library, both directions."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import MINILM, SHARED

from aitrail import cli
from aitrail.provenance import files, oms, sign, verify

SPEC = SHARED / "data" / "oms-spec"
VECTORS = SPEC / "test-vectors" / "v1.0"


@pytest.fixture(autouse=True)
def commands(monkeypatch):
    if "aitrail.provenance.cli_sign" not in cli.EXTENSIONS:  # until the lead lists it in cli.EXTENSIONS
        monkeypatch.setattr(cli, "EXTENSIONS", [*cli.EXTENSIONS, "aitrail.provenance.cli_sign"])


def _pem_pair(d: Path, name: str, key) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization

    priv, pub = d / f"{name}.key", d / f"{name}.pub"
    priv.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return priv, pub


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    d = tmp_path_factory.mktemp("keys")
    return {
        "p256": _pem_pair(d, "p256", ec.generate_private_key(ec.SECP256R1())),
        "p384": _pem_pair(d, "p384", ec.generate_private_key(ec.SECP384R1())),
        "other": _pem_pair(d, "other", ec.generate_private_key(ec.SECP256R1())),
        "ed25519": _pem_pair(d, "ed25519", ed25519.Ed25519PrivateKey.generate()),
    }


@pytest.fixture
def model(tmp_path) -> Path:
    m = tmp_path / "minilm"
    shutil.copytree(MINILM, m)
    return m


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def verify_json(capsys, model: Path, sig: Path, *args: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "verify", model, "--signature", sig, "-f", "json", *args)
    return code, json.loads(out)


def _schemas():
    from referencing import Registry, Resource

    docs = {p.stem.split(".")[0]: json.loads(p.read_text()) for p in (SPEC / "schemas" / "v1.0").glob("*.json")}
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in docs.values())
    return docs, registry


def schema_errors(bundle: dict) -> list[str]:
    """Every error of ``bundle`` against the four OMS schemas (bundle -> envelope -> statement -> predicate)."""
    import jsonschema

    docs, registry = _schemas()
    errs = [e.message for e in jsonschema.Draft202012Validator(docs["bundle"], registry=registry).iter_errors(bundle)]
    try:
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    except (KeyError, TypeError, ValueError):
        return errs + ["no decodable payload"]
    v = jsonschema.Draft202012Validator(docs["statement"], registry=registry)
    return errs + [e.message for e in v.iter_errors(statement)]


# --- the spec's test vectors ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["key", "certificate", "sigstore"])
def test_valid_vectors_parse_and_their_root_digest_is_reproduced(name):
    raw = (VECTORS / "valid" / f"{name}.bundle.json").read_bytes()
    assert schema_errors(json.loads(raw)) == []
    b = oms.loads(raw)
    assert b.method == name
    man = oms.manifest(b)  # recomputes the root digest (§6.5.1) and checks it against the subject
    statement = json.loads(b.payload)
    assert man.root_digest == statement["subject"][0]["digest"]["sha256"]
    assert sorted(man.resources) == ["signme-1", "signme-2"] and "ignore-me" in man.ignore_paths
    # the published digests: a manifest changed by one resource no longer matches its subject
    statement["predicate"]["resources"][0]["digest"] = "00" * 32
    with pytest.raises(oms.BundleError, match="root digest"):
        oms.parse_statement(statement)


@pytest.mark.parametrize(
    "path, message",
    [
        ("invalid/empty.bundle.json", "empty"),
        ("invalid/missing-envelope.bundle.json", "dsseEnvelope"),
        ("invalid/missing-tlog-entries.bundle.json", "transparency log"),
        ("invalid/missing-verification-material.bundle.json", "verificationMaterial"),
        ("invalid-payload/wrong-predicate.bundle.json", "predicateType"),
    ],
)
def test_invalid_vectors_are_refused_for_their_reason(path, message):
    raw = (VECTORS / path).read_bytes()
    if raw.strip():  # the schemas reject them too: our reader and the spec agree
        assert schema_errors(json.loads(raw)) != []
    with pytest.raises(oms.BundleError, match=message):
        oms.manifest(oms.loads(raw))


def test_certificate_vector_verifies_to_its_ca_and_not_to_another(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    b = oms.loads((VECTORS / "valid" / "certificate.bundle.json").read_bytes())
    chain = [
        x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
        for c in b.material["x509CertificateChain"]["certificates"]
    ]
    ca = chain[-1].public_bytes(serialization.Encoding.PEM)  # the vector's root CA is not published: trust its CA
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert oms.verify_with_chain(b, ca, when) == "CN=intermediate-ca"
    with pytest.raises(oms.VerificationFailed, match="not valid now"):
        oms.verify_with_chain(b, ca, datetime(2036, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(oms.VerificationFailed, match="not issued by any certificate of the trust root"):
        oms.verify_with_chain(b, chain[0].public_bytes(serialization.Encoding.PEM) + _self_signed_pem(), when)
    tampered = json.loads((VECTORS / "valid" / "certificate.bundle.json").read_text())
    other = json.loads((VECTORS / "valid" / "key.bundle.json").read_text())
    tampered["dsseEnvelope"]["payload"] = other["dsseEnvelope"]["payload"]  # another statement, same signature
    with pytest.raises(oms.VerificationFailed, match="does not verify"):
        oms.verify_with_chain(oms.loads(json.dumps(tampered).encode()), ca, when)


def test_certificate_bundles_fail_closed_without_a_usable_trust_root(tmp_path, capsys):
    sig = VECTORS / "valid" / "certificate.bundle.json"
    m = tmp_path / "m"
    m.mkdir()
    code, doc = verify_json(capsys, m, sig)
    assert code == 2 and "--trust-root" in doc["problems"][0]
    code, doc = verify_json(capsys, m, sig, "--trust-root", tmp_path / "absent.pem")
    assert code == 2 and "absent.pem: cannot read" in doc["problems"][0]
    (tmp_path / "junk.pem").write_text("not a certificate")
    code, doc = verify_json(capsys, m, sig, "--trust-root", tmp_path / "junk.pem")
    assert code == 2 and "not PEM certificates" in doc["problems"][0]
    broken = json.loads(sig.read_text())
    broken["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] = "AAAA"
    (tmp_path / "broken.sig").write_text(json.dumps(broken))
    code, doc = verify_json(capsys, m, tmp_path / "broken.sig", "--trust-root", tmp_path / "root.pem")
    assert code == 2
    (tmp_path / "root.pem").write_bytes(_self_signed_pem())
    code, doc = verify_json(capsys, m, tmp_path / "broken.sig", "--trust-root", tmp_path / "root.pem")
    assert code == 2 and "certificate chain cannot be read" in doc["problems"][0]


def _self_signed_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "root-ca")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
        .serial_number(1).not_valid_before(datetime(2020, 1, 1)).not_valid_after(datetime(2040, 1, 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(k, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_key_vector_with_another_key_names_the_mismatch(keys, tmp_path, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "signme-1").write_text("x")
    code, doc = verify_json(capsys, tmp_path / "m", VECTORS / "valid" / "key.bundle.json", "--key", keys["p256"][1])
    assert code == 1 and "another key" in doc["problems"][0] and doc["verdict"] == "failed"


def test_sigstore_vector_verifies_offline_with_a_trust_root_and_fails_closed_without(tmp_path, capsys):
    from importlib import resources

    store = resources.files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    root = Path(str(store / "trusted_root.json"))  # the public-good trust root sigstore-python ships
    sig = VECTORS / "valid" / "sigstore.bundle.json"
    m = tmp_path / "m"
    m.mkdir()
    code, doc = verify_json(capsys, m, sig)
    assert code == 2 and "--trust-root" in doc["problems"][0]
    code, doc = verify_json(capsys, m, sig, "--trust-root", root)
    assert code == 2 and "--identity" in doc["problems"][0]
    who = ["--identity", "stefanb@us.ibm.com", "--issuer", "https://sigstore.verify.ibm.com/oauth2"]
    code, doc = verify_json(capsys, m, sig, "--trust-root", root, *who)
    # the signature verifies (Fulcio chain, Rekor inclusion, all offline); the files are not there
    assert code == 1 and doc["signer"].startswith("sigstore stefanb@us.ibm.com")
    assert doc["missing"] == ["signme-1", "signme-2"]
    code, doc = verify_json(capsys, m, sig, "--trust-root", root, "--identity", "someone@else", "--issuer", who[3])
    assert code == 1 and "Sigstore verification failed" in doc["problems"][0] and doc["signed_files"] == 0


# --- what aitrail writes ----------------------------------------------------------------------


def test_sign_writes_a_schema_valid_bundle_from_the_scan_digests_and_attests_bom_and_check(model, keys, capsys):
    code, _, err = run(capsys, "sign", model, "--key", keys["p256"][0])
    assert code == 0, err
    sig = model / "model.sig"
    bundle = json.loads(sig.read_text())
    assert schema_errors(bundle) == []
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    names = [r["name"] for r in statement["predicate"]["resources"]]
    assert names == sorted(names) and "model.safetensors" in names and "1_Pooling/config.json" in names
    assert not any(n.startswith("model.sig") for n in names)  # its own outputs are excluded and recorded
    assert {"model.sig", "model.sig.bom.intoto.json"} <= set(statement["predicate"]["serialization"]["ignore_paths"])
    assert f"{len(names)} digest(s) from the scan, 0 hashed for the signature" in err  # one read of each byte
    for suffix, ptype in ((".bom.intoto.json", sign.BOM_PREDICATE), (".check.intoto.json", sign.CHECK_PREDICATE)):
        att = json.loads((model / f"model.sig{suffix}").read_text())
        st = json.loads(base64.b64decode(att["dsseEnvelope"]["payload"]))
        assert st["predicateType"] == ptype and st["subject"] == statement["subject"]
    code, doc = verify_json(capsys, model, sig, "--key", keys["p256"][1])
    assert code == 0 and doc["matched"] == len(names) and all(a["verified"] for a in doc["attestations"])
    # the attestations describe these bytes: every file they list carries the signed digest
    assert [a["files_matched"] for a in doc["attestations"]] == [len(names), len(names)]
    import jsonschema

    docs, registry = _schemas()  # the attestations are OMS-form bundles too (their statements are not OMS ones)
    for suffix in (".bom.intoto.json", ".check.intoto.json"):
        a = json.loads((model / f"model.sig{suffix}").read_text())
        assert list(jsonschema.Draft202012Validator(docs["bundle"], registry=registry).iter_errors(a)) == []
    # `aitrail check --signature-key` reads the same bundle with the same code, and agrees
    code, out, _ = run(capsys, "check", model, "-f", "json", "--signature-key", keys["p256"][1])
    s = json.loads(out)["security"]["signatures"][0]
    assert s["verified"] is True and s["unsigned"] == [] and s["signed_files"] == len(names)


def test_files_the_scan_skips_are_signed_too(model, keys, capsys):
    (model / "__pycache__").mkdir()
    (model / "__pycache__" / "x.pyc").write_bytes(b"\0" * 10)
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref")
    # with attestations the check's digests are used: only the file the scan skips is hashed here
    with_check = sign.sign(model, keys["p256"][0].read_bytes())
    assert "__pycache__/x.pyc" in with_check.manifest.resources and with_check.hashed_here == 1
    # without, nothing but the digests is needed: every file hashed once, no scan
    signed = sign.sign(model, keys["p256"][0].read_bytes(), attest=False)
    assert signed.hashed_by_scan == 0 and signed.hashed_here == len(signed.manifest.resources)
    assert signed.manifest.resources == with_check.manifest.resources
    assert not any(n.startswith(".git") for n in signed.manifest.resources)
    for path, text in signed.texts():
        path.write_text(text)
    # `aitrail check` does not scan __pycache__ but still checks its signed file (not "missing")
    code, out, _ = run(capsys, "check", model, "-f", "json", "--signature-key", keys["p256"][1])
    s = json.loads(out)["security"]["signatures"][0]
    assert s["verified"] is True and s["missing"] == [], s
    (model / "__pycache__" / "x.pyc").write_bytes(b"\1" * 10)
    code, out, _ = run(capsys, "check", model, "-f", "json", "--signature-key", keys["p256"][1])
    s = json.loads(out)["security"]["signatures"][0]
    assert s["verified"] is False and s["mismatched"] == ["__pycache__/x.pyc"], s


# --- round trips with the real model-signing library --------------------------------------------


@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_aitrail_signs_model_signing_verifies(model, keys, capsys, curve):
    import model_signing.verifying

    assert run(capsys, "sign", model, "--key", keys[curve][0])[0] == 0
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=str(keys[curve][1])).verify(
        model, model / "model.sig"
    )
    (model / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="config.json"):
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key=str(keys[curve][1])).verify(
            model, model / "model.sig"
        )


@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_model_signing_signs_aitrail_verifies(model, keys, capsys, tmp_path, curve):
    import model_signing.signing

    sig = tmp_path / "model.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(keys[curve][0])).sign(model, sig)
    code, doc = verify_json(capsys, model, sig, "--key", keys[curve][1])
    assert code == 0 and doc["verdict"] == "verified" and doc["matched"] >= 10


def _shard_sign(model: Path, private_key: Path, sig: Path) -> None:
    """model-signing's shards serialization (4 MiB shards), key method."""
    import model_signing.hashing
    import model_signing.signing

    hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=1 << 22)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(private_key)).set_hashing_config(
        hashing
    ).sign(model, sig)


def test_model_signing_shard_signatures_verify(model, keys, capsys, tmp_path):
    sig = tmp_path / "model.sig"
    _shard_sign(model, keys["p256"][0], sig)
    assert verify_json(capsys, model, sig, "--key", keys["p256"][1])[0] == 0
    with open(model / "model.safetensors", "r+b") as f:  # one byte in the middle of one shard
        f.seek(5_000_000)
        b = f.read(1)
        f.seek(5_000_000)
        f.write(bytes([b[0] ^ 1]))
    code, doc = verify_json(capsys, model, sig, "--key", keys["p256"][1])
    assert code == 1 and doc["changed"] == ["model.safetensors"]


# --- bad input: a verdict naming the file, never a crash, never a pass --------------------------


@pytest.fixture
def signed(model, keys, capsys) -> Path:
    assert run(capsys, "sign", model, "--key", keys["p256"][0])[0] == 0
    return model


def test_changed_added_missing_files_are_named(signed, keys, capsys):
    (signed / "config.json").write_text("{}")
    (signed / "vocab.txt").unlink()
    (signed / "1_Pooling" / "extra.bin").write_bytes(b"x")
    code, doc = verify_json(capsys, signed, signed / "model.sig", "--key", keys["p256"][1])
    assert code == 1
    assert (doc["changed"], doc["missing"], doc["added"]) == (["config.json"], ["vocab.txt"], ["1_Pooling/extra.bin"])
    code, doc = verify_json(capsys, signed, signed / "model.sig", "--key", keys["p256"][1], "--ignore-unsigned-files")
    assert code == 1 and doc["added"] == [] and doc["changed"] == ["config.json"]


def test_wrong_key_and_tampered_statement_fail(signed, keys, capsys):
    sig = signed / "model.sig"
    code, doc = verify_json(capsys, signed, sig, "--key", keys["other"][1])
    assert code == 1 and "another key" in doc["problems"][0] and doc["matched"] == 0
    bundle = json.loads(sig.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    statement["subject"][0]["digest"]["sha256"] = oms.root_digest(
        [(r["name"], r["digest"]) for r in statement["predicate"]["resources"]]
    )
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(bundle))
    code, doc = verify_json(capsys, signed, sig, "--key", keys["p256"][1])
    assert code == 1 and "does not verify" in doc["problems"][0]


def test_truncated_and_foreign_bundles_are_unusable_input(signed, keys, capsys, tmp_path):
    pub = keys["p256"][1]
    text = (signed / "model.sig").read_text()
    for name, content, says in [
        ("truncated.sig", text[: len(text) // 2], "not JSON"),
        ("foreign.sig", json.dumps({"spdxVersion": "SPDX-2.3"}), "mediaType"),
        ("array.sig", "[1, 2]", "not an object"),
        ("msg.sig", json.dumps({"mediaType": oms.MEDIA_TYPE, "verificationMaterial": {}, "messageSignature": {}}),
         "message signature"),
    ]:
        (tmp_path / name).write_text(content)
        code, doc = verify_json(capsys, signed, tmp_path / name, "--key", pub)
        assert code == 2 and doc["verdict"] == "unusable input" and says in doc["problems"][0], (name, doc)
        assert str(tmp_path / name) in doc["problems"][0]
    code, doc = verify_json(capsys, signed, tmp_path / "absent.sig", "--key", pub)
    assert code == 2 and "cannot read" in doc["problems"][0]
    code, doc = verify_json(capsys, signed, signed / "model.sig")  # key-signed, no key given
    assert code == 2 and "--key" in doc["problems"][0]


def test_a_signature_over_another_folder_fails_and_says_so(signed, keys, capsys, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "bert"}')
    code, doc = verify_json(capsys, other, signed / "model.sig", "--key", keys["p256"][1])
    assert code == 1 and any("for another model" in p for p in doc["problems"])


def test_an_attestation_about_other_bytes_fails_even_when_signed(signed, keys, capsys):
    """A BOM signed by the right key, about a model of the same name and root digest, that lists another
    digest for a signed file: refused (the attestation must describe the signed bytes)."""
    att = signed / "model.sig.bom.intoto.json"
    st = json.loads(base64.b64decode(json.loads(att.read_text())["dsseEnvelope"]["payload"]))
    comps = st["predicate"]["metadata"]["component"]["components"]
    target = next(c for c in comps if c["bom-ref"] == "file:config.json")
    target["hashes"][0]["content"] = "0" * 64
    key = oms.load_private_key(keys["p256"][0].read_bytes())
    b = json.loads(att.read_text())
    b["dsseEnvelope"] = oms.envelope(st, key)
    att.write_text(json.dumps(b))
    code, doc = verify_json(capsys, signed, signed / "model.sig", "--key", keys["p256"][1])
    assert code == 1 and "config.json another SHA-256" in doc["problems"][0]


def test_a_tampered_attestation_fails_verification(signed, keys, capsys):
    att = signed / "model.sig.check.intoto.json"
    b = json.loads(att.read_text())
    st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
    st["predicate"]["policy"]["passed"] = not st["predicate"]["policy"]["passed"]
    b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    att.write_text(json.dumps(b))
    code, doc = verify_json(capsys, signed, signed / "model.sig", "--key", keys["p256"][1])
    assert code == 1 and doc["matched"] == doc["signed_files"] and "model.sig.check.intoto.json" in doc["problems"][0]


def test_keys_outside_the_spec_are_refused(model, keys, capsys):
    code, _, err = run(capsys, "sign", model, "--key", keys["ed25519"][0])
    assert code == 2 and "Ed25519" in err and "P-256" in err and not (model / "model.sig").exists()
    code, _, err = run(capsys, "sign", model, "--key", keys["p256"][1])  # a public key where the private one goes
    assert code == 2 and "not a PEM private key" in err
    assert run(capsys, "sign", model, "--key", keys["p256"][0])[0] == 0
    code, doc = verify_json(capsys, model, model / "model.sig", "--key", keys["ed25519"][1])
    assert code == 2 and "Ed25519" in doc["problems"][0]


def test_symbolic_links_are_refused_unless_allowed(model, keys, capsys):
    (model / "alias.json").symlink_to("config.json")
    code, _, err = run(capsys, "sign", model, "--key", keys["p256"][0])
    assert code == 2 and "alias.json" in err and "symbolic link" in err
    assert run(capsys, "sign", model, "--key", keys["p256"][0], "--allow-symlinks")[0] == 0
    code, doc = verify_json(capsys, model, model / "model.sig", "--key", keys["p256"][1])
    assert code == 0, doc


def test_enumeration_refuses_what_oms_cannot_record(tmp_path):
    import os

    d = tmp_path / "m"
    d.mkdir()
    (d / "a").write_text("x")
    os.mkfifo(d / "pipe")
    with pytest.raises(files.ModelError, match="pipe"):
        files.enumerate_model(d, oms.DEFAULT_IGNORES, False)
    (d / "pipe").unlink()
    (d / "sub").mkdir()
    (d / "sub" / "loop").symlink_to("..")
    with pytest.raises(files.ModelError, match="loop"):
        files.enumerate_model(d, oms.DEFAULT_IGNORES, True)
    assert files.enumerate_model(d, [*oms.DEFAULT_IGNORES, "sub"], False) == {"a": d / "a"}


def test_verify_api_never_raises_on_a_missing_model(keys, tmp_path, signed):
    v = verify.verify(tmp_path / "nowhere", signed / "model.sig", key_pem=keys["p256"][1].read_bytes())
    assert v.status in (1, 2) and not v.passed and "nowhere" in v.problems[0]


def test_hostile_bundles_are_refused_not_crashed_on(signed, keys, capsys, tmp_path):
    deep = tmp_path / "deep.sig"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, doc = verify_json(capsys, signed, deep, "--key", keys["p256"][1])
    assert code == 2 and "deep" in doc["problems"][0]
    code, doc = verify_json(capsys, signed, tmp_path, "--key", keys["p256"][1])  # a folder given as the bundle
    assert code == 2 and "not a regular file" in doc["problems"][0]


def test_one_file_models_both_ways(model, keys, capsys, tmp_path):
    import model_signing.signing

    weights = model / "model.safetensors"
    theirs = tmp_path / "theirs.sig"
    # model_signing 1.1.1 names a one-file model's resource "." (the spec: its basename); both are read
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(keys["p256"][0])).sign(weights, theirs)
    assert verify_json(capsys, weights, theirs, "--key", keys["p256"][1])[0] == 0
    assert run(capsys, "sign", weights, "--key", keys["p256"][0], "--no-attestations")[0] == 0
    ours = model / "model.safetensors.sig"
    statement = json.loads(base64.b64decode(json.loads(ours.read_text())["dsseEnvelope"]["payload"]))
    assert [r["name"] for r in statement["predicate"]["resources"]] == ["model.safetensors"]
    assert verify_json(capsys, weights, ours, "--key", keys["p256"][1])[0] == 0
    with open(weights, "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x01")
    code, doc = verify_json(capsys, weights, ours, "--key", keys["p256"][1])
    assert code == 1 and doc["changed"] == ["model.safetensors"]


def test_sign_refuses_empty_models_bad_ignores_and_locked_keys(tmp_path, keys, capsys, monkeypatch):
    from cryptography.hazmat.primitives import serialization

    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    (empty / ".git" / "HEAD").write_text("x")  # only what OMS excludes
    code, _, err = run(capsys, "sign", empty, "--key", keys["p256"][0], "--no-attestations")
    assert code == 2 and "no file to sign" in err
    m = tmp_path / "m"
    m.mkdir()
    (m / "config.json").write_text("{}")
    code, _, err = run(capsys, "sign", m, "--key", keys["p256"][0], "--ignore-path", "../x")
    assert code == 2 and "../x" in err
    key = serialization.load_pem_private_key(keys["p256"][0].read_bytes(), None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"s3cret")))
    code, _, err = run(capsys, "sign", m, "--key", locked)
    assert code == 2 and "password" in err.lower()
    monkeypatch.setenv("AITRAIL_TEST_PW", "s3cret")
    pw = ["--password-env", "AITRAIL_TEST_PW"]
    code, _, err = run(capsys, "sign", m, "--key", locked, *pw, "--ignore-path", "notes")
    assert code == 0, err
    statement = json.loads(base64.b64decode(json.loads((m / "model.sig").read_text())["dsseEnvelope"]["payload"]))
    assert "notes" in statement["predicate"]["serialization"]["ignore_paths"]
    assert verify_json(capsys, m, m / "model.sig", "--key", keys["p256"][1])[0] == 0


def test_links_outside_the_model_are_warned_of_and_oversized_bundles_are_a_check_finding(model, keys, capsys, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("elsewhere")
    (model / "linked.txt").symlink_to(outside)
    code, _, err = run(capsys, "sign", model, "--key", keys["p256"][0], "--allow-symlinks", "--no-attestations")
    assert code == 0 and "linked.txt: a symbolic link to" in err and "outside the model" in err
    (model / "linked.txt").unlink()
    with open(model / "model.sig", "wb") as f:  # sparse: over the limit without writing 256 MiB
        f.truncate(oms.MAX_BUNDLE + 1)
    code, out, _ = run(capsys, "check", model, "-f", "json", "--signature-key", keys["p256"][1])
    doc = json.loads(out)
    assert "limit" in doc["security"]["signatures"][0]["status"]
    assert any(f["rule"] == "integrity.signature-limit" for f in doc["inventory"]["findings"])
    code, v = verify_json(capsys, model, model / "model.sig", "--key", keys["p256"][1])
    assert code == 2 and "limit" in v["problems"][0]


def _ca_chain(d: Path) -> tuple[Path, Path, Path, Path]:
    """A root CA, an intermediate and a code-signing leaf (P-256), as PEM files: key, leaf, chain, root."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)

    def cert(name, key, issuer_name, issuer_key, ca):
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
        else:
            b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
        return b.sign(issuer_key, hashes.SHA256())

    rk, ik, lk = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = cert("test-root", rk, "test-root", rk, True)
    inter = cert("test-intermediate", ik, "test-root", rk, True)
    leaf = cert("signer@example.org", lk, "test-intermediate", ik, False)
    pem = serialization.Encoding.PEM
    paths = [d / "leaf.key", d / "leaf.pem", d / "inter.pem", d / "root.pem"]
    paths[0].write_bytes(lk.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(inter.public_bytes(pem))
    paths[3].write_bytes(root.public_bytes(pem))
    return paths[0], paths[1], paths[2], paths[3]


def test_model_signing_certificate_bundles_verify_to_the_given_root_only(model, capsys, tmp_path):
    import model_signing.signing

    key, leaf, inter, root = _ca_chain(tmp_path)
    sig = tmp_path / "model.sig"
    model_signing.signing.Config().use_certificate_signer(
        private_key=key, signing_certificate=leaf, certificate_chain=[inter, root]
    ).sign(model, sig)
    code, doc = verify_json(capsys, model, sig, "--trust-root", root)
    assert code == 0 and doc["method"] == "certificate" and "signer@example.org" in doc["signer"], doc
    (tmp_path / "other.pem").write_bytes(_self_signed_pem())
    code, doc = verify_json(capsys, model, sig, "--trust-root", tmp_path / "other.pem")
    assert code == 1 and "not issued by any certificate of the trust root" in doc["problems"][0]


def test_names_from_a_bundle_cannot_drive_the_terminal(model, keys, capsys, tmp_path):
    (model / "evil\x1b[2Jname.txt").write_text("x")  # a real file whose name holds an escape sequence
    code, out, _ = run(capsys, "sign", model, "--key", keys["p256"][0], "--no-attestations")
    assert code == 0
    (model / "evil\x1b[2Jname.txt").unlink()
    code, out, _ = run(capsys, "verify", model, "--signature", model / "model.sig", "--key", keys["p256"][1])
    assert code == 1 and "\x1b" not in out and "evil\\x1b[2Jname.txt: signed but missing" in out


def _mutate(node, rng):
    """One random change somewhere in a JSON tree: drop a key, retype a value, flip a character."""
    path = []
    while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
        k = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, k))
        node = node[k]
    if not path:
        return
    parent, k = path[-1]
    choice = rng.randrange(4)
    if choice == 0 and isinstance(parent, dict):
        del parent[k]
    elif choice == 1:
        parent[k] = rng.choice([None, 0, -1, 1.5, True, "", "x", [], {}, [1], {"a": 1}])
    elif isinstance(parent[k], str) and parent[k]:
        s = parent[k]
        i = rng.randrange(len(s))
        parent[k] = s[:i] + rng.choice("A/+=0a{\"\\\x00é") + s[i + 1 :]
    else:
        parent[k] = str(parent[k])


def test_mutated_bundles_never_crash_and_never_pass_unless_the_signed_bytes_are_intact(tmp_path, keys):
    import random

    m = tmp_path / "m"
    m.mkdir()
    (m / "config.json").write_text('{"model_type": "bert"}')
    (m / "w.bin").write_bytes(b"\1" * 1000)
    signed = sign.sign(m, keys["p256"][0].read_bytes(), tmp_path / "good.sig", attest=False)
    good = signed.bundle
    rng = random.Random(15)
    pub = keys["p256"][1].read_bytes()
    key = oms.load_private_key(keys["p256"][0].read_bytes())
    statement = json.loads(base64.b64decode(good["dsseEnvelope"]["payload"]))
    outcomes = {0: 0, 1: 0, 2: 0}
    for i in range(600):
        b = json.loads(json.dumps(good))
        if i % 2:  # the statement itself, re-signed: the parser behind the signature is reached
            s = json.loads(json.dumps(statement))
            for _ in range(rng.randint(1, 3)):
                _mutate(s, rng)
            b["dsseEnvelope"] = oms.envelope(s, key)
        for _ in range(rng.randint(0 if i % 2 else 1, 3)):
            _mutate(b, rng)
        p = tmp_path / f"mut{i}.sig"
        p.write_text(json.dumps(b) if i % 7 else json.dumps(b)[: rng.randrange(1, 200)])
        v = verify.verify(m, p, key_pem=pub)  # must not raise
        outcomes[v.status] += 1
        if v.passed:  # what was verified is exactly what was signed: the same files and digests
            assert oms.manifest(oms.read(p)).resources == signed.manifest.resources, i
        if v.passed and i % 2 == 0:
            env, genv = b["dsseEnvelope"], good["dsseEnvelope"]
            assert base64.b64decode(env["payload"]) == base64.b64decode(genv["payload"]), i
            assert any(base64.b64decode(s["sig"]) == base64.b64decode(genv["signatures"][0]["sig"])
                       for s in env["signatures"]), i
    assert outcomes[1] and outcomes[2]  # both kinds of refusal were met
    # found by this fuzz (seeds 1-3, 3,000 mutants each): non-ASCII base64 and a non-string algorithm
    for env in ({"payload": "é", "payloadType": oms.PAYLOAD_TYPE, "signatures": [{"sig": "AA=="}]},):
        with pytest.raises(oms.BundleError, match="malformed"):
            oms.loads(json.dumps({**good, "dsseEnvelope": env}).encode())
    bad = json.loads(json.dumps(statement))
    bad["predicate"]["resources"][0]["algorithm"] = {"a": 1}
    with pytest.raises(oms.BundleError, match="algorithm"):
        oms.parse_statement(bad)


@pytest.mark.parametrize("algorithm", ["blake2", "blake3"])
def test_model_signing_blake_digests_verify(model, keys, capsys, tmp_path, algorithm):
    import model_signing.hashing
    import model_signing.signing

    sig = tmp_path / "model.sig"
    hashing = model_signing.hashing.Config().use_file_serialization(hashing_algorithm=algorithm)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(keys["p256"][0])).set_hashing_config(
        hashing
    ).sign(model, sig)
    assert verify_json(capsys, model, sig, "--key", keys["p256"][1])[0] == 0
    (model / "vocab.txt").write_text("changed")
    code, doc = verify_json(capsys, model, sig, "--key", keys["p256"][1])
    assert code == 1 and doc["changed"] == ["vocab.txt"] and "blake" in doc["problems"][0]


def test_model_signing_shards_omit_empty_files_and_aitrail_agrees(model, keys, capsys, tmp_path):
    """Spec §6.3.2 step 1: a shards manifest leaves out zero-byte files; such a file is not 'added'."""
    (model / "__init__.py").write_bytes(b"")
    sig = tmp_path / "model.sig"
    _shard_sign(model, keys["p256"][0], sig)
    assert verify_json(capsys, model, sig, "--key", keys["p256"][1])[0] == 0
    (model / "added.py").write_text("x = 1\n")  # a file with bytes is still named
    code, doc = verify_json(capsys, model, sig, "--key", keys["p256"][1])
    assert code == 1 and doc["added"] == ["added.py"]


def test_signing_again_without_attestations_leaves_a_signature_that_verifies(signed, keys, capsys):
    """The attestations of the first signing describe the signature being replaced: not signed, removed."""
    assert (signed / "model.sig.bom.intoto.json").exists()
    code, _, err = run(capsys, "sign", signed, "--key", keys["p256"][0], "--no-attestations")
    assert code == 0 and "removed" in err
    assert not (signed / "model.sig.bom.intoto.json").exists() and not (signed / "model.sig.check.intoto.json").exists()
    assert verify_json(capsys, signed, signed / "model.sig", "--key", keys["p256"][1])[0] == 0
