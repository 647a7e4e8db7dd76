"""Model signatures (OpenSSF model signing, `model.sig`): verified offline against the scan's digests.

A model-signing bundle is a DSSE envelope whose in-toto statement lists every signed file with its
SHA-256. The `model-signing` library's verifier hashes every file again; `aitrail check` has those
digests already (each byte is read once), so it verifies the envelope's signature with
`cryptography` and compares the signed digests with its own. Key-based signatures (elliptic-curve
public keys, as `model_signing sign key` makes) are verified; Sigstore keyless and certificate
bundles are recognised and reported as not verified offline (they need a trust root).
"""

from __future__ import annotations

import base64
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC = "OpenSSF model signing v1 (DSSE envelope, in-toto statement, predicate https://model_signing/signature/v1.0)"
IGNORED = (".git", ".gitattributes", ".gitignore", ".github/*", ".git/*")  # model_signing's default ignores


@dataclass
class SignatureCheck:
    path: str  # the signature file, as shown in the inventory
    sha256: str | None
    verified: bool | None  # None: not checked (no key, or a kind aitrail cannot check offline)
    status: str
    signed_files: int = 0
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # signed, but not in the model
    unsigned: list[str] = field(default_factory=list)  # in the model, not signed
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # (severity, rule, message)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "findings"}
        return d


class SignatureError(ValueError):
    """The signature cannot be read, or does not verify; the message says which and why."""


def _pae(payload_type: bytes, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding (the bytes the signature covers)."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)


def verify_envelope(bundle: dict[str, Any], public_key_pem: bytes) -> dict[str, Any]:
    """Verify a model-signing bundle's DSSE signature with an EC public key; return its statement."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        env = bundle["dsseEnvelope"]
        payload = base64.b64decode(env["payload"], validate=True)
        payload_type = str(env["payloadType"]).encode()
        sigs = [base64.b64decode(s["sig"], validate=True) for s in env["signatures"]]
    except (KeyError, TypeError, ValueError) as e:
        raise SignatureError(f"not a DSSE envelope ({type(e).__name__}: {e})") from None
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError as e:
        raise SignatureError(f"the public key is not a PEM public key ({e})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("only elliptic-curve public keys are supported (as model signing's key method makes)")
    # model_signing picks the hash by curve size: P-256 SHA-256, P-384 SHA-384, P-521 SHA-512
    algo = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}.get(key.curve.key_size)
    if algo is None:
        raise SignatureError(f"unsupported curve {key.curve.name}")
    for sig in sigs:
        try:
            key.verify(sig, _pae(payload_type, payload), ec.ECDSA(algo))
            break
        except InvalidSignature:
            continue
    else:
        raise SignatureError(
            "the signature does not verify with this public key (wrong key, or the statement was changed)"
        )
    try:
        statement: dict[str, Any] = json.loads(payload)
    except ValueError as e:
        raise SignatureError(f"the signed statement is not JSON ({e})") from None
    return statement


def check(
    sig_path: Path, shown: str, sha256: str | None, digests: dict[str, str | None], public_key_pem: bytes | None
) -> SignatureCheck:
    """Check one signature file. ``digests`` maps each file's path (as shown) to the scan's SHA-256."""
    out = SignatureCheck(shown, sha256, None, "present, not verified")
    try:
        bundle = json.loads(sig_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        out.status = "present, not verified: not a model-signing bundle (JSON)"
        return out
    if not isinstance(bundle, dict) or "dsseEnvelope" not in bundle:
        out.status = "present, not verified: not a DSSE bundle"
        return out
    material = bundle.get("verificationMaterial") or {}
    if "publicKey" not in material:
        out.status = (
            "present, not verified: a Sigstore keyless or certificate signature needs a trust root; verify it "
            "with `model_signing verify`"
        )
        return out
    if public_key_pem is None:
        out.status = "present, not verified: pass the signer's public key (--signature-key)"
        return out
    try:
        statement = verify_envelope(bundle, public_key_pem)
    except SignatureError as e:
        out.verified = False
        out.status = f"INVALID: {e}"
        out.findings.append(("critical", "integrity.signature-invalid", f"signature {shown}: {e} ({SPEC})"))
        return out
    resources = (statement.get("predicate") or {}).get("resources")
    if not isinstance(resources, list):
        out.verified = False
        out.status = "INVALID: the statement lists no signed files (shard serialisation is not supported)"
        out.findings.append(("high", "integrity.signature-unsupported", f"signature {shown}: {out.status}"))
        return out
    base = shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""
    signed: dict[str, str] = {}
    for r in resources:
        if isinstance(r, dict) and r.get("algorithm") == "sha256":
            signed[base + str(r.get("name"))] = str(r.get("digest"))
    out.signed_files = len(signed)
    for path, digest in sorted(signed.items()):
        if path not in digests:
            out.missing.append(path)
        elif digests[path] != digest:
            out.mismatched.append(path)
    own = {p for p in digests if p.startswith(base)} - {shown}
    out.unsigned = sorted(
        p for p in own - set(signed) if not any(fnmatch.fnmatchcase(p[len(base) :], g) for g in IGNORED)
    )
    for p in out.mismatched:
        out.findings.append(
            ("critical", "integrity.file-not-as-signed", f"{p}: its SHA-256 differs from the one signed in {shown}")
        )
    for p in out.missing:
        out.findings.append(("high", "integrity.signed-file-missing", f"{p}: signed in {shown} but not in the model"))
    for p in out.unsigned:
        out.findings.append(("medium", "integrity.unsigned-file", f"{p}: in the model but not covered by {shown}"))
    out.verified = not (out.mismatched or out.missing)
    out.status = (
        f"verified: {len(signed)} files as signed" + (f"; {len(out.unsigned)} unsigned" if out.unsigned else "")
        if out.verified
        else f"INVALID: {len(out.mismatched)} file(s) changed, {len(out.missing)} missing since signing"
    )
    return out
