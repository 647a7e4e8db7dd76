"""``aitrail sign`` and ``aitrail verify``: registered by the CLI through ``cli.EXTENSIONS``.

Only argparse is imported here; each handler imports the machinery it needs.
Exit codes of ``verify``: 0 every file as signed; 1 verification failed (wrong key, changed, added
or missing files, a tampered bundle or attestation); 2 unusable input (no bundle, not an OMS bundle,
a key or trust root that cannot be used, or what offline verification needs is missing).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

Handler = Callable[[argparse.Namespace], int]


def register(sub: Any, common: Callable[[argparse.ArgumentParser, bool], None]) -> dict[str, Handler]:
    s = sub.add_parser(
        "sign",
        help="sign a model (OpenSSF model signing v1.0), its BOM and check document attested alongside",
        description="Write an OMS v1.0 bundle (Sigstore bundle, DSSE, in-toto statement) over every file of "
        "the model, from the check's digests (one read), and sign the CycloneDX BOM and the check document "
        "as attestations of the same model (SIG.bom.intoto.json, SIG.check.intoto.json).",
    )
    s.add_argument("path", help="model folder or file")
    s.add_argument("--key", required=True, metavar="PRIVATE.pem", help="EC private key (P-256, P-384, P-521), PEM")
    s.add_argument("--signature", metavar="SIG", help="bundle to write (default: PATH/model.sig, or FILE.sig)")
    s.add_argument("--password-env", metavar="VAR", help="read the private key's password from this variable")
    s.add_argument("--ignore-path", action="append", default=[], metavar="REL",
                   help="a path relative to the model to leave unsigned (repeatable; recorded in the bundle)")
    s.add_argument("--allow-symlinks", action="store_true",
                   help="sign the targets of symbolic links under the links' names (default: refuse links)")
    s.add_argument("--no-attestations", action="store_true", help="write the signature only")
    common(s, True)

    v = sub.add_parser(
        "verify",
        help="verify a model against an OpenSSF model signing bundle, offline",
        description="Verify the bundle's signature (a public key; a certificate chain to --trust-root; Sigstore "
        "keyless with a trusted root file, --identity and --issuer) and every file against it. Exit 0 only "
        "when every file is as signed; 1 when verification fails; 2 when the input cannot be used.",
    )
    v.add_argument("path", help="model folder or file")
    v.add_argument("--signature", required=True, metavar="SIG", help="the bundle (e.g. model.sig)")
    v.add_argument("--key", metavar="PUBLIC.pem", help="the signer's EC public key, PEM (key-signed bundles)")
    v.add_argument("--trust-root", metavar="FILE",
                   help="CA certificates, PEM (certificate bundles) or a Sigstore trusted_root.json (keyless)")
    v.add_argument("--identity", help="Sigstore keyless: the signer's identity (e-mail or URI in the certificate)")
    v.add_argument("--issuer", help="Sigstore keyless: the OIDC issuer of that identity")
    v.add_argument("--ignore-unsigned-files", action="store_true",
                   help="do not fail on files the signature does not list (spec §8.5)")
    v.add_argument("--format", "-f", choices=["text", "json"], default="text")
    common(v, False)
    return {"sign": _sign, "verify": _verify}


def _read(path: str, what: str) -> bytes:
    import os
    import stat
    from pathlib import Path

    from ..errors import InputError
    from ..output import _kind, _shown

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{what} {_shown(path)}: {_kind(st.st_mode)}, not a regular file (never read)")
        return Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"{what} {_shown(path)}: {e.strerror}") from None


def _sign(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from .. import output
    from ..errors import InputError
    from . import files, oms, sign

    key = _read(args.key, "--key")
    password = None
    if args.password_env:
        if args.password_env not in os.environ:
            raise InputError(f"--password-env {args.password_env}: the variable is not set")
        password = os.environ[args.password_env].encode()
    sig = args.signature or str(sign.default_signature(Path(args.path)))
    for p in (sig, *sign.attestation_paths(Path(sig))):
        output.destination(p, mkdirs=args.mkdirs)  # a bad destination fails before the scan
    if not os.path.exists(args.path):
        raise InputError(f"{output._shown(args.path)}: no such file or folder")
    try:
        signed = sign.sign(
            args.path, key, sig, password=password, ignore_paths=args.ignore_path,
            allow_symlinks=args.allow_symlinks, follow_symlinks=args.follow_symlinks,
            attest=not args.no_attestations,
        )
    except (oms.BundleError, oms.NeedsMore) as e:
        raise InputError(f"--key {output._shown(args.key)}: {e}") from None
    except files.ModelError as e:
        raise InputError(f"cannot sign {output._shown(args.path)}: {e}") from None
    except OSError as e:
        raise InputError(f"cannot sign {output._shown(args.path)}: {e.strerror or e}") from None
    texts = signed.texts()
    for path, text in texts:
        output.write(path, text, mkdirs=args.mkdirs)
    for stale in signed.stale:
        os.unlink(stale)
        signed.notes.append(f"removed {output._shown(str(stale))}: it attested the signature this one replaces")
    if not args.quiet:
        m = signed.manifest
        output.err(
            f"signed {len(m.resources)} file(s) of {m.name} (root digest sha256:{m.root_digest}); "
            f"{signed.hashed_by_scan} digest(s) from the scan, {signed.hashed_here} hashed for the signature"
        )
        for path, _ in texts:
            output.err(f"  wrote {output._shown(path)}")
        for n in signed.notes:
            output.err(f"  note: {n}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    import json

    from .. import output
    from . import verify

    key = _read(args.key, "--key") if args.key else None
    verdict = verify.verify(
        args.path, args.signature, key_pem=key, trust_root=args.trust_root, identity=args.identity,
        issuer=args.issuer, ignore_unsigned=args.ignore_unsigned_files,
    )
    if args.format == "json":
        output.out(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        output.out(_text(verdict))
    return verdict.status


def _text(v: Any) -> str:
    """The verdict for people: one line per fact, every name escaped (names come from the bundle, too)."""
    from ..inputs import escape

    return "".join(escape(line) + "\n" for line in _lines(v))


def _lines(v: Any) -> list[str]:
    head = {0: "VERIFIED", 1: "FAILED", 2: "NOT VERIFIED (unusable input)"}[v.status]
    lines = [f"{head}: {v.model} against {v.signature}"]
    if v.signer:
        lines.append(f"  signer: {v.signer} ({v.method})")
    if v.subject:
        lines.append(f"  signed model: {v.subject['name']} (root digest sha256:{v.subject['root_digest']})")
    if v.signed_files:
        lines.append(f"  files: {v.signed_files} signed, {v.matched} as signed")
    for a in v.attestations:
        lines.append(f"  attestation {a['path']}: {'verified' if a['verified'] else 'NOT verified'}")
    lines += [f"  - {p}" for p in v.problems]
    return lines
