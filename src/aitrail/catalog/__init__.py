"""Catalogers: one per artefact kind, each a pure function from one file to what it found.

The order matters only for which cataloger gets a file first; a file goes to every
cataloger whose ``matches`` accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .base import CatalogError, FileRef, Found

__all__ = ["CATALOGERS", "Cataloger", "CatalogError", "FileRef", "Found"]


@dataclass(frozen=True)
class Cataloger:
    name: str
    matches: Callable[[FileRef], bool]
    catalog: Callable[[FileRef], Found]


if TYPE_CHECKING:
    CATALOGERS: list[Cataloger]


def _all() -> list[Cataloger]:
    # Imported on first use: `aitrail security` needs only the pickle walker, not every cataloger.
    from . import (
        archive,
        arrays,
        deps,
        diffusers,
        dist_info,
        frameworks,
        gguf,
        hf_config,
        license_file,
        mergekit,
        model_card,
        ollama,
        onnx,
        peft,
        python_code,
        pytorch,
        safetensors,
        sentence_transformers,
        tokenizer,
        trees,
    )

    return [
        Cataloger("safetensors", safetensors.matches, safetensors.catalog),
        Cataloger("weights-index", safetensors.matches_index, safetensors.catalog_index),
        Cataloger("gguf", gguf.matches, gguf.catalog),
        Cataloger("onnx", onnx.matches, onnx.catalog),
        Cataloger("pytorch", pytorch.matches, pytorch.catalog),
        Cataloger("numpy", arrays.matches_npy, arrays.catalog_npy),
        Cataloger("pickle", arrays.matches_pickle, arrays.catalog_pickle),
        Cataloger("keras", arrays.matches_keras, arrays.catalog_keras),
        Cataloger("trees", trees.matches, trees.catalog),
        Cataloger("frameworks", frameworks.matches, frameworks.catalog),
        Cataloger("hf-config", hf_config.matches, hf_config.catalog),
        Cataloger("tokenizer", tokenizer.matches, tokenizer.catalog),
        Cataloger("diffusers", diffusers.matches, diffusers.catalog),
        Cataloger("sentence-transformers", sentence_transformers.matches, sentence_transformers.catalog),
        Cataloger("peft", peft.matches, peft.catalog),
        Cataloger("mergekit", mergekit.matches, mergekit.catalog),
        Cataloger("ollama", ollama.matches, ollama.catalog),
        Cataloger("model-card", model_card.matches, model_card.catalog),
        Cataloger("license-file", license_file.matches, license_file.catalog),
        Cataloger("dependencies", deps.matches, deps.catalog),
        Cataloger("python", python_code.matches, python_code.catalog),
        Cataloger("dist-info", dist_info.matches, dist_info.catalog),
        Cataloger("archive", archive.matches, archive.catalog),
    ]


def __getattr__(name: str) -> Any:
    if name == "CATALOGERS":
        value = _all()
        globals()["CATALOGERS"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
