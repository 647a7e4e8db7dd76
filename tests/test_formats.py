"""Catalogers on synthetic artefacts, including malformed and hostile ones."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib

import builders
import numpy as np
import pytest

import aitrail
from aitrail.model import ComponentType, Derivation, RelationshipKind


def files(inv):
    return {c.path: c for c in inv.components if c.path}


def rules(inv):
    return {f.rule for f in inv.findings}


def test_safetensors_header(tmp_path):
    builders.safetensors_file(tmp_path / "model.safetensors", metadata={"format": "pt"})
    inv = aitrail.scan(tmp_path)
    f = files(inv)["model.safetensors"]
    assert f.type == ComponentType.WEIGHTS and f.format == "safetensors"
    assert f.properties["tensor_count"] == 2 and f.properties["parameter_count"] == 15
    assert f.properties["dtypes"] == {"F16": 1, "F32": 1}
    assert f.properties["metadata"] == {"format": "pt"}


def test_safetensors_header_larger_than_file(tmp_path):
    builders.raw_safetensors(tmp_path / "bad.safetensors", {"a": {}}, declared_len=10_000)
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "scan.safetensors.truncated"]
    assert f.path == "bad.safetensors" and "larger than the file" in f.message
    assert files(inv)["bad.safetensors"].sha256  # still inventoried and hashed


def test_safetensors_offsets_out_of_range_and_overlap(tmp_path):
    hdr = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
        "c": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4096]},
    }
    builders.raw_safetensors(tmp_path / "m.safetensors", hdr, b"\x00" * 12)
    inv = aitrail.scan(tmp_path)
    assert {"scan.safetensors.overlapping-tensors", "scan.safetensors.offset-out-of-range"} <= rules(inv)


def test_safetensors_absurd_header_length(tmp_path):
    (tmp_path / "m.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    inv = aitrail.scan(tmp_path)
    assert "scan.safetensors.header-too-large" in rules(inv)


def test_sharded_index(tmp_path):
    builders.safetensors_file(tmp_path / "model-00001-of-00002.safetensors")
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps(
            {
                "metadata": {"total_size": 100},
                "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"},
            }
        )
    )
    inv = aitrail.scan(tmp_path)
    idx = files(inv)["model.safetensors.index.json"]
    assert idx.properties["shards"] == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    [f] = [f for f in inv.findings if f.rule == "scan.shard-missing"]
    assert "model-00002-of-00002.safetensors" in f.message


def test_gguf_written_with_gguf_package(tmp_path):
    builders.gguf_file(
        tmp_path / "m.gguf",
        chat_template="{{ messages }}",
        kv={
            "general.license": "llama3.1",
            "general.base_model.count": 1,
            "general.base_model.0.name": "Llama 3.1 8B",
            "general.base_model.0.organization": "Meta Llama",
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.1-8B",
        },
    )
    inv = aitrail.scan(tmp_path / "m.gguf")
    [m] = inv.models()
    assert m.name == "tiny-test" and m.properties["quantization"] == "Q4_K_M"
    assert [lic.value for lic in m.licenses] == ["llama3.1"]
    f = files(inv)["m.gguf"]
    assert f.properties["tensor_count"] == 2 and f.properties["parameter_count"] == 36
    [r] = [r for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM]
    # general.base_model.* are the parents of the model general.name names (gguf-py writes the converted
    # card's base_model there): the file says that it derives, not how (tests/test_invreal_layouts.py)
    assert r.target == "model:meta-llama/Llama-3.1-8B" and r.derivation == Derivation.UNKNOWN
    assert r.evidence[0].key == "general.base_model.0.name"


def test_gguf_absurd_counts_do_not_hang(tmp_path):
    p = tmp_path / "evil.gguf"
    p.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 2**60, 2**60) + b"\x00" * 64)
    inv = aitrail.scan(p)
    [f] = [f for f in inv.findings if f.rule == "scan.gguf.absurd-count"]
    assert f.path == "evil.gguf"


def test_gguf_truncated_string(tmp_path):
    p = tmp_path / "t.gguf"
    p.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 30) + b"key")
    inv = aitrail.scan(p)
    assert "scan.gguf.truncated" in rules(inv)


def test_onnx_synthetic_external_data_traversal_and_custom_domain(tmp_path):
    builders.onnx_model(tmp_path / "m.onnx", external="../../etc/passwd", custom_domain="com.evil")
    inv = aitrail.scan(tmp_path)
    f = files(inv)["m.onnx"]
    assert f.properties["ir_version"] == 8 and f.properties["opsets"] == {"ai.onnx": 17, "com.evil": 1}
    assert f.properties["custom_op_domains"] == ["com.evil"]
    assert f.properties["metadata_props"] == {"author": "tests"}
    assert {"scan.onnx.external-data-outside", "scan.onnx.custom-op-domain"} <= rules(inv)


def test_onnx_not_protobuf(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"\x08\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "scan.onnx.not-protobuf"]
    assert f.path == "m.onnx" and "not a valid ONNX protobuf" in f.message


def test_pytorch_zip_and_legacy_tensor_listing(tmp_path):
    tensors = {"layer.weight": (4, 3), "layer.bias": (3,)}
    builders.torch_zip(tmp_path / "a.pt", tensors)
    builders.torch_legacy(tmp_path / "b.bin", tensors)
    inv = aitrail.scan(tmp_path)
    for name, fmt in (("a.pt", "pytorch-zip"), ("b.bin", "pytorch-legacy")):
        f = files(inv)[name]
        assert f.format == fmt, name
        assert f.properties["tensor_count"] == 2 and f.properties["parameter_count"] == 15
        assert f.properties["tensors_sample"]["layer.weight"] == {"dtype": "F32", "shape": [4, 3]}


def test_extension_does_not_decide_format(tmp_path):
    builders.safetensors_file(tmp_path / "weights.bin")
    builders.torch_zip(tmp_path / "model.safetensors", {"w": (2,)})
    inv = aitrail.scan(tmp_path)
    assert files(inv)["weights.bin"].format == "safetensors"
    assert files(inv)["model.safetensors"].format == "pytorch-zip"


def test_numpy_npy_npz_and_object_arrays(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 3), dtype=np.float32))
    np.savez(tmp_path / "b.npz", x=np.zeros(4), y=np.array([1, "a"], dtype=object))
    inv = aitrail.scan(tmp_path)
    a = files(inv)["a.npy"]
    assert a.format == "numpy-npy" and a.properties["arrays"]["a.npy"]["shape"] == [2, 3]
    assert files(inv)["b.npz"].properties["array_count"] == 2
    assert "scan.npy.object-array" in rules(inv)


def test_compressed_joblib_and_plain_pickle_are_identified_not_loaded(tmp_path):
    marker = tmp_path / "pwned"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (tmp_path / "evil.pkl").write_bytes(payload)
    (tmp_path / "model.joblib").write_bytes(zlib.compress(b"\x80\x04" + payload))
    inv = aitrail.scan(tmp_path)
    assert not marker.exists()
    assert files(inv)["evil.pkl"].properties["pickle_globals"] == ["os.system"]
    assert files(inv)["model.joblib"].format == "joblib-zlib"


def test_keras_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": [{}, {}]}}))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    inv = aitrail.scan(tmp_path)
    k = files(inv)["m.keras"]
    assert k.format == "keras" and k.properties["keras_version"] == "3.5.0" and k.properties["layer_count"] == 2


def test_config_auto_map_adapter_mergekit_modelfile(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["XForCausalLM"],
                "model_type": "x",
                "torch_dtype": "bfloat16",
                "auto_map": {
                    "AutoConfig": "configuration_x.XConfig",
                    "AutoModelForCausalLM": "modeling_x.XForCausalLM",
                },
                "transformers_version": "4.44.0",
            }
        )
    )
    (tmp_path / "modeling_x.py").write_text("import torch\nclass XForCausalLM:\n    def forward(self):\n  pass\n")
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "org/base", "peft_type": "LORA", "r": 8})
    )
    (tmp_path / "mergekit_config.yml").write_text(
        "merge_method: slerp\nslices:\n  - sources:\n      - model: a/one\n      - model: b/two\nbase_model: a/one\n"
    )
    (tmp_path / "Modelfile").write_text('FROM llama3.1:8b\nTEMPLATE """{{ .Prompt }}"""\nLICENSE """MIT"""\n')
    inv = aitrail.scan(tmp_path)
    [m] = inv.models()
    assert m.properties["remote_code_files"] == ["configuration_x.py", "modeling_x.py"]
    assert "scan.remote-code" in rules(inv)
    kinds = {(r.target, r.derivation) for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM}
    assert ("model:org/base", Derivation.ADAPTER) in kinds
    assert ("model:a/one", Derivation.MERGE) in kinds and ("model:b/two", Derivation.MERGE) in kinds
    assert ("model:llama3.1:8b", Derivation.UNKNOWN) in kinds
    assert m.properties["dtype"] == "bfloat16"
    assert files(inv)["modeling_x.py"].type == ComponentType.CODE


def test_card_front_matter_lineage_and_model_index(tmp_path):
    (tmp_path / "README.md").write_text("""---
license: other
license_name: llama3.1
license_link: https://llama.meta.com/llama3_1/license
base_model: meta-llama/Llama-3.1-8B
base_model_relation: adapter
datasets: [org/data]
model-index:
- name: my-model
  results:
  - task: {type: text-generation}
    dataset: {type: cais/mmlu, name: MMLU, split: test}
    metrics: [{type: accuracy, value: 0.61}]
---
# my-model
A fine model.

## Limitations
It is small.
""")
    inv = aitrail.scan(tmp_path)
    [m] = inv.models()
    assert m.name == "my-model"
    [lic] = m.licenses
    assert (lic.value, lic.name, lic.link) == ("other", "llama3.1", "https://llama.meta.com/llama3_1/license")
    [r] = [r for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM]
    assert r.derivation == Derivation.ADAPTER
    assert [d.name for d in inv.related(m.id, RelationshipKind.TESTED_ON)] == ["cais/mmlu"]
    assert m.properties["evaluation_results"][0]["value"] == 0.61
    assert m.properties["card.limitations"] == "It is small."


@pytest.mark.parametrize(
    "content,rule",
    [
        ("---\nlicense: [unclosed\n---\n# x\n", "scan.card.front-matter"),
        ("---\nlicense: mit\n# never closed\n", "scan.card.front-matter"),
    ],
)
def test_malformed_front_matter(tmp_path, content, rule):
    (tmp_path / "README.md").write_text(content)
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == rule]
    assert f.path == "README.md"


def test_binary_readme(tmp_path):
    (tmp_path / "README.md").write_bytes(b"\x00\x01\x02binary")
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "scan.binary-text-file"]
    assert "README.md" in f.message


def test_dependency_manifests(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch==2.3.0\ntransformers>=4.40  # comment\n-e .\n")
    (tmp_path / "environment.yml").write_text("dependencies:\n  - numpy=1.26\n  - pip:\n    - peft==0.11.1\n")
    with pytest.raises(aitrail.InputError, match="nothing here is recognisable"):  # no model: a CI gate must fail
        aitrail.scan(tmp_path)
    inv = aitrail.scan(tmp_path, require_model=False)
    libs = {c.name: c for c in inv.components if c.type == ComponentType.LIBRARY}
    assert libs["torch"].version == "2.3.0" and libs["torch"].purl == "pkg:pypi/torch@2.3.0"
    assert libs["transformers"].properties["version_spec"] == ">=4.40"
    assert libs["peft"].version == "0.11.1" and "numpy" in libs


def test_symlink_loop_and_broken_link(tmp_path):
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "loop")
    os.symlink("nowhere", tmp_path / "dangling")
    builders.safetensors_file(tmp_path / "m.safetensors")
    inv = aitrail.scan(tmp_path)
    assert {"scan.symlink-loop", "scan.broken-symlink"} <= rules(inv)
    assert "m.safetensors" in files(inv)


def test_pipes_are_never_read(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(tmp_path / "config.json")  # a pipe with a model's name is not a model either
    with pytest.raises(aitrail.InputError, match="nothing here is recognisable"):
        aitrail.scan(tmp_path)
    (tmp_path / "README.md").write_text("# A model\n")
    inv = aitrail.scan(tmp_path)  # would block forever if the pipe were opened
    assert "scan.not-regular-file" in rules(inv)
    with pytest.raises(aitrail.InputError, match="not a regular file"):
        aitrail.scan(tmp_path / "pipe")


def test_missing_path_raises_input_error(tmp_path):
    with pytest.raises(aitrail.InputError, match="no such file"):
        aitrail.scan(tmp_path / "nope")


def test_no_hash_skips_digests(tmp_path):
    builders.safetensors_file(tmp_path / "m.safetensors")
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert files(inv)["m.safetensors"].sha256 is None and inv.hashed is False


def test_memory_stays_bounded_on_huge_sparse_weights(tmp_path):
    """A 20 GB (sparse) safetensors and GGUF are scanned from their headers, in bounded memory."""
    import subprocess
    import sys

    hdr = {f"t{i}": {"dtype": "F32", "shape": [1 << 28], "data_offsets": [i << 30, (i + 1) << 30]} for i in range(20)}
    builders.raw_safetensors(tmp_path / "big.safetensors", hdr)
    with open(tmp_path / "big.safetensors", "r+b") as f:
        f.truncate(20 << 30)
    builders.gguf_file(tmp_path / "big.gguf")
    with open(tmp_path / "big.gguf", "r+b") as f:
        f.truncate(20 << 30)
    code = (
        "import sys, aitrail\n"
        "inv = aitrail.scan(sys.argv[1], hash_files=False)\n"
        "p = [c.properties.get('parameter_count') for c in inv.components if c.path]\n"
        # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report pytest's own peak
        "print(sorted(x for x in p if x),"
        " [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    params, rss_kb = out.stdout.rsplit(" ", 1)
    assert params == str(sorted([36, 20 << 28]))
    assert int(rss_kb) < 300_000, f"peak RSS {int(rss_kb) // 1024} MB"
