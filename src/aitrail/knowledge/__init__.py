"""aitrail's knowledge files (licences, security rules, base-model facts...), versioned as data."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources


@functools.cache
def version() -> str:
    """aitrail's version and a digest of its knowledge files: what a judgement was made with (the registry
    re-judges documents made with other knowledge)."""
    from .. import __version__

    h = hashlib.sha256(__version__.encode())
    root = resources.files(__name__)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_file() and not entry.name.endswith(".py"):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"
