"""What routes need: the settings, the database, the caller's token (scopes), a bounded body."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..core.config import Settings
from ..core.db import Database
from ..core.security import SCOPES, allows, token_hash
from ..models import Token
from .problems import Problem


@dataclass
class State:
    settings: Settings
    db: Database
    policy: Any = None
    env_policies: dict[str, Any] = field(default_factory=dict)
    buckets: dict[int | None, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def state(request: Request) -> State:
    st: State = request.app.state.registry
    return st


@dataclass(frozen=True)
class Caller:
    token_id: int | None
    scope: str | None


def _presented(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")  # Dependency-Track's header: its CI plug-ins send this


def caller(request: Request, needed: str) -> Caller:
    st = state(request)
    presented = _presented(request)
    if presented is None:
        if needed == "read" and not st.settings.read_token_required:
            return Caller(None, None)
        raise Problem(401, "token required", f"this needs a token with the {needed!r} scope", "unauthorized")
    with st.db.read() as s:
        tok = s.scalar(select(Token).where(Token.hash == token_hash(presented), Token.revoked.is_(False)))
    if tok is None:
        raise Problem(401, "unknown token", "the token is not known or was revoked", "unauthorized")
    if tok.scope not in SCOPES or not allows(tok.scope, needed):
        raise Problem(403, "scope missing", f"the token has scope {tok.scope!r}; this needs {needed!r}", "forbidden")
    return Caller(tok.id, tok.scope)


async def reader(request: Request) -> Caller:
    """Async: an open read (no token, none required) costs no trip to the thread pool; a token is
    looked up there, as the other checks are."""
    if _presented(request) is None and not state(request).settings.read_token_required:
        return Caller(None, None)
    return await run_in_threadpool(caller, request, "read")


def writer(request: Request) -> Caller:
    c = caller(request, "write")
    _rate(state(request), c.token_id)
    return c


def admin(request: Request) -> Caller:
    return caller(request, "admin")


def _rate(st: State, key: int | None) -> None:
    """A token bucket per token: bursts pass, a sustained flood gets 429 with Retry-After."""
    rate, burst = st.settings.write_rate, st.settings.write_burst
    if rate <= 0:
        return
    with st.lock:
        tokens, last = st.buckets.get(key, [float(burst), time.monotonic()])
        t = time.monotonic()
        tokens = min(float(burst), tokens + (t - last) * rate)
        if tokens < 1:
            st.buckets[key] = [tokens, t]
            raise Problem(429, "too many uploads", f"at most {rate:g} uploads/s per token", "rate-limited")
        st.buckets[key] = [tokens - 1, t]


async def body(request: Request) -> bytes:
    """The request body, refused with 413 once it passes the limit (before it is all read or parsed)."""
    limit = state(request).settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "upload too large", f"{declared} bytes; the limit is {limit}", "too-large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "upload too large", f"more than {limit} bytes", "too-large")
        chunks.append(chunk)
    data = b"".join(chunks)
    request._body = data  # Starlette's cache: request.form() (multipart uploads) parses these bytes
    return data


Reader = Annotated[Caller, Depends(reader)]
Writer = Annotated[Caller, Depends(writer)]
Admin = Annotated[Caller, Depends(admin)]
