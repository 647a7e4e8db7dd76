"""Model signatures made by the OpenSSF `model-signing` library, verified by `aitrail check` offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import MINILM

from aitrail.cli import main


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    d = tmp_path_factory.mktemp("keys")
    out = []
    for name in ("signer", "other"):
        k = ec.generate_private_key(ec.SECP256R1())
        priv = d / f"{name}.key"
        priv.write_bytes(
            k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        pub = d / f"{name}.pub"
        pub.write_bytes(
            k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        out += [priv, pub]
    return out[0], out[1], out[3]


def signed_model(tmp_path: Path, private_key: Path) -> Path:
    import model_signing.signing

    model = tmp_path / "model"
    shutil.copytree(MINILM, model)
    sig = tmp_path / "model.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=str(private_key)).sign(model, sig)
    shutil.move(sig, model / "model.sig")  # beside the files it covers, where aitrail looks
    return model


def check(capsys, model: Path, *args: str) -> tuple[int, dict]:
    code = main(["check", str(model), "-f", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_real_signature_verifies_against_the_scan_digests(tmp_path, keys, capsys):
    priv, pub, _ = keys
    model = signed_model(tmp_path, priv)
    code, doc = check(capsys, model, "--signature-key", str(pub))
    sig = doc["security"]["signatures"][0]
    assert code == 0 and sig["verified"] is True and sig["signed_files"] >= 10, sig
    assert sig["mismatched"] == [] and sig["missing"] == []
    # without the key it is listed, not judged
    _, doc = check(capsys, model)
    assert (
        doc["security"]["signatures"][0]["verified"] is None
        and "--signature-key" in doc["security"]["signatures"][0]["status"]
    )


def test_a_changed_file_and_a_wrong_key_are_caught(tmp_path, keys, capsys):
    priv, pub, other = keys
    model = signed_model(tmp_path, priv)
    with open(model / "config.json", "a") as fh:
        fh.write(" ")
    code, doc = check(capsys, model, "--signature-key", str(pub))
    sig = doc["security"]["signatures"][0]
    assert code == 1 and sig["verified"] is False and sig["mismatched"] == ["config.json"]
    assert doc["policy"]["violations"][0]["policy_key"] == "security.fail_on"
    assert any(f["rule"] == "integrity.file-not-as-signed" for f in doc["inventory"]["findings"])
    model2 = signed_model(tmp_path / "b", priv)
    code, doc = check(capsys, model2, "--signature-key", str(other))
    assert code == 1 and doc["security"]["signatures"][0]["verified"] is False
    assert "another key" in doc["security"]["signatures"][0]["status"]


def test_a_tampered_statement_fails_and_unsigned_files_are_named(tmp_path, keys, capsys):
    import base64

    priv, pub, _ = keys
    model = signed_model(tmp_path, priv)
    (model / "extra.bin").write_bytes(b"added after signing")
    code, doc = check(capsys, model, "--signature-key", str(pub))
    sig = doc["security"]["signatures"][0]
    assert sig["verified"] is True and sig["unsigned"] == ["extra.bin"]
    # a key given requires the signature, and a file the signer did not sign fails it
    [v] = doc["policy"]["violations"]
    assert code == 1 and v["policy_key"] == "signatures.required"
    assert v["evidence"] == ["extra.bin: not covered by model.sig"]
    bundle = json.loads((model / "model.sig").read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64  # re-point a file, keep the old signature
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (model / "model.sig").write_text(json.dumps(bundle))
    code, doc = check(capsys, model, "--signature-key", str(pub))
    assert code == 1 and doc["security"]["signatures"][0]["verified"] is False


def test_policy_can_require_a_verified_signature(tmp_path, keys, capsys):
    priv, pub, _ = keys
    pol = tmp_path / "p.yaml"
    pol.write_text("aitrail_policy: 1\nsignatures: {required: true}\n")
    code, doc = check(capsys, MINILM, "--policy", str(pol))
    assert code == 1 and doc["policy"]["violations"][0]["policy_key"] == "signatures.required"
    model = signed_model(tmp_path, priv)
    assert check(capsys, model, "--policy", str(pol))[0] == 1  # present but not verified: no key given
    assert check(capsys, model, "--policy", str(pol), "--signature-key", str(pub))[0] == 0


def test_a_verified_signature_makes_the_lineage_it_covers_signed(tmp_path):
    """issue 15: declared < hash-shared < weight-similar < signed. A derived-from claim whose card is
    covered by a verified signature is graded signed; a card changed after signing is not."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec

    from aitrail import check as C
    from aitrail.provenance import sign

    k = ec.generate_private_key(ec.SECP256R1())
    priv = k.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    pub = k.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    model = tmp_path / "ft"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    (model / "README.md").write_text("---\nlicense: mit\nbase_model: google-bert/bert-base-uncased\n---\n# ft\n")
    for path, text in sign.sign(model, priv, attest=False).texts():
        path.write_text(text)

    def grades() -> set[str | None]:
        inv = C.check(model, signature_key=pub).inventory
        return {r.grade for r in inv.relationships if str(r.kind) == "derived-from"}

    assert grades() == {"signed"}
    (model / "README.md").write_text("---\nlicense: mit\nbase_model: someone/else\n---\n# ft\n")
    assert grades() == {"declared"}


def test_a_signed_subfolder_does_not_sign_the_model_around_it(tmp_path, keys, capsys):
    """A publisher's other signed artefact copied into a folder is no signature of the weights beside it."""
    priv, pub, _ = keys
    inner = signed_model(tmp_path, priv)
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "config.json").write_text('{"model_type": "bert"}')
    (outer / "model.safetensors").write_bytes((inner / "model.safetensors").read_bytes())
    shutil.move(inner, outer / "docs_model")
    code, doc = check(capsys, outer, "--signature-key", str(pub))
    [v] = doc["policy"]["violations"]
    assert code == 1 and v["policy_key"] == "signatures.required"
    want = {f"{n}: not covered by docs_model/model.sig" for n in ("config.json", "model.safetensors")}
    assert want <= set(v["evidence"])
    unsigned = {f["path"] for f in doc["inventory"]["findings"] if f["rule"] == "integrity.unsigned-file"}
    assert "config.json" in unsigned


def test_files_added_where_the_scan_does_not_walk_are_unsigned_as_verify_says(tmp_path, keys, capsys):
    priv, pub, _ = keys
    model = signed_model(tmp_path, priv)
    (model / "__pycache__").mkdir()
    (model / "__pycache__" / "modeling_x.py").write_text("import os\nos.system('id')\n")
    code, doc = check(capsys, model, "--signature-key", str(pub))
    assert code == 1 and doc["security"]["signatures"][0]["unsigned"] == ["__pycache__/modeling_x.py"]
