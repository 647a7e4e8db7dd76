"""Pickles, arrays, compression and containers: bounded cost, no crash, fail closed (issue 10, items 1-2).

Hostile inputs are built here with the real libraries (numpy, zipfile, joblib, the compressors) and
then corrupted; the bounded-time ones run the command in a subprocess with a generous timeout.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import aitrail
from aitrail.analyze import security as S
from aitrail.analyze.security.report import MAX_FINDINGS, MAX_MESSAGE, FileReport
from aitrail.catalog import pickles
from aitrail.errors import InputError, NothingToScan

AITRAIL = Path(sys.executable).parent / "aitrail"


def worst(rep: S.FileReport) -> str | None:
    return max((f.severity for f in rep.findings), key=S.SEVERITIES.index, default=None)


def rules(rep: S.FileReport) -> set[str]:
    return {f.rule for f in rep.findings}


def run(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """``aitrail ARGS`` in a child; its output and its own peak RSS in bytes. A fresh wrapper process
    waits for it, so the RSS is this child's alone (ru_maxrss of RUSAGE_CHILDREN is a max over all)."""
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "sys.stderr.write('\\nRSS %d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    r = subprocess.run([sys.executable, "-c", wrapper, str(AITRAIL), *args], capture_output=True, timeout=timeout)
    rss = int(r.stderr.rsplit(b"RSS ", 1)[1]) * 1024  # Linux: KiB
    return r, rss


def nested_pickle(levels: int) -> bytes:
    """Each level calls the previous level's result's attribute: STACK_GLOBAL on a symbolic object.
    The walk once named each global by the repr of its module, which doubled per level."""
    out = bytearray(b"\x80\x04\x8c\x01a\x8c\x01b\x93")
    for _ in range(levels):
        out += b")R\x8c\x01b\x93"  # EMPTY_TUPLE REDUCE, then STACK_GLOBAL(<result>, "b")
    return bytes(out + b".")


def npy_with(header: str, body: bytes) -> bytes:
    h = header.encode("latin1")
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + body


# -- 1. symbolic reprs, messages and finding counts are bounded ------------------------------------


@pytest.mark.parametrize("kind", ["pkl", "npy"])
def test_nested_symbolic_objects_cost_bounded_output_time_and_memory(tmp_path, kind):
    blob = nested_pickle(40)  # 40 doublings: terabytes if any repr were built whole
    if kind == "npy":
        blob = npy_with("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", blob)
    p = tmp_path / f"nest.{kind}"
    p.write_bytes(blob)
    r, rss = run("security", str(p), "--format", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["max_severity"] == "high"
    assert len(r.stdout) < 20_000 and rss < 256 << 20
    assert any("<Obj>.b" in f["message"] for f in doc["files"][0]["findings"])


def test_a_long_global_name_is_cut_and_still_judged(tmp_path):
    p = tmp_path / "long.pkl"
    p.write_bytes(b"c" + b"m" * 500_000 + b"\nx\n)R.")
    rep = S.scan_file(p, p.name)
    [f] = [f for f in rep.findings if f.rule == "pickle.unknown-global"]
    assert f.severity == "high" and "…" in f.message and len(f.message) <= MAX_MESSAGE


def test_report_bounds_each_message_and_the_number_of_findings():
    rep = FileReport("f.pkl", None, "pickle")
    rep.add("low", "r", "x" * 100_000, "y" * 100_000)
    assert len(rep.findings[0].message) == MAX_MESSAGE and len(rep.findings[0].location) == MAX_MESSAGE
    for i in range(MAX_FINDINGS + 500):
        rep.add("critical" if i == MAX_FINDINGS + 400 else "low", "r", f"finding {i}")
    assert len(rep.findings) == MAX_FINDINGS + 1
    last = rep.findings[-1]
    assert last.rule == "report.findings-limit" and last.severity == "critical" and "501 more" in last.message


def test_distinct_globals_are_capped_by_a_limit_finding(tmp_path):
    p = tmp_path / "many.pkl"
    body = b"".join(b"cm\nn%d\n0" % i for i in range(pickles.MAX_GLOBALS + 1))
    p.write_bytes(b"(" + body + b".")
    rep = S.scan_file(p, p.name)
    assert "pickle.limit-exceeded" in rules(rep)
    assert len(rep.findings) <= MAX_FINDINGS + 1


def test_deeply_nested_tuple_keys_do_not_recurse(tmp_path):
    # a dict key that is a tuple nested 100,000 deep: hashing it would recurse in C
    p = tmp_path / "deep.pkl"
    p.write_bytes(b"\x80\x02}" + b"K\x01" + b"\x85" * 100_000 + b"K\x02s.")
    with open(p, "rb") as fh:
        pickles.walk(fh)  # the catalog's value-building walk
    assert worst(S.scan_file(p, p.name)) is None


# -- 2. decompression: bounded size, ratio and opcodes --------------------------------------------


def test_a_small_zlib_pickle_bomb_ends_quickly_with_a_limit_finding(tmp_path):
    raw = b"\x80\x04" + b"N0" * 15_000_000 + b"."  # 30 MB of push/pop from ~30 KB
    p = tmp_path / "bomb.joblib"
    p.write_bytes(zlib.compress(raw, 9))
    assert p.stat().st_size < 64 << 10
    r, rss = run("security", str(p), "--format", "json")
    doc = json.loads(r.stdout)
    [f] = [f for f in doc["files"][0]["findings"] if f["rule"] == "pickle.limit-exceeded"]
    assert f["severity"] == "high" and "op_budget" in f["message"]
    assert rss < 256 << 20


def test_the_opcode_budget_scales_with_compressed_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(pickles, "OPS_FLOOR", 10_000)
    raw = b"\x80\x04" + b"N0" * 100_000 + b"."
    with pytest.raises(pickles.LimitExceeded, match="op_budget"):
        pickles.walk(pickles.Decompressed(__import__("io").BytesIO(zlib.compress(raw, 9)), "zlib", "t"), lean=True)
    import io

    s = pickles.walk(io.BytesIO(raw), lean=True)  # the same opcodes uncompressed: walked whole
    assert s.op_count == 200_002 and not s.truncated


def test_a_bz2_ratio_bomb_is_a_decompression_limit(tmp_path):
    c = bz2.BZ2Compressor(9)
    parts = [c.compress(b"\x80\x04\x8e" + struct.pack("<Q", 100 << 20))]
    zeros = bytes(1 << 20)
    parts += [c.compress(zeros) for _ in range(100)]
    parts.append(c.compress(b"cos\nsystem\n.") + c.flush())
    p = tmp_path / "bomb.pkl.bz2"
    p.write_bytes(b"".join(parts))
    rep = S.scan_file(p, p.name)
    [f] = [f for f in rep.findings if f.rule == "archive.decompression-limit"]
    assert f.severity == "high" and "1100:1" in f.message


def test_decompressed_stream_limits(monkeypatch):
    import io

    monkeypatch.setattr(pickles, "MAX_DECOMPRESSED", 1 << 20)
    d = pickles.Decompressed(io.BytesIO(gzip.compress(bytes(2 << 20))), "gzip", "t.gz")
    with pytest.raises(pickles.DecompressionLimit, match="1 GiB|past"):
        while d.read(1 << 16):
            pass
    full = lzma.compress(b"\x80\x04" + bytes(range(256)) * 8)
    truncated = full[: len(full) // 2]
    with pytest.raises(EOFError, match="truncated"):
        pickles.Decompressed(io.BytesIO(truncated), "xz", "t.xz").read(4096)


class _Payload:
    def __reduce__(self):  # what an attacker pickles: never loaded here
        return (os.system, ("true",))


def _compress(codec: str, raw: bytes) -> bytes:
    import lz4.frame

    return {
        "zlib": lambda: zlib.compress(raw),
        "gzip": lambda: gzip.compress(raw),
        "bz2": lambda: bz2.compress(raw),
        "xz": lambda: lzma.compress(raw),
        "lzma": lambda: lzma.compress(raw, format=lzma.FORMAT_ALONE),
        "lz4": lambda: lz4.frame.compress(raw),
    }[codec]()


CODECS = ["zlib", "gzip", "bz2", "xz", "lzma", "lz4"]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("name", ["model.pkl", "weights.bin"])
def test_a_compressed_payload_is_found_whatever_the_codec_and_name(tmp_path, codec, name):
    p = tmp_path / name
    p.write_bytes(_compress(codec, pickle.dumps({"w": _Payload()}, protocol=4)))
    assert pickles.compression(p.read_bytes()[:4096]) == codec
    rep = S.scan_file(p, p.name)
    assert worst(rep) == "critical", rep.findings
    assert "pickle.dangerous-global" in rules(rep)


@pytest.mark.parametrize("codec", [None, *CODECS])
def test_real_joblib_files_agree_in_inventory_and_security(tmp_path, codec):
    joblib = pytest.importorskip("joblib")
    obj = {"w": np.arange(1000, dtype=np.float32), "b": np.zeros(7), "names": ["a", "b"], "o": np.array([1, "x"])}
    p = tmp_path / "model.joblib"
    joblib.dump(obj, p, compress=(codec, 3) if codec else 0)
    rep = S.scan_file(p, p.name)
    assert worst(rep) in (None, "info", "low", "medium"), rep.findings
    inv = aitrail.scan(tmp_path)
    [c] = [c for c in inv.components if c.name == "model.joblib" or str(c.properties.get("path", "")) == "model.joblib"]
    bad = [f for f in inv.findings if f.rule.startswith("scan.pickle") and f.rule != "scan.pickle.present"]
    assert bad == []


def test_a_real_joblib_of_zeros_at_1000_to_1_passes(tmp_path):
    joblib = pytest.importorskip("joblib")
    p = tmp_path / "zeros.joblib"
    joblib.dump({"z": np.zeros(12 << 20)}, p, compress=("zlib", 9))  # 96 MiB of zeros
    assert (96 << 20) / p.stat().st_size > 900
    rep = S.scan_file(p, p.name)
    assert worst(rep) in (None, "info", "low", "medium"), rep.findings


# -- 3. zip, npz and tar errors of every kind are findings naming the member -----------------------


def _npz(tmp_path: Path, compressed: bool = True) -> Path:
    p = tmp_path / "arrays.npz"
    (np.savez_compressed if compressed else np.savez)(p, a=np.arange(100.0), b=np.ones(3))
    return p


def _patch(p: Path, member: str, local: dict[int, bytes], central: dict[int, bytes]) -> None:
    """Overwrite header fields of ``member`` (offsets inside its local and central headers)."""
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo(member)
    lo = info.header_offset
    for off, val in local.items():
        data[lo + off : lo + off + len(val)] = val
    co = data.find(b"PK\x01\x02" + data[lo + 4 : lo + 6])  # its central record, by signature and version
    name = member.encode()
    while data[co + 46 : co + 46 + len(name)] != name:
        co = data.find(b"PK\x01\x02", co + 4)
    for off, val in central.items():
        data[co + off : co + off + len(val)] = val
    p.write_bytes(bytes(data))


def _corruptions():
    # (label, how to corrupt the npz built by _npz) -- local/central header offsets:
    # version needed 4/6, flags 6/8, method 8/10
    return {
        "encrypted": lambda p: _patch(p, "a.npy", {6: b"\x01\x00"}, {8: b"\x01\x00"}),
        "unknown-method": lambda p: _patch(p, "a.npy", {8: b"\x63\x00"}, {10: b"\x63\x00"}),
        "version-needed": lambda p: _patch(p, "a.npy", {4: b"\xff\x00"}, {6: b"\xff\x00"}),
        "bad-deflate": lambda p: p.write_bytes(_flip(p.read_bytes(), p, "a.npy")),
        "truncated-member": lambda p: _patch(p, "a.npy", {18: struct.pack("<I", 10)}, {20: struct.pack("<I", 10)}),
        "truncated-central": lambda p: p.write_bytes(p.read_bytes()[:-30]),
        "nul-name": lambda p: p.write_bytes(p.read_bytes().replace(b"b.npy", b"b\x00npy")),
        "non-utf8-name": lambda p: (
            _patch(p, "b.npy", {6: b"\x00\x08"}, {8: b"\x00\x08"}),
            p.write_bytes(p.read_bytes().replace(b"b.npy", b"\xff.npy")),
        ),
    }


def _flip(data: bytes, p: Path, member: str) -> bytes:
    with zipfile.ZipFile(p) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    b = bytearray(data)
    for i in range(start + 2, start + min(info.compress_size, 40)):
        b[i] ^= 0x55
    return bytes(b)


@pytest.mark.parametrize("label", sorted(_corruptions()))
def test_corrupt_npz_members_are_findings_not_exceptions(tmp_path, label):
    p = _npz(tmp_path)
    _corruptions()[label](p)
    rep = S.scan_file(p, p.name)
    assert worst(rep) in ("high", "critical") or label in ("nul-name", "non-utf8-name"), rep.findings
    assert "security.incomplete" not in rules(rep), rep.findings
    inv = aitrail.scan(tmp_path, require_model=False)
    assert [f for f in inv.findings if f.rule == "scan.internal-error"] == []


@pytest.mark.parametrize("label", ["encrypted", "unknown-method", "version-needed", "bad-deflate"])
def test_a_zip_member_that_cannot_be_read_is_high_and_named(tmp_path, label):
    p = tmp_path / "bundle.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.npy", pickle.dumps({"x": list(range(1000))}, protocol=4))
        z.writestr("ok.txt", "hello")
    _corruptions()[label](p)
    rep = S.scan_file(p, p.name)
    assert worst(rep) == "high", rep.findings
    named = [f for f in rep.findings if f.severity == "high" and "a.npy" in f.message + f.location]
    # a version byte past zipfile's refuses the whole archive: the archive is named, not the member
    assert named or (label == "version-needed" and rules(rep) == {"zip.corrupt"}), rep.findings


def test_a_pickle_hidden_under_another_name_in_a_zip_is_walked(tmp_path):
    p = tmp_path / "package.whl"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pkg/data/weights.bin", pickle.dumps(_Payload(), protocol=4))
        z.writestr("pkg/blob.gz", gzip.compress(pickle.dumps(_Payload(), protocol=2)))
    rep = S.scan_file(p, p.name)
    crit = {f.location for f in rep.findings if f.severity == "critical"}
    assert crit == {"package.whl:pkg/data/weights.bin", "package.whl:pkg/blob.gz"}, rep.findings


def test_a_zip_member_past_the_ratio_limit_is_not_inflated(tmp_path):
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("data.pkl", "w") as fh:
            for _ in range(80):
                fh.write(bytes(1 << 20))
    # zeros deflate ~1030:1; declare a larger size to pass the 1100:1 ratio (what a bomb would)
    _patch(p, "data.pkl", {22: struct.pack("<I", 4 << 30 - 1)}, {24: struct.pack("<I", (4 << 30) - 1)})
    rep = S.scan_file(p, p.name)
    assert "archive.decompression-limit" in rules(rep) and worst(rep) == "high"


def test_a_corrupt_tar_is_high(tmp_path):
    src = tmp_path / "pickle"
    src.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    p = tmp_path / "model.tar"
    with tarfile.open(p, "w") as t:
        t.add(src, "pickle")
        t.add(src, "storages")
    data = bytearray(p.read_bytes())
    data[512 + 1024 + 148 : 512 + 1024 + 156] = b"garbage!"  # the second header's checksum
    p.write_bytes(bytes(data))
    src.unlink()
    rep = S.scan_file(p, p.name)
    assert "security.incomplete" not in rules(rep)
    assert worst(rep) in (None, "high"), rep.findings  # what can be read is judged; breaks are high


# -- 4. one guard, fail closed ---------------------------------------------------------------------


def test_an_unexpected_error_in_a_rule_is_high_and_says_how_to_debug(tmp_path, monkeypatch):
    p = _npz(tmp_path)

    def boom(*a, **k):
        raise KeyError("surprise")

    monkeypatch.setattr(S, "_npz", boom)
    rep = S.scan_file(p, p.name)
    [f] = rep.findings
    assert (f.rule, f.severity) == ("security.incomplete", "high")
    assert "arrays.npz" in f.message and "numpy rules" in f.message and "KeyError" in f.message
    assert "AITRAIL_DEBUG=1" in f.message


def test_a_format_error_is_high_for_code_running_formats_only(tmp_path, monkeypatch):
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(_Payload.__name__, protocol=4) + b"junk")
    monkeypatch.setattr(S, "walk_all", lambda *a, **k: (_ for _ in ()).throw(OSError(5, "I/O error")))
    rep = S.scan_file(pkl, pkl.name)
    assert [(f.rule, f.severity) for f in rep.findings] == [("file.malformed", "high")]
    assert "AITRAIL_DEBUG" not in rep.findings[0].message


def test_security_refuses_a_non_regular_target(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for target in ("/dev/zero", str(tmp_path / "fifo")):
        with pytest.raises(InputError, match="not a regular file"):
            S.scan(target)
        r, _ = run("security", target, timeout=30)
        assert r.returncode == 2


def test_scan_file_never_opens_a_pipe(tmp_path):
    os.mkfifo(tmp_path / "model.pkl")
    rep = S.scan_file(tmp_path / "model.pkl", "model.pkl")  # would block forever if opened
    assert rules(rep) == {"file.not-regular"}


def test_nothing_to_scan_is_decided_before_hashing(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("# notes\n")
    (tmp_path / "notes.txt").write_text("no links here\n")
    monkeypatch.setattr(S, "sha256_file", lambda p: pytest.fail("hashed"))
    with pytest.raises(NothingToScan, match="README.md") as e:
        S.scan(tmp_path)
    assert isinstance(e.value, InputError)
    with pytest.raises(NothingToScan):
        S.scan(tmp_path / "notes.txt")
    (tmp_path / "urls.txt").write_text("https://example.com/data.tar\n")
    monkeypatch.undo()
    assert S.scan(tmp_path)["files"]
    r, _ = run("security", str(tmp_path / "README.md"))
    assert r.returncode == 2


def test_scan_reports_links_leaving_the_folder_and_can_follow_them(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    inside = tmp_path / "model"
    inside.mkdir()
    (inside / "ok.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=4))
    os.symlink(outside / "evil.pkl", inside / "link.pkl")
    doc = S.scan(inside)
    assert doc["max_severity"] != "critical"
    assert any(f["rule"] == "scan.symlink-outside" for r in doc["files"] for f in r["findings"])
    assert S.scan(inside, follow_symlinks=True)["max_severity"] == "critical"


def _nested_joblib(levels: int) -> bytes:
    """A real joblib object-array dump, its wrapper prefix repeated: each object array's pickle holds
    another wrapper (joblib.load follows them the same way)."""
    import io

    joblib = pytest.importorskip("joblib")
    buf = io.BytesIO()
    joblib.dump({"o": np.array([1, "x", None], dtype=object)}, buf)
    data = buf.getvalue()
    at: list[int] = []

    def hook(obj, fh, s):
        if isinstance(obj.func, pickles.Global) and obj.func.name == "NumpyArrayWrapper":
            at.append(fh.tell())
        pickles.joblib_arrays(obj, fh, s)

    pickles.walk(io.BytesIO(data), None, hook)
    inner = io.BytesIO(data[at[0] :])
    pickles.walk(inner)
    a, mid, b = data[: at[0]], data[at[0] : at[0] + inner.tell()], data[at[0] + inner.tell() :]
    return a * levels + mid + b * levels


@pytest.mark.parametrize("levels", [3, pickles.MAX_NESTING + 4])
def test_joblib_object_arrays_nest_to_a_limit(tmp_path, levels):
    p = tmp_path / "nested.joblib"
    p.write_bytes(_nested_joblib(levels))
    rep = S.scan_file(p, p.name)
    if levels <= pickles.MAX_NESTING:
        assert worst(rep) in (None, "info", "low", "medium"), rep.findings
    else:
        [f] = [f for f in rep.findings if f.rule == "pickle.limit-exceeded"]
        assert "nested more than" in f.message


def test_a_keras_config_nested_past_the_json_limit_is_still_judged(tmp_path):
    p = tmp_path / "model.keras"
    deep = '{"class_name": "Lambda", "config": ' + "[" * 5000 + "]" * 5000 + "}"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("config.json", deep)
        z.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    rep = S.scan_file(p, p.name)
    # not parsed (too deep), so high; and its text still shows the Lambda layer, which is critical
    assert {(f.rule, f.severity) for f in rep.findings} == {
        ("keras.config-unreadable", "high"),
        ("keras.lambda", "critical"),
    }
    inv = aitrail.scan(tmp_path, require_model=False)
    assert [f for f in inv.findings if f.rule == "scan.internal-error"] == []


def test_an_npy_header_with_a_hostile_shape_is_malformed_not_copied(tmp_path):
    p = tmp_path / "shape.npy"
    p.write_bytes(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9," * 20_000 + "), }", b""))
    rep = S.scan_file(p, p.name)
    assert rules(rep) == {"npy.malformed"} and len(rep.findings[0].message) < MAX_MESSAGE
    inv = aitrail.scan(tmp_path, require_model=False)
    assert len(json.dumps(inv.to_dict(), default=str)) < 200_000


def test_a_legacy_torch_tar_whose_pickle_is_a_link_is_a_finding(tmp_path):
    import io

    p = tmp_path / "model.tar"
    with tarfile.open(p, "w") as t:
        link = tarfile.TarInfo("pickle")
        link.type = tarfile.SYMTYPE  # linkname '' : extractfile would raise KeyError
        t.addfile(link)
        for name in ("storages", "tensors"):
            data = pickle.dumps(0, protocol=2)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    inv = aitrail.scan(tmp_path, require_model=False)
    assert [f for f in inv.findings if f.rule == "scan.internal-error"] == []
    assert any(f.rule == "scan.pickle.malformed" and "model.tar" in f.message for f in inv.findings)
    assert "security.incomplete" not in rules(S.scan_file(p, p.name))


def test_names_in_security_findings_are_always_encodable():
    rep = FileReport("m\udcff.tar", None, "tar")
    rep.add("high", "tar.corrupt", "member 'x\ud800' cannot be read", "m\udcff.tar:x\ud800")
    f = rep.findings[0]
    (f.message + f.location).encode("utf-8")  # no lone surrogate reaches a report
    assert "\\udcff" in f.message and "\\ud800" in f.location


def test_an_npy_descr_with_a_lone_surrogate_is_escaped(tmp_path):
    p = tmp_path / "s.npy"
    p.write_bytes(npy_with("{'descr': '\\ud800', 'fortran_order': False, 'shape': (1,), }", b""))
    inv = aitrail.scan(tmp_path, require_model=False)
    json.dumps(inv.to_dict(), default=str, ensure_ascii=False).encode("utf-8")


def test_a_chain_of_calls_keeps_no_chain_in_memory():
    import io

    chain = b"\x80\x02cfuzzmod\nf\n" + b"N\x85R" * 1000 + b"."
    lean = pickles.walk(io.BytesIO(chain), lean=True)
    assert lean.root.func is None and lean.root.args is None  # each result forgets the one before
    assert lean.calls == {"fuzzmod.f"}
    full = pickles.walk(io.BytesIO(chain))  # the catalog's walk builds values, up to MAX_VALUE_OPS
    assert isinstance(full.root.func, pickles.Obj) and not full.truncated


def test_lz4_without_its_package_fails_closed(tmp_path, monkeypatch):
    p = tmp_path / "model.joblib"
    p.write_bytes(_compress("lz4", pickle.dumps({"a": 1}, protocol=4)))
    monkeypatch.setitem(sys.modules, "lz4.frame", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "lz4", None)
    rep = S.scan_file(p, p.name)
    assert worst(rep) == "high" and "lz4 package is not installed" in rep.findings[0].message


def test_counted_positions_equal_pickletools():
    """iter_ops counts positions instead of calling tell() per opcode; they must be the real ones."""
    import io
    import pickle
    import pickletools

    from aitrail.catalog.pickles import iter_ops

    obj = {"a": [1, 2.5, "x" * 300, b"y" * 70000, None, True, (1, 2)], "b": 10**30, "s": "z" * 70000}
    for proto in range(6):
        data = pickle.dumps(obj, protocol=proto)
        want = [(op.name, pos) for op, _, pos in pickletools.genops(data)]
        for max_arg in (64 << 10, 64 << 20):  # skipped (lean walk) and read arguments
            got = [(op.name, pos) for op, _, pos in iter_ops(io.BufferedReader(io.BytesIO(data)), max_arg)]
            assert got == want, (proto, max_arg)
