"""MOT declarations aitrail did not write (lfai/model_openness_tool models/, crowd-filled): a value in a
component's `license` field that says the component is not there ("Undisclosed", "Component not
included") is not a licence. The MOF class stays the MOT's; the OSAID verdict and the words say
"not released (declared as licence '…')"."""

from __future__ import annotations

import pytest
from conftest import SHARED

from aitrail.analyze import mof, openness

MODELS = SHARED / "data" / "mof-models"


def _assess(stem: str) -> tuple[mof.Declaration, dict]:
    d = mof.from_yaml((MODELS / f"{stem}.yml").read_text("utf-8"), f"{stem}.yml")
    return d, openness.assess(d)


@pytest.mark.parametrize("stem", ["Dou-Bao", "ERNIE-3.0"])
def test_undisclosed_components_do_not_pass_if_only_licences_changed(stem):
    """Every component declared with licence 'Undisclosed'. Before: OSAID "pass_if_licenses_changed"
    and "Weights released under restrictive terms"."""
    d, a = _assess(stem)
    assert a["osaid"]["verdict"] == "fail"
    assert a["summary"].startswith("Not open source AI: the weights are not released")
    w = next(c for c in a["mof"]["components"] if c["component"] == "Model parameters (Final)")
    assert w["state"] == "not released (declared as licence 'Undisclosed')"
    item = next(it for r in a["osaid"]["requirements"] for it in r["items"] if it["item"] == "Model parameters")
    assert (item["status"], item["state"]) == ("missing", "not released")
    assert item["evidence"] == [f"{stem}.yml release.components[6]: not released (declared as licence 'Undisclosed')"]
    assert a["index"]["dimensions"]["weights_endmodel"]["class"] == "closed"
    assert any("'Undisclosed' says the component is not released" in p for p in d.problems)
    assert a["mof"]["class"] == mof.grade(d).klass == 0  # the MOT's grade is unchanged


def test_component_not_included_is_not_released_weights():
    """GPT-3's declaration: weights 'Component Component not included'. Before: "Weights released under
    restrictive terms"."""
    _, a = _assess("GPT-3")
    assert a["summary"].startswith("Not open source AI: the weights are not released")
    assert "restrictive terms" not in a["summary"]


def test_a_real_licence_is_still_a_licence():
    _, a = _assess("Llama-2-13B")
    w = next(c for c in a["mof"]["components"] if c["component"] == "Model parameters (Final)")
    assert w["state"] == "released under a licence not open"
    assert not mof.withheld("Llama 2 Community License") and not mof.withheld("Proprietary")
    assert mof.withheld("Component not include.") and mof.withheld("undisclosed ")


def test_a_licence_name_no_list_knows_is_not_called_closed():
    """CodeT5 declares 'BSD-3' (17 components of the MOT's declarations). Before: "under BSD-3, which is
    not an open licence" and "released but not under open licences"."""
    _, a = _assess("CodeT5")
    assert "under licence names aitrail does not recognise (BSD-3): inference, model architecture" in a["summary"]
    assert "released but not under open licences" not in a["summary"]
    needs = " ".join(a["mof"]["next_class_needs"])
    assert "under 'BSD-3', a name neither the MOT nor aitrail knows (graded not open)" in needs
    assert "which is not an open licence" not in needs
