"""MLflow model folders: the Python code mlflow.pyfunc.load_model runs is found and reviewed (session 6).

A custom ``loader_module`` shipped in the model's ``code`` path, or a "model from code" script, runs when
the model is loaded; aitrail did not read ``MLmodel`` at all, so such a folder with ``os.system`` in its
loader passed with no finding. Folders written by real mlflow (tests/data/security/secreal/make.py);
the attacks are those folders with their code changed, built here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aitrail.analyze import security as S

MLFLOW = Path(__file__).parent / "data" / "security" / "secreal" / "mlflow"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
EVIL = "import os\n\n\ndef _load_pyfunc(path):\n    os.system('echo pwned')\n"


def _rules(rep: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(f["severity"], f["rule"], x["path"]) for x in rep["files"] for f in x["findings"]]


@pytest.mark.parametrize("model", ["custom_loader", "from_code"])
def test_an_mlflow_models_own_code_is_named_and_reviewed(model):
    rep = S.scan(MLFLOW / model, hash_files=False)
    found = _rules(rep)
    assert ("medium", "mlflow.code", "MLmodel") in found, found
    assert any(rule == "remote-code.present" for _, rule, _ in found), found
    assert rep["max_severity"] == "medium", found


@pytest.mark.parametrize("model, code", [("custom_loader", "code/loader.py"), ("from_code", "model_code.py")])
def test_a_risky_call_in_an_mlflow_models_code_is_high(tmp_path, model, code):
    folder = shutil.copytree(MLFLOW / model, tmp_path / model)
    (folder / code).write_text(EVIL)
    rep = S.scan(folder, hash_files=False)
    assert ("high", "remote-code.risky-call", code) in _rules(rep), _rules(rep)


def test_a_loader_module_that_is_not_shipped_is_high(tmp_path):
    folder = shutil.copytree(MLFLOW / "custom_loader", tmp_path / "m")
    shutil.rmtree(folder / "code")
    text = (folder / "MLmodel").read_text()
    (folder / "MLmodel").write_text(text.replace("  code: code\n", "  code: null\n"))
    rep = S.scan(folder, hash_files=False)
    assert ("high", "mlflow.loader-not-shipped", "MLmodel") in _rules(rep), _rules(rep)


def test_a_code_path_leaving_the_folder_is_high(tmp_path):
    folder = shutil.copytree(MLFLOW / "custom_loader", tmp_path / "m")
    text = (folder / "MLmodel").read_text()
    (folder / "MLmodel").write_text(text.replace("  code: code\n", "  code: ../elsewhere\n"))
    rep = S.scan(folder, hash_files=False)
    assert ("high", "mlflow.code-outside", "MLmodel") in _rules(rep), _rules(rep)
