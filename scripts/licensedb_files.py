"""One reader of ScanCode's LicenseDB files (``<key>.LICENSE``: YAML front matter, then the text),
shared by the scripts that generate knowledge from them and the identification benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml


def entries(db: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """(metadata, text) of every LicenseDB file in ``db``, sorted by file name."""
    for f in sorted(db.glob("*.LICENSE")):
        raw = f.read_text(encoding="utf-8", errors="replace")
        if not raw.startswith("---"):
            continue
        _, head, text = raw.split("---", 2)
        yield yaml.safe_load(head) or {}, text
