"""``aitrail.yaml``: what a model folder cannot show, declared by its owner.

Schema (all keys optional; unknown keys are rejected with their name):

    name: str                 version: str            supplier: str
    description: str          release_time: ISO 8601  download_location: URL
    license: str              intended_use: str       limitations: str
    training_code: URL        evaluation: str
    base_models: [{id: str, relation: fine-tune|adapter|quantization|merge}]
    datasets:    [{name: str, role: training|testing|validation, license: str,
                   url: URL, digest: str, type: str, supplier: str}]

See docs/manifest.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import fsutil, yamlsafe
from .errors import ManifestError

NAMES = ("aitrail.yaml", "aitrail.yml")
TOP: dict[str, type] = {
    "aitrail": int,
    "name": str,
    "version": str,
    "supplier": str,
    "description": str,
    "release_time": str,
    "download_location": str,
    "license": str,
    "intended_use": str,
    "limitations": str,
    "training_code": str,
    "evaluation": str,
    "base_models": list,
    "datasets": list,
}
BASE: dict[str, type] = {"id": str, "relation": str, "license": str}
DATASET: dict[str, type] = {
    "name": str,
    "role": str,
    "license": str,
    "url": str,
    "digest": str,
    "type": str,
    "supplier": str,
}
RELATIONS = {"fine-tune", "adapter", "quantization", "merge", "unknown"}
ROLES = {"training", "testing", "validation"}


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]


def find(folder: Path) -> Path | None:
    for n in NAMES:
        if (folder / n).is_file():
            return folder / n
    return None


def load(path: Path) -> Manifest:
    try:
        text = fsutil.read_text(path, 1 << 20)  # regular files only: --manifest /dev/zero must not hang
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise ManifestError(f"{path}: cannot read manifest: {why}") from None
    try:
        data = yamlsafe.load_bounded(text) or {}
    except (yamlsafe.YAMLError, ValueError) as e:  # ValueError: jsonsafe.ShapeError (too deep / too large)
        raise ManifestError(f"{path}: malformed YAML: {e}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: the manifest must be a mapping of keys")
    _check(path, data, TOP, "")
    for i, b in enumerate(data.get("base_models") or []):
        if isinstance(b, str):
            data["base_models"][i] = b = {"id": b}
        _check(path, b, BASE, f"base_models[{i}].")
        if "id" not in b:
            raise ManifestError(f"{path}: base_models[{i}] needs an 'id'")
        if b.get("relation", "unknown") not in RELATIONS:
            raise ManifestError(f"{path}: base_models[{i}].relation must be one of {sorted(RELATIONS)}")
    for i, d in enumerate(data.get("datasets") or []):
        _check(path, d, DATASET, f"datasets[{i}].")
        if "name" not in d:
            raise ManifestError(f"{path}: datasets[{i}] needs a 'name'")
        if d.get("role", "training") not in ROLES:
            raise ManifestError(f"{path}: datasets[{i}].role must be one of {sorted(ROLES)}")
    return Manifest(path, data)


def _check(path: Path, data: Any, schema: dict[str, type], where: str) -> None:
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: {where.rstrip('.') or 'manifest'} must be a mapping")
    for k, v in data.items():
        if k not in schema:
            raise ManifestError(f"{path}: unknown key '{where}{k}' (known: {', '.join(sorted(schema))})")
        want = schema[k]
        if want is str and not isinstance(v, str):
            # YAML reads dates and numbers natively; a version "1.0" or a date is still text to us
            if isinstance(v, (int, float)) or hasattr(v, "isoformat"):
                data[k] = v.isoformat() if hasattr(v, "isoformat") else str(v)
                continue
            raise ManifestError(f"{path}: '{where}{k}' must be text, not {type(v).__name__}")
        if want is not str and not isinstance(v, want):
            raise ManifestError(f"{path}: '{where}{k}' must be a {want.__name__}, not {type(v).__name__}")
