"""dill pickles of plain data are data; dill's helpers turned against the loader are not (session 6).

dill writes numpy arrays as ``dill._dill._create_array(numpy's _reconstruct, args, state)`` and every
builtin type as ``dill._dill._load_type("slice")``: a scikit-learn pipeline or a pandas frame saved with
``dill.dump`` was judged critical ("builds Python functions from code") for those helpers alone. The
helpers are now judged by what they pass and name (the array rebuilder by the callable it calls, a type
looked up by name as that type), while dill's code-building helpers stay critical. Fixtures:
tests/data/security/secreal/make.py (real dill, each attack proven to run its payload when made)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitrail.analyze import security as S

HERE = Path(__file__).parent / "data" / "security" / "secreal"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
ATTACKS = {
    "dill_create_array_os_system.pkl": "system",  # the callable _create_array calls is judged
    "dill_load_type_function.pkl": "types.",  # _load_type("FunctionType") followed to the type, then called
    "dill_lambda_by_value.pkl": "dill._dill._create_code",  # code pickled by value stays critical
}


def _findings(path: Path) -> list[tuple[str, str]]:
    rep = S.scan_file(path, path.name, hash_file=False)
    return [(f.severity, (f.evidence or {}).get("global", "")) for f in rep.findings]


@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "benign").glob("*.pkl")))
def test_dill_pickles_of_plain_data_pass(name):
    found = _findings(HERE / "benign" / name)
    assert all(RANK[sev] < RANK["medium"] for sev, _ in found), found


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_dill_helpers_turned_against_the_loader_are_critical(name):
    found = _findings(HERE / "attacks" / name)
    assert any(sev == "critical" and ATTACKS[name] in g for sev, g in found), found
