#!/usr/bin/env bash
# Install aitrail with its test dependencies into .venv, lint and type-check, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/mypy src
exec .venv/bin/python -m pytest "$@"
