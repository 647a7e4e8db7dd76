"""aitrail's own JSON inventory (schema: ``aitrail/schemas/inventory.schema.json``)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from ..model import Inventory


def dumps(inv: Inventory, **_: Any) -> str:
    return json.dumps(inv.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("aitrail.schemas").joinpath("inventory.schema.json").read_text("utf-8"))


def validate(doc: dict[str, Any]) -> list[str]:
    """Errors of ``doc`` against the inventory schema (empty when valid)."""
    import jsonschema

    v = jsonschema.Draft202012Validator(schema())
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(doc)]
