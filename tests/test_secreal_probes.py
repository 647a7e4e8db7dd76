"""A file's "is this a compressed pickle / tar / zip?" probe runs once per file version (session 6).

For a protocol-0/1 pickle the answer costs a walk of the whole inflated stream, and the sniffer, the
folder walk, the security rules and the catalogers each asked again: a 3 MB gzipped protocol-0 pickle
took 37 s in `aitrail security` and 51 s in `aitrail check` (14 s and 11 s with the memo). Counted
here, never timed; a changed file is probed again (the memo is keyed by its version)."""

from __future__ import annotations

import gzip
import os
import pickle
from collections import OrderedDict

from aitrail.analyze import security as S
from aitrail.catalog import pickles

BENIGN = pickle.dumps(OrderedDict(a=1), protocol=0)  # no header: the probe walks the stream to its import
EVIL = b"cos\nsystem\n(S'echo x'\ntR."


def test_a_compressed_protocol_0_pickle_is_probed_once_per_scan(tmp_path, monkeypatch):
    calls = []
    real = pickles._compression
    monkeypatch.setattr(pickles, "_compression", lambda *a, **k: calls.append(a) or real(*a, **k))
    path = tmp_path / "frame.pkl.gz"
    path.write_bytes(gzip.compress(EVIL))
    rep = S.scan(path, hash_files=False)
    assert rep["max_severity"] == "critical" and len(calls) == 1, (rep, len(calls))


def test_a_changed_file_is_probed_again(tmp_path):
    path = tmp_path / "frame.pkl.gz"
    path.write_bytes(gzip.compress(BENIGN))
    assert S.scan(path, hash_files=False)["max_severity"] in (None, "info", "low")
    path.write_bytes(gzip.compress(EVIL))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a new version, even on coarse clocks
    assert S.scan(path, hash_files=False)["max_severity"] == "critical"
