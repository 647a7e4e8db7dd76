"""The registry's tables (SQLAlchemy 2). Migrations in ``migrations/versions`` create exactly these
(a test compares them). ``*_key`` columns hold the lower-cased value the queries match on, so one
index serves case-insensitive lookups on SQLite and PostgreSQL alike; (key, version_id) indexes
let a filter count and page its matches from the index alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _fk() -> Mapped[int]:
    return mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)


class Version(Base):
    """One model version, identified by the digests of its files (``identity``)."""

    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(80), unique=True)
    identity_kind: Mapped[str] = mapped_column(String(16))  # files | partial | document
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))  # check | cyclonedx | spdx
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    use: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str | None] = mapped_column(String(40), index=True)
    mof_class: Mapped[int | None] = mapped_column(Integer)
    max_severity: Mapped[str | None] = mapped_column(String(16))
    rules_version: Mapped[int | None] = mapped_column(Integer)
    policy_passed: Mapped[bool | None] = mapped_column(Boolean)
    policy: Mapped[Any] = mapped_column(JSON, nullable=True)
    knowledge_version: Mapped[str] = mapped_column(String(64))
    policy_digest: Mapped[str | None] = mapped_column(String(64))  # the policy judged with (None: unknown)
    card: Mapped[str | None] = mapped_column(Text)
    document: Mapped[Any] = mapped_column(JSON)


class Label(Base):
    """A name a version was pushed under (a hub repo id, a project name): one version, many labels."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("version_id", "key"), Index("ix_labels_key_version", "key", "version_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class File(Base):
    __tablename__ = "files"
    __table_args__ = (Index("ix_files_sha256_version", "sha256", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    format: Mapped[str | None] = mapped_column(String(64))


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (Index("ix_datasets_key_version", "key", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(32))  # trained-on | tested-on


class Licence(Base):
    """Licence evidence and the verdict for the document's use, per component (model, base, dataset...)."""

    __tablename__ = "licenses"
    __table_args__ = (Index("ix_licenses_key_version", "key", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    component: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    license: Mapped[str | None] = mapped_column(String(300))
    key: Mapped[str | None] = mapped_column(String(300))
    verdict: Mapped[str | None] = mapped_column(String(40))
    evidence: Mapped[str | None] = mapped_column(Text)


class Lineage(Base):
    """A base model this version derives from, with the evidence and the source that supplied it."""

    __tablename__ = "lineage"
    __table_args__ = (Index("ix_lineage_key_version", "key", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    base: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str | None] = mapped_column(Text)
    resolver: Mapped[str] = mapped_column(String(64))


class Obligation(Base):
    """What a version's licences oblige or forbid for the document's use (aitrail's licence judgement)."""

    __tablename__ = "obligations"
    __table_args__ = (Index("ix_obligations_license_version", "license", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    license: Mapped[str] = mapped_column(String(300))
    term: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    clause: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str | None] = mapped_column(Text)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_rule_version", "rule", "version_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    rule: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(16))
    path: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[int | None] = mapped_column(Integer)


class Bom(Base):
    __tablename__ = "boms"
    __table_args__ = (UniqueConstraint("version_id", "format", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    format: Mapped[str] = mapped_column(String(16))  # cyclonedx | spdx
    spec_version: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[Any] = mapped_column(JSON)


class Upload(Base):
    """Every accepted request body, by digest: the same body again changes nothing (idempotent)."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    version_id: Mapped[int] = _fk()
    kind: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Deployment(Base):
    """Where a version runs and who answers for it."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    environment: Mapped[str] = mapped_column(String(100), index=True)
    service: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))
    since: Mapped[str | None] = mapped_column(String(40))
    support_status: Mapped[str | None] = mapped_column(String(40))
    end_of_life: Mapped[str | None] = mapped_column(String(40))
    policy_passed: Mapped[bool | None] = mapped_column(Boolean)
    policy: Mapped[Any] = mapped_column(JSON, nullable=True)
    policy_digest: Mapped[str | None] = mapped_column(String(64))  # the environment's policy judged with
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistryState(Base):
    """One row: ``generation`` is a fresh random token written by every write transaction (core/db.py),
    so a cached answer keyed on it is never served for other data (workers, PostgreSQL, restores)."""

    __tablename__ = "registry_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[str] = mapped_column(String(32))


# Full-text search lives outside these models (an FTS5 table on SQLite, a tsvector table on PostgreSQL,
# kept in step by triggers: migration 0004); schema comparisons skip it by this name prefix.
SEARCH_PREFIX = "search_"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name``: everything but the full-text search structures."""
    return not (type_ in ("table", "index") and (name or "").startswith(SEARCH_PREFIX))


class Event(Base):
    """What changed: a verdict or policy result after a re-judgement, a label moved to new bytes."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _fk()
    kind: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
