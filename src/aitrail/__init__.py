"""aitrail: what AI do we have, and how did it get here?

>>> import aitrail
>>> inv = aitrail.scan("path/to/model")          # an Inventory
>>> aitrail.export.cyclonedx.dumps(inv)           # a CycloneDX 1.6 ML-BOM
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names are imported on first use, so that `aitrail security FILE` does not pay for every
# cataloger and exporter at start-up (BENCHMARKS.md section 7). No submodule shares a public
# name (scan() lives in scanner.py): importing a submodule never hides a function.
_PUBLIC = {
    "scan": "scanner",
    "InputError": "inputs",
    "ManifestError": "manifest",
    "Component": "model",
    "Finding": "model",
    "Inventory": "model",
    "Relationship": "model",
}

if TYPE_CHECKING:
    from .inputs import InputError
    from .manifest import ManifestError
    from .model import Component, Finding, Inventory, Relationship
    from .scanner import scan


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in ("analyze", "catalog", "check", "export", "policy"):  # aitrail.export.cyclonedx etc.
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'aitrail' has no attribute {name!r}")


__all__ = ["Component", "Finding", "InputError", "Inventory", "ManifestError", "Relationship", "__version__", "scan"]
