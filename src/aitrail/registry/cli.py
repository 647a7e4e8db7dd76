"""``aitrail serve``, ``aitrail token create`` and ``aitrail push``: argparse only at import time."""

from __future__ import annotations

import argparse
from typing import Any, Callable

DB_HELP = "database: a SQLite file (default aitrail-registry.db) or postgresql://user@host/db"


def register(sub: Any, common: Callable[..., None]) -> dict[str, Callable[[argparse.Namespace], int]]:
    s = sub.add_parser("serve", help="run the organisation's registry (REST API, TEA, web UI)")
    s.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1; one write rate limit for all)")
    s.add_argument("--policy", metavar="FILE", help="a policy YAML judged on every ingest (default: built-in)")
    s.add_argument("--require-read-token", action="store_true", help="reads need a token with the read scope")
    s.add_argument("--max-upload-mb", type=int, default=32, help="refuse larger uploads (413); default 32")
    s.add_argument("--write-rate", type=float, default=200.0, help="uploads per second per token (0: no limit)")
    s.add_argument(
        "--env-policy",
        action="append",
        default=[],
        metavar="ENV=FILE",
        help="judge deployments to ENV with this policy (repeatable), e.g. production=prod.yaml",
    )
    s.add_argument("--webhook", action="append", default=[], metavar="URL", help="POSTed to when a verdict changes")
    s.add_argument(
        "--spdx-schema",
        metavar="FILE",
        help="the official SPDX 3.0.1 JSON schema (spdx-json-schema.json) uploads are validated against "
        "(default: $AITRAIL_SPDX_SCHEMA, else a packaged copy)",
    )
    common(s, writes=False)
    t = sub.add_parser("token", help="API tokens of the registry")
    tsub = t.add_subparsers(dest="token_command", required=True)
    tc = tsub.add_parser("create", help="create a token and print it (shown once; stored hashed)")
    tc.add_argument("--scope", required=True, choices=["read", "write", "admin"])
    tc.add_argument("--name", help="who or what the token is for")
    tc.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    tl = tsub.add_parser("list", help="list tokens (id, scope, name, created, revoked; never the token)")
    tl.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    tr = tsub.add_parser("revoke", help="revoke a token (by its value or its id from token list)")
    tr.add_argument("token", help="the token, or its id")
    tr.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    p = sub.add_parser("push", help="check a model locally and upload the document and BOMs to a registry")
    p.add_argument("path", help="model folder, weights file, or Hugging Face cache root")
    p.add_argument("--to", required=True, metavar="URL", help="the registry, e.g. http://registry:8080")
    p.add_argument("--token", required=True, help="a token with the write scope (aitrail token create)")
    p.add_argument("--name", action="append", default=[], help="a label for this version (repeatable)")
    p.add_argument("--policy", metavar="FILE", help="the policy to check with locally")
    common(p, writes=False)
    r = sub.add_parser("registry", help="registry maintenance: backup and restore")
    rsub = r.add_subparsers(dest="registry_command", required=True)
    b = rsub.add_parser("backup", help="copy the database consistently while the server runs")
    b.add_argument("-o", "--output", required=True, help="the backup file (written atomically)")
    b.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    rs = rsub.add_parser("restore", help="restore a backup into the database (stop writers first)")
    rs.add_argument("file", help="a backup made by aitrail registry backup")
    rs.add_argument("--db", default="aitrail-registry.db", help=DB_HELP)
    return {"serve": serve, "token": token, "push": push, "registry": maintenance}


def maintenance(args: argparse.Namespace) -> int:
    from aitrail.errors import InputError
    from aitrail.output import err

    from .crud.backup import BackupError, backup, restore

    try:
        if args.registry_command == "backup":
            kind = backup(args.db, args.output)
            err(f"aitrail: {kind} backup written to {args.output}")
        else:
            kind = restore(args.file, args.db)
            err(f"aitrail: {kind} database restored from {args.file}")
    except BackupError as e:
        raise InputError(str(e)) from None
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from aitrail.output import err

    from .api.main import create_app
    from .core.config import MiB, Settings

    settings = Settings(
        db_url=args.db,
        max_upload_bytes=args.max_upload_mb * MiB,
        read_token_required=args.require_read_token,
        write_rate=args.write_rate,
        policy_path=args.policy,
        env_policies=tuple(_env_policy(x) for x in args.env_policy),
        webhooks=tuple(args.webhook),
    )
    level = "warning" if args.quiet else "info"
    _spdx_schema(args.spdx_schema)
    if args.workers > 1:
        import dataclasses
        import json
        import os

        from .api.main import SETTINGS_ENV
        from .core.db import Database

        db = Database(settings.db_url)
        db.migrate()  # once, here: workers start on a migrated schema
        db.dispose()
        os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))
        if not args.quiet:
            err(f"aitrail registry on http://{args.host}:{args.port}/ ({args.workers} workers)")
        target = "aitrail.registry.api.main:from_env"
        uvicorn.run(target, factory=True, workers=args.workers, host=args.host, port=args.port, log_level=level)
        return 0
    app = create_app(settings)
    if not args.quiet:
        where = app.state.registry.db.url.split("@")[-1]  # never print a password from the URL
        err(f"aitrail registry on http://{args.host}:{args.port}/ (database: {where})")
    uvicorn.run(app, host=args.host, port=args.port, log_level=level)
    return 0


def _spdx_schema(path: str | None) -> None:
    """Set (and check) the SPDX schema for this process and its workers; say when there is none."""
    import os

    from aitrail.errors import InputError
    from aitrail.output import err

    from .crud import spdx

    if path:
        try:
            spdx.load(path)
        except (OSError, ValueError) as e:
            raise InputError(f"--spdx-schema {path}: {e}") from None
        os.environ[spdx.ENV] = os.path.abspath(path)  # inherited by --workers processes
    elif spdx.schema_source() is None:
        err(f"aitrail: warning: no SPDX 3.0.1 JSON schema (--spdx-schema or ${spdx.ENV}): SPDX uploads are "
            "structure-checked only, and their responses say so")


def _env_policy(value: str) -> tuple[str, str]:
    from aitrail.errors import InputError

    env, sep, path = value.partition("=")
    if not sep or not env or not path:
        raise InputError(f"--env-policy {value!r}: expected ENV=FILE")
    return env, path


def token(args: argparse.Namespace) -> int:
    from aitrail.errors import InputError
    from aitrail.output import out

    from .core.db import Database
    from .crud import tokens

    if args.token_command == "create":
        out(tokens.create(args.db, args.scope, args.name) + "\n")
        return 0
    db = Database(args.db)
    db.migrate()
    try:
        if args.token_command == "list":
            for t in tokens.listing(db):
                state = "revoked" if t["revoked"] else "active"
                out(f"{t['id']}\t{t['scope']}\t{state}\t{t['created_at']}\t{t['name'] or ''}\n")
            return 0
        if not tokens.revoke(db, args.token):
            raise InputError("no such token")
        out("revoked\n")
        return 0
    finally:
        db.dispose()


def push(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aitrail import policy as policy_mod
    from aitrail.check import check
    from aitrail.errors import InputError
    from aitrail.export import writer
    from aitrail.output import err, out

    from .client import RegistryError, request

    pol = policy_mod.load(args.policy) if args.policy else None
    result = check(args.path, policy=pol, follow_symlinks=args.follow_symlinks)
    doc = result.to_dict()
    boms = {
        "cyclonedx": _json(writer("cyclonedx")(result.inventory, spec_version="1.6")),
        "spdx": _json(writer("spdx")(result.inventory)),
    }
    card = _card(Path(args.path))
    body = {"document": doc, "boms": boms, "labels": args.name, "card": card}
    sigs, notes = signature_files(result)
    if sigs:
        body["signatures"] = sigs  # the registry identifies a signed model by its OMS root digest
    if not args.quiet:
        for note in notes:
            err(f"aitrail: warning: {note}")
    try:
        resp = request(args.to, "POST", "/api/v1/documents", token=args.token, body=body)
    except RegistryError as e:
        raise InputError(f"push to {args.to}: {e}") from None
    if not args.quiet:
        state = (
            "already stored" if resp.get("duplicate") else ("new version" if resp.get("created") else "known version")
        )
        err(f"aitrail: {state} {resp['version']} ({resp['identity']}), labels: {', '.join(resp['labels'])}")
        for w in resp.get("warnings", []):
            err(f"aitrail: warning: {w}")
    import json

    out(json.dumps(resp, indent=2) + "\n")
    return 0


MAX_SIGNATURE = 16 * 1024 * 1024


def signature_files(result: Any) -> tuple[list[dict[str, str]], list[str]]:
    """The model-signing bundles the check found, as uploaded ({path, content: base64}); each must still
    have the digest the check recorded (a file changed since is left out, and said)."""
    import base64
    import hashlib

    digests = {c.path: c.sha256 for c in result.inventory.components if c.path}
    out, notes = [], []
    for sig in result.signatures:
        path = sig.get("path") or ""
        where = result.scan.paths.get(path)
        if where is None or path.endswith(".asc"):  # a detached PGP signature is not an OMS bundle
            continue
        try:
            with open(where, "rb") as f:
                data = f.read(MAX_SIGNATURE + 1)
        except OSError as e:
            notes.append(f"signature {path} not attached: {e.strerror}")
            continue
        if len(data) > MAX_SIGNATURE or hashlib.sha256(data).hexdigest() != digests.get(path):
            notes.append(f"signature {path} not attached: larger than 16 MiB or changed since it was checked")
            continue
        out.append({"path": path, "content": base64.b64encode(data).decode()})
    return out, notes


def _json(text: Any) -> Any:
    import json

    return json.loads(text if isinstance(text, str) else "".join(text))


def _card(path: Any) -> str | None:
    """The model card's text (README.md beside the model), bounded; the server renders it sanitised."""
    from aitrail import fsutil

    card = path / "README.md" if path.is_dir() else None
    if card is None or not card.is_file():
        return None
    try:
        with fsutil.open_regular(card) as f:
            return f.read(256 * 1024).decode("utf-8", "replace")
    except OSError:
        return None
