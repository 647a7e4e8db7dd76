"""Signed uploads: identity by the OMS root digest, the signature kept as an artefact.

An OpenSSF model-signing (OMS) bundle signs a manifest of the model's files; its subject's root digest
is the SHA-256 over the signed files' digests in name order (OMS §6.5). An upload that carries its
bundle (``aitrail push`` attaches the signature files the check found, as their bytes) and whose files
match the manifest — every signed file uploaded with the digest signed, and every uploaded file signed
(less the signature files and the paths the manifest says it ignored) — is identified as
``oms:sha256:<root>``; a later upload with the same root digest and the same signed file names is that
version, whatever signature files differ (another signature file, a re-signature). An unsigned upload
of signed bytes finds it too: its would-be root digest (its files less signature files) is computed the
same way. The server checks the manifest's structure and that it describes the uploaded bytes; it does
not verify who signed (that needs the signer's key or trust root: ``aitrail check --signature-key`` /
``aitrail verify``, whose result the check document carries).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from .extract import Extracted, UploadError, file_identity

MAX_SIGNATURES = 8
FORMAT = "oms"  # the boms.format of a stored signature file
SIGNATURE_NAMES = ("model.sig", "model.sigstore", "model.sigstore.json")
SIGNATURE_SUFFIXES = (".sig", ".sigstore", ".sigstore.json", ".asc")


@dataclass
class Signature:
    path: str
    data: bytes  # the signature file's bytes, as uploaded (served as they are)
    sha256: str
    root_digest: str
    signed_files: int
    matches: bool
    problems: list[str] = field(default_factory=list)
    ignores: list[str] = field(default_factory=list)  # the manifest's ignore paths, relative to the upload

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "root_digest": self.root_digest,
            "signed_files": self.signed_files,
            "matches_files": self.matches,
            "problems": self.problems,
        }

    def stored(self) -> dict[str, Any]:
        """What boms.content keeps (a JSON column): the path and the exact bytes."""
        return {"path": self.path, "base64": base64.b64encode(self.data).decode()}


def stored_bytes(content: Any) -> bytes:
    return base64.b64decode(content["base64"]) if isinstance(content, dict) and "base64" in content else b""


def is_signature(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in SIGNATURE_NAMES or name.endswith(SIGNATURE_SUFFIXES)


def _bad(where: str, message: str) -> UploadError:
    return UploadError(f"{where}: {message}", [{"path": where, "message": message}])


def read(entries: Any, ex: Extracted) -> list[Signature]:
    """The upload's ``signatures`` ([{path, content: base64 of the file}]) parsed and matched against
    ``ex.files``; UploadError (naming the entry's JSON path) for one that is not an OMS bundle."""
    from aitrail.provenance import oms

    if entries is None:
        return []
    if not isinstance(entries, list) or len(entries) > MAX_SIGNATURES:
        raise _bad("/signatures", f"a list of at most {MAX_SIGNATURES} {{path, content}} objects")
    digests = {f["path"]: f.get("sha256") for f in ex.files}
    out = []
    for i, e in enumerate(entries):
        where = f"/signatures/{i}"
        if not isinstance(e, dict) or not isinstance(e.get("path"), str) or not isinstance(e.get("content"), str):
            raise _bad(where, "expected {path, content: the signature file in base64}")
        try:
            data = base64.b64decode(e["content"], validate=True)
        except (binascii.Error, ValueError) as err:
            raise _bad(f"{where}/content", f"not base64: {err}") from None
        try:
            man = oms.manifest(oms.loads(data))
        except oms.BundleError as err:
            raise _bad(f"{where}/content", f"not an OMS model signature: {err}") from None
        sig = Signature(e["path"], data, hashlib.sha256(data).hexdigest(), man.root_digest, 0, False)
        if digests.get(e["path"]) != sig.sha256:
            sig.problems.append(f"these bytes are not the upload's file {e['path']} (SHA-256 differs or absent)")
        if man.method != "files" or man.hash_type != "sha256":
            sig.problems.append(f"signed as {man.method}/{man.hash_type}: not comparable with whole-file SHA-256")
        else:
            base = e["path"].rsplit("/", 1)[0] + "/" if "/" in e["path"] else ""
            one = e["path"].rsplit("/", 1)[-1].removesuffix(".sig") if man.files() == {"."} else None
            signed = {base + (one if n == "." and one else n): d for n, d in man.resources.items()}
            sig.signed_files = len(signed)
            changed = sorted(p for p, d in signed.items() if p in digests and digests[p] != d)
            missing = sorted(p for p in signed if p not in digests)
            if changed:
                sig.problems.append(f"{len(changed)} file(s) differ from the signed digests: {', '.join(changed[:5])}")
            if missing:
                sig.problems.append(f"{len(missing)} signed file(s) not in the upload: {', '.join(missing[:5])}")
            # a signature identifies the upload only when it covers all of it: a file it does not sign (a
            # pickle beside signed weights) would otherwise merge into the signed version, its judgement lost
            sig.ignores = [base + p for p in man.ignore_paths]
            unsigned = sorted(
                p for p in digests if p not in signed and not is_signature(p) and not oms.is_ignored(p, sig.ignores)
            )
            if unsigned:
                sig.problems.append(
                    f"{len(unsigned)} uploaded file(s) the signature does not cover (the upload is identified by "
                    f"its files): {', '.join(unsigned[:5])}" + (" …" if len(unsigned) > 5 else "")
                )
        sig.matches = not sig.problems
        out.append(sig)
    return out


def would_be_root(ex: Extracted) -> str | None:
    """The OMS root digest of the upload's files (less signature files), when every one has a SHA-256: what
    a signature over exactly these bytes would carry. No file is left out for OMS's default ignores
    (``.github/``, ``.gitattributes``): the check judged them, so an upload with such files is not the
    signed version that lacks them."""
    from aitrail.provenance import oms

    files = [f for f in ex.files if not is_signature(f["path"])]
    if not files or any(not f.get("sha256") for f in files):
        return None
    return oms.root_digest(sorted(((f["path"], f["sha256"]) for f in files), key=lambda r: r[0]))


def covered(ex: Extracted, ignores: list[str]) -> set[tuple[str, str | None]]:
    """The upload's (path, SHA-256) pairs a signature with these ignore paths speaks for."""
    from aitrail.provenance import oms

    return {
        (f["path"], f.get("sha256"))
        for f in ex.files
        if not is_signature(f["path"]) and not oms.is_ignored(f["path"], ignores)
    }


def unsigned_identity(ex: Extracted) -> str | None:
    """The file identity of the upload without its signature files (the same bytes pushed unsigned)."""
    rest = [f for f in ex.files if not is_signature(f["path"])]
    if len(rest) == len(ex.files) or not rest or any(not f.get("sha256") for f in rest):
        return None
    return file_identity(rest, [], "")[0]
