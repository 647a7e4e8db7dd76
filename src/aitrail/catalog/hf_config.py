"""Transformers ``config.json`` and ``generation_config.json``."""

from __future__ import annotations

from ..model import ComponentType, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found, read_json
from .lineage import is_repo_id, model_component

REMOTE_CODE = "transformers docs, 'Customizing models: sharing custom models' (auto_map, trust_remote_code)"


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1]
    return name in ("config.json", "generation_config.json") and f.size < (8 << 20)


def catalog(f: FileRef) -> Found:
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    if not isinstance(doc, dict):
        return out
    if f.rel.endswith("generation_config.json"):
        keep = (
            "max_length",
            "max_new_tokens",
            "temperature",
            "top_p",
            "top_k",
            "do_sample",
            "eos_token_id",
            "bos_token_id",
            "pad_token_id",
            "transformers_version",
        )
        out.properties.update({"kind": "generation-config", **{k: doc[k] for k in keep if k in doc}})
        return out
    if not ("model_type" in doc or "architectures" in doc or "auto_map" in doc):
        return out  # some other config.json (e.g. a pooling layer's)
    out.properties["kind"] = "transformers-config"
    ev = f.ev
    arch = doc.get("architectures")
    if isinstance(arch, list) and arch:
        out.fact("architecture", ", ".join(map(str, arch)), ev(key="architectures", value=arch))
    out.fact("model_type", doc.get("model_type"), ev(key="model_type", value=doc.get("model_type")))
    dtype = doc.get("torch_dtype") or doc.get("dtype")
    out.fact("dtype", dtype, ev(key="torch_dtype" if "torch_dtype" in doc else "dtype", value=dtype))
    for k in (
        "transformers_version",
        "model_type",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "vocab_size",
        "max_position_embeddings",
    ):
        if k in doc:
            out.properties[k] = doc[k]
    if "transformers_version" in doc:
        out.fact("transformers_version", doc["transformers_version"], ev(key="transformers_version"))
    q = doc.get("quantization_config")
    if isinstance(q, dict):
        out.properties["quantization"] = q.get("quant_method") or "unknown"
        out.fact("quantization", q.get("quant_method") or "unknown", ev(key="quantization_config.quant_method"))
    base = doc.get("_name_or_path")
    if is_repo_id(base) and "/" in str(base):
        # A hint only: transformers writes the path the model was loaded from when saving.
        c = model_component(str(base), ev(key="_name_or_path", value=base))
        out.components.append(c)
        out.relationships.append(
            Relationship(
                MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.UNKNOWN, [ev(key="_name_or_path", value=base)]
            )
        )
        out.fact("name_or_path", base, ev(key="_name_or_path", value=base))
    auto_map = doc.get("auto_map")
    if isinstance(auto_map, dict):
        refs = sorted({str(v) for vs in auto_map.values() for v in (vs if isinstance(vs, list) else [vs]) if v})
        files = sorted({_module_file(r) for r in refs if _module_file(r)})
        out.properties["auto_map"] = auto_map
        out.properties["remote_code_files"] = files
        out.fact("remote_code_files", files, ev(key="auto_map", value=refs))
        out.finding(
            Severity.MEDIUM,
            "scan.remote-code",
            f"{f.rel}: auto_map makes transformers import {', '.join(files) or 'remote code'} "
            "(loading needs trust_remote_code=True: review that code first)",  # safe: message text, not a call
            ev(key="auto_map", value=refs),
            REMOTE_CODE,
        )
    return out


def _module_file(ref: str) -> str:
    """'configuration_x.XConfig' -> 'configuration_x.py'; 'org/repo--modeling_x.X' names another repo."""
    repo, sep, local = ref.partition("--")
    mod = (local if sep else repo).rsplit(".", 1)[0]
    path = mod.replace(".", "/") + ".py"
    return f"{repo}:{path}" if sep else path
