"""NeMo's model_config.yaml: the callables its loader instantiates are judged (session 6).

``restore_from`` builds a .nemo's model with Hydra's ``instantiate``: every ``_target_`` at any depth
(and the top-level ``target``) is imported and called (CVE-2025-23304). A .nemo whose config targets
``os.system`` or a file write passed: yaml members were not read. Targets are judged as a pickle's
*called* globals are, so NeMo's own classes pass. Configs written by OmegaConf, the file-write one proven
with Hydra (tests/data/security/secreal/make.py); the weights are a committed benign torch fixture."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from aitrail.analyze import security as S

DATA = Path(__file__).parent / "data" / "security"
NEMO = DATA / "secreal" / "nemo"
WEIGHTS = DATA / "benign" / "torch" / "whole_mlp_module.pt"
ATTACKS = {"target_os_system.yaml": "os.system", "target_file_write.yaml": "shutil.copyfile",
           "top_target_exec.yaml": "builtins.exec"}


def _nemo(tmp: Path, config: Path, mode: str) -> Path:
    out = tmp / ("model.nemo" if mode == "w:" else "model_gz.nemo")
    with tarfile.open(out, mode) as t:  # type: ignore[call-overload]
        members = (("./model_config.yaml", config.read_bytes()), ("./model_weights.ckpt", WEIGHTS.read_bytes()))
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out


def _folder(tmp: Path, config: Path, mode: str) -> Path:
    d = tmp / "extracted"
    d.mkdir()
    shutil.copyfile(config, d / "model_config.yaml")
    shutil.copyfile(WEIGHTS, d / "model_weights.ckpt")
    return d


WRAP = {"nemo": lambda t, c: _nemo(t, c, "w:"), "nemo-gz": lambda t, c: _nemo(t, c, "w:gz"),
        "folder": lambda t, c: _folder(t, c, "")}


def _findings(path: Path) -> list[tuple[str, str, str]]:
    rep = S.scan(path, hash_files=False)
    return [(f["severity"], f["rule"], (f.get("evidence") or {}).get("global", "")) for x in rep["files"]
            for f in x["findings"]]


@pytest.mark.parametrize("wrap", sorted(WRAP))
@pytest.mark.parametrize("config", sorted(ATTACKS))
def test_a_config_target_that_runs_code_is_critical(tmp_path, wrap, config):
    found = _findings(WRAP[wrap](tmp_path, NEMO / config))
    assert ("critical", "config.target", ATTACKS[config]) in found, found


@pytest.mark.parametrize("wrap", sorted(WRAP))
def test_nemos_own_targets_pass(tmp_path, wrap):
    found = _findings(WRAP[wrap](tmp_path, NEMO / "model_config.yaml"))
    assert not [f for f in found if f[0] in ("medium", "high", "critical")], found


def test_a_lone_model_config_is_judged(tmp_path):
    path = tmp_path / "model_config.yaml"
    shutil.copyfile(NEMO / "target_os_system.yaml", path)
    assert ("critical", "config.target", "os.system") in _findings(path)
