"""Folders as the real libraries write them, which aitrail did not build: the inventory must say what
the files say (models, formats, architecture, task, bases with their kind, licences with evidence).

Fixtures are written here with the libraries in the test environment (gguf-py's own converter
metadata, safetensors), or committed small under tests/data/invreal/ with the script and versions
that made them (tests/data/invreal/generate.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import builders
import pytest

import aitrail
from aitrail.model import Derivation, RelationshipKind

DATA = Path(__file__).parent / "data" / "invreal"


def _bases(inv: aitrail.Inventory) -> dict[str, str]:
    return {
        r.target: str(r.derivation)
        for r in inv.relationships
        if r.kind == RelationshipKind.DERIVED_FROM and r.source.startswith("model:")
    }


def _converted_gguf(folder: Path, card: str, name: str) -> Path:
    """A GGUF whose general.* keys gguf-py's converter (Metadata.load + set_gguf_meta_model) writes from
    an HF folder with this card, as convert_hf_to_gguf.py does."""
    import gguf
    import numpy as np

    hf = folder / "_hf"
    hf.mkdir(parents=True)
    (hf / "README.md").write_text(card)
    meta = gguf.Metadata.load(None, hf, name, 32)
    out = folder / f"{name.lower()}-q8_0.gguf"
    w = gguf.GGUFWriter(str(out), "qwen2")
    meta.set_gguf_meta_model(w)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for p in hf.iterdir():
        p.unlink()
    hf.rmdir()
    return out


def test_gguf_base_models_are_the_converted_models_parents(tmp_path):
    # Converting Qwen2.5-0.5B-Instruct (card: base_model Qwen/Qwen2.5-0.5B) writes that base into the GGUF:
    # Instruct is a fine-tune of it and this file a quantization of Instruct, so the file's edge to the
    # base was wrongly a quantization; its kind is not in the file
    gguf_path = _converted_gguf(tmp_path, "---\nbase_model: Qwen/Qwen2.5-0.5B\n---\n", "Qwen2.5-0.5B-Instruct")
    inv = aitrail.scan(gguf_path, hash_files=False)
    [m] = inv.models()
    assert m.name == "Qwen2.5-0.5B-Instruct"
    assert _bases(inv) == {"model:Qwen/Qwen2.5-0.5B": Derivation.UNKNOWN}


def test_gguf_naming_itself_as_base_is_no_base(tmp_path):
    builders.gguf_file(
        tmp_path / "m.gguf",
        kv={"general.base_model.count": 1, "general.base_model.0.name": "Tiny Test"},  # general.name: tiny-test
    )
    assert _bases(aitrail.scan(tmp_path / "m.gguf", hash_files=False)) == {}


def test_gguf_repo_card_without_relation_is_a_quantization(tmp_path):
    # The hub reads a missing base_model_relation from the files: GGUF weights make it "quantized"
    # (a GGUF repo's card names the model it quantized; the file names that model's own parents)
    _converted_gguf(tmp_path, "---\nbase_model: Qwen/Qwen2.5-0.5B\n---\n", "Qwen2.5-0.5B-Instruct")
    (tmp_path / "README.md").write_text("---\nbase_model: Qwen/Qwen2.5-0.5B-Instruct\n---\n# Qwen2.5 GGUF\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert _bases(inv) == {
        "model:Qwen/Qwen2.5-0.5B-Instruct": Derivation.QUANTIZATION,
        "model:Qwen/Qwen2.5-0.5B": Derivation.UNKNOWN,
    }
    # what the card states is kept: a relation written down is never overridden by the files
    (tmp_path / "README.md").write_text(
        "---\nbase_model: Qwen/Qwen2.5-0.5B-Instruct\nbase_model_relation: finetune\n---\n"
    )
    assert _bases(aitrail.scan(tmp_path, hash_files=False))["model:Qwen/Qwen2.5-0.5B-Instruct"] == "fine-tune"


def test_peft_adapter_saved_by_peft_is_an_adapter(tmp_path):
    # peft's save_pretrained writes README.md (base_model, library_name: peft, no relation) and
    # adapter_config.json (base_model_name_or_path, peft_type): the card's default guess (fine-tune)
    # came first in file order and won over what adapter_config.json states
    src = DATA / "peft-lora"
    for p in src.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert _bases(inv) == {"model:meta-llama/Llama-3.2-1B": Derivation.ADAPTER}
    [edge] = [r for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM]
    assert {(e.path, e.key) for e in edge.evidence} >= {
        ("adapter_config.json", "base_model_name_or_path"),
        ("README.md", "base_model"),
    }


def test_adapter_card_without_relation_and_no_base_in_its_config(tmp_path):
    # the adapter's config names a local path (trained from a checkout): the card's base is still an adapter
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": None}))
    builders.safetensors_file(tmp_path / "adapter_model.safetensors")
    (tmp_path / "README.md").write_text("---\nbase_model: org/base\nlibrary_name: peft\n---\n")
    assert _bases(aitrail.scan(tmp_path, hash_files=False)) == {"model:org/base": Derivation.ADAPTER}


@pytest.mark.parametrize("relation", ["merge", "quantized"])
def test_stated_relation_beats_the_files(tmp_path, relation):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    builders.safetensors_file(tmp_path / "adapter_model.safetensors")
    (tmp_path / "README.md").write_text(f"---\nbase_model: org/base\nbase_model_relation: {relation}\n---\n")
    got = _bases(aitrail.scan(tmp_path, hash_files=False))["model:org/base"]
    assert got == {"merge": "merge", "quantized": "quantization"}[relation]


def _copy(name: str, to: Path) -> Path:
    import shutil

    shutil.copytree(DATA / name, to / name)
    return to / name


def _boms_validate(inv: aitrail.Inventory) -> dict:
    from conftest import spdx_schema_errors

    from aitrail.export import cyclonedx, spdx

    for version in ("1.6", "1.7"):
        assert cyclonedx.validate(cyclonedx.dumps(inv, spec_version=version), version) is None
    doc = json.loads(spdx.dumps(inv))
    assert spdx_schema_errors(doc) == [] and spdx.conformance(doc) == []
    return json.loads(cyclonedx.dumps(inv))


def test_diffusers_pipeline_is_one_model_of_its_pipeline_class(tmp_path):
    # StableDiffusionPipeline.save_pretrained: model_index.json + unet/ vae/ (diffusers) + text_encoder/ (a
    # transformers CLIPTextModel config) + tokenizer/ + scheduler/. The pipeline's class was not read at all;
    # the model took the text encoder's model_type (clip_text_model) as its own
    inv = aitrail.scan(_copy("sd-pipeline", tmp_path), hash_files=False)
    [m] = inv.models()
    p = m.properties
    assert p["architecture"] == "StableDiffusionPipeline" and p["library"] == "diffusers"
    assert "model_type" not in p and "transformers_version" not in p  # the text encoder's, not the pipeline's
    assert p["provenance"]["architecture"][0] == {"path": "model_index.json", "key": "_class_name",
                                                  "value": "StableDiffusionPipeline"}
    index = next(c for c in inv.components if c.path == "model_index.json")
    assert index.properties["parts"]["text_encoder"] == "transformers.CLIPTextModel"
    libs = {c.name for c in inv.related(m.id, RelationshipKind.DEPENDS_ON)}
    assert libs == {"diffusers", "transformers"}
    weights = {c.path for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.type.value == "weights"}
    assert weights == {"unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
                       "text_encoder/model.safetensors"}
    params = _boms_validate(inv)["metadata"]["component"]["modelCard"]["modelParameters"]
    assert params["modelArchitecture"] == "StableDiffusionPipeline"


def test_diffusers_pipeline_inside_a_models_folder(tmp_path):
    _copy("ddpm-pipeline", tmp_path)
    _copy("peft-lora", tmp_path)
    models = {m.name: m for m in aitrail.scan(tmp_path, hash_files=False).models()}
    assert set(models) == {"ddpm-pipeline", "peft-lora"}  # the unet/ part is no model of its own
    assert models["ddpm-pipeline"].properties["architecture"] == "DDPMPipeline"


def test_sentence_transformers_template_title_is_no_name(tmp_path):
    # sentence-transformers titles the card of an unnamed model with its class ("# SentenceTransformer",
    # "# SentenceTransformer based on X"): that named the model "SentenceTransformer"
    folder = _copy("st-model", tmp_path)
    [m] = aitrail.scan(folder, hash_files=False).models()
    assert m.name == "st-model" and m.properties["class_name"] == "SentenceTransformer"
    card = (folder / "README.md").read_text()
    card = card.replace("# SentenceTransformer\n", "# SentenceTransformer based on org/x\n")
    (folder / "README.md").write_text(card)
    (folder / "config_sentence_transformers.json").write_text("{}")  # written before v5: no model_type
    [m] = aitrail.scan(folder, hash_files=False).models()
    assert m.name == "st-model"
    (folder / "README.md").write_text(card.replace("# SentenceTransformer based on org/x", "# acme-embed-small"))
    assert aitrail.scan(folder, hash_files=False).models()[0].name == "acme-embed-small"


def test_timm_config_gives_architecture_task_and_licence(tmp_path):
    # timm's save_for_hf config.json has "architecture" (no "architectures"/"model_type"): it was not read
    folder = _copy("timm-vit", tmp_path)
    builders.safetensors_file(folder / "model.safetensors")
    inv = aitrail.scan(folder, hash_files=False)
    [m] = inv.models()
    assert m.properties["architecture"] == "test_vit" and m.properties["task"] == "image-classification"
    [lic] = m.licenses
    assert (lic.value, lic.evidence.path, lic.evidence.key) == ("apache-2.0", "config.json", "pretrained_cfg.license")
    assert {c.name for c in inv.related(m.id, RelationshipKind.DEPENDS_ON)} == {"timm"}
    _boms_validate(inv)


def test_task_from_the_model_class_unless_the_card_says(tmp_path):
    builders.safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["task"] == "text-generation"
    assert m.properties["provenance"]["task"][0]["key"] == "architectures"
    (tmp_path / "README.md").write_text("---\npipeline_tag: text-classification\n---\n")
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["task"] == "text-classification"
    # a class whose task depends on the model says nothing
    (tmp_path / "README.md").unlink()
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["T5ForConditionalGeneration"]}))
    assert "task" not in aitrail.scan(tmp_path, hash_files=False).models()[0].properties


def test_onnx_external_data_file_is_the_models_weights(tmp_path):
    # onnx.save_model(..., save_as_external_data=True), as torch.onnx.export does for models over 2 GB: the
    # .data file holding every initializer was a plain "file" of format "data" (not weights)
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((64, 64), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 64])],
        [w],
    )
    (tmp_path / "onnx").mkdir()
    onnx.save_model(
        helper.make_model(graph),
        str(tmp_path / "onnx" / "model.onnx"),
        save_as_external_data=True,
        location="model.onnx_data",
        size_threshold=0,
    )
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    inv = aitrail.scan(tmp_path)
    [m] = inv.models()
    data = next(c for c in inv.components if c.path == "onnx/model.onnx_data")
    assert data.type.value == "weights" and data.format == "onnx-external-data"
    assert data.properties["external_data_of"] == "onnx/model.onnx"
    assert data in inv.related(m.id, RelationshipKind.CONTAINS) and data.sha256
    _boms_validate(inv)


@pytest.mark.parametrize("hashed", [True, False])
def test_hf_cache_git_blob_edited_after_download(tmp_path, hashed):
    # cards, configs and tokenizers are cached under their git blob SHA-1 (40 hex), not the LFS SHA-256:
    # only 64-hex names were checked, so a card edited from cc-by-nc-4.0 to apache-2.0 passed (review R26)
    import numpy as np
    from safetensors.numpy import save

    card = b"---\nlicense: cc-by-nc-4.0\n---\n# m\n"
    weights = save({"w": np.zeros(4, np.float32)})
    snap = builders.hf_cache(tmp_path, "org/m", "a" * 40, {"README.md": card, "model.safetensors": weights})
    inv = aitrail.scan(tmp_path, hash_files=hashed)
    assert not [f for f in inv.findings if f.rule == "integrity.hf-cache-blob-mismatch"]
    readme_blob = (snap / "README.md").resolve()
    assert len(readme_blob.name) == 40
    readme_blob.write_bytes(card.replace(b"cc-by-nc-4.0", b"apache-2.0"))
    inv = aitrail.scan(tmp_path, hash_files=hashed)
    [f] = [f for f in inv.findings if f.rule == "integrity.hf-cache-blob-mismatch"]
    assert f.severity == "high" and f.path.endswith("README.md") and f.evidence.value == readme_blob.name


def test_gguf_duplicate_chat_template_key_judges_every_value(tmp_path):
    # a GGUF repeating tokenizer.chat_template: the last value was kept silently, so an older llama.cpp
    # loader (first wins) renders a template nobody judged (review R28). gguf-py refuses to write a
    # duplicate: the second key is written under a name of the same length and renamed in the bytes.
    import gguf

    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    path = tmp_path / "m.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_string("tokenizer.chat_template", evil)
    w.add_string("tokenizer.chat_templatX", "{{ messages }}")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = path.read_bytes()
    assert data.count(b"tokenizer.chat_templatX") == 1
    path.write_bytes(data.replace(b"tokenizer.chat_templatX", b"tokenizer.chat_template"))
    with pytest.raises(Exception, match="(?i)duplicate"):
        gguf.GGUFReader(str(path))  # the reference reader refuses it
    inv = aitrail.scan(path, hash_files=False)
    [dup] = [f for f in inv.findings if f.rule == "scan.gguf.duplicate-key"]
    assert dup.severity == "high" and dup.evidence.key == "tokenizer.chat_template"
    assert any(f.rule.endswith("chat-template-injection") for f in inv.findings)  # the first value is judged


def test_parameter_count_is_the_models_not_its_exports(tmp_path):
    # a hub sentence-transformers repo: model.safetensors at the root, and onnx/ with several exports of the
    # same model (model.onnx, model_O1.onnx, model_qint8_avx512.onnx ...): their sum was the parameter count
    builders.safetensors_file(tmp_path / "model.safetensors")  # 15 parameters
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    (tmp_path / "onnx").mkdir()
    for name in ("model.onnx", "model_O1.onnx", "model_qint8_avx512.onnx"):
        builders.onnx_model(tmp_path / "onnx" / name)  # 6 parameters each
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["parameter_count"] == 15


def test_pipeline_parameter_count_adds_its_parts(tmp_path):
    inv = aitrail.scan(_copy("sd-pipeline", tmp_path), hash_files=False)
    parts = [c.properties["parameter_count"] for c in inv.components if c.type.value == "weights"]
    assert len(parts) == 3 and inv.models()[0].properties["parameter_count"] == sum(parts)


def test_gguf_licence_list_written_by_gguf_py(tmp_path):
    # a card's license: [mit, apache-2.0] is written by gguf-py as "mit,apache-2.0": one unknown id before
    card = "---\nlicense: [mit, apache-2.0]\nbase_model: Qwen/Qwen2.5-0.5B\n---\n"
    inv = aitrail.scan(_converted_gguf(tmp_path, card, "Qwen2.5-0.5B-Instruct"), hash_files=False)
    [m] = inv.models()
    assert [(lic.value, lic.evidence.key) for lic in m.licenses] == [
        ("mit", "general.license"),
        ("apache-2.0", "general.license"),
    ]
    builders.gguf_file(tmp_path / "n.gguf", kv={"general.license": "Apache License, Version 2.0"})
    [m] = aitrail.scan(tmp_path / "n.gguf", hash_files=False).models()
    assert [lic.value for lic in m.licenses] == ["Apache License, Version 2.0"]


def test_mlx_quantized_config(tmp_path):
    # mlx-lm's convert -q writes {"quantization": {"group_size": 64, "bits": 4}} (and the same under
    # quantization_config, without a quant_method): it was no quantization, or "unknown"
    builders.safetensors_file(tmp_path / "model.safetensors", metadata={"format": "mlx"})
    q = {"group_size": 64, "bits": 4}
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "quantization": q}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["quantization"] == "4-bit"
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "quantization_config": q}))
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["quantization"] == "4-bit"
    assert m.properties["provenance"]["quantization"][0]["key"] == "quantization_config.bits"


def test_diffusers_custom_pipeline_and_component_are_remote_code(tmp_path):
    # diffusers imports <part>/<module>.py when model_index.json names a module the repo holds (custom
    # components) and <module>.py for a [module, class] _class_name (custom pipeline): loading runs that code
    folder = _copy("ddpm-pipeline", tmp_path)
    index = json.loads((folder / "model_index.json").read_text())
    index["_class_name"] = ["my_pipeline", "MyPipeline"]
    index["scheduler"] = ["my_scheduler", "MyScheduler"]
    (folder / "model_index.json").write_text(json.dumps(index))
    (folder / "my_pipeline.py").write_text("class MyPipeline: pass\n")
    (folder / "scheduler" / "my_scheduler.py").write_text("class MyScheduler: pass\n")
    inv = aitrail.scan(folder, hash_files=False)
    [m] = inv.models()
    assert m.properties["architecture"] == "MyPipeline"
    assert m.properties["remote_code_files"] == ["my_pipeline.py", "scheduler/my_scheduler.py"]
    [f] = [f for f in inv.findings if f.rule == "scan.remote-code"]
    assert f.path == "model_index.json" and "trust_remote_code" in f.message
    assert {c.name for c in inv.related(m.id, RelationshipKind.DEPENDS_ON)} == {"diffusers"}  # no package my_scheduler


def test_weights_variants_are_copies_not_parts(tmp_path):
    # diffusers/transformers save_pretrained(variant="fp16") writes diffusion_pytorch_model.fp16.safetensors
    # beside diffusion_pytorch_model.safetensors (SD repos ship both): the pipeline's count was doubled
    folder = _copy("sd-pipeline", tmp_path)
    before = aitrail.scan(folder, hash_files=False).models()[0].properties["parameter_count"]
    for part in ("unet", "vae"):
        w = folder / part / "diffusion_pytorch_model.safetensors"
        (folder / part / "diffusion_pytorch_model.fp16.safetensors").write_bytes(w.read_bytes())
    w = folder / "text_encoder" / "model.safetensors"
    (folder / "text_encoder" / "model.fp16.safetensors").write_bytes(w.read_bytes())
    assert aitrail.scan(folder, hash_files=False).models()[0].properties["parameter_count"] == before


def test_sentence_transformers_dense_module_is_part_of_the_count(tmp_path):
    # modules.json names 2_Dense/ as a module of the model: its weights add to the root transformer's
    inv = aitrail.scan(_copy("st-dense", tmp_path), hash_files=False)
    counts = {c.path: c.properties["parameter_count"] for c in inv.components if c.type.value == "weights"}
    assert set(counts) == {"model.safetensors", "2_Dense/model.safetensors"}
    assert inv.models()[0].properties["parameter_count"] == sum(counts.values())


@pytest.mark.parametrize(
    "arch, task",
    [
        (["Wav2Vec2ForSequenceClassification"], "audio-classification"),  # the suffix says text-classification
        (["TapasForQuestionAnswering"], "table-question-answering"),
        (["GPT2LMHeadModel"], "text-generation"),  # no For... suffix at all
        (["BertForSequenceClassification"], "text-classification"),
        (["BartForConditionalGeneration"], None),  # summarisation, translation, ...: the fine-tune decides
        (["BertForMaskedLM", "BertForSequenceClassification"], None),
    ],
)
def test_task_of_a_transformers_class(arch, task):
    from aitrail.catalog.hf_config import _class_task

    assert _class_task(arch) == task


def test_task_from_class_agrees_with_the_hub_differential():
    # the hub gave each 2022 transformers model without a card pipeline_tag its task from the config's class:
    # aitrail's reading must agree (the hub's retired 'conversational' tag aside: today's is text-generation)
    import re

    import pyarrow.parquet as pq
    from conftest import SHARED

    from aitrail.catalog.hf_config import _class_task

    parquet = SHARED / "data" / "hub-metadata" / "hf-hub-2022-snapshot" / "models.parquet"
    cols = ["card", "config_architectures", "pipeline_tag", "library_name"]
    agree = wrong = 0
    for r in pq.read_table(parquet, columns=cols).to_pylist():
        if not r["config_architectures"] or r["pipeline_tag"] in (None, "conversational"):
            continue
        if r["library_name"] not in (None, "transformers") or re.search(r"(?m)^pipeline_tag:", r["card"] or ""):
            continue
        got = _class_task(list(r["config_architectures"]))
        if got is not None:
            agree, wrong = agree + (got == r["pipeline_tag"]), wrong + (got != r["pipeline_tag"])
    assert agree > 12_000 and wrong / (agree + wrong) < 0.002


def test_diffusers_lora_weights_without_adapter_config_are_an_adapter(tmp_path):
    # a diffusers/kohya LoRA repo: pytorch_lora_weights.safetensors and a card naming the base, no relation
    # and no adapter_config.json: the base edge was a fine-tune; the tensors say LoRA
    import numpy as np
    from safetensors.numpy import save_file

    prefix = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_linear_layer"
    down, up = np.zeros((4, 8), np.float32), np.zeros((8, 4), np.float32)
    lora = tmp_path / "pytorch_lora_weights.safetensors"
    save_file({f"{prefix}.down.weight": down, f"{prefix}.up.weight": up}, str(lora))
    card = "---\nbase_model: stabilityai/stable-diffusion-xl-base-1.0\nlibrary_name: diffusers\ntags: [lora]\n---\n"
    (tmp_path / "README.md").write_text(card)
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert _bases(inv) == {"model:stabilityai/stable-diffusion-xl-base-1.0": Derivation.ADAPTER}
    w = next(c for c in inv.components if c.path == "pytorch_lora_weights.safetensors")
    assert w.properties["adapter"] == "lora"
    # full weights are no adapter
    builders.safetensors_file(tmp_path / "pytorch_lora_weights.safetensors")
    assert _bases(aitrail.scan(tmp_path, hash_files=False)) == {
        "model:stabilityai/stable-diffusion-xl-base-1.0": Derivation.FINE_TUNE
    }


def test_transformers_js_exports_are_variants(tmp_path):
    # a transformers.js repo: config.json at the root and only onnx/ exports of one model under dtype
    # suffixes (model.onnx, model_fp16.onnx, model_quantized.onnx, model_q4.onnx): they were summed
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    (tmp_path / "onnx").mkdir()
    for name in ("model.onnx", "model_fp16.onnx", "model_quantized.onnx", "model_q4.onnx"):
        builders.onnx_model(tmp_path / "onnx" / name)  # 6 parameters each
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["parameter_count"] == 6
    # an encoder and a decoder are two parts of one model: they add up
    builders.onnx_model(tmp_path / "onnx" / "encoder_model.onnx")
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["parameter_count"] == 12


def test_cross_encoder_task_without_its_card(tmp_path):
    # a sentence-transformers CrossEncoder folder: modules.json made every such folder "sentence-similarity";
    # the library's own card says text-ranking (one label) or text-classification (more)
    folder = _copy("ce-model", tmp_path)
    [m] = aitrail.scan(folder, hash_files=False).models()
    assert (m.properties["task"], m.properties["class_name"]) == ("text-ranking", "CrossEncoder")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {"0": "neg", "1": "pos"}
    (folder / "config.json").write_text(json.dumps(cfg))
    assert aitrail.scan(folder, hash_files=False).models()[0].properties["task"] == "text-classification"


@pytest.mark.parametrize(
    "name, fmt, arch, task, library",
    [
        ("xgb.json", "xgboost-json", "xgboost gbtree", "tabular-classification", "xgboost"),
        ("xgb.ubj", "xgboost-ubj", "xgboost", None, "xgboost"),
        ("lgb.txt", "lightgbm-text", "lightgbm gbdt", "tabular-regression", "lightgbm"),
    ],
)
def test_tree_models_in_their_libraries_formats(tmp_path, name, fmt, arch, task, library):
    # XGBoost's and LightGBM's own save_model files: a folder holding one was "nothing recognisable as a
    # model" (exit 2)
    (tmp_path / name).write_bytes((DATA / "trees" / name).read_bytes())
    inv = aitrail.scan(tmp_path)
    [m] = inv.models()
    [w] = [c for c in inv.components if c.path == name]
    assert (w.type.value, w.format) == ("weights", fmt)
    assert m.properties["architecture"] == arch and m.properties.get("task") == task
    assert [c.name for c in inv.related(m.id, RelationshipKind.DEPENDS_ON)] == [library]
    _boms_validate(inv)


def test_peft_adapter_task_from_its_task_type(tmp_path):
    # peft writes task_type (CAUSAL_LM) into adapter_config.json: without a card's pipeline_tag the adapter had
    # no task
    for p in (DATA / "peft-lora").iterdir():
        if p.name != "README.md":
            (tmp_path / p.name).write_bytes(p.read_bytes())
    [m] = aitrail.scan(tmp_path, hash_files=False).models()
    assert m.properties["task"] == "text-generation"
    said = {"path": "adapter_config.json", "key": "task_type", "value": "CAUSAL_LM"}
    assert m.properties["provenance"]["task"][0] == said


def test_other_frameworks_exports_are_typed_by_content(tmp_path):
    # a hub repo ships the model in other frameworks too: openvino/openvino_model.{xml,bin} (saved by
    # openvino.save_model) was an unknown .bin named like weights (scan.unknown-format) and a plain .xml;
    # flax_model.msgpack (flax.serialization.to_bytes: a msgpack map) a plain file
    import msgpack

    folder = _copy("st-model", tmp_path)
    (folder / "openvino").mkdir()
    for name in ("openvino_model.xml", "openvino_model.bin"):
        (folder / "openvino" / name).write_bytes((DATA / "openvino" / name).read_bytes())
    (folder / "flax_model.msgpack").write_bytes(msgpack.packb({"params": {"w": b"\x00" * 8}}))
    inv = aitrail.scan(folder, hash_files=False)
    typed = {c.path: (c.type.value, c.format) for c in inv.components if c.path}
    assert typed["openvino/openvino_model.bin"] == ("weights", "openvino-weights")
    assert typed["openvino/openvino_model.xml"] == ("config", "openvino-ir")
    assert typed["flax_model.msgpack"] == ("weights", "flax-msgpack")
    assert not [f for f in inv.findings if f.rule == "scan.unknown-format"]
    [m] = inv.models()
    assert m.properties["parameter_count"] == 1088  # the root safetensors' count, not changed by the exports


def test_gguf_repo_downloaded_to_a_folder_keeps_its_card(tmp_path):
    # `huggingface-cli download TheBloke/X-GGUF --local-dir x`: a README (licence, base) and several quant
    # files. From the HF cache the same files are one model with the card; from the folder each GGUF was
    # its own model and the card was attached to none: no licence, no base (verdict unknown for llama2)
    import shutil

    builders.gguf_file(tmp_path / "llama-2-7b-chat.Q4_K_M.gguf")
    shutil.copy(tmp_path / "llama-2-7b-chat.Q4_K_M.gguf", tmp_path / "llama-2-7b-chat.Q5_K_M.gguf")
    card = "---\nlicense: llama2\nbase_model: meta-llama/Llama-2-7b-chat-hf\n---\n# Llama 2 7B Chat - GGUF\n"
    (tmp_path / "README.md").write_text(card)
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert inv.models()
    for m in inv.models():
        assert [lic.value for lic in m.licenses] == ["llama2"]
        assert _bases_of(inv, m.id) == {"model:meta-llama/Llama-2-7b-chat-hf": Derivation.QUANTIZATION}


def _bases_of(inv: aitrail.Inventory, model_id: str) -> dict[str, str]:
    return {str(r.target): str(r.derivation) for r in inv.outgoing(model_id, RelationshipKind.DERIVED_FROM)}


def test_local_dir_download_metadata_revision_and_integrity(tmp_path):
    # `hf download org/m --local-dir d` keeps huggingface_hub's per-file metadata (commit, etag) in
    # d/.cache/huggingface/download/: it was never read, so a card edited after download (cc-by-nc-4.0 to
    # apache-2.0) passed, and the model had no revision
    folder = _copy("local-dir", tmp_path)
    inv = aitrail.scan(folder)
    [m] = inv.models()
    assert m.version == "0123456789abcdef0123456789abcdef01234567"
    assert not [f for f in inv.findings if f.rule == "integrity.hf-cache-blob-mismatch"]
    card = folder / "README.md"
    card.write_text(card.read_text().replace("cc-by-nc-4.0", "apache-2.0"))
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x01\x00\x00\x00")
    for hashed, changed in ((True, {"README.md", "model.safetensors"}), (False, {"README.md"})):
        inv = aitrail.scan(folder, hash_files=hashed)
        found = {f.path for f in inv.findings if f.rule == "integrity.hf-cache-blob-mismatch"}
        assert found == changed, hashed


def test_where_a_saved_pipeline_and_its_parts_were_loaded_from(tmp_path):
    # diffusers' save_pretrained writes _name_or_path (where from_pretrained loaded it: a repo id, or the HF
    # cache snapshot path its parts came from) into model_index.json and each part's config; it was not read
    folder = _copy("sd-pipeline", tmp_path)
    index = json.loads((folder / "model_index.json").read_text())
    index["_name_or_path"] = "runwayml/stable-diffusion-v1-5"
    (folder / "model_index.json").write_text(json.dumps(index))
    vae = json.loads((folder / "vae" / "config.json").read_text())
    vae["_name_or_path"] = "/root/.cache/huggingface/hub/models--stabilityai--sd-vae-ft-mse/snapshots/31f2/"
    (folder / "vae" / "config.json").write_text(json.dumps(vae))
    unet = json.loads((folder / "unet" / "config.json").read_text())
    unet["_name_or_path"] = "/home/me/checkpoints/unet"  # a local path names no repo
    (folder / "unet" / "config.json").write_text(json.dumps(unet))
    inv = aitrail.scan(folder, hash_files=False)
    assert _bases(inv) == {
        "model:runwayml/stable-diffusion-v1-5": Derivation.UNKNOWN,
        "model:stabilityai/sd-vae-ft-mse": Derivation.UNKNOWN,
    }


def test_adapter_base_loaded_from_the_hf_cache(tmp_path):
    # peft writes the path the base was loaded from: a cache snapshot path names its repo
    cfg = json.loads((DATA / "peft-lora" / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "/root/.cache/huggingface/hub/models--meta-llama--Llama-3.2-1B/snapshots/4e20de3"
    (tmp_path / "adapter_config.json").write_text(json.dumps(cfg))
    weights = DATA / "peft-lora" / "adapter_model.safetensors"
    (tmp_path / "adapter_model.safetensors").write_bytes(weights.read_bytes())
    assert _bases(aitrail.scan(tmp_path, hash_files=False)) == {"model:meta-llama/Llama-3.2-1B": Derivation.ADAPTER}
