"""getattr(value, "name"): a bound method of a value the pickle builds is data until it is called (session 6).

Python pickles a bound method of a non-global object as ``getattr(obj, "name")``: a scikit-learn
vectorizer whose tokenizer is ``re.compile(r"\\w+").findall``, or a spaCy pipeline (its tokenizer keeps
``re.compile(...).search``). Both were critical ("builtins.getattr changes the interpreter"). A public
attribute of a value is now followed as a value; calling it is an indirect call (high), getattr on a
global is followed as that global, and a private or dunder name stays critical. spaCy's
``unpickle_*`` restorers rebuild data. Fixtures: tests/data/security/secreal/make.py (real libraries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitrail.analyze import security as S

HERE = Path(__file__).parent / "data" / "security" / "secreal"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _findings(path: Path) -> list[tuple[str, str]]:
    rep = S.scan_file(path, path.name, hash_file=False)
    return [(f.severity, f.rule) for f in rep.findings]


@pytest.mark.parametrize("name", ["countvectorizer_regex_tokenizer.pkl", "spacy_blank_en.pkl"])
def test_bound_methods_of_built_values_pass(name):
    found = _findings(HERE / "benign" / name)
    assert all(RANK[sev] < RANK["medium"] for sev, _ in found), found


def test_calling_a_looked_up_method_is_an_indirect_call():
    found = _findings(HERE / "attacks" / "getattr_method_called.pkl")
    assert ("high", "pickle.indirect-call") in found, found


@pytest.mark.parametrize("attr", ["__class__", "_private", "__reduce__"])
def test_getattr_of_a_private_or_dunder_name_stays_critical(tmp_path, attr):
    # the committed attack with its attribute name swapped: getattr(PurePosixPath(...), attr)(...)
    original = (HERE / "attacks" / "getattr_method_called.pkl").read_bytes()
    assert b"\x8c\x08joinpath" in original
    path = tmp_path / "g.pkl"
    path.write_bytes(original.replace(b"\x8c\x08joinpath", bytes([0x8C, len(attr)]) + attr.encode()))
    assert ("critical", "pickle.dangerous-global") in _findings(path), _findings(path)
