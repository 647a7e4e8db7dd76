"""Policy rules that read licence expressions and format families (a deny or a ban that misses is a fail-open)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_check import model_dir, policy, run

BENIGN = Path(__file__).resolve().parent / "data" / "security" / "benign"


@pytest.mark.parametrize(
    ("declared", "denied"),
    [
        ("MIT AND GPL-3.0-only", True),  # a conjunction carries each of its parts
        ("(MIT AND GPL-3.0-only) OR Apache-2.0", False),  # one alternative avoids it
        ("GPL-3.0-only OR AGPL-3.0-only", True),  # every alternative is denied
        ("GPL-3.0-only WITH Classpath-exception-2.0", True),  # an exception does not hide the licence
        ("mit and gpl-3.0-only", True),  # case, as cards write it
        ("MIT OR Apache-2.0", False),
    ],
)
def test_deny_reads_the_licence_expression(tmp_path, capsys, declared, denied):
    d = model_dir(tmp_path, license=f"'{declared}'")
    pol = policy(tmp_path, "licenses: {deny: [GPL-3.0-only, AGPL-3.0-only]}\n")
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", pol)
    keys = [v["policy_key"] for v in json.loads(out)["policy"]["violations"]]
    assert ("licenses.deny" in keys) is denied, keys


def test_banning_pickle_bans_every_format_that_unpickles(tmp_path, capsys):
    """pandas' compressed pickles (read_pickle and joblib.load open them) and torch.save's archives are
    pickles to the loader: a policy banning pickle lists each of them."""
    d = model_dir(tmp_path)
    names = ["dataframe_to_pickle.pkl", "dataframe_to_pickle_gzip.pkl.gz", "dataframe_to_pickle_bz2.pkl.bz2",
             "dataframe_to_pickle_xz.pkl.xz"]
    for n in names:
        shutil.copy(BENIGN / "pandas" / n, d / n)
    shutil.copy(BENIGN / "torch" / "optimizer_sgd_state.pt", d / "optimizer.pt")
    shutil.copy(BENIGN / "torch" / "state_dict_legacy.pt", d / "legacy.pt")
    ban = policy(tmp_path, "formats: {banned: [pickle]}\n")
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", ban)
    v = {x["policy_key"]: x for x in json.loads(out)["policy"]["violations"]}
    assert code == 1 and "formats.banned" in v
    ev = "\n".join(v["formats.banned"]["evidence"])
    for n in [*names, "optimizer.pt", "legacy.pt"]:
        assert n + ":" in ev, (n, ev)
    assert "model.safetensors" not in ev


def test_osaid_evidence_names_items_released_without_a_licence(tmp_path, capsys):
    d = model_dir(tmp_path)
    (d / "README.md").write_text("---\ntags: [x]\n---\n# tiny\n")  # no licence anywhere
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", policy(tmp_path, "openness: {osaid: true}\n"))
    v = {x["policy_key"]: x for x in json.loads(out)["policy"]["violations"]}
    assert code == 1 and any(": unlicensed (" in e for e in v["openness.osaid"]["evidence"]), v["openness.osaid"]
