"""Array framings decided as numpy and joblib decide them (review R18, R21, R21b).

- A .npy whose dtype is spelt 'object' (or a field of it) was not walked: only 'O' was looked for. numpy
  unpickles what follows any object dtype; a descr aitrail cannot vouch for as plain is now walked too.
- joblib: a wrapper whose dtype BUILD state sets numpy's hasobject flag, and a shape pickled as a list,
  made joblib read something else than aitrail (fixtures from real joblib.dump output, each proven with
  joblib.load: tests/data/security/secreal/make.py)."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import pytest

from aitrail.analyze import security as S

HERE = Path(__file__).parent / "data" / "security" / "secreal"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def _npy(descr: object, body: bytes, shape: tuple = (1,)) -> bytes:
    """NEP 1 version 1.0: magic, header length, the header dict padded to 64 bytes, then the body."""
    text = repr({"descr": descr, "fortran_order": False, "shape": shape})
    pad = 64 - (10 + len(text) + 1) % 64
    header = (text + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def _worst(path: Path) -> tuple[int, list[tuple[str, str]]]:
    rep = S.scan_file(path, path.name, hash_file=False)
    found = [(f.severity, f.rule) for f in rep.findings]
    return max((RANK[s] for s, _ in found), default=-1), found


@pytest.mark.parametrize("descr", ["object", "object_", "O", "|O8", [("a", "object")], [("a", "<f8"), ("b", "O")]])
def test_every_spelling_of_the_object_dtype_is_walked(tmp_path, descr):
    path = tmp_path / "emb.npy"
    path.write_bytes(_npy(descr, pickle.dumps(_Evil(), protocol=0)))
    worst, found = _worst(path)
    assert ("critical", "pickle.dangerous-global") in found, found


@pytest.mark.parametrize("descr", ["<f4", "float32", "|b1", "<M8[ns]", [("a", "<f8"), ("b", "<i4", (2,))]])
def test_plain_dtypes_are_raw_data(tmp_path, descr):
    path = tmp_path / "x.npy"
    path.write_bytes(_npy(descr, bytes(64)))
    worst, found = _worst(path)
    assert worst < RANK["medium"], found


@pytest.mark.parametrize("name", ["joblib_dtype_hasobject_flag.joblib", "joblib_list_shape.joblib"])
def test_joblib_framing_desyncs_are_caught(name):
    worst, found = _worst(HERE / "attacks" / name)
    assert ("critical", "pickle.dangerous-global") in found, found
