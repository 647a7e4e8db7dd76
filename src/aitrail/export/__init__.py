"""Writers: one module per output format, each ``dumps(inventory, ...) -> str``."""

from __future__ import annotations

from . import cyclonedx, json_inventory, markdown, spdx

FORMATS = {
    "json": json_inventory.dumps,
    "cyclonedx": cyclonedx.dumps,
    "spdx": spdx.dumps,
    "markdown": markdown.dumps,
}

__all__ = ["FORMATS", "cyclonedx", "json_inventory", "markdown", "spdx"]
