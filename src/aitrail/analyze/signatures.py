"""Model signatures (OpenSSF model signing, `model.sig`): verified offline against the scan's digests.

A model-signing bundle is a DSSE envelope whose in-toto statement lists every signed file with its
SHA-256. The `model-signing` library's verifier hashes every file again; `aitrail check` has those
digests already (each byte is read once), so it verifies the envelope's signature with
`cryptography` and compares the signed digests with its own. The bundle is read, and its signature
checked, by :mod:`aitrail.provenance.oms` (the one OMS implementation; ``aitrail verify`` uses it
too). Key-based signatures are verified here; Sigstore keyless and certificate bundles are
recognised and reported as not verified (``aitrail verify --trust-root`` checks them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC = "OpenSSF model signing v1.0 (DSSE envelope, in-toto statement, predicate https://model_signing/signature/v1.0)"


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
    as_signed: set[str] = field(default_factory=set)  # files whose scanned digest is the one signed

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("findings", "as_signed")}
        return d


def check(
    sig_path: Path, shown: str, sha256: str | None, digests: dict[str, str | None], public_key_pem: bytes | None
) -> SignatureCheck:
    """Check one signature file. ``digests`` maps each file's path (as shown) to the scan's SHA-256."""
    from ..provenance import oms

    out = SignatureCheck(shown, sha256, None, "present, not verified")
    try:
        bundle = oms.read(sig_path)
    except OSError as e:
        out.status = f"present, not verified: cannot read it ({e.strerror})"
        return out
    except oms.LimitReached as e:  # a limit reached is a finding of its own (the signature went unread)
        out.status = f"present, not verified: {e}"
        out.findings.append(("medium", "integrity.signature-limit", f"signature {shown}: {e}; not verified"))
        return out
    except oms.BundleError as e:
        out.status = f"present, not verified: not a model-signing bundle ({e})"
        return out
    if bundle.method != "key":
        out.status = (
            f"present, not verified: a {bundle.method} signature needs a trust root; verify it with "
            "`aitrail verify --trust-root`"
        )
        return out
    if public_key_pem is None:
        out.status = "present, not verified: pass the signer's public key (--signature-key)"
        return out
    try:
        oms.verify_with_key(bundle, oms.load_public_key(public_key_pem))
        man = oms.manifest(bundle)
    except (oms.BundleError, oms.VerificationFailed, oms.NeedsMore) as e:
        out.verified = False
        out.status = f"INVALID: {e}"
        out.findings.append(("critical", "integrity.signature-invalid", f"signature {shown}: {e} ({SPEC})"))
        return out
    if man.method != "files" or man.hash_type != "sha256":
        # The scan has one SHA-256 per whole file; other digests need `aitrail verify`, which hashes again.
        out.verified = False
        out.status = (
            f"INVALID: the signature's digests are {man.method}/{man.hash_type}, not whole-file SHA-256 as the scan "
            "computes; verify it with `aitrail verify`"
        )
        out.findings.append(("high", "integrity.signature-unsupported", f"signature {shown}: {out.status}"))
        return out
    base = _folder(shown)
    signed = {base + name: d for name, d in man.resources.items()}
    out.signed_files = len(signed)
    for path, digest in sorted(signed.items()):
        have = digests[path] if path in digests else _unscanned(sig_path.parent, path[len(base) :])
        if have is None:
            out.missing.append(path)
        elif have != digest:
            out.mismatched.append(path)
        else:
            out.as_signed.add(path)
    ignores = list(oms.DEFAULT_IGNORES) + man.ignore_paths
    own = {p for p in digests if p.startswith(base)} - {shown}
    # and what the scan skips (__pycache__, node_modules...), listed as `aitrail verify` lists it
    own |= {base + rel for rel in _on_disk(sig_path.parent, ignores, out)} - {shown}
    out.unsigned = sorted(p for p in own - set(signed) if not oms.is_ignored(p[len(base) :], ignores))
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


def _folder(shown: str) -> str:
    """The folder a signature file covers, as a path prefix ("" for the model's root)."""
    return shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""


def _on_disk(folder: Path, ignores: list[str], out: SignatureCheck) -> list[str]:
    """Every file under the signature's folder (names only), as OMS enumerates a model; a folder that cannot be
    listed is itself unsigned (fail closed: what could not be listed was not shown to be signed)."""
    from ..provenance import files

    try:
        return list(files.enumerate_model(folder, ignores, allow_symlinks=True))
    except (files.ModelError, OSError) as e:
        out.unsigned.append(f"(not fully listed: {e})")
        return []


def cover(checks: list[SignatureCheck], digests: dict[str, str | None]) -> list[str]:
    """Model files no verified signature covers, outside every verified signature's folder (a signature covers
    the folder it sits in: a signed subfolder does not sign the model around it). Each is added to every
    verified check's ``unsigned`` and returned (for findings)."""
    verified = [c for c in checks if c.verified]
    if not verified:
        return []
    covered = set().union(*(c.as_signed for c in verified)) | {c.path for c in checks}
    bases = [_folder(c.path) for c in verified]
    outside = sorted(p for p in digests if p not in covered and not any(p.startswith(b) for b in bases))
    for c in verified:
        c.unsigned = sorted(set(c.unsigned) | set(outside))
    return outside


def _unscanned(folder: Path, rel: str) -> str | None:
    """SHA-256 of a signed file the scan does not read (it skips ``__pycache__``, ``node_modules``...), or
    None when it is not there as a regular file: signed but missing."""
    import os
    import stat

    from ..digest import sha256_file

    p = folder / rel
    try:
        if not stat.S_ISREG(os.lstat(p).st_mode):
            return None
        return sha256_file(p)
    except OSError:
        return None
