"""`aitrail security` on a Hugging Face cache snapshot (session 6).

huggingface_hub stores a model as ``models--org--name/blobs/<sha>`` and links every file of
``snapshots/<rev>/`` to ``../../blobs/<sha>``. Pointed at the snapshot folder (what
``snapshot_download`` returns and what users scan), every link left the scanned folder: the weights
were not judged, only a medium ``scan.symlink-outside`` note each, so the default gate passed a
malicious checkpoint. The repo folder is the boundary (as the inventory's resolve() has it)."""

from __future__ import annotations

import os
from pathlib import Path

from aitrail.analyze import security as S

DATA = Path(__file__).parent / "data" / "security"
EVIL_PT = DATA / "attacks" / "t01_torch_collect_env_run.pt"
BENIGN_PT = DATA / "benign" / "torch" / "whole_bert_module.pt"
REV = "0123456789abcdef0123456789abcdef01234567"


def _cache(tmp: Path, weights: bytes) -> Path:
    repo = tmp / "hub" / "models--org--tiny"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REV)
    snap = repo / "snapshots" / REV
    snap.mkdir(parents=True)
    for name, data in (("pytorch_model.bin", weights), ("config.json", b'{"model_type": "bert"}')):
        blob = repo / "blobs" / f"blob-{name}"
        blob.write_bytes(data)
        os.symlink(f"../../blobs/{blob.name}", snap / name)
    return snap


def test_a_malicious_checkpoint_in_a_snapshot_is_judged(tmp_path):
    rep = S.scan(_cache(tmp_path, EVIL_PT.read_bytes()), hash_files=False)
    assert rep["max_severity"] == "critical", rep


def test_a_benign_snapshot_passes_without_link_notes(tmp_path):
    rep = S.scan(_cache(tmp_path, BENIGN_PT.read_bytes()), hash_files=False)
    rules = [f["rule"] for x in rep["files"] for f in x["findings"]]
    assert rep["max_severity"] in (None, "info", "low") and "scan.symlink-outside" not in rules, rep


def test_a_link_leaving_the_repo_folder_is_still_not_followed(tmp_path):
    snap = _cache(tmp_path, BENIGN_PT.read_bytes())
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(EVIL_PT.read_bytes())
    os.symlink(outside, snap / "extra.bin")
    rep = S.scan(snap, hash_files=False)
    rules = [f["rule"] for x in rep["files"] for f in x["findings"]]
    assert "scan.symlink-outside" in rules and rep["max_severity"] != "critical", rep
