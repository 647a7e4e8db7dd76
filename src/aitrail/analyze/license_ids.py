"""Turn a declared licence string into an SPDX expression, or a LicenseRef- when it is not one.

This is normalisation only (``apache-2.0`` -> ``Apache-2.0``); identifying licence *texts* and
AI licences (Llama, Gemma, RAIL...) is the licence analyser's job.
"""

from __future__ import annotations

import re
from functools import lru_cache

from license_expression import ExpressionError, get_spdx_licensing


@lru_cache(maxsize=1)
def licensing():  # type: ignore[no-untyped-def]
    """license-expression's SPDX licensing (built once: loading its licence list is slow)."""
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def to_spdx(value: str) -> str | None:
    """The SPDX expression ``value`` spells (case-insensitively), or None."""
    if not value or value.strip().lower() in ("other", "unknown", "none", "noassertion", "proprietary"):
        return None
    try:
        expr = licensing().parse(value.strip(), validate=True, strict=True)
    except (ExpressionError, Exception):  # noqa: BLE001 - any parse failure means "not SPDX"
        return None
    return expr.render() if expr is not None else None


def license_ref(value: str) -> str:
    """A ``LicenseRef-`` id for a licence SPDX does not list (idstring: letters, digits, '.', '-')."""
    value = value.strip()
    if value.startswith("LicenseRef-"):  # already one: keep it, never "LicenseRef-LicenseRef-x"
        value = value[len("LicenseRef-") :]
    slug = re.sub(r"[^A-Za-z0-9.\-]+", "-", value).strip("-") or "unknown"
    return f"LicenseRef-{slug[:64]}"
