"""Certificate chains as X.509 path validation judges them, differential with the real model-signing verifier:
chains it refuses (a path length exceeded, an issuer without keyCertSign, a signer's key usage without
digitalSignature) are refused by `aitrail verify` too, and a good chain verifies in both. An expired trust
root is refused by aitrail and accepted by model-signing 1.1.1 (stricter on purpose: RFC 5280 6.1.3 checks
every certificate of the path, and a trust anchor past its date is no anchor)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from builders import safetensors_file
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aitrail.cli import main
from aitrail.provenance import oms

NOW = dt.datetime.now(dt.timezone.utc)


def _cert(subject, key, issuer=None, issuer_key=None, ca=False, pathlen=None, ku="ds", eku=True, days=(-1, 30)):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(x509.KeyUsage(digital_signature="ds" in ku, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign="kcs" in ku,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def _k():
    return ec.generate_private_key(ec.SECP256R1())


def _chains():
    out = {}
    rk, ik, lk = _k(), _k(), _k()
    root = _cert("Root pathlen 0", rk, ca=True, pathlen=0, ku="kcs", eku=False)
    inter = _cert("Intermediate", ik, root, rk, ca=True, ku="kcs", eku=False)
    out["pathlen"] = ([_cert("Leaf", lk, inter, ik), inter], lk, root, (False, False))
    rk, ik, lk = _k(), _k(), _k()
    root = _cert("Root", rk, ca=True, ku="kcs", eku=False)
    inter = _cert("Intermediate without keyCertSign", ik, root, rk, ca=True, ku="ds", eku=False)
    out["issuer-ku"] = ([_cert("Leaf", lk, inter, ik), inter], lk, root, (False, False))
    rk, lk = _k(), _k()
    root = _cert("Root", rk, ca=True, ku="kcs", eku=False)
    out["leaf-ku"] = ([_cert("Leaf certSign only", lk, root, rk, ku="kcs", eku=False)], lk, root, (False, False))
    rk, lk = _k(), _k()
    root = _cert("Root expired", rk, ca=True, ku="kcs", eku=False, days=(-60, -30))
    out["root-expired"] = ([_cert("Leaf", lk, root, rk, days=(-40, 30))], lk, root, (False, True))
    rk, ik, lk = _k(), _k(), _k()
    root = _cert("Root", rk, ca=True, ku="kcs", eku=False)
    inter = _cert("Intermediate", ik, root, rk, ca=True, ku="kcs", eku=False)
    out["good"] = ([_cert("Leaf", lk, inter, ik), inter], lk, root, (True, True))
    return out


CHAINS = _chains()


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_verdicts_agree_with_model_signing(tmp_path: Path, name: str, capsys):
    chain, leaf_key, root, expected = CHAINS[name]
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    safetensors_file(model / "model.safetensors", {"w": ("float32", (2, 2))})
    key = tmp_path / "leaf.key"
    key.write_bytes(leaf_key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    sig = tmp_path / "m.sig"
    assert main(["sign", str(model), "--key", str(key), "--signature", str(sig), "--no-attestations", "-q"]) == 0
    b = json.loads(sig.read_text())
    b["verificationMaterial"] = {"x509CertificateChain": {"certificates": [
        {"rawBytes": base64.b64encode(c.public_bytes(ser.Encoding.DER)).decode()} for c in chain]}, "tlogEntries": []}
    sig.write_text(json.dumps(b))
    roots = tmp_path / "roots.pem"
    roots.write_bytes(root.public_bytes(ser.Encoding.PEM))

    import model_signing.verifying

    try:
        model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[roots]).verify(model, sig)
        theirs = True
    except Exception:  # noqa: BLE001 - model-signing raises several error types for a refused chain
        theirs = False
    try:
        oms.verify_with_chain(oms.loads(sig.read_bytes()), roots.read_bytes())
        ours = True
    except oms.VerificationFailed:
        ours = False
    assert (ours, theirs) == expected
    code = main(["verify", str(model), "--signature", str(sig), "--trust-root", str(roots)])
    assert code == (0 if ours else 1)
