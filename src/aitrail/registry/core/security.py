"""API tokens: random, shown once, stored as SHA-256 digests.

A token carries 256 random bits, so a plain SHA-256 is enough to make a stolen database useless
for logging in (password-hashing's slowness only matters for guessable secrets), and it keeps the
per-request check to one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

SCOPES = ("read", "write", "admin")  # each includes the ones before it
PREFIX = "ait_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def allows(granted: str, needed: str) -> bool:
    return SCOPES.index(granted) >= SCOPES.index(needed)
