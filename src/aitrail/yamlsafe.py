"""YAML, safely: only plain data (no Python objects), with libyaml's C parser when it is there."""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # both construct plain data only

YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # safe: SafeLoader or its C twin, never the full loader
