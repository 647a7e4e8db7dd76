"""Creating and revoking API tokens (``aitrail token create``): the token is returned once, only
its digest is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..core.db import Database
from ..core.security import SCOPES, new_token, token_hash
from ..models import Token
from .ingest import now


def create(db_url: str | Database, scope: str, name: str | None = None) -> str:
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r}: one of {', '.join(SCOPES)}")
    db = db_url if isinstance(db_url, Database) else Database(db_url)
    db.migrate()
    tok = new_token()
    with db.write() as s:
        s.add(Token(hash=token_hash(tok), scope=scope, name=name, created_at=now(), revoked=False))
    if not isinstance(db_url, Database):
        db.dispose()
    return tok


def revoke(db: Database, token: str) -> bool:
    """Revoke by the token's value, or by its id (as ``aitrail token list`` shows it)."""
    match = Token.id == int(token) if token.isdigit() else Token.hash == token_hash(token)
    with db.write() as s:
        n = s.execute(update(Token).where(match).values(revoked=True)).rowcount  # type: ignore[attr-defined]
    return bool(n)


def listing(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.scalars(select(Token).order_by(Token.id)).all()
        return [
            {"id": t.id, "scope": t.scope, "name": t.name, "created_at": t.created_at.isoformat(), "revoked": t.revoked}
            for t in rows
        ]
