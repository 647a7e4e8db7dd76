"""diffusers ``model_index.json`` (a pipeline and its parts) and the configs diffusers writes.

A pipeline folder is one model: model_index.json names its class and, for each part folder, the
library and class that load it (``"unet": ["diffusers", "UNet2DConditionModel"]``,
``"text_encoder": ["transformers", "CLIPTextModel"]``). Each part's own config (``config.json``,
``scheduler_config.json``) carries ``_class_name`` and ``_diffusers_version``.
Source: diffusers docs, "DiffusionPipeline" (save_pretrained / model_index.json) and ConfigMixin.
"""

from __future__ import annotations

from ..model import ComponentType, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found
from .hf_config import loaded_from
from .lineage import check_size, library_component, read_json, text

SOURCE = "diffusers docs: DiffusionPipeline.save_pretrained (model_index.json), ConfigMixin (_class_name)"
MAX_PARTS = 64  # real pipelines have fewer than fifteen parts


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1]
    return name == "model_index.json" or (name.endswith("config.json") and b'"_diffusers_version"' in f.head)


def catalog(f: FileRef) -> Found:
    check_size(f, "a diffusers configuration")
    doc = read_json(f)
    out = Found(file_type=ComponentType.CONFIG, format="json")
    if not isinstance(doc, dict):
        return out
    cls = doc.get("_class_name")
    version = doc.get("_diffusers_version")
    version = text(version, 40) if isinstance(version, str) and version else None
    pipeline = f.rel.rsplit("/", 1)[-1] == "model_index.json"
    code: list[str] = []
    if pipeline and isinstance(cls, list) and len(cls) == 2 and all(isinstance(x, str) for x in cls):
        code.append(f"{cls[0]}.py")  # a custom pipeline: DiffusionPipeline imports <module>.py from the repo
        cls = cls[1]
    if isinstance(cls, str) and cls:
        out.properties["class_name"] = text(cls, 100)
        # a part's class describes the model only when nothing nearer its root does (scanner: facts of
        # files nearer the model's root come first)
        out.fact("architecture", text(cls, 100), f.ev(key="_class_name", value=cls))
    if version:
        out.properties["diffusers_version"] = version
    loaded_from(out, f, doc.get("_name_or_path"))  # where the pipeline or part was loaded from when saved
    if pipeline:
        out.properties["kind"] = "diffusers-pipeline"
        parts: dict[str, str] = {}
        libraries = {"diffusers"}
        for name, spec in list(doc.items())[: MAX_PARTS + 8]:
            if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2:
                continue
            lib, part_cls = spec
            if isinstance(lib, str) and isinstance(part_cls, str) and len(parts) < MAX_PARTS:
                parts[text(name, 100)] = f"{text(lib, 60)}.{text(part_cls, 100)}"
                if (f.path.parent / name / f"{lib}.py").is_file():
                    code.append(f"{name}/{lib}.py")  # a custom component: diffusers imports it from the repo
                else:
                    libraries.add(lib)
        out.properties["parts"] = parts
        out.fact("library", "diffusers", f.ev(key="_class_name", value=cls))
        if code:
            shown = sorted({text(c, 200) for c in code})
            out.properties["remote_code_files"] = shown
            out.fact("remote_code_files", shown, f.ev(key="_class_name", value=shown))
            out.finding(
                Severity.MEDIUM,
                "scan.remote-code",
                f"{f.rel}: diffusers imports {', '.join(shown[:10])} from the model folder (a custom pipeline or "
                "component: loading needs trust_remote_code=True: review that code first)",  # safe: message text
                f.ev(key="_class_name", value=shown[:10]),
                SOURCE,
            )
        for lib in sorted(libraries):
            if not lib or not lib.replace("_", "").replace("-", "").isalnum():
                continue  # a module path or a custom pipeline's folder, not a package name
            ev = f.ev(key="_diffusers_version" if lib == "diffusers" else "parts", value=lib)
            c = library_component(lib, None, ev)
            if lib == "diffusers" and version:
                c.properties["saved_with_version"] = version  # what wrote it, not a requirement
            out.components.append(c)
            out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    else:
        ev = f.ev(key="_diffusers_version", value=version)
        c = library_component("diffusers", None, ev)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out
