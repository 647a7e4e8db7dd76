"""Pickles in wrappers the real loaders open: protocol-0/1 pickles compressed (``pickle.load(gzip.open(…))``,
``pandas.read_pickle("x.pkl.xz")`` — no PROTO header to recognise them by), and pickles inside compressed
tars (``pandas.read_pickle("x.tar.gz")``, ``tarfile``). Each case is checked against the real unpickler
with a recording ``find_class`` first, so the test proves the wrapper really delivers the import."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import tarfile

import pytest

from aitrail.analyze import security as S
from aitrail.errors import NothingToScan

EVIL = {0: b"cos\nsystem\n(S'echo x'\ntR.", 1: b"cos\nsystem\nq\x00(X\x06\x00\x00\x00echo xtR."}
OPENERS = {"gzip": (gzip.compress, gzip.open), "bz2": (bz2.compress, bz2.open), "xz": (lzma.compress, lzma.open)}


class Recording(pickle.Unpickler):
    seen: list[tuple[str, str]]

    def find_class(self, module: str, name: str) -> type:
        self.seen.append((module, name))
        return type("Stub", (), {"__init__": lambda self, *a: None})


def _real_imports(fh) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    u = Recording(fh)
    u.seen = []
    try:
        u.load()
    except Exception:  # noqa: BLE001 - what was imported before an error still ran
        pass
    return u.seen


def _judged(path) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    try:
        rep = S.scan(path, hash_files=False)
    except NothingToScan:  # no file the rules judge: nothing flagged
        return set()
    return {(f["rule"], f["severity"]) for r in rep["files"] for f in r["findings"]}


@pytest.mark.parametrize("proto", [0, 1])
@pytest.mark.parametrize("codec", sorted(OPENERS))
@pytest.mark.parametrize("name", ["model.pkl.{ext}", "model.{ext}", "weights.bin"])
def test_compressed_protocol_0_and_1_pickles_are_judged(tmp_path, proto, codec, name):
    compress, opener = OPENERS[codec]
    path = tmp_path / name.format(ext={"gzip": "gz", "bz2": "bz2", "xz": "xz"}[codec])
    path.write_bytes(compress(EVIL[proto]))
    with opener(path, "rb") as fh:
        assert _real_imports(fh) == [("os", "system")]
    assert ("pickle.dangerous-global", "critical") in _judged(path)


def test_a_compressed_word_list_is_not_taken_for_a_pickle(tmp_path):
    """'cat\\ndog\\n' reads as GLOBAL cat.dog: a compressed text file named as text is not probed."""
    path = tmp_path / "words.txt.gz"
    path.write_bytes(gzip.compress(b"cat\ndog\nfish\n" * 100))
    assert _judged(path) == set()


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz"])
def test_a_pickle_in_a_compressed_tar_is_judged(tmp_path, mode):
    path = tmp_path / f"frame.tar.{mode[2:]}"
    with tarfile.open(path, mode) as t:
        for name, data in (("ok.pkl", pickle.dumps({"a": 1})), ("evil.pkl", EVIL[0])):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    with tarfile.open(path) as t:
        fh = t.extractfile("evil.pkl")
        assert fh is not None and _real_imports(fh) == [("os", "system")]
    assert ("pickle.dangerous-global", "critical") in _judged(path)


def test_a_benign_compressed_tar_passes(tmp_path):
    path = tmp_path / "frame.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        data = pickle.dumps({"weights": [1.0, 2.0]}, protocol=2)
        info = tarfile.TarInfo("frame.pkl")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    assert _judged(path) == set()


def _old_joblib(filename: bytes) -> bytes:
    """What joblib < 0.10 wrote for an array: an NDArrayWrapper naming the .npy file beside the pickle."""
    import struct

    def x(b: bytes) -> bytes:
        return b"X" + struct.pack("<I", len(b)) + b

    state = b"}(" + x(b"filename") + x(filename) + x(b"allow_mmap") + b"\x88u"
    return b"\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81" + state + b"b."


def test_old_joblib_array_wrappers_are_judged_by_where_they_point(tmp_path):
    """joblib < 0.10 keeps each array in a sibling .npy that it loads with allow_pickle=True: a sibling is
    judged with its folder; a name leaving the folder is not, so it is high."""
    ok = tmp_path / "model.pkl"
    ok.write_bytes(_old_joblib(b"model.pkl_01.npy"))
    assert _judged(ok) == set()
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(_old_joblib(b"../../../tmp/planted.npy"))
    assert ("pickle.sibling-outside", "high") in _judged(bad)


def test_joblibs_own_backward_compatibility_pickles_pass(tmp_path):
    """joblib's sdist ships the pickles every joblib since 0.8 wrote (py27 to py36, every compressor), for
    its own compatibility tests: real benign files, none may be high."""
    import os
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    cache = Path(__file__).resolve().parents[1] / "benchmarks" / "work" / "wheels"
    found = sorted(cache.glob("joblib-1.4.2.tar.gz"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([sys.executable, "-m", "pip", "download", "joblib==1.4.2", "--no-deps", "--no-binary",
                            ":all:", "-d", str(cache)], capture_output=True, timeout=600)
        found = sorted(cache.glob("joblib-1.4.2.tar.gz"))
        if r.returncode or not found:
            if os.environ.get("CI"):
                pytest.fail(f"cannot download joblib 1.4.2's sdist: {r.stderr[-300:]!r}")
            pytest.skip("joblib's sdist not downloadable here")
    with tarfile.open(found[0]) as t:
        members = [m for m in t.getmembers() if "/joblib/test/data/" in m.name and m.isfile()]
        t.extractall(tmp_path, members=members, filter="data")
    data = next(tmp_path.glob("*/joblib/test/data"))
    rep = S.scan(data, hash_files=False)
    assert len(rep["files"]) >= 60
    bad = [(r["path"], f["rule"]) for r in rep["files"] for f in r["findings"] if f["severity"] in ("high", "critical")]
    assert bad == []


def test_a_compressed_protocol_0_pickle_past_a_limit_fails_closed(tmp_path):
    """A 2 MiB protocol-0 string first (past aitrail's line limit, not the loader's), then os.system: the
    probe cannot rule the import out, so the file is judged and the limit reported (it was unrecognised)."""
    path = tmp_path / "m.pkl.bz2"
    path.write_bytes(bz2.compress(b"V" + b"a" * (2 << 20) + b"\n0" + EVIL[0]))
    with bz2.open(path, "rb") as fh:
        assert _real_imports(fh) == [("os", "system")]
    assert ("pickle.limit-exceeded", "high") in _judged(path)
