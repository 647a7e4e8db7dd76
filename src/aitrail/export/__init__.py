"""Writers: one module per output format, each ``dumps(inventory, ...) -> str``.

Imported on use: the CycloneDX writer pulls in its schema validator, which a JSON-only run
should not pay for at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

MODULES = {"json": "json_inventory", "cyclonedx": "cyclonedx", "spdx": "spdx", "markdown": "markdown"}


def writer(fmt: str) -> Callable[..., str]:
    if fmt not in MODULES:
        raise ValueError(f"unknown output format {fmt!r} (choose from {', '.join(MODULES)})")
    return import_module(f"{__name__}.{MODULES[fmt]}").dumps  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:  # aitrail.export.cyclonedx etc. still work as attributes
    if name in MODULES.values():
        return import_module(f"{__name__}.{name}")
    raise AttributeError(name)
