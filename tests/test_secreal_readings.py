"""A loader that unpickles a file reads it from byte 0, whatever its name or magic (review R2, R16, R17).

numpy.load falls back to pickle for a ``.npy`` without its magic, pandas.read_pickle and torch.load read any
name, and pickle.load reads a tar or a "safetensors" file from its first byte. Protocol-0/1 pickles under other
names were never judged (sniffed by suffix), a pickle whose byte 8 is ``{`` was taken for safetensors (a medium
header finding), and a tar whose first member *name* is a pickle was a clean tar. Content decides now: a stream
that imports before it fails is a pickle (names that say text excepted); an archive that also reads as such a
pickle is a polyglot (high) and both readings are judged. Payloads are made by the real pickler."""

from __future__ import annotations

import io
import os
import pickle
import struct
import tarfile
from collections import OrderedDict
from pathlib import Path

import pytest

from aitrail.analyze import security as S


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


P0 = pickle.dumps(_Evil(), protocol=0)  # "cposix\nsystem\n(Vecho pwned\n..." : no PROTO header
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _found(path: Path) -> list[tuple[str, str]]:
    rep = S.scan(path, hash_files=False)
    return [(f["severity"], f["rule"]) for x in rep["files"] for f in x["findings"]]


@pytest.mark.parametrize("name", ["data.npy", "state.dat", "weights", "model.pkl.1", "model.joblib.bak",
                                  "model.safetensors"])
def test_a_protocol_0_pickle_is_judged_whatever_its_name(tmp_path, name):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / name).write_bytes(P0)
    found = _found(tmp_path)
    assert ("critical", "pickle.dangerous-global") in found, found
    if name in ("data.npy", "model.safetensors"):
        assert ("high", "format.pickle-disguised") in found, found


def test_text_is_not_read_as_a_pickle(tmp_path):
    """'click\\nnumpy' reads as GLOBAL lick.numpy: a requirements.txt is text, not a pickle to flag."""
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "requirements.txt").write_text("click\nnumpy\ntorch\n")
    (tmp_path / "ok.dat").write_bytes(pickle.dumps(OrderedDict(a=1), protocol=0))  # a pickle of data
    assert not [f for f in _found(tmp_path) if RANK[f[0]] >= RANK["medium"]]


def test_a_pickle_whose_byte_8_is_a_brace_is_not_taken_for_safetensors(tmp_path):
    # a string opcode whose bytes 5..14 hold "{": the first 8 bytes read as a small safetensors header length
    head = b"T" + struct.pack("<I", 10) + b"\x00\x00\x00{abcdef" + b"0"  # BINSTRING, then POP
    path = tmp_path / "model.safetensors"
    path.write_bytes(head + P0 + b" " * 3000)
    assert struct.unpack_from("<Q", path.read_bytes())[0] < path.stat().st_size
    assert ("critical", "pickle.dangerous-global") in _found(path)
    long_string = tmp_path / "pytorch_model.bin"  # the review's: S'abcdef{...' then POP
    long_string.write_bytes(b"S'abcdef{not json at all'\n0" + P0)
    assert ("critical", "pickle.dangerous-global") in _found(long_string)


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT])
def test_a_tar_whose_header_is_a_pickle_is_a_polyglot(tmp_path, fmt):
    path = tmp_path / "model.pkl"
    with tarfile.open(path, "w", format=fmt) as t:
        info = tarfile.TarInfo(P0.decode("latin-1"))  # member names may hold newlines
        info.size = len(P0)
        t.addfile(info, io.BytesIO(P0))  # the member itself is judged too
    found = _found(path)
    assert ("high", "format.polyglot") in found and ("critical", "pickle.dangerous-global") in found, found


def test_a_plain_tar_is_no_polyglot(tmp_path):
    path = tmp_path / "plain.tar"
    with tarfile.open(path, "w") as t:
        info = tarfile.TarInfo("cat.pkl")  # "cat.pkl\0..." reads as GLOBAL until a newline: none comes
        data = pickle.dumps({"a": 1})
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    assert not [f for f in _found(path) if RANK[f[0]] >= RANK["medium"]]


def test_a_zip_appended_to_a_pickle_is_a_second_reading(tmp_path):
    """zipfile finds an archive from the file's end: keras.saving.load_model would open a .keras appended to
    a benign pickle. other_readings() judges it (the format dispatch calls it: requests-secreal.md)."""
    import zipfile

    from aitrail.analyze.security.pickles import other_readings
    from aitrail.analyze.security.report import FileReport

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("model.pkl", pickle.dumps(_Evil()))
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(OrderedDict(a=1)) + archive.getvalue())
    rep = FileReport(path.name, None, "pickle")
    other_readings(rep, path, "pickle", "high")
    found = [(f.severity, f.rule) for f in rep.findings]
    assert ("high", "format.polyglot") in found and ("critical", "pickle.dangerous-global") in found, found
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(OrderedDict(a=1)) + b"PK\x05\x06" + bytes(18))  # a chance signature, no archive
    rep = FileReport(plain.name, None, "pickle")
    other_readings(rep, plain, "pickle", "high")
    assert rep.findings == []
