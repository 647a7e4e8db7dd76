"""Real chat templates (the 70 that llama.cpp ships, vendored in llama-cpp-python's sdist on PyPI):
none is judged high or critical. The attacks they must not be confused with are in
tests/data/security/attacks (j0*) and test_security.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from aitrail.analyze.security.formats import _template_walk

SDIST = "llama-cpp-python==0.3.36"
CACHE = Path(__file__).resolve().parents[1] / "benchmarks" / "work" / "llamacpp"


def _templates() -> list[tuple[str, str]]:
    archives = sorted(CACHE.glob("llama_cpp_python-*.tar.gz"))
    if not archives:
        CACHE.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", SDIST, "--no-deps", "--no-binary", ":all:", "-d", str(CACHE)],
            capture_output=True,
            timeout=600,
        )
        archives = sorted(CACHE.glob("llama_cpp_python-*.tar.gz"))
        if r.returncode or not archives:
            if os.environ.get("CI"):
                pytest.fail(f"cannot download {SDIST} from PyPI: {r.stderr[-500:]!r}")
            pytest.skip(f"{SDIST} not downloadable here")
    out = []
    with tarfile.open(archives[-1]) as t:
        for m in t:
            if m.isfile() and "/models/templates/" in m.name and m.name.endswith(".jinja"):
                fh = t.extractfile(m)
                assert fh is not None
                out.append((m.name.rsplit("/", 1)[-1], fh.read().decode("utf-8")))  # read as text, never rendered
    return out


def test_real_chat_templates_are_not_flagged():
    templates = _templates()
    assert len(templates) >= 50
    flagged = {
        name: hits
        for name, body in templates
        if (hits := [h for h in _template_walk(body) if h[0] in ("high", "critical", "unparsable", "limit")])
    }
    assert flagged == {}
