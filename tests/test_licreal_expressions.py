"""Laundering through an SPDX expression (session 6).

A Llama fine-tune declaring `Apache-2.0 OR MIT` dropped the Llama terms just as `apache-2.0` does, but the
laundering rule looked only at single licences: an expression was never checked.
"""

from __future__ import annotations

import pytest

import aitrail
from aitrail.analyze import licenses as L


def _rules(tmp_path, licence: str, base: str = "meta-llama/Llama-3.1-8B") -> set[str]:
    (tmp_path / "README.md").write_text(f"---\nlicense: {licence}\nbase_model: {base}\n---\n# ft\n")
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    return {f.rule for f in aitrail.scan(tmp_path, hash_files=False).findings}


@pytest.mark.parametrize(
    ("licence", "laundered"),
    [
        ("Apache-2.0 OR MIT", True),  # either choice drops the Llama terms
        ("LicenseRef-aitrail-llama-3.1 OR MIT", True),  # a recipient may take MIT alone
        ("LicenseRef-aitrail-llama-3.1 AND MIT", False),  # both apply: the Llama terms are kept
        ("Apache-2.0 AND MIT", True),
        ("llama3.1", False),
    ],
)
def test_an_expression_launders_when_a_choice_drops_the_terms(tmp_path, licence, laundered):
    assert ("license.laundering" in _rules(tmp_path, licence)) is laundered


def test_an_expression_with_an_unknown_part_is_not_called_laundering(tmp_path):
    # whether my-eula carries the Llama terms cannot be told: no claim either way (the verdict is unknown)
    assert "license.laundering" not in _rules(tmp_path, "LicenseRef-my-eula AND MIT")
    assert L._carried(L.resolve("LicenseRef-my-eula OR MIT"), L.resolve("llama3.1").facts) is False
