"""The many-models benchmark's inputs and code path, on 20 models (correctness only, never timing)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import many_models as mm  # noqa: E402

N = 20


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return mm.load_rows(N)


def _listing(tmp_path: Path, target: Path) -> tuple[mm.Run, list[dict]]:
    listing = tmp_path / f"{target.parent.name}-{target.name}.models.json"
    run = mm.run_api(target, timeout=300, listing=listing)
    assert run.error is None, run.error
    return run, json.loads(listing.read_text())


def test_rows_are_real_cards(rows: list[dict]) -> None:
    assert len(rows) == N and len({r["model_id"] for r in rows}) == N
    for r in rows:
        assert "/" in r["model_id"] and r["card"].strip() and not r["card"].startswith("Error:")


def test_folders_one_model_each_with_its_files(tmp_path: Path, rows: list[dict]) -> None:
    target = mm.build("folders", N, tmp_path, rows)
    assert not any(p.name.endswith(".done") for p in target.rglob("*"))  # the marker is not scanned
    expected = {mm.folder_name(r["model_id"]): mm.model_files(r, i) for i, r in enumerate(rows)}
    for name, files in expected.items():
        assert (target / name / "README.md").read_bytes() == files["README.md"]
        assert set(files) >= {"README.md", "config.json", "model.safetensors"}
    # every safetensors file is real and distinct, so no two digests coincide
    from safetensors.numpy import load

    blobs = [files["model.safetensors"] for files in expected.values()]
    assert len(set(blobs)) == N and all(load(b)["embeddings.weight"].shape == (32, 30) for b in blobs)

    run, models = _listing(tmp_path, target)
    assert run.info["models"] == N
    assert run.info["files"] == sum(len(f) for f in expected.values())
    assert {m["root"]: m["files"] for m in models} == {name: len(f) for name, f in expected.items()}


def test_hf_cache_one_model_per_snapshot(tmp_path: Path, rows: list[dict]) -> None:
    target = mm.build("hfcache", N, tmp_path, rows)
    assert target.name == "hub"
    for r in rows:
        repo = target / ("models--" + mm.folder_name(r["model_id"]))
        assert (repo / "refs" / "main").read_text() == r["sha"]
        snap = repo / "snapshots" / r["sha"]
        weights = snap / "model.safetensors"
        assert weights.is_symlink() and os.readlink(weights).startswith("../../blobs/")
        # LFS blobs are named by their SHA-256, as huggingface_hub names them
        import hashlib

        assert Path(os.readlink(weights)).name == hashlib.sha256(weights.read_bytes()).hexdigest()

    run, models = _listing(tmp_path, target)
    assert run.info["models"] == N and run.info["repo_ids"] == N
    assert {(m["repo_id"], m["version"]) for m in models} == {(r["model_id"], r["sha"]) for r in rows}
    listing = {m["repo_id"]: m["files"] for m in models}
    assert listing == {r["model_id"]: len(mm.model_files(r, i)) for i, r in enumerate(rows)}


def test_many_files_in_one_folder(tmp_path: Path, rows: list[dict]) -> None:
    target = mm.build("files", 300, tmp_path, rows[:1])
    run, models = _listing(tmp_path, target)
    assert run.info["models"] == 1 and run.info["files"] == 302
    assert models[0]["files"] == 302


def test_cli_run_and_table(tmp_path: Path, rows: list[dict]) -> None:
    target = mm.build("folders", N, tmp_path, rows)
    out = tmp_path / "check.json"
    cli = mm.run_cli(target, timeout=300, out_file=out)
    assert cli.error is None, cli.error
    doc = json.loads(out.read_text())
    # the scanned models (a card's base is a model component too, not scanned)
    assert len([c for c in doc["inventory"]["components"]
                if c["type"] == "model" and (c.get("properties") or {}).get("scanned")]) == N
    assert cli.rss_mb and cli.rss_mb > 0
    term = mm.run_cli(target, timeout=300, out_file=tmp_path / "check.txt", fmt="terminal")
    assert term.error is None, term.error
    shown = (tmp_path / "check.txt").read_text().splitlines()
    assert sum(line.startswith("model ") for line in shown) == N  # one block per model

    case = mm.Case("folders", N, api=mm.run_api(target, timeout=300), cli={"json": cli})
    text = mm.table([case, mm.Case("folders", 10 * N, skipped="extrapolates to ~900 s (> 600 s budget)")])
    assert f"| {N} model folders | {N} |" in text and "skipped: extrapolates" in text


def test_budget_skips_a_size_that_extrapolates_past_it() -> None:
    def done(n: int, s: float) -> mm.Case:
        return mm.Case("folders", n, api=mm.Run(seconds=s))

    # quadratic growth is extrapolated as quadratic, never less than linear
    assert mm.predict([done(100, 1.0), done(1000, 100.0)], 10_000) == pytest.approx(10_000.0)
    assert mm.predict([done(100, 1.0), done(1000, 5.0)], 10_000) == pytest.approx(50.0)
    assert mm.predict([done(100, 2.0)], 1000) == pytest.approx(20.0)
    assert mm.predict([], 1000) is None

    lines = mm.verdicts([done(100, 1.0), done(1000, 20.0), mm.Case("files", 100_000, skipped="too slow")])
    assert any("NOT met" in line and "per-model" in line for line in lines)
    assert any("100,000 files" in line and "NOT shown" in line for line in lines)


def test_every_writer_runs_on_the_real_cards(tmp_path: Path, rows: list[dict]) -> None:
    # the writers validate what they produce (CycloneDX and SPDX schemas): an error here is a real bug
    target = mm.build("folders", N, tmp_path, rows)
    got = mm.run_exports(target, timeout=300, skip={"check_markdown": "skipped: extrapolates to ~900 s"})
    assert got["check_markdown"] == "skipped: extrapolates to ~900 s"
    assert {k: type(v) for k, v in got.items() if k != "check_markdown"} == {
        k: float for k in mm.EXPORTS if k != "check_markdown"
    }, got
    case = mm.Case("folders", N, exports=got)
    assert "skipped: extrapolates" in mm.exports_table([case])
