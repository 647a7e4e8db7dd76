"""Transformers ``config.json`` and ``generation_config.json``.

What is copied from the document into the inventory is bounded: scalars only, strings shortened,
lists cut (a config.json is attacker-chosen text and may hold megabytes under any key).
"""

from __future__ import annotations

import re
from typing import Any

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found
from .lineage import check_size, is_repo_id, library_component, model_component, read_json, text

REMOTE_CODE = "transformers docs, 'Customizing models: sharing custom models' (auto_map, trust_remote_code)"
MAX_CONFIG = 8 << 20  # real config.json files are a few KB; the remote-code rules read the same
MAX_REFS = 64  # auto_map references kept (real configs name fewer than ten)
# One segment of a module path: what a Python module file can be called (transformers joins the
# module path to the model folder, so "/", ".." or a drive would reach outside it).
_SEGMENT = re.compile(r"^[\w\-]+$")


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1]
    return name in ("config.json", "generation_config.json")


def scalar(value: Any) -> Any:
    """A config value fit for the inventory: numbers and booleans as they are, strings bounded,
    anything else (lists, objects) summarised."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 1 << 63 else text(value, 40)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list) and len(value) <= 16 and all(isinstance(v, (int, float, bool)) for v in value):
        return [scalar(v) for v in value]  # e.g. eos_token_id: [1, 2]
    return f"<{type(value).__name__} of {len(value)}>" if isinstance(value, (list, dict)) else text(value)


def module_file(ref: str) -> tuple[str, str | None]:
    """An auto_map reference -> (the file transformers imports, a problem or None).

    'configuration_x.XConfig' -> 'configuration_x.py'; 'org/repo--modeling_x.X' names a file in
    another repository ('org/repo:modeling_x.py'). The problem is "outside" for a path that leaves
    the model folder (absolute, '..'), "invalid" for one that names no module file."""
    repo, sep, local = ref.partition("--")
    mod = (local if sep else repo).rsplit(".", 1)[0]
    path = mod.replace(".", "/") + ".py"
    if sep:
        return f"{repo}:{path}", None
    if mod.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", mod) or ".." in mod:
        return path, "outside"
    if not all(_SEGMENT.match(s) for s in mod.replace(".", "/").split("/")):
        return path, "invalid"
    return path, None


def auto_map_refs(auto_map: Any) -> list[str]:
    """The class references an auto_map holds (strings; lists hold [slow, fast] tokenizer pairs)."""
    if not isinstance(auto_map, dict):
        return []
    refs = {v for vs in auto_map.values() for v in (vs if isinstance(vs, list) else [vs]) if isinstance(v, str) and v}
    return sorted(refs)


def catalog(f: FileRef) -> Found:
    check_size(f, "a model configuration", MAX_CONFIG)
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
        out.properties.update({"kind": "generation-config", **{k: scalar(doc[k]) for k in keep if k in doc}})
        return out
    if isinstance(doc.get("architecture"), str) and isinstance(doc.get("pretrained_cfg"), dict):
        _timm(out, f, doc)
        return out
    if not ("model_type" in doc or "architectures" in doc or "auto_map" in doc):
        return out  # some other config.json (e.g. a pooling layer's)
    out.properties["kind"] = "transformers-config"
    ev = f.ev
    arch = doc.get("architectures")
    if isinstance(arch, list) and arch:
        names = [text(a, 100) for a in arch[:10]] + ([f"… {len(arch) - 10} more"] if len(arch) > 10 else [])
        out.fact("architecture", ", ".join(names), ev(key="architectures", value=names))
    task = _class_task(arch)
    if task:
        out.fact("task_from_architecture", task, ev(key="architectures", value=arch))
    model_type = doc.get("model_type")
    if isinstance(model_type, str):
        out.fact("model_type", text(model_type, 100), ev(key="model_type", value=model_type))
    dtype = doc.get("torch_dtype") or doc.get("dtype")
    if isinstance(dtype, str):
        out.fact("dtype", text(dtype, 40), ev(key="torch_dtype" if "torch_dtype" in doc else "dtype", value=dtype))
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
            out.properties[k] = scalar(doc[k])
    if isinstance(doc.get("transformers_version"), str):
        out.fact("transformers_version", text(doc["transformers_version"], 40), ev(key="transformers_version"))
    # transformers writes quantization_config.quant_method; mlx-lm writes "quantization" (and the same under
    # quantization_config) as {"group_size": 64, "bits": 4}, without a method
    key = "quantization_config" if isinstance(doc.get("quantization_config"), dict) else "quantization"
    q = doc.get(key)
    if isinstance(q, dict):
        bits = q.get("bits")
        if isinstance(q.get("quant_method"), str):
            method, where = text(q["quant_method"], 40), f"{key}.quant_method"
        elif isinstance(bits, int) and not isinstance(bits, bool):
            method, where = f"{bits}-bit", f"{key}.bits"
        else:
            method, where = "unknown", key
        out.properties["quantization"] = method
        out.fact("quantization", method, ev(key=where, value=method))
    loaded_from(out, f, doc.get("_name_or_path"))
    if isinstance(doc.get("auto_map"), dict):
        _auto_map(out, f, doc["auto_map"])
    return out


# The pipeline task of a transformers model class, by the suffix of its name (the AutoModelFor...
# mapping each pipeline loads). Suffixes whose task depends on the model (ForConditionalGeneration,
# ForSeq2SeqLM) say nothing.
TASK_BY_SUFFIX = {
    "ForCausalLM": "text-generation",
    "ForMaskedLM": "fill-mask",
    "ForSequenceClassification": "text-classification",
    "ForTokenClassification": "token-classification",
    "ForQuestionAnswering": "question-answering",
    "ForImageClassification": "image-classification",
    "ForObjectDetection": "object-detection",
    "ForZeroShotObjectDetection": "zero-shot-object-detection",
    "ForSemanticSegmentation": "image-segmentation",
    "ForInstanceSegmentation": "image-segmentation",
    "ForUniversalSegmentation": "image-segmentation",
    "ForDepthEstimation": "depth-estimation",
    "ForCTC": "automatic-speech-recognition",
    "ForSpeechSeq2Seq": "automatic-speech-recognition",
    "ForAudioClassification": "audio-classification",
    "ForVideoClassification": "video-classification",
    "ForImageTextToText": "image-text-to-text",
    "ForMaskGeneration": "mask-generation",
    "ForKeypointDetection": "keypoint-detection",
}
TASK_SOURCE = "transformers: the AutoModelFor... class each pipeline task loads"


def _suffix_task(name: str) -> str | None:
    return next((t for suffix, t in TASK_BY_SUFFIX.items() if name.endswith(suffix)), None)


def class_tasks() -> dict[str, str]:
    """Classes whose task the suffix does not tell (Wav2Vec2ForSequenceClassification: audio-classification,
    TapasForQuestionAnswering: table-question-answering, GPT2LMHeadModel: text-generation), generated from
    transformers' own pipeline mappings (tests/data/invreal/gen_transformers_tasks.py)."""
    from .transformers_tasks import TASKS

    return TASKS


def _class_task(arch: Any) -> str | None:
    """The one task every listed class is for, or None."""
    if not isinstance(arch, list) or not arch or len(arch) > 10:
        return None
    tasks = set()
    for a in arch:
        if not isinstance(a, str):
            return None
        tasks.add(class_tasks().get(a) or _suffix_task(a))
    return tasks.pop() if len(tasks) == 1 else None


def _timm(out: Found, f: FileRef, doc: dict[str, Any]) -> None:
    """timm's config.json (``save_for_hf``): the architecture, the classes, and the pretrained config,
    whose ``license`` is the licence timm gives the pretrained weights of that tag."""
    ev = f.ev
    out.properties["kind"] = "timm-config"
    arch = text(doc["architecture"], 100)
    out.fact("architecture", arch, ev(key="architecture", value=arch))
    out.fact("library", "timm", ev(key="pretrained_cfg"))
    for k in ("num_classes", "num_features", "global_pool"):
        if k in doc:
            out.properties[k] = scalar(doc[k])
    n = doc.get("num_classes")
    if isinstance(n, int) and not isinstance(n, bool):
        task = "image-classification" if n > 0 else "image-feature-extraction"
        out.fact("task_from_architecture", task, ev(key="num_classes", value=n))
    cfg = doc["pretrained_cfg"]
    if isinstance(cfg.get("tag"), str):
        out.properties["pretrained_tag"] = text(cfg["tag"], 100)
    lic = cfg.get("license")
    if isinstance(lic, str) and lic.strip():
        out.licenses.append(DeclaredLicense(text(lic.strip(), 100), ev(key="pretrained_cfg.license", value=lic)))
    lib = library_component("timm", None, ev(key="pretrained_cfg"))
    out.components.append(lib)
    dep = Relationship(MODEL, lib.id, RelationshipKind.DEPENDS_ON, evidence=[ev(key="pretrained_cfg")])
    out.relationships.append(dep)


_CACHE_PATH = re.compile(r"(?:^|[/\\])models--([\w.\-]+?)--([\w.\-]+)[/\\]snapshots[/\\]")


def origin(value: Any) -> str | None:
    """The hub repo a saved ``_name_or_path`` names: a repo id, or a Hugging Face cache path
    (".../hub/models--org--name/snapshots/<rev>/unet": what from_pretrained(repo id) leaves when the parts
    are loaded from the cache); None for any other local path."""
    if not isinstance(value, str):
        return None
    if is_repo_id(value) and "/" in value:
        return value
    m = _CACHE_PATH.search(value[:2000])
    return f"{m.group(1)}/{m.group(2)}" if m else None


def loaded_from(out: Found, f: FileRef, value: Any) -> None:
    """A hint only: transformers and diffusers write the path the model (or part) was loaded from when
    saving it. The kind of derivation is not said."""
    base = origin(value)
    if base is None:
        return
    said = f.ev(key="_name_or_path", value=text(value))
    c = model_component(base, said)
    out.components.append(c)
    out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.UNKNOWN, [said]))
    out.fact("name_or_path", base, said)


def _auto_map(out: Found, f: FileRef, auto_map: dict[str, Any]) -> None:
    refs = auto_map_refs(auto_map)
    more = len(refs) - MAX_REFS
    refs = refs[:MAX_REFS]
    files: set[str] = set()
    for r in refs:
        path, problem = module_file(r)
        if problem == "outside":
            out.finding(
                Severity.HIGH,
                "scan.remote-code-outside",
                f"{f.rel}: auto_map reference {text(r)!r} makes transformers import {text(path)!r}, outside the "
                "model folder (an absolute path or '..')",
                f.ev(key="auto_map", value=text(r)),
                REMOTE_CODE,
            )
        elif problem == "invalid":
            out.finding(
                Severity.MEDIUM,
                "scan.remote-code-invalid",
                f"{f.rel}: auto_map reference {text(r)!r} names no module file transformers could import",
                f.ev(key="auto_map", value=text(r)),
                REMOTE_CODE,
            )
        else:
            files.add(text(path))
    shown = sorted(files)
    out.properties["auto_map"] = {
        text(k, 100): [text(x) for x in v[:4]] if isinstance(v, list) else text(v)
        for k, v in list(auto_map.items())[:MAX_REFS]
    }
    out.properties["remote_code_files"] = shown
    out.fact("remote_code_files", shown, f.ev(key="auto_map", value=[text(r) for r in refs]))
    listed = ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
    out.finding(
        Severity.MEDIUM,
        "scan.remote-code",
        f"{f.rel}: auto_map makes transformers import {listed or 'remote code'} "
        "(loading needs trust_remote_code=True: review that code first)",  # safe: message text, not a call
        f.ev(key="auto_map", value=[text(r) for r in refs[:10]]),
        REMOTE_CODE,
    )
    if more > 0:
        out.finding(
            Severity.MEDIUM,
            "scan.limit-exceeded",
            f"{f.rel}: auto_map holds {more} more references than the {MAX_REFS} aitrail reads; the rest not checked",
            f.ev(key="auto_map"),
        )
