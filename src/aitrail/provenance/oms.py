"""OpenSSF Model Signing (OMS) v1.0 bundles: build, sign, read and check them.

The one reader of signature bundles in aitrail (``aitrail verify`` and ``aitrail check
--signature-key`` both use it). A bundle is a Sigstore bundle holding a DSSE envelope whose payload
is an in-toto Statement v1 with the predicate ``https://model_signing/signature/v1.0`` (spec:
ossf/model-signing-spec v1.0; section numbers below are that document's). Parsing is plain JSON:
nothing in a bundle is executed or rendered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import jsonsafe

SPEC = "OpenSSF model signing v1.0 (ossf/model-signing-spec)"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
DEFAULT_IGNORES = (".git", ".gitignore", ".gitattributes", ".github")  # §6.2, top-level components
HASH_TYPES = ("sha256", "blake2b", "blake3")  # algorithm registry
MAX_BUNDLE = 256 << 20  # a bundle larger than this is refused (a manifest of millions of files is ~100 MB)
_HEX = re.compile(r"^[0-9a-f]+$")
_SHARD = re.compile(r"^(.*):(\d+):(\d+)$")
# model_signing picks the ECDSA hash by curve (sign_ec_key.get_ec_key_hash); the registry lists these curves.
_CURVES = {"secp256r1": "sha256", "secp384r1": "sha384", "secp521r1": "sha512"}


class BundleError(ValueError):
    """The bundle cannot be used: not JSON, not a Sigstore/DSSE bundle, or not an OMS statement (exit 2)."""


class LimitReached(BundleError):
    """The bundle is larger or deeper than aitrail reads; the message names the limit."""


class VerificationFailed(ValueError):
    """The bundle is well formed but does not verify (wrong key, changed payload, bad chain) (exit 1)."""


class NeedsMore(ValueError):
    """The bundle cannot be verified offline with what was given; the message says what is needed (exit 2)."""


@dataclass
class Manifest:
    """What a statement signs: each resource's name and digest, and how they were made (§5.2)."""

    name: str
    root_digest: str
    method: str  # "files" or "shards"
    hash_type: str
    allow_symlinks: bool
    ignore_paths: list[str]
    shard_size: int | None
    resources: dict[str, str]  # name (or "path:start:end") -> hex digest

    def for_file(self, name: str) -> Manifest:
        """The manifest of a one-file model, its resource named ``name`` (model_signing 1.1.1 writes ".")."""
        if self.files() != {"."}:
            return self
        renamed = {name + n[1:]: d for n, d in self.resources.items()}
        return Manifest(self.name, self.root_digest, self.method, self.hash_type, self.allow_symlinks,
                        self.ignore_paths, self.shard_size, renamed)

    def files(self) -> set[str]:
        """The file paths the manifest covers (shard names reduced to their path)."""
        if self.method == "files":
            return set(self.resources)
        return {shard_path(n)[0] for n in self.resources}


@dataclass
class Bundle:
    """A parsed OMS bundle (structure checked, signature not yet verified)."""

    raw: dict[str, Any]
    method: str  # "key", "certificate" or "sigstore" (§4.1)
    payload: bytes
    payload_type: str
    signatures: list[bytes]
    material: dict[str, Any] = field(default_factory=dict)


# --- canonical forms ---------------------------------------------------------------------------


def root_digest(resources: list[tuple[str, str]]) -> str:
    """§6.5.1: SHA-256 over the raw bytes of every resource digest, in the manifest's order."""
    h = hashlib.sha256()
    for _, digest in resources:
        h.update(bytes.fromhex(digest))
    return h.hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: the bytes a DSSE signature covers."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def canonical_name(name: str) -> str | None:
    """The §6.1.2 form of a resource name, or None when it is not a valid relative path."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def shard_path(name: str) -> tuple[str, int, int]:
    """``path:start:end`` split on its last two colons (§6.3.2: a file name may hold colons)."""
    m = _SHARD.match(name)
    if not m or int(m.group(2)) >= int(m.group(3)):
        raise BundleError(f"shard resource {name!r} is not 'path:start:end' with start < end")
    return m.group(1), int(m.group(2)), int(m.group(3))


def is_ignored(rel: str, ignore_paths: list[str] | tuple[str, ...]) -> bool:
    """§6.2.1: an entry excludes that exact relative path and, if it is a folder, its subtree."""
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in ignore_paths)


def statement(name: str, resources: list[tuple[str, str]], serialization: dict[str, Any]) -> dict[str, Any]:
    """§6.4-6.6: the in-toto statement over ``resources`` ((name, hex digest), sorted here by code point)."""
    ordered = sorted(resources, key=lambda r: r[0])
    algo = serialization["hash_type"]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": root_digest(ordered)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "resources": [{"name": n, "digest": d, "algorithm": algo} for n, d in ordered],
            "serialization": serialization,
        },
    }


# --- keys ----------------------------------------------------------------------------------------


def load_private_key(pem: bytes, password: bytes | None = None) -> Any:
    """An EC private key on a curve OMS allows (P-256, P-384, P-521); BundleError naming why not."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(pem, password)
    except TypeError as e:  # encrypted without a password, or a password for a clear key
        raise NeedsMore(f"the private key: {e}") from None
    except ValueError as e:
        raise BundleError(f"not a PEM private key ({e})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _CURVES:
        raise BundleError(_unsupported(key))
    return key


def load_public_key(pem: bytes) -> Any:
    """An EC public key (PEM SubjectPublicKeyInfo) on a curve OMS allows."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise BundleError(f"not a PEM public key ({e})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise BundleError(_unsupported(key))
    return key


def _unsupported(key: Any) -> str:
    kind = getattr(getattr(key, "curve", None), "name", None) or type(key).__name__.lstrip("_")
    return (
        f"{kind} keys are not allowed: OMS v1.0 signs with elliptic-curve keys on P-256, P-384 or P-521 "
        "(the spec's algorithm registry; Ed25519 and RSA are not in it)"
    )


def key_hint(public_key: Any) -> str:
    """model_signing's key identifier: SHA-256 of the PEM SubjectPublicKeyInfo, hex (§4.1 ``hint``)."""
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def _ecdsa(public_key: Any) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    algo = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
    return ec.ECDSA(algo[_CURVES[public_key.curve.name]])


# --- signing -------------------------------------------------------------------------------------


def envelope(stmt: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """§6.7: the DSSE envelope over ``stmt``, signed with ``private_key``."""
    payload = json.dumps(stmt, indent=2, ensure_ascii=False).encode()
    sig = private_key.sign(pae(PAYLOAD_TYPE, payload), _ecdsa(private_key.public_key()))
    return {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
    }


def bundle(stmt: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """§6.8: a Sigstore bundle for the ``key`` method (``publicKey.hint``, no transparency log)."""
    return {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(private_key.public_key())}, "tlogEntries": []},
        "dsseEnvelope": envelope(stmt, private_key),
    }


# --- reading -------------------------------------------------------------------------------------


def read(path: Path) -> Bundle:
    """:func:`loads` of a file, refusing before reading one that is not a regular file or is too large."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise BundleError("not a regular file (a folder, pipe or device), so not a signature bundle")
    if st.st_size > MAX_BUNDLE:
        raise LimitReached(f"{st.st_size} bytes, over the {MAX_BUNDLE >> 20} MiB limit for a signature bundle")
    with open(path, "rb") as f:
        return loads(f.read(MAX_BUNDLE + 1))


def loads(data: bytes) -> Bundle:
    """§8.1: parse and structurally check a bundle; BundleError says what is wrong with it."""
    if len(data) > MAX_BUNDLE:
        raise LimitReached(f"{len(data)} bytes, over the {MAX_BUNDLE >> 20} MiB limit for a signature bundle")
    if not data.strip():
        raise BundleError("empty file, not a signature bundle")
    try:
        raw = jsonsafe.loads(data)
    except jsonsafe.ShapeError as e:
        raise LimitReached(f"not read as a signature bundle: {e}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise BundleError(f"not JSON, so not a Sigstore bundle (truncated or another format?): {e}") from None
    if not isinstance(raw, dict):
        raise BundleError("not a Sigstore bundle (the JSON is not an object)")
    media = raw.get("mediaType")
    if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore.bundle"):
        raise BundleError(f"not a Sigstore bundle (mediaType {media!r})")
    material = raw.get("verificationMaterial")
    if not isinstance(material, dict):
        raise BundleError("the bundle has no verificationMaterial (who signed it cannot be checked)")
    env = raw.get("dsseEnvelope")
    if not isinstance(env, dict):
        what = "a message signature, not a DSSE envelope" if "messageSignature" in raw else "no dsseEnvelope"
        raise BundleError(f"the bundle has {what}; OMS bundles carry a DSSE envelope")
    try:
        payload = base64.b64decode(env["payload"], validate=True)
        payload_type = env["payloadType"]
        sigs = [base64.b64decode(s["sig"], validate=True) for s in env["signatures"]]
    except (KeyError, TypeError, ValueError) as e:  # binascii.Error, and non-ASCII text, are ValueErrors
        raise BundleError(f"the DSSE envelope is malformed ({type(e).__name__}: {e})") from None
    if not isinstance(payload_type, str) or not payload or not sigs or not all(sigs):
        raise BundleError("the DSSE envelope has no payload, payload type or signature")
    if "publicKey" in material:
        method = "key"
    elif "x509CertificateChain" in material:
        method = "certificate"
    elif "certificate" in material:
        method = "sigstore"
        if not material.get("tlogEntries"):
            raise BundleError("a Sigstore keyless bundle without transparency log entries (tlogEntries)")
    else:
        raise BundleError("the verificationMaterial names no public key, certificate chain or certificate")
    return Bundle(raw, method, payload, payload_type, sigs, material)


def verify_with_key(b: Bundle, public_key: Any) -> None:
    """§8.2 ``key``: the DSSE signature verifies with ``public_key`` (and the bundle names that key)."""
    from cryptography.hazmat.primitives import serialization

    if b.method != "key":
        raise NeedsMore(f"this is a {b.method} bundle, not a key-signed one: {_needs(b.method)}")
    pk = b.material.get("publicKey")
    hint = pk.get("hint") if isinstance(pk, dict) else None
    if hint and hint != key_hint(public_key):
        raise VerificationFailed(
            f"signed with another key: the bundle names key {str(hint)[:16]}…, the key given is "
            f"{key_hint(public_key)[:16]}…"
        )
    if not hint and isinstance(pk, dict) and pk.get("rawBytes"):  # older bundles (§11.2) carry the key itself
        try:
            der = base64.b64decode(pk["rawBytes"])
            mine = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        except (binascii.Error, TypeError, ValueError):
            der, mine = b"", b"-"
        if der and der != mine:
            raise VerificationFailed("signed with another key: the bundle's rawBytes key is not the key given")
    _verify_dsse(b, public_key, "the public key")


def verify_with_chain(b: Bundle, roots_pem: bytes, at: datetime | None = None) -> str:
    """§8.2 ``certificate``: the chain leads to a certificate in ``roots_pem``, every certificate is
    valid at ``at`` (now), and the leaf's key verifies the DSSE signature. Returns the leaf's subject.

    Checked: RFC 5280 path validation by cryptography's verifier (signatures, validity of every certificate
    incl. the trust anchor, CA basic constraints, path length, keyCertSign, critical extensions), then the
    signer's certificate: code-signing EKU when it has one, digitalSignature when it has a key usage. Not
    checked (not available offline): revocation (CRL/OCSP).
    """
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    if b.method != "certificate":
        raise NeedsMore(f"this is a {b.method} bundle, not a certificate-chain one: {_needs(b.method)}")
    try:
        roots = x509.load_pem_x509_certificates(roots_pem)
    except ValueError as e:
        raise BundleError(f"the trust root is not PEM certificates ({e})") from None
    try:
        chain = [
            x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"], validate=True))
            for c in b.material["x509CertificateChain"]["certificates"]
        ]
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise BundleError(f"the bundle's certificate chain cannot be read ({type(e).__name__}: {e})") from None
    if not chain:
        raise BundleError("the bundle's certificate chain is empty")
    now = at or datetime.now(timezone.utc)
    for c in chain:
        if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
            raise VerificationFailed(
                f"certificate {c.subject.rfc4514_string()} is not valid now (valid {c.not_valid_before_utc:%Y-%m-%d} "
                f"to {c.not_valid_after_utc:%Y-%m-%d})"
            )
    for child, parent in zip(chain, chain[1:]):
        _issued_by(child, parent)
    top = chain[-1]
    anchors = [r for r in roots if r == top] or [r for r in roots if r.subject == top.issuer]
    for r in anchors:
        try:
            if r != top:
                _issued_by(top, r)
            break
        except VerificationFailed:
            continue
    else:
        raise VerificationFailed(
            f"the certificate chain ends at {top.subject.rfc4514_string()} (issuer {top.issuer.rfc4514_string()}), "
            "which is not issued by any certificate of the trust root given"
        )
    leaf = chain[0]
    _path_validation(leaf, chain[1:], roots, now)
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
            raise VerificationFailed(f"certificate {leaf.subject.rfc4514_string()} is not for code signing (EKU)")
    except x509.ExtensionNotFound:
        pass
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            raise VerificationFailed(
                f"certificate {leaf.subject.rfc4514_string()} may not sign: its key usage lacks digitalSignature"
            )
    except x509.ExtensionNotFound:
        pass
    key = leaf.public_key()
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise VerificationFailed(_unsupported(key))
    _verify_dsse(b, key, f"certificate {leaf.subject.rfc4514_string()}")
    return leaf.subject.rfc4514_string()


def _path_validation(leaf: Any, intermediates: list[Any], roots: list[Any], now: datetime) -> None:
    """RFC 5280 path validation by cryptography's verifier (hand checks above only give clearer messages): CA
    certificates as the Web PKI profile requires them (basic constraints, path length, keyCertSign, name
    constraints, critical extensions); the signer's certificate is checked after this for signing use."""
    from cryptography.x509 import verification as xv

    try:
        verifier = (
            xv.PolicyBuilder().store(xv.Store(roots)).time(now)
            .extension_policies(ca_policy=xv.ExtensionPolicy.webpki_defaults_ca(),
                                ee_policy=xv.ExtensionPolicy.permit_all())
            .build_client_verifier()
        )
        verifier.verify(leaf, intermediates)
    except xv.VerificationError as e:
        raise VerificationFailed(f"the certificate chain fails X.509 path validation: {e}") from None


def _issued_by(child: Any, parent: Any) -> None:
    from cryptography import x509

    try:
        bc = parent.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise VerificationFailed(f"certificate {parent.subject.rfc4514_string()} is not a CA but issues another")
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, Exception) as e:  # InvalidSignature, name mismatch, unsupported algorithm
        raise VerificationFailed(
            f"certificate {child.subject.rfc4514_string()} is not issued by {parent.subject.rfc4514_string()} "
            f"({type(e).__name__}{': ' + str(e) if str(e) else ''})"
        ) from None


def _verify_dsse(b: Bundle, public_key: Any, what: str) -> None:
    from cryptography.exceptions import InvalidSignature

    if b.payload_type != PAYLOAD_TYPE:
        raise BundleError(f"the DSSE payload type is {b.payload_type!r}, not {PAYLOAD_TYPE}")
    for sig in b.signatures:
        try:
            public_key.verify(sig, pae(b.payload_type, b.payload), _ecdsa(public_key))
            return
        except InvalidSignature:
            continue
    raise VerificationFailed(
        f"the DSSE signature does not verify with {what} (another key signed it, or the statement was changed)"
    )


def _needs(method: str) -> str:
    if method == "certificate":
        return "pass the CA certificate(s) it chains to (--trust-root ROOTS.pem)"
    if method == "sigstore":
        return (
            "Sigstore keyless verification needs the Sigstore trust root (--trust-root trusted_root.json) and "
            "the signer's identity and issuer (--identity, --issuer)"
        )
    return "pass the signer's public key (--key PUBLIC.pem)"


def manifest(b: Bundle) -> Manifest:
    """§8.3: the verified payload as an OMS statement; BundleError for anything that is not one."""
    try:
        st = jsonsafe.loads(b.payload)
    except (UnicodeDecodeError, ValueError) as e:  # ShapeError is a ValueError
        raise BundleError(f"the signed payload is not JSON ({e})") from None
    return parse_statement(st)


def parse_statement(st: Any) -> Manifest:
    """Check an in-toto statement against the OMS v1.0 statement and predicate rules (§5, §8.3)."""
    if not isinstance(st, dict) or st.get("_type") != STATEMENT_TYPE:
        raise BundleError(f"the signed payload is not an in-toto Statement v1 (_type {_get(st, '_type')!r})")
    if st.get("predicateType") != PREDICATE_TYPE:
        raise BundleError(
            f"the statement's predicateType is {_get(st, 'predicateType')!r}, not {PREDICATE_TYPE}: "
            "not an OMS v1.0 model signature"
        )
    subj = st.get("subject")
    if not isinstance(subj, list) or len(subj) != 1 or not isinstance(subj[0], dict):
        raise BundleError("the statement must have exactly one subject (the model)")
    name, digest = subj[0].get("name"), (subj[0].get("digest") or {})
    if not isinstance(name, str) or not name or not isinstance(digest, dict) or not _hexstr(digest.get("sha256")):
        raise BundleError("the statement's subject has no name or no sha256 root digest")
    pred = st.get("predicate")
    if not isinstance(pred, dict) or not isinstance(pred.get("resources"), list):
        raise BundleError("the statement's predicate has no resources list")
    ser = pred.get("serialization")
    if not isinstance(ser, dict):
        raise BundleError("the statement's predicate has no serialization object")
    method, hash_type, symlinks = ser.get("method"), ser.get("hash_type"), ser.get("allow_symlinks")
    if method not in ("files", "shards"):
        raise BundleError(f"serialization.method {method!r} is not 'files' or 'shards'")
    if hash_type not in HASH_TYPES:
        raise BundleError(f"serialization.hash_type {hash_type!r} is not one of {', '.join(HASH_TYPES)}")
    if not isinstance(symlinks, bool):
        raise BundleError("serialization.allow_symlinks is missing or not true/false")
    shard = ser.get("shard_size")
    if isinstance(shard, float) and shard.is_integer():  # model_signing 1.1.1 writes 4194304.0 (protobuf JSON)
        shard = int(shard)
    if method == "shards" and (not isinstance(shard, int) or isinstance(shard, bool) or shard <= 0):
        raise BundleError("serialization.shard_size must be a positive integer for the shards method")
    # model_signing 1.1.1 names shard digests "sha256-sharded-<size>"; the spec's name is the hash type
    algorithms = {hash_type, f"{hash_type}-sharded-{shard}"} if method == "shards" else {hash_type}
    ignores = ser.get("ignore_paths", [])
    if not isinstance(ignores, list) or not all(isinstance(p, str) and p for p in ignores):
        raise BundleError("serialization.ignore_paths is not a list of paths")
    if not pred["resources"]:
        raise BundleError("the statement lists no resources (an OMS manifest has at least one file)")
    resources: dict[str, str] = {}
    ordered: list[tuple[str, str]] = []
    for r in pred["resources"]:
        if not isinstance(r, dict) or not isinstance(r.get("name"), str) or not _hexstr(r.get("digest")):
            raise BundleError(f"resource {r!r:.120} has no name or no hex digest")
        if not isinstance(r.get("algorithm"), str) or r["algorithm"] not in algorithms:
            raise BundleError(f"resource {r['name']!r}: algorithm {r.get('algorithm')!r} is not {hash_type}")
        path = shard_path(r["name"])[0] if method == "shards" else r["name"]
        if canonical_name(path) != path and path != ".":  # ".": model_signing 1.1.1's name for a one-file model
            raise BundleError(f"resource name {r['name']!r} is not a canonical relative path (§6.1.2)")
        if r["name"] in resources:
            raise BundleError(f"resource {r['name']!r} is listed twice")
        resources[r["name"]] = r["digest"]
        ordered.append((r["name"], r["digest"]))
    if "." in {shard_path(n)[0] if method == "shards" else n for n in resources} and len(
        {shard_path(n)[0] if method == "shards" else n for n in resources}
    ) > 1:
        raise BundleError("resource name '.' (a one-file model) beside other resources")
    got = root_digest(ordered)
    if got != digest["sha256"]:
        raise BundleError(
            f"the subject's root digest {digest['sha256'][:16]}… is not the digest of the resources ({got[:16]}…): "
            "the manifest is inconsistent"
        )
    return Manifest(name, got, method, hash_type, symlinks, list(ignores), shard if method == "shards" else None,
                    resources)


def _hexstr(v: Any) -> bool:
    return isinstance(v, str) and bool(_HEX.match(v)) and len(v) % 2 == 0


def _get(d: Any, k: str) -> Any:
    return d.get(k) if isinstance(d, dict) else None

