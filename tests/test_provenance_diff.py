"""`aitrail diff OLD NEW`: two folders, two scan JSONs, two check documents (from the real MiniLM and
a new version of it built here: fine-tuned weights, config, card, licence and datasets changed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_provenance_compare import MINILM, fine_tune, load_base, save

from aitrail.errors import InputError
from aitrail.provenance.diff import diff, markdown

OLD = MINILM.parent
pytestmark = pytest.mark.skipif(not MINILM.is_file(), reason="shared real models not present")


@pytest.fixture(scope="module")
def new(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Version 2: fine-tuned, a config value and the base changed, card licence MIT, one dataset fewer,
    vocab.txt removed, NOTICE added."""
    root = tmp_path_factory.mktemp("v2") / "model"
    shutil.copytree(OLD, root, ignore=shutil.ignore_patterns("model.safetensors"))
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    root.chmod(0o755)
    save(fine_tune(load_base(), 0.03), root / "model.safetensors")
    cfg = json.loads((root / "config.json").read_text())
    cfg["max_position_embeddings"], cfg["_name_or_path"] = 1024, "acme/minilm-base"
    (root / "config.json").write_text(json.dumps(cfg, indent=2))
    card = (root / "README.md").read_text()
    card = card.replace("license: apache-2.0", "license: mit").replace("- s2orc\n", "", 1)
    (root / "README.md").write_text(card)
    (root / "vocab.txt").unlink()
    (root / "NOTICE").write_text("Version 2 of the model.\n")
    return root


@pytest.fixture(scope="module")
def folders(new: Path) -> dict:
    return diff(OLD, new)


def test_files_by_digest(folders: dict) -> None:
    f = folders["files"]
    assert [x["path"] for x in f["added"]] == ["NOTICE"]
    removed = [x["path"] for x in f["removed"]]
    assert "vocab.txt" in removed and all(p == "vocab.txt" or "dist-info" in p for p in removed)  # packaging not copied
    changed = {x["path"] for x in f["changed"]}
    assert {"model.safetensors", "config.json", "README.md"} <= changed
    assert "tokenizer.json" not in changed and f["unchanged"] >= 5
    assert folders["changed"] is True


def test_tensors_sampled(folders: dict) -> None:
    t = folders["tensors"]
    assert t["sampled"] and t["verdict"] == "derived" and t["kind"] == "fine-tune"
    assert t["changed_count"] > 50 and all(0 < x["change"] < 0.2 for x in t["changed"] if x["status"] == "similar")
    assert 0 < t["bytes_read"] < 0.05 * 2 * MINILM.stat().st_size


def test_config_card_licence_datasets_lineage(folders: dict) -> None:
    changes = [c for x in folders["config"] if x["path"] == "config.json" for c in x["changes"]]
    cfg = {c["key"]: (c["old"], c["new"]) for c in changes}
    assert cfg["max_position_embeddings"] == (512, 1024)
    assert folders["licenses"]["old"] == ["Apache-2.0"] and folders["licenses"]["new"] == ["MIT"]
    assert folders["datasets"]["removed"] == ["dataset:s2orc"] and not folders["datasets"]["added"]
    assert folders["lineage"]["added"] == ["model:acme/minilm-base"]
    assert folders["lineage"]["removed"] == ["model:nreimers/MiniLM-L6-H384-uncased"]
    assert any(c["key"] == "name_or_path" for c in folders["card"])


def test_findings_changed(folders: dict) -> None:
    gone = {x["rule"] for x in folders["findings"]["removed"]}
    assert "license.packager-differs" in gone  # the copy has no packaging around it


def test_markdown(folders: dict) -> None:
    md = markdown(folders)
    for s in ("## Files", "| added | `NOTICE`", "## Tensors", "fine-tune", "## Licences", "Apache-2.0 → MIT",
              "## Datasets", "removed `dataset:s2orc`", "## Lineage", "## Findings", "## Not compared"):
        assert s in md, s


def test_same_folder_is_unchanged() -> None:
    doc = diff(OLD, OLD)
    assert doc["changed"] is False and doc["tensors"]["kind"] == "identical"
    assert "No change found." in markdown(doc)


def test_check_documents(tmp_path: Path, new: Path) -> None:
    from aitrail.check import check

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(check(OLD).to_dict(), default=str))
    b.write_text(json.dumps(check(new).to_dict(), default=str))
    doc = diff(a, b)
    assert doc["old"]["kind"] == "check" and doc["tensors"]["sampled"] is False
    assert doc["licenses"]["new"] == ["MIT"] and "verdict" in doc["licenses"]
    keys = {v["key"] for v in doc["verdicts"]}
    assert keys, "MOF class or licence verdict expected to differ"  # README licence change moves the verdicts
    assert not any(n.startswith("verdicts") for n in doc["not_compared"])
    assert any(n.startswith("tensor values") for n in doc["not_compared"])


def test_scan_jsons_and_no_verdicts(tmp_path: Path, new: Path) -> None:
    from aitrail.scanner import scan

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(scan(OLD).to_dict(), default=str))
    b.write_text(json.dumps(scan(new).to_dict(), default=str))
    doc = diff(a, b)
    assert doc["old"]["kind"] == "scan" and not doc["verdicts"]
    assert any(n.startswith("verdicts") for n in doc["not_compared"])  # never reported as "unchanged"
    assert {x["path"] for x in doc["files"]["changed"]} >= {"model.safetensors"}


def test_not_an_aitrail_document(tmp_path: Path) -> None:
    bad = tmp_path / "other.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="other.json"):
        diff(bad, bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"components": [')
    with pytest.raises(InputError, match="broken.json: not valid JSON"):
        diff(broken, broken)


def test_truncated_weights_named(tmp_path: Path, new: Path) -> None:
    cut = tmp_path / "cut"
    shutil.copytree(new, cut)
    w = cut / "model.safetensors"
    w.chmod(0o644)
    data = w.read_bytes()
    w.write_bytes(data[: len(data) // 2])
    doc = diff(OLD, cut)
    t = doc["tensors"]
    assert any("model.safetensors" in p and "truncated" in p for p in t["problems"])
    assert any(x["status"] == "unreadable" for x in t["changed"])


def test_cli_exit_codes(tmp_path: Path, new: Path) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "aitrail.provenance.cli_lineage", "diff", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    p = run(str(OLD), str(new), "--format", "json", "--no-tensors")
    assert p.returncode == 1 and json.loads(p.stdout)["files"]["counts"]["added"] == 1
    assert run(str(OLD), str(OLD), "--no-tensors").returncode == 0
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    p = run(str(bad), str(OLD))
    assert p.returncode == 2 and "x.json" in p.stderr


def test_malformed_documents_are_compared_as_far_as_they_hold(tmp_path: Path) -> None:
    """Seeded structural mutants of a real check document (values swapped for other JSON types at random
    places): diff never crashes, in either direction."""
    import random

    from aitrail.check import check

    doc = json.loads(json.dumps(check(OLD).to_dict(), default=str))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc))
    rng = random.Random(15)

    def nodes(x: object, path: tuple = ()) -> list[tuple]:
        out = [path]
        if isinstance(x, dict):
            for k, v in x.items():
                out += nodes(v, (*path, k))
        elif isinstance(x, list):
            for i, v in enumerate(x[:5]):
                out += nodes(v, (*path, i))
        return out

    every = nodes(doc)
    for i in range(60):
        m = json.loads(json.dumps(doc))
        for path in rng.sample(every, 6):
            if not path:
                continue
            parent = m
            try:
                for k in path[:-1]:
                    parent = parent[k]
                parent[path[-1]] = rng.choice([None, 1, "x", [], {}, [1, "y"], {"a": [None]}])
            except (KeyError, IndexError, TypeError):
                continue
        bad = tmp_path / f"m{i}.json"
        bad.write_text(json.dumps(m))
        for a, b in ((bad, good), (good, bad)):
            try:
                markdown(diff(a, b))
            except InputError:
                pass


def test_a_finding_whose_severity_changed_is_a_change(tmp_path: Path) -> None:
    """The same finding (rule, path, message) at another severity — low under older rules, critical now — is not
    'nothing changed'."""
    from aitrail.check import check

    d = tmp_path / "m"
    shutil.copytree(OLD, d)
    (d / "model.pkl").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # parsed, never loaded
    doc = json.loads(json.dumps(check(d).to_dict(), default=str))
    new_doc = tmp_path / "new.json"
    new_doc.write_text(json.dumps(doc))
    for f in doc["security"]["files"]:
        for x in f["findings"]:
            if x["rule"] == "pickle.dangerous-global":
                x["severity"] = "low"
    old_doc = tmp_path / "old.json"
    old_doc.write_text(json.dumps(doc))
    got = diff(old_doc, new_doc)
    assert got["changed"] is True
    [c] = [c for c in got["findings"]["changed"] if c["rule"] == "pickle.dangerous-global"]
    assert (c["old_severity"], c["severity"]) == ("low", "critical")
    assert "low → critical" in markdown(got)
