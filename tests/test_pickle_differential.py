"""Differential test against CPython's C unpickler (issue 11, item 1; issue 10's fail-closed rule).

Seeded pickles — real ``pickle.dumps`` output of varied objects at every protocol, then mutated at
the opcode level — are loaded by a subclass of the real ``pickle.Unpickler`` whose ``find_class``
records ``(module, name)`` and returns a harmless stub class (nothing real is imported or called).
Every global the C unpickler resolves must be among those aitrail's walk reports, whenever the walk
read the stream to its end; where the walk stopped early it must have said so (an error, which the
security rules report high), never pass silently.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import resource
import subprocess
import sys

import pytest

from aitrail.catalog import pickles

SEED = 20261202
CASES = 3000


class _Stub:
    """What every global resolves to: any call, attribute or state is accepted and does nothing."""

    def __init__(self, *a: object, **k: object) -> None:
        pass

    def __call__(self, *a: object, **k: object) -> _Stub:
        return _Stub()

    def __setstate__(self, state: object) -> None:
        pass

    def __reduce__(self) -> tuple:  # never pickled again
        return (_Stub, ())


class Recording(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.seen: list[tuple[str, str]] = []

    def find_class(self, module: str, name: str) -> type:
        self.seen.append((module, name))
        return type("Stub", (_Stub,), {})

    def persistent_load(self, pid: object) -> object:
        return _Stub()


class Thing:
    def __init__(self, x: object) -> None:
        self.x = x


def _seeds() -> list[bytes]:
    import collections
    import datetime
    import decimal
    import fractions

    objs: list[object] = [
        {"a": [1, 2.5, "x" * 40, b"y" * 300, None, True, (1, 2)], "b": 10**40},
        collections.OrderedDict(a=1),
        collections.Counter("hello"),
        datetime.datetime(2026, 12, 2, 5, 0),
        decimal.Decimal("1.5"),
        fractions.Fraction(1, 3),
        Thing([1, {2: 3}]),
        set(range(5)),
        frozenset("ab"),
        bytearray(b"zz"),
        [Thing(1)] * 3,
        complex(1, 2),
        range(3),
    ]
    out = []
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        for o in objs:
            out.append(pickle.dumps(o, protocol=proto))
    return out


def _mutate(r: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(r.randint(1, 4)):
        kind = r.randrange(6)
        if kind == 0 and b:  # flip a byte
            b[r.randrange(len(b))] = r.randrange(256)
        elif kind == 1:  # insert a GLOBAL somewhere
            at = r.randrange(len(b) + 1)
            b[at:at] = r.choice([b"cos\nsystem\n", b"cbuiltins\neval\n", b"\x8c\x02os\x8c\x06system\x93"])
        elif kind == 2 and b:  # delete a run
            at = r.randrange(len(b))
            del b[at : at + r.randint(1, 8)]
        elif kind == 3:  # a frame header of a random length
            at = r.randrange(len(b) + 1)
            b[at:at] = b"\x95" + r.randrange(0, 64).to_bytes(8, "little")
        elif kind == 4 and b:  # duplicate a slice
            at = r.randrange(len(b))
            b[at:at] = b[at : at + r.randint(1, 16)]
        else:  # a memo or extension opcode with a random argument
            at = r.randrange(len(b) + 1)
            b[at:at] = bytes([r.choice([0x68, 0x6A, 0x71, 0x72, 0x94, 0x82, 0x83, 0x84]), r.randrange(256)])
    return bytes(b)


def _c_globals(data: bytes) -> list[tuple[str, str]]:
    u = Recording(data)
    try:
        u.load()
    except Exception:  # noqa: BLE001 - a mutant the loader rejects: what it resolved before still ran
        pass
    return u.seen


def _walk(data: bytes) -> tuple[set[str], bool]:
    """aitrail's globals, and whether its walk read the pickle to its STOP."""
    s = pickles.PickleSummary()
    errors = (ValueError, EOFError, OverflowError, IndexError, KeyError, TypeError)
    try:
        pickles.walk(io.BufferedReader(io.BytesIO(data)), s, lean=True)  # type: ignore[arg-type]
        whole = True
    except errors:
        whole = False
    if s.straddled:
        # an opcode straddles its frame: file loaders without peek (the C unpickler on io.BytesIO, as
        # here) read it otherwise, and the security scan walks that reading too (other_reading)
        s2 = pickles.PickleSummary()
        try:
            pickles.walk(pickles.NoPeekReader(io.BytesIO(data)), s2, lean=True)  # type: ignore[arg-type]
        except errors:
            whole = False
        return s.globals | s2.globals, whole
    return s.globals, whole


def _run(cases: int) -> dict[str, list]:
    r = random.Random(SEED)
    seeds = _seeds()
    missed, stopped = [], []
    for i in range(cases):
        data = _mutate(r, r.choice(seeds))
        resolved = _c_globals(data)
        if not resolved:
            continue
        ours, whole = _walk(data)
        # names past MAX_NAME characters are reported cut (marked "…"): compared as reported
        lost = [f"{m}.{n}" for m, n in resolved if f"{pickles.bounded_name(m)}.{pickles.bounded_name(n)}" not in ours]
        if lost:
            (missed if whole else stopped).append((i, data.hex(), lost))
    return {"missed": missed, "stopped": stopped}


def test_every_global_the_c_unpickler_resolves_is_reported_or_the_walk_says_it_stopped():
    # The C unpickler can allocate what a mutant asks for: run the loop in a child with a memory cap.
    code = (
        "import json, resource, sys; sys.path.insert(0, 'tests');"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "import test_pickle_differential as t; print(json.dumps(t._run(t.CASES)))"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # A global the loader resolves but a walk that read to STOP did not list: a loader-parser
    # differential that passes unjudged. Never acceptable.
    assert result["missed"] == [], result["missed"][:5]
    # Where the walk stopped early it reports the file high (pickle.malformed): fail closed, but
    # still a divergence to remove; counted so a change that makes it worse is seen.
    assert len(result["stopped"]) <= STOPPED_BUDGET, result["stopped"][:5]


# Measured when this test was written (seed above, 3,000 cases: 18, every one a frame straddled or
# opened inside another — refused on purpose); lower it as divergences are removed.
STOPPED_BUDGET = 18


@pytest.mark.parametrize("proto", range(pickle.HIGHEST_PROTOCOL + 1))
def test_unmutated_pickles_agree_exactly(proto):
    for data in _seeds():
        if data[1:2] != bytes([proto]) and proto >= 2:
            continue
        assert {f"{m}.{n}" for m, n in _c_globals(data)} <= _walk(data)[0]
        assert _walk(data)[1]


def test_resource_module_available():
    assert resource.RLIMIT_AS  # the differential loop runs under a memory cap


def test_a_data_only_pickle_whose_string_straddles_its_frame_is_walked_and_fails_closed(tmp_path):
    """Frames are where loaders disagree: a string cut by its frame's end is, to the C unpickler
    reading a file without peek, dropped and re-read from after the frame — which shifts it onto
    bytes aitrail would read as a string's content: os.system runs, while a data-only shortcut
    would skip the walk."""
    from aitrail.analyze import security

    payload = b"cos\nsystem\nX\x04\x00\x00\x00true\x85R."
    inner = b"\x8c\x05abcde"  # SHORT_BINUNICODE of 5 bytes: its opcode, length and 2 bytes in the frame
    data = b"\x80\x04\x95" + (4).to_bytes(8, "little") + inner + b"C" + bytes([len(payload)]) + payload + b"."
    assert ("os", "system") in _c_globals(data)  # the real loader resolves it
    assert pickles.data_only(data) is None  # so the shortcut must not vouch for it
    path = tmp_path / "straddle.pkl"
    path.write_bytes(data)
    rep = security.scan_file(path, path.name)
    assert any(f.severity in ("high", "critical") for f in rep.findings), rep.findings


def test_a_nested_frame_then_a_line_across_the_outer_frames_end_is_read_as_the_c_loader_reads_it(tmp_path):
    """Found by a differential run (seed 12): a FRAME inside a frame that fits changes nothing for the C
    loader, whose buffer still ends at the outer frame; the GLOBAL's name line crosses that end, so the
    loader drops "s" and reads "ystem" from the file: it imports os.ystem, which must be reported."""
    data = bytes.fromhex(
        "80059521000000000000008c07646563696d616c950500000000000000948c07446563696d616c636f730a73797374656d0a"
        "9493948c03312e3594859452949528000000000000002e"
    )
    assert ("os", "ystem") in _c_globals(data)
    assert "os.ystem" in _walk(data)[0]
    p = tmp_path / "nested-frame.pkl"
    p.write_bytes(data)
    from aitrail.analyze import security

    rep = security.scan_file(p, p.name)
    assert any("os.ystem" in f.message and f.severity == "critical" for f in rep.findings)
    # a frame claiming 800 GB in the same place: a limit, not an allocation
    p.write_bytes(data.replace(bytes.fromhex("950500000000000000"), bytes.fromhex("9539000000c0000000")))
    rep = security.scan_file(p, p.name)
    assert not any(f.rule == "security.incomplete" for f in rep.findings)


def _data_prefix(r: random.Random) -> bytes:
    """Opcodes that push data and import nothing, as a stream may start before its first global."""
    import struct

    parts = [
        b"G" + struct.pack(">d", r.random()),
        b"K" + bytes([r.randrange(256)]),
        b"J" + struct.pack("<i", r.randrange(-(2**31), 2**31)),
        b"M" + struct.pack("<H", r.randrange(65536)),
        b"U" + bytes([3]) + b"abc",
        b"X" + struct.pack("<I", 2) + b"hi",
        b"C" + bytes([4]) + b"\x00\x01\x02\x03",
        b"N",
        b"\x88",
        b")",
        b"]",
        b"}",
    ]
    return b"".join(r.choice(parts) for _ in range(r.randrange(1, 6)))


def test_any_stream_the_c_unpickler_imports_from_is_sniffed_as_a_pickle(tmp_path):
    """Whatever a stream starts with, if the real unpickler imports a dotted name from it, aitrail sniffs
    it as a pickle (its content is then judged); random binaries that import nothing are not pickles."""
    from aitrail.catalog.sniff import read_head, sniff

    r = random.Random(SEED + 7)
    evil = b"cos\nsystem\n(S'x'\ntR."
    imported, sniffed, stray = 0, 0, 0
    for i in range(400):
        if i % 2:
            body = _data_prefix(r) + (evil if i % 4 == 1 else pickle.dumps(Thing(i), protocol=r.randrange(0, 3)))
        else:
            body = bytes(r.randrange(256) for _ in range(r.randrange(1, 600)))
        p = tmp_path / f"m{i}.bin"
        p.write_bytes(body)
        seen = [m for m in _c_globals(body) if all(pickles._DOTTED.match(x) for x in m)]
        got = sniff(p, read_head(p)) in ("pickle", "pytorch-legacy", "joblib")
        imported += bool(seen)
        sniffed += got
        if seen:
            assert got, (i, body[:40])
        elif got:
            stray += 1  # the probe does not model every stack error: it may call more streams pickles (safe)
    assert imported >= 150 and stray <= 20, (imported, sniffed, stray)

