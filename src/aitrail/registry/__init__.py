"""The organisation's registry: which models and datasets do we have, where do they run, who owns them.

``aitrail serve`` runs it (FastAPI app from :func:`aitrail.registry.api.main.create_app`), storing
``aitrail check`` documents and CycloneDX / SPDX BOMs in SQLite (default) or PostgreSQL. A model
version is identified by the digests of its files; names are labels (docs/registry.md).
"""

from __future__ import annotations

__all__ = ["Settings"]

from .core.config import Settings
