"""Lightning / NeMo / Hydra checkpoints whose hyper-parameters are OmegaConf configs (session 6).

Every such checkpoint was high: an OmegaConf node keeps its element type (``typing.Any``), a structured
config's typed fields pickle as ``operator.getitem(typing.Dict, (str, typing.Any))``, and OmegaConf's
classes were "code that must be installed". typing's special forms are data when referenced (calling one
raises TypeError), ``operator.getitem`` is judged by what it is applied to and its item, if called, is
an indirect call; OmegaConf's classes rebuild data while ``OmegaConf.load`` / resolvers stay dangerous.
Fixtures: tests/data/security/secreal/make.py (real lightning and omegaconf; attacks proven)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitrail.analyze import security as S

HERE = Path(__file__).parent / "data" / "security" / "secreal"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _findings(path: Path) -> list[tuple[str, str, str]]:
    rep = S.scan_file(path, path.name, hash_file=False)
    return [(f.severity, f.rule, (f.evidence or {}).get("global", "")) for f in rep.findings]


@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "benign").glob("lightning_*.ckpt")))
def test_lightning_checkpoints_with_omegaconf_hyperparameters_pass(name):
    found = _findings(HERE / "benign" / name)
    assert all(RANK[sev] < RANK["high"] for sev, _, _ in found), found
    # only the user's own config dataclasses are left to review (medium), never OmegaConf or typing
    assert all(g.startswith("__main__.") for _, _, g in found), found


def test_omegaconf_load_in_a_pickle_is_critical():
    found = _findings(HERE / "attacks" / "omegaconf_load_file.pkl")
    assert ("critical", "pickle.dangerous-global", "omegaconf.omegaconf.OmegaConf.load") in found, found


def test_calling_an_item_fetched_by_getitem_is_an_indirect_call():
    found = _findings(HERE / "attacks" / "getitem_result_called.pkl")
    assert any(sev == "high" and rule == "pickle.indirect-call" for sev, rule, _ in found), found
