"""The registry's settings: one frozen value built by ``aitrail serve`` (or a test) and handed to the app."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DB = "aitrail-registry.db"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB
    max_upload_bytes: int = 32 * MiB  # a request body above this is refused (413) before it is parsed
    read_token_required: bool = False  # when true, reads need a token with the read scope too
    write_rate: float = 200.0  # uploads per second per token (token bucket); 0 turns the limit off
    write_burst: int = 400
    policy_path: str | None = None  # a policy YAML judged on every ingest (default: aitrail's built-in)
    max_page: int = 500
    env_policies: tuple[tuple[str, str], ...] = ()  # (environment, policy YAML): judged per deployment
    webhooks: tuple[str, ...] = ()  # set by the operator at start; told when a stored verdict changes


def database_url(value: str) -> str:
    """A SQLAlchemy URL from what a user types: a file path means SQLite; postgresql:// means psycopg 3."""
    if "://" not in value:
        return "sqlite:///" + os.path.abspath(value)
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


@lru_cache(maxsize=1)
def knowledge_version() -> str:
    """aitrail's version and knowledge digest (aitrail.knowledge.version): stored beside each document so the
    registry knows which documents were judged with older knowledge (and re-judges them)."""
    from aitrail import knowledge

    return knowledge.version()
