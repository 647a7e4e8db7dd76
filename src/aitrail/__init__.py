"""aitrail: what AI do we have, and how did it get here?

>>> import aitrail
>>> inv = aitrail.scan("path/to/model")          # an Inventory
>>> aitrail.export.cyclonedx.dumps(inv)           # a CycloneDX 1.6 ML-BOM
"""

from __future__ import annotations

__version__ = "0.1.0"

from .inputs import InputError  # noqa: E402
from .manifest import ManifestError  # noqa: E402
from .model import Component, Finding, Inventory, Relationship  # noqa: E402
from .scan import scan  # noqa: E402

__all__ = ["Component", "Finding", "InputError", "Inventory", "ManifestError", "Relationship", "__version__", "scan"]
