"""What the walk leaves out is never silent: files beside a HF cache's repos are scanned, and a skipped
folder (.git, .venv, node_modules...) is a finding — high when it holds model or pickle files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builders import hf_cache, safetensors_file
from test_check import run

from aitrail.cli import main

BENIGN = Path(__file__).resolve().parent / "data" / "security" / "benign"
# a protocol-0 pickle calling os.system (never loaded here: aitrail parses it)
EVIL = b"cos\nsystem\n(S'echo pwned'\ntR."


def _weights(tmp_path: Path) -> bytes:
    p = safetensors_file(tmp_path / "w.safetensors", {"w": ("float32", (2, 2))})
    return p.read_bytes()


def test_files_beside_a_hf_cache_repo_are_scanned_and_judged(tmp_path, capsys):
    root = tmp_path / "mixed"
    hf_cache(root, "org/name", "a" * 40, {"config.json": b'{"model_type": "bert"}', "model.safetensors":
                                          _weights(tmp_path)})
    (root / "mymodel").mkdir()
    (root / "mymodel" / "model.pkl").write_bytes(EVIL)
    (root / "root.pkl").write_bytes(EVIL)
    code, out, _ = run(capsys, str(root), "--format", "json")
    doc = json.loads(out)
    paths = {c.get("path") for c in doc["inventory"]["components"]}
    assert {"mymodel/model.pkl", "root.pkl"} <= paths
    assert any(c.get("path", "").endswith("snapshots/" + "a" * 40 + "/model.safetensors")
               for c in doc["inventory"]["components"])
    assert code == 1 and not doc["policy"]["passed"]


def test_a_plain_hf_cache_adds_no_model_for_its_bookkeeping(tmp_path, capsys):
    root = tmp_path / "hub"
    hf_cache(root, "org/name", "b" * 40, {"config.json": b'{"model_type": "bert"}', "model.safetensors":
                                          _weights(tmp_path)})
    (root / "version.txt").write_text("1")
    (root / ".locks" / "models--org--name").mkdir(parents=True)
    (root / ".locks" / "models--org--name" / "x.lock").write_bytes(b"")
    assert main(["scan", str(root), "-o", str(tmp_path / "bom.json")]) == 0
    doc = json.loads((tmp_path / "bom.json").read_text())
    models = [c["name"] for c in doc["components"] if c["type"] == "model"]
    assert models == ["org/name"]
    assert "version.txt" in {c.get("path") for c in doc["components"]}  # inventoried, attached to no model


def test_skipped_folders_are_findings_high_when_they_hold_models(tmp_path, capsys):
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "bert"}')
    safetensors_file(d / "model.safetensors", {"w": ("float32", (2, 2))})
    (d / "node_modules" / "x").mkdir(parents=True)
    (d / "node_modules" / "x" / "m.pkl").write_bytes(EVIL)
    shutil.copytree(BENIGN / "pandas", d / ".venv" / "lib" / "data")
    (d / ".git" / "objects").mkdir(parents=True)
    (d / ".ipynb_checkpoints").mkdir()
    (d / ".ipynb_checkpoints" / "notes-checkpoint.ipynb").write_text("{}")
    code, out, _ = run(capsys, str(d), "--format", "json")
    doc = json.loads(out)
    got = {f["path"]: f for f in doc["inventory"]["findings"] if f["rule"] == "scan.skipped-folder"}
    assert got["node_modules"]["severity"] == "high" and "x/m.pkl" in got["node_modules"]["message"]
    assert got[".venv"]["severity"] == "high" and "lib/data/dataframe.pkl" in got[".venv"]["message"]
    assert got[".git"]["severity"] == "low" and got[".ipynb_checkpoints"]["severity"] == "low"
    assert code == 1 and any(v["policy_key"] == "security.fail_on" for v in doc["policy"]["violations"])


def test_a_weights_link_leaving_the_folder_fails_closed(tmp_path, capsys):
    """Loaders follow links; aitrail does not leave the folder, so such a file is unjudged: high, not a note."""
    outside = tmp_path / "elsewhere.pkl"
    outside.write_bytes(EVIL)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "bert"}')
    (d / "pytorch_model.bin").symlink_to(outside)
    (d / "NOTES").symlink_to(notes)
    code, out, _ = run(capsys, str(d), "--format", "json")
    doc = json.loads(out)
    got = {f["path"]: f["severity"] for f in doc["inventory"]["findings"] if f["rule"] == "scan.symlink-outside"}
    assert got == {"pytorch_model.bin": "high", "NOTES": "medium"}
    assert code == 1


def test_a_repo_folder_given_as_the_target_is_its_snapshots_only(tmp_path):
    """models--org--name itself: its blobs are the snapshots' bytes, not files beside them (one model, not two)."""
    import aitrail

    root = tmp_path / "cache"
    hf_cache(root, "org/name", "c" * 40, {"config.json": b'{"model_type": "bert"}', "model.safetensors":
                                          _weights(tmp_path)})
    (tmp_path / "w.safetensors").unlink()
    inv = aitrail.scan(root / "models--org--name")
    assert [m.name for m in inv.models()] == ["org/name"]
