"""The CI integrations run the real command: the action's script, the pre-commit hooks."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import MINILM, ROOT, SHARED

BIN = Path(sys.executable).parent


def _action_script() -> tuple[str, dict[str, str]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    return step["run"], step["env"]


def _run_action(tmp_path: Path, path: Path, fail: str = "true", policy: str = "") -> tuple[int, str, str]:
    script, env_spec = _action_script()
    inputs = {"path": str(path), "policy": policy, "use": "", "report": "r.html", "sarif": "r.sarif", "fail": fail}
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for k, v in env_spec.items():
        m = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", v)
        assert m, f"action env {k} is not an input"
        env[k] = inputs[m.group(1)]
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    env["GITHUB_OUTPUT"] = str(tmp_path / "output")
    p = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = (tmp_path / "output").read_text() if (tmp_path / "output").exists() else ""
    return p.returncode, out, (tmp_path / "summary.md").read_text() if (tmp_path / "summary.md").exists() else ""


def test_github_action_passes_and_fails_like_the_policy(tmp_path):
    code, out, summary = _run_action(tmp_path, MINILM)
    assert code == 0 and "passed=true" in out and "PASSED" in summary
    assert (tmp_path / "r.sarif").exists() and (tmp_path / "r.html").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    (bad / "pytorch_model.bin").write_bytes((SHARED / "data/security-corpus/files/x01_pip_main.pkl").read_bytes())
    run2 = tmp_path / "second"
    run2.mkdir()
    code, out, summary = _run_action(run2, bad)
    assert code == 1 and "passed=false" in out and "FAILED" in summary
    run3 = tmp_path / "third"
    run3.mkdir()
    code, out, _ = _run_action(run3, bad, fail="false")
    assert code == 0 and "passed=false" in out
    run4 = tmp_path / "fourth"
    run4.mkdir()
    code, _, _ = _run_action(run4, bad, policy=str(tmp_path / "missing.yaml"))
    assert code == 2  # usage errors always fail the step


def test_pre_commit_hooks_run_and_match_model_files(tmp_path):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"aitrail-check", "aitrail-security"}
    for h in hooks.values():
        assert h["language"] == "python" and h["pass_filenames"] is False
        files = re.compile(h["files"])
        assert files.search("models/x/model.safetensors") and files.search("a/pytorch_model.bin")
        assert not files.search("src/app.py")
    entry = shlex.split(hooks["aitrail-check"]["entry"])
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    p = subprocess.run([*entry, str(MINILM)], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    entry = shlex.split(hooks["aitrail-security"]["entry"])
    bad = SHARED / "data/security-corpus/files/x01_pip_main.pkl"
    assert subprocess.run([*entry, str(bad)], env=env, capture_output=True, timeout=300).returncode == 1
