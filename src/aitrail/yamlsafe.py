"""YAML, safely: only plain data (no Python objects), with libyaml's C parser when it is there."""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # both construct plain data only

YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # safe: SafeLoader or its C twin, never the full loader


def load_bounded(text: str) -> Any:
    """:func:`load`, refusing documents that nest too deep or expand too far through aliases
    (``jsonsafe.ShapeError``): a 1 KB "billion laughs" card must not cost gigabytes downstream."""
    from .jsonsafe import check_shape

    doc = load(text)
    check_shape(doc)
    return doc
