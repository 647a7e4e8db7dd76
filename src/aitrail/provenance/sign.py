"""``aitrail sign``: an OMS v1.0 bundle from the scan's digests, with the BOM and check document attested.

The check (:func:`aitrail.check.check`) reads every file once and hashes it on the way; the
signature reuses those SHA-256 digests. Only files the scan does not read (folders it skips, such
as ``__pycache__``, which a signature must still cover) are hashed here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files, oms

BOM_PREDICATE = "https://cyclonedx.org/bom"
CHECK_PREDICATE = "https://aitrail.dev/schemas/check-1.0.json"
BOM_SUFFIX = ".bom.intoto.json"
CHECK_SUFFIX = ".check.intoto.json"


@dataclass
class Signed:
    """What :func:`sign` made: the bundle and attestations, not yet written, and where they go."""

    signature: Path
    bundle: dict[str, Any]
    manifest: oms.Manifest
    attestations: dict[Path, dict[str, Any]] = field(default_factory=dict)
    hashed_by_scan: int = 0
    hashed_here: int = 0
    notes: list[str] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # attestations of the signature this one replaces

    def texts(self) -> list[tuple[Path, str]]:
        """Every file to write, signature last (its attestations are never newer than it)."""
        out = [(p, json.dumps(b, indent=2) + "\n") for p, b in self.attestations.items()]
        return out + [(self.signature, json.dumps(self.bundle, indent=2) + "\n")]


def default_signature(model: Path) -> Path:
    """``model.sig`` inside a model folder (where ``aitrail check`` looks), ``<file>.sig`` beside a file."""
    return model / "model.sig" if model.is_dir() else model.with_name(model.name + ".sig")


def attestation_paths(signature: Path) -> tuple[Path, Path]:
    """Where the BOM and check attestations of ``signature`` are written (beside it)."""
    return signature.with_name(signature.name + BOM_SUFFIX), signature.with_name(signature.name + CHECK_SUFFIX)


def sign(
    model: str | os.PathLike[str],
    private_key_pem: bytes,
    signature: str | os.PathLike[str] | None = None,
    *,
    password: bytes | None = None,
    ignore_paths: list[str] | tuple[str, ...] = (),
    allow_symlinks: bool = False,
    follow_symlinks: bool = False,
    attest: bool = True,
) -> Signed:
    """Sign ``model`` (a folder or one file). Raises oms.BundleError / oms.NeedsMore for an unusable
    key, files.ModelError for a model OMS cannot sign as it is, InputError when it cannot be scanned."""
    root = Path(model)
    key = oms.load_private_key(private_key_pem, password)
    sig = Path(signature) if signature else default_signature(root)
    bom_at, check_at = attestation_paths(sig)
    for p in ignore_paths:
        if oms.canonical_name(p) != p:
            raise files.ModelError(p, "an ignore path must be a relative path inside the model, '/'-separated")
    ignores = list(oms.DEFAULT_IGNORES) + [p for p in ignore_paths if p not in oms.DEFAULT_IGNORES]
    if root.is_dir():  # our own outputs are never signed (spec §6.2); recorded so any verifier skips them too
        # (the attestation paths too without attestations: an earlier signing's files may be there)
        for out in (sig, bom_at, check_at):
            rel = files.relative_inside(root, out)
            if rel and rel not in ignores:
                ignores.append(rel)
    warnings: list[str] = []
    listed = files.enumerate_model(root, ignores, allow_symlinks, warnings)
    if not listed:
        raise files.ModelError(root.name, "no file to sign after the exclusions (an empty model is refused, §6.1)")

    # With attestations the check (one read of every byte) supplies the digests; without, the files are
    # only hashed, as any OMS signer does (no catalogers, no security rules: nothing else is written)
    result, check_doc, notes = _scan(root, follow_symlinks) if attest else (None, None, [])
    notes = warnings + notes
    by_path: dict[str, str] = {}
    if result is not None:
        for c in result.inventory.components:
            if c.path and c.sha256 and c.path in result.paths:
                by_path[os.path.abspath(result.paths[c.path])] = c.sha256
    digests: dict[str, str] = {}
    rest: dict[str, Path] = {}
    for rel, fp in listed.items():
        d = by_path.get(os.path.abspath(fp))
        if d:
            digests[rel] = d
        else:
            rest[rel] = fp
    digests.update(files.hash_files(rest))
    serialization = {"method": "files", "hash_type": "sha256", "allow_symlinks": allow_symlinks,
                     "ignore_paths": ignores}
    name = root.resolve().name or "model"
    stmt = oms.statement(name, list(digests.items()), serialization)
    bundle = oms.bundle(stmt, key)
    parsed = oms.manifest(oms.loads(json.dumps(bundle).encode()))  # what we write reads back as OMS
    signed = Signed(sig, bundle, parsed, hashed_by_scan=len(digests) - len(rest), hashed_here=len(rest), notes=notes)
    if not attest:  # attestations beside the signature describe the one being replaced: removed when it is written
        signed.stale = [p for p in (bom_at, check_at) if os.path.lexists(p)]
    if attest and result is not None:
        subject = stmt["subject"]
        from ..export import cyclonedx

        bom = json.loads(cyclonedx.dumps(result.inventory))
        signed.attestations[bom_at] = _attestation(subject, BOM_PREDICATE, bom, key)
        if check_doc is not None:
            signed.attestations[check_at] = _attestation(subject, CHECK_PREDICATE, check_doc, key)
    return signed


def _attestation(subject: list[dict[str, Any]], predicate_type: str, predicate: Any, key: Any) -> dict[str, Any]:
    """A Sigstore bundle like the signature's, whose statement binds ``predicate`` to the same subject."""
    stmt = {"_type": oms.STATEMENT_TYPE, "subject": subject, "predicateType": predicate_type, "predicate": predicate}
    return {
        "mediaType": oms.MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": oms.key_hint(key.public_key())}, "tlogEntries": []},
        "dsseEnvelope": oms.envelope(stmt, key),
    }


def _scan(root: Path, follow_symlinks: bool) -> tuple[Any, dict[str, Any] | None, list[str]]:
    """The check (one read, digests included); a folder that is not recognisably a model still gets
    its BOM and digests, without a check document (said in the notes)."""
    import threading

    from ..check import NothingToCheck, check
    from ..scanner import NothingToScan, scan_all

    # What the check and the BOM need after hashing (the licence knowledge, the CycloneDX writer) is
    # loaded while the files hash: hashlib releases the GIL, so on a multi-GB model this is free.
    threading.Thread(target=_preload, daemon=True).start()
    try:
        res = check(root, follow_symlinks=follow_symlinks)
        return res.scan, res.to_dict(), []
    except (NothingToCheck, NothingToScan) as e:
        scan = scan_all(root, hash_files=True, follow_symlinks=follow_symlinks, require_model=False)
        return scan, None, [f"no check attestation: {e}"]


def _preload() -> None:
    try:
        from ..analyze import licenses
        from ..export import cyclonedx  # noqa: F401 - imported for its import time only

        licenses.knowledge()
    except Exception:  # noqa: BLE001 - a warm-up only: the check loads (and reports) it again
        pass
