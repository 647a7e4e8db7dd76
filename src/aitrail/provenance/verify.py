"""``aitrail verify``: a model folder against an OMS v1.0 signature (spec §8), offline.

Passes only when the signature verifies, its statement is an OMS manifest, every signed file is
present with its signed digest, no other file is there (unless ``ignore_unsigned``), and the
attestations signed beside it (BOM, check document) verify and name the same model. Anything that
stops a check short is a failure or an unusable input, never a pass.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import jsonsafe
from . import files, oms
from .sign import BOM_PREDICATE, CHECK_PREDICATE, attestation_paths

PASSED, FAILED, UNUSABLE = 0, 1, 2  # the command's exit codes


@dataclass
class Verdict:
    """The outcome; ``problems`` say, file by file, why it is not a pass."""

    model: str
    signature: str
    status: int = UNUSABLE
    method: str | None = None
    signer: str | None = None
    subject: dict[str, str] = field(default_factory=dict)  # the signed model's name and root digest
    signed_files: int = 0
    matched: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items()}
        d["verdict"] = {PASSED: "verified", FAILED: "failed", UNUSABLE: "unusable input"}[self.status]
        return d


def verify(
    model: str | os.PathLike[str],
    signature: str | os.PathLike[str],
    *,
    key_pem: bytes | None = None,
    trust_root: str | os.PathLike[str] | None = None,
    identity: str | None = None,
    issuer: str | None = None,
    ignore_unsigned: bool = False,
    at: datetime | None = None,
) -> Verdict:
    """Verify ``model`` against the bundle at ``signature``. Never raises for a bad model, key or bundle:
    the verdict says what failed (status FAILED) or what could not be used (UNUSABLE)."""
    root, sig = Path(model), Path(signature)
    v = Verdict(str(model), str(signature))
    try:
        b = oms.read(sig)
        v.method = b.method
        v.signer = _check_signature(b, key_pem, trust_root, identity, issuer, at)
        man = oms.manifest(b)
    except OSError as e:
        return _stop(v, UNUSABLE, f"{signature}: cannot read the signature ({e.strerror or e})")
    except (oms.BundleError, oms.NeedsMore) as e:
        return _stop(v, UNUSABLE, f"{signature}: {e}")
    except oms.VerificationFailed as e:
        return _stop(v, FAILED, f"{signature}: {e}")
    if root.is_file():
        man = man.for_file(root.name)
    v.subject = {"name": man.name, "root_digest": man.root_digest}
    v.signed_files = len(man.files())
    _compare(v, root, sig, man, ignore_unsigned)
    if v.status != UNUSABLE or not v.problems:
        _attestations(v, sig, b, man, key_pem)
    if not v.problems:
        v.status = PASSED
    return v


def _stop(v: Verdict, status: int, problem: str) -> Verdict:
    v.status = status
    v.problems.append(problem)
    return v


def _check_signature(
    b: oms.Bundle,
    key_pem: bytes | None,
    trust_root: str | os.PathLike[str] | None,
    identity: str | None,
    issuer: str | None,
    at: datetime | None,
) -> str:
    """Verify the envelope by the bundle's method; return who signed (key hint or certificate subject)."""
    if b.method == "key":
        if key_pem is None:
            raise oms.NeedsMore("a key-signed bundle: pass the signer's public key (--key PUBLIC.pem)")
        key = oms.load_public_key(key_pem)
        oms.verify_with_key(b, key)
        return f"key {oms.key_hint(key)}"
    if trust_root is None:
        raise oms.NeedsMore(f"a {b.method} bundle: " + oms._needs(b.method))
    try:
        roots = Path(trust_root).read_bytes()
    except OSError as e:
        raise oms.NeedsMore(f"--trust-root {trust_root}: cannot read it ({e.strerror or e})") from None
    if b.method == "certificate":
        return "certificate " + oms.verify_with_chain(b, roots, at)
    return _sigstore(b, Path(trust_root), roots, identity, issuer)


def _sigstore(b: oms.Bundle, trust_root: Path, roots: bytes, identity: str | None, issuer: str | None) -> str:
    """Sigstore keyless, offline: sigstore-python's verifier with the given trust root (Fulcio chain,
    Rekor inclusion, signed timestamps) and an identity policy; nothing is fetched."""
    if not identity or not issuer:
        raise oms.NeedsMore("a Sigstore keyless bundle: pass the signer's --identity and OIDC --issuer")
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
        from sigstore.verify import Verifier, policy
    except ImportError:
        raise oms.NeedsMore(
            "a Sigstore keyless bundle: verifying it offline needs the sigstore package (pip install sigstore)"
        ) from None
    try:
        try:
            root = TrustedRoot.from_file(str(trust_root))
        except Exception:  # noqa: BLE001 - not a bare trusted root: try a client trust config
            root = ClientTrustConfig.from_json(roots.decode("utf-8")).trusted_root
    except Exception as e:  # noqa: BLE001 - any parse failure of the file given
        raise oms.BundleError(f"--trust-root {trust_root}: not a Sigstore trusted root ({type(e).__name__})") from None
    try:
        bundle = Bundle.from_json(json.dumps(b.raw))
    except Exception as e:  # noqa: BLE001 - sigstore's own bundle checks
        raise oms.BundleError(f"not a valid Sigstore bundle ({type(e).__name__}: {e})") from None
    try:
        who = policy.Identity(identity=identity, issuer=issuer)
        ptype, payload = Verifier(trusted_root=root).verify_dsse(bundle, who)
    except (SigstoreError, ValueError) as e:
        raise oms.VerificationFailed(f"Sigstore verification failed: {e}") from None
    if payload != b.payload or ptype != b.payload_type:
        raise oms.VerificationFailed("the Sigstore-verified payload is not the envelope's")
    return f"sigstore {identity} ({issuer})"


def _compare(v: Verdict, root: Path, sig: Path, man: oms.Manifest, ignore_unsigned: bool) -> None:
    ignores = list(oms.DEFAULT_IGNORES) + man.ignore_paths
    if root.is_dir():  # the signature and its attestations are never part of what they sign (§6.2)
        for p in (sig, *attestation_paths(sig)):
            rel = files.relative_inside(root, p)
            if rel:
                ignores.append(rel)
    try:
        listed = files.enumerate_model(root, ignores, man.allow_symlinks)
        if ignore_unsigned:
            signed = man.files()
            listed = {k: fp for k, fp in listed.items() if k in signed}
        actual = files.hash_files(listed, man.hash_type, man.shard_size)
    except files.ModelError as e:
        v.status = FAILED
        v.problems.append(f"{root}/{e}" if e.rel != "." else str(e))
        return
    except OSError as e:
        v.status = UNUSABLE
        v.problems.append(f"{root}: cannot read the model ({e.strerror or e})")
        return
    present = set(listed)
    for name, d in sorted(man.resources.items()):
        path = oms.shard_path(name)[0] if man.method == "shards" else name
        if path not in present:
            if path not in v.missing:
                v.missing.append(path)
        elif actual.get(name) != d:
            if path not in v.changed:
                v.changed.append(path)
    extra = set(actual) - set(man.resources) if man.method == "shards" else set()
    for grown in sorted({oms.shard_path(n)[0] for n in extra}):  # a file that grew has shards the manifest lacks
        if grown not in v.changed and grown in man.files():
            v.changed.append(grown)
    v.added = sorted(present - man.files())
    if man.method == "shards":  # spec §6.3.2 step 1: files with zero bytes are omitted from a shards manifest
        v.added = [n for n in v.added if not _empty(listed[n])]
    v.matched = v.signed_files - len(v.changed) - len(v.missing)
    v.problems += [f"{n}: changed since signing (its {man.hash_type} differs from the signed one)" for n in v.changed]
    v.problems += [f"{n}: signed but missing" for n in v.missing]
    v.problems += [f"{n}: not covered by the signature (added after signing?)" for n in v.added]
    if v.matched == 0 and v.signed_files:
        v.problems.append(
            f"none of the {v.signed_files} signed files matches: this signature is for another model "
            f"(it names {man.name!r}, root digest {man.root_digest[:16]}…)"
        )
    if v.problems:
        v.status = FAILED


def _attestations(v: Verdict, sig: Path, b: oms.Bundle, man: oms.Manifest, key_pem: bytes | None) -> None:
    """The BOM / check attestations beside the signature: signed by the same key, about the same model."""
    for path, ptype in zip(attestation_paths(sig), (BOM_PREDICATE, CHECK_PREDICATE)):
        if not path.exists():
            continue
        entry: dict[str, Any] = {"path": str(path), "predicateType": ptype, "verified": False}
        v.attestations.append(entry)
        try:
            att = oms.read(path)
            if att.material != b.material:
                raise oms.VerificationFailed("not signed with the signature's verification material")
            if b.method != "key" or key_pem is None:
                raise oms.NeedsMore("attestations are checked for key-signed models only")
            oms.verify_with_key(att, oms.load_public_key(key_pem))
            st = jsonsafe.loads(att.payload)
            if not isinstance(st, dict) or st.get("predicateType") != ptype:
                raise oms.BundleError(f"its predicateType is not {ptype}")
            subj = st.get("subject")
            want = [{"name": man.name, "digest": {"sha256": man.root_digest}}]
            if subj != want:
                raise oms.VerificationFailed("it is about another model (its subject is not the signature's)")
            entry["files_matched"] = _same_digests(st.get("predicate"), ptype, man)
            entry["verified"] = True
        except (OSError, ValueError) as e:
            entry["problem"] = str(e)
            v.problems.append(f"{path}: attestation does not verify: {e}")
            v.status = FAILED


def _same_digests(predicate: Any, ptype: str, man: oms.Manifest) -> int:
    """The files the BOM / check document describe must carry the signed digests: the attestation is
    about these bytes, not only about a model of that name. Returns how many were compared."""
    if man.method != "files" or man.hash_type != "sha256":
        return 0
    pairs: list[tuple[Any, Any]] = []
    if ptype == BOM_PREDICATE:  # CycloneDX: file components, bom-ref "file:<path>", hashes [{alg, content}]
        stack = [predicate]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                ref, hashes = node.get("bom-ref"), node.get("hashes")
                if isinstance(ref, str) and ref.startswith("file:") and isinstance(hashes, list):
                    sha = [h.get("content") for h in hashes if isinstance(h, dict) and h.get("alg") == "SHA-256"]
                    pairs += [(ref[5:], d) for d in sha]
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    else:  # the check document: inventory components with path and sha256
        comps = ((predicate or {}).get("inventory") or {}).get("components") if isinstance(predicate, dict) else None
        pairs = [(c.get("path"), c.get("sha256")) for c in comps or [] if isinstance(c, dict) and c.get("sha256")]
    n = 0
    for path, digest in pairs:
        if path in man.resources:
            if man.resources[path] != digest:
                raise oms.VerificationFailed(f"it gives {path} another SHA-256 than the signature")
            n += 1
    return n


def _empty(p: Path) -> bool:
    """A file of zero bytes (one that cannot be stat'ed is not known to be empty)."""
    try:
        return os.stat(p).st_size == 0
    except OSError:
        return False
