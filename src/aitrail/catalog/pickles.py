"""Read what a pickle *describes* without running it: a symbolic walk of its opcodes.

``pickletools.genops`` decodes opcodes and never calls anything; on top of it we keep a
symbolic stack so that we can say which globals the pickle imports, which calls it would
make, and which tensors a PyTorch state dict holds (name, dtype, shape). Nothing here
imports or calls what the pickle names.
"""

from __future__ import annotations

import bz2
import functools
import lzma
import pickletools
import re
import struct
import tarfile
import time
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import IO, Any, Callable

MAX_OPS = 20_000_000
MAX_SECONDS = 120.0  # wall time one pickle's walk may take (checked every 2**20 opcodes)
MAX_TENSORS = 200_000
MAX_MEMO = 2_000_000
MAX_VALUE_OPS = 4_000_000  # a value-building walk stops building values (not walking) past this many opcodes
LEAN_MEMO = 200_000
LEAN_STACK = 200_000  # a lean walk folds deeper stack entries into counters (see Folded)
LEAN_MARKS = 1_000_000  # MARKs are kept (pop-to-mark needs them): more is a limit finding
MAX_GLOBALS = 100_000  # distinct globals in one pickle (real ones name hundreds): more is a limit finding
MAX_NAME = 200  # characters of a global's module or name kept (longer ones are cut, marked with "…")
MAX_NESTING = 16  # pickles inside pickles (joblib object arrays) followed this deep
MAX_PAYLOAD = 64 << 20  # a bytes value shaped like a pickle, compressed stream or zip is read and walked up to this
# Opcodes a decompressed stream may cost, per compressed byte read (plus a floor): a small compressed
# file cannot make the walk run for minutes, while real compressed pickles (a few opcode bytes per
# compressed byte) walk fully.
OPS_FLOOR = 250_000
OPS_PER_COMPRESSED_BYTE = 8

# torch storage class -> dtype (what torch.save writes in persistent ids)
STORAGE_DTYPES = {
    "FloatStorage": "F32",
    "DoubleStorage": "F64",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ShortStorage": "I16",
    "CharStorage": "I8",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
    "ComplexFloatStorage": "C64",
    "ComplexDoubleStorage": "C128",
    "QInt8Storage": "QI8",
    "QUInt8Storage": "QU8",
    "QInt32Storage": "QI32",
    "Float8_e4m3fnStorage": "F8_E4M3",
    "Float8_e5m2Storage": "F8_E5M2",
}
TENSOR_REBUILDERS = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_qtensor"}


class _Mark:
    pass


MARK = _Mark()


class LimitExceeded(ValueError):
    """A limit of the walk was reached (opcodes, open MARKs): what follows is not judged."""


class DecompressionLimit(LimitExceeded):
    """A compressed stream inflated past the size or ratio limit: what follows is not judged."""


def op_budget(compressed_bytes: int) -> int:
    """Opcodes a walk may cost for ``compressed_bytes`` of compressed input (see OPS_PER_COMPRESSED_BYTE)."""
    return min(MAX_OPS, OPS_FLOOR + OPS_PER_COMPRESSED_BYTE * compressed_bytes)


def bounded_name(x: Any) -> str:
    """A global's module or name as a bounded string: a symbolic value (the result of a call, an unknown
    value) is named by its kind, never by its repr, which can double in size at each nesting level."""
    if isinstance(x, str):
        return x if len(x) <= MAX_NAME else x[:MAX_NAME] + "…"
    if x is None:
        return "<unknown>"
    return f"<{type(x).__name__}>"


class Folded:
    """``count`` stack entries of a lean walk, folded: their values are unknown, their number exact."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count

    def __repr__(self) -> str:
        return f"<{self.count} folded>"


@dataclass(frozen=True)
class Global:
    module: str
    name: str

    @functools.cached_property
    def dotted(self) -> str:  # cached: asked for at every call the pickle makes
        return f"{self.module}.{self.name}"


@dataclass(slots=True)
class Obj:
    """The result of a call or instantiation the pickle asks for (never performed)."""

    func: Any
    args: Any
    items: dict | None = None  # made on the first SETITEM (most objects never get one)
    state: Any = None
    wraps: Any = None  # the global a functools.partial holds: calling the partial calls it


@dataclass
class PersId:
    pid: Any


@dataclass
class Tensor:
    dtype: str
    shape: tuple
    storage: str | None = None  # the persistent id's key: the zip member data/<storage>
    offset: int = 0  # storage_offset, in elements
    stride: tuple | None = None


MAX_ARG = 64 << 20  # a longer string/bytes argument is skipped, not read into memory
MAX_LINE = 1 << 20  # protocol-0 arguments end at a newline; a longer "line" is hostile


@dataclass(frozen=True)
class Oversized:
    """An argument too long to hold in memory: skipped over, only its kind and length kept."""

    kind: str
    length: int
    head: bytes = b""

    def __len__(self) -> int:
        return self.length


class _Lines:
    """Bounded readline for protocol-0 arguments (pickletools would read an unbounded line); counts
    what it reads, so positions need no tell()."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.consumed = 0

    def readline(self) -> bytes:
        line = self.fh.readline(MAX_LINE + 1)
        self.consumed += len(line)
        if len(line) > MAX_LINE:
            raise LimitExceeded(f"a protocol-0 argument longer than {MAX_LINE} bytes")  # ours, not the loader's
        return line

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        self.consumed += len(data)
        return data


_OPS = [pickletools.code2op.get(chr(i)) for i in range(256)]  # type: ignore[attr-defined]  # by byte value
_PREFIX = {-2: (1, False), -3: (4, True), -4: (4, False), -5: (8, False)}  # length prefix: size, signed


def iter_ops(fh: IO[bytes], max_arg: int = MAX_ARG, frame_issues: list[str] | None = None) -> Any:
    """Like ``pickletools.genops``, with memory bounded: arguments longer than ``max_arg`` are
    skipped (``Oversized``; by seeking where the file allows), protocol-0 lines are capped.
    Decodes opcodes only; nothing is imported or called.

    An opcode straddling its frame raises, unless ``frame_issues`` is given: then the issue is appended
    there and the stream is read on across the frame, as ``pickle.loads`` does (a stream with a
    ``frame()`` method, NoPeekReader, handles frames itself: the other reading)."""
    import pickle

    ops = _OPS
    read = fh.read
    # Positions are counted, not asked for: BufferedReader.tell() is a system call, and was a
    # quarter of a walk's time. They serve error messages only.
    try:
        pos = fh.tell() if hasattr(fh, "tell") else -1
    except (OSError, ValueError):
        pos = -1
    nxt = pos
    frame_end = -1  # where the current frame's bytes end (-1: not in a frame, or positions unknown)
    while True:
        pos = nxt
        c = read(1)
        if not c:
            raise ValueError("pickle exhausted before seeing STOP")
        op = ops[c[0]]
        if op is None:
            raise ValueError(f"at position {pos}, opcode {c!r} unknown")
        arg = op.arg
        val: Any = None
        if arg is None:
            nxt = pos + 1 if pos >= 0 else -1
        elif arg.n in _PREFIX:
            size, signed = _PREFIX[arg.n]
            raw = fh.read(size)
            if len(raw) < size:
                raise ValueError(f"truncated length of {op.name} at position {pos}")
            n = int.from_bytes(raw, "little", signed=signed)
            if n < 0:
                raise ValueError(f"negative length {n} for {op.name} at position {pos}")
            if n > max_arg:
                val = _long_arg(fh, n, arg.name, op.name, pos)
                nxt = pos + 1 + size + n if pos >= 0 else -1
            else:
                data = fh.read(n)
                if len(data) < n:
                    raise ValueError(f"{op.name} at position {pos} claims {n} bytes past the end")
                name = arg.name
                if name.startswith("long"):
                    val = pickle.decode_long(data)
                elif name.startswith("unicodestring"):
                    val = data.decode("utf-8", "surrogatepass")
                elif name.startswith("string"):
                    val = data.decode("latin-1")
                elif name == "bytearray8":
                    val = bytearray(data)
                else:
                    val = data
                nxt = pos + 1 + size + n if pos >= 0 else -1
        elif arg.n == -1 and arg.name in ("decimalnl_short", "decimalnl_long"):
            # The C unpickler parses protocol-0 INT/LONG with strtol(base 0): "0x..." loads there while
            # pickletools rejects it. Follow the loader, or a hex integer hides everything after it.
            line = _Lines(fh).readline()
            nxt = pos + 1 + len(line) if pos >= 0 else -1
            text = line.strip().rstrip(b"L").decode("latin-1")
            if not line.endswith(b"\n"):
                raise ValueError(f"unterminated {op.name} at position {pos}")
            if text in ("00", "01"):
                val = text == "01"
            else:
                try:
                    val = int(text, 0) if text.lower().lstrip("+-").startswith(("0x", "0o", "0b")) else int(text)
                except ValueError:
                    raise ValueError(f"bad integer {text[:40]!r} for {op.name} at position {pos}") from None
        elif arg.n == -1 and arg.name == "stringnl_noescape_pair":
            # GLOBAL / INST: two lines, module and name, each UTF-8 up to its newline, exactly as both
            # unpicklers read them (pickletools joins them with a space, which a module name may hold).
            lines = _Lines(fh)
            pair = []
            for _ in range(2):
                line = lines.readline()
                if not line.endswith(b"\n"):
                    raise ValueError(f"unterminated {op.name} argument at position {pos}")
                # not UTF-8: both loaders refuse it; kept as escaped text (outputs stay encodable)
                pair.append(line[:-1].decode("utf-8", "backslashreplace"))
            val = (pair[0], pair[1])
            nxt = pos + 1 + lines.consumed if pos >= 0 else -1
        elif arg.n == -1:
            lines = _Lines(fh)
            val = arg.reader(lines)
            nxt = pos + 1 + lines.consumed if pos >= 0 else -1
        else:
            val = arg.reader(fh)
            nxt = pos + 1 + arg.n if pos >= 0 else -1
        if op.code == "\x95" and isinstance(val, int) and hasattr(fh, "frame"):
            fh.frame(val)  # the reader is the C loader's buffer (NoPeekReader): frames are its business
            yield op, val, pos
            continue
        if frame_end >= 0 and pos < frame_end:
            # Picklers never let an opcode straddle a frame, and loaders disagree on one that does: the
            # C unpickler (reading a file without peek) drops the rest of the frame and reads on after
            # it, with prefetch it reads straight across, Python's raises. Each reading names other
            # globals: the caller either stops (raise) or reads across and reports the disagreement.
            if nxt > frame_end or op.code == "\x95":
                issue = (
                    f"at position {pos}, {op.name} {'starts a frame inside' if op.code == chr(0x95) else 'reads past'}"
                    f" the frame ending at {frame_end}: loaders read what follows differently"
                )
                if frame_issues is None:
                    raise ValueError(issue)
                frame_issues.append(issue)
                frame_end = -1
        if op.code == "\x95" and nxt >= 0 and isinstance(val, int):
            frame_end = nxt + val
        yield op, val, pos
        if op.name == "STOP":
            return


def _long_arg(fh: Any, n: int, kind: str, opname: str, pos: int) -> Any:
    """An argument longer than the walk keeps in memory. A bytes value shaped like a payload (a pickle, a
    compressed stream, a zip: payload_shaped) is read, up to MAX_PAYLOAD, to be walked as a nested
    pickle; anything else is skipped (by seeking where the file allows), its kind, length and first
    bytes kept (Oversized)."""
    short = ValueError(f"{opname} at position {pos} claims {n} bytes past the end")
    if hasattr(fh, "skip"):  # NoPeekReader: the C loader takes an argument in one read, so must we
        if n <= MAX_PAYLOAD:
            data = fh.read(n)
            if len(data) < n:
                raise short
            return data if kind.startswith("bytes") and payload_shaped(data[:16]) else Oversized(kind, n, data[:16])
        head, got = fh.skip(n)
        if got < n:
            raise short
        return Oversized(kind, n, head)
    head = fh.read(16)
    if len(head) < 16:
        raise short
    if n <= MAX_PAYLOAD and kind.startswith("bytes") and payload_shaped(head):
        rest = fh.read(n - 16)
        if len(rest) < n - 16:
            raise short
        return head + rest
    left = n - 16
    if _seekable(fh):  # a plain file: jump over the bytes, then check they were there
        fh.seek(left - 1, 1)
        if not fh.read(1):
            raise short
        left = 0
    while left:
        got = len(fh.read(min(left, 1 << 20)))
        if not got:
            raise short
        left -= got
    return Oversized(kind, n, head)


def _seekable(fh: IO[bytes]) -> bool:
    try:
        return bool(fh.seekable()) and not hasattr(fh, "_fileobj")  # zip members "seek" by reading
    except (AttributeError, ValueError, OSError):
        return False


MAX_USES = 10_000  # call records (who calls whom with which globals) kept per pickle; more: truncated
CALLED, RECONSTRUCTED, REFERENCED = "called", "reconstructed", "referenced"
RESOLVED = "resolved"  # getattr(G, "n") followed as the global G.n: judged there, not as a getattr call


# One use the pickle makes of a global, (func, how, arg_globals): how is CALLED (REDUCE / INST / OBJ with
# arguments), RECONSTRUCTED (NEWOBJ / NEWOBJ_EX / OBJ without arguments) or RESOLVED; arg_globals the
# globals among its top-level arguments by position. Plain tuples: one is made per call the pickle makes.
CallRecord = tuple[str, str, tuple[tuple[int, str], ...]]


@dataclass
class PickleSummary:
    globals: set[str] = field(default_factory=set)  # "module.name" of every import
    uses: set[CallRecord] = field(default_factory=set)  # one per distinct use (bounded: MAX_USES)
    # What the walk saw that no allowlist can vouch for: (kind, detail), e.g. ("indirect-call", ...),
    # ("build-on-global", "mod.name"), ("dunder-state", "__setstate__"), ("nested-pickle", where)
    notes: list[tuple[str, str]] = field(default_factory=list)
    nested: list[PickleSummary] = field(default_factory=list)  # pickles found inside bytes arguments
    straddled: bool = False  # an opcode straddled its frame: file loaders read it otherwise (NoPeekReader)
    tensors: dict[str, Tensor] = field(default_factory=dict)
    op_count: int = 0
    memo_count: int = 0  # MEMOIZE numbers memo slots by how many were filled before
    protocol: int | None = None
    truncated: bool = False  # listing stopped at a cap
    nesting: int = 0  # pickles inside pickles being walked (joblib object arrays)
    root: Any = None

    @property
    def calls(self) -> set[str]:
        """Globals the pickle calls or rebuilds (REDUCE / NEWOBJ / OBJ / INST)."""
        return {func for func, how, _ in self.uses if how != RESOLVED}


def walk(
    fh: IO[bytes],
    summary: PickleSummary | None = None,
    on_build: Callable[[Obj, IO[bytes], PickleSummary], None] | None = None,
    lean: bool = False,
    max_ops: int = MAX_OPS,
) -> PickleSummary:
    """Walk one pickle (up to its STOP) from ``fh``. Raises ValueError on malformed input.

    ``on_build`` is called after each BUILD, with the file positioned just past it: a loader that
    reads raw bytes there (joblib's NumpyArrayWrapper) is followed by skipping them.
    ``lean`` (security scans) builds no values and keeps a bounded memo of names only, least
    recently used first out: memory stays flat whatever the file size. A name evicted and then
    fetched resolves to an unknown global, which is reported: the walk fails closed.
    ``max_ops`` bounds the opcodes (see op_budget for compressed members); a stream with an
    ``op_budget()`` method (Decompressed) bounds them by the compressed bytes it has read.
    """
    s = summary or PickleSummary()
    started = time.monotonic()
    stack: list[Any] = []
    memo: dict[int, Any] = OrderedDict() if lean else {}
    track = not lean  # keep building values; turned off past caps (globals are still collected)

    fold_at = [LEAN_STACK]

    def fold() -> None:
        # Hostile pickles push millions of values; a lean walk keeps the top of the stack, the MARKs
        # and (up to a budget) the names STACK_GLOBAL could pop, and counts the rest. Counts keep every
        # later pop aligned with the real unpickler's stack; a folded value pops as unknown, which
        # STACK_GLOBAL reports as an unknown global (fail closed). Values were judged when pushed.
        keep = LEAN_STACK // 2
        bottom, top = stack[:-keep], stack[-keep:]
        folded: list[Any] = []
        marks = names = 0
        for item in bottom:
            if item is MARK:
                marks += 1
                folded.append(item)
            elif isinstance(item, (str, Global)) and names < keep:
                names += 1
                folded.append(item)
            elif folded and isinstance(folded[-1], Folded):
                folded[-1].count += item.count if isinstance(item, Folded) else 1
            else:
                folded.append(Folded(item.count if isinstance(item, Folded) else 1))
        if marks > LEAN_MARKS:
            raise LimitExceeded(f"more than {LEAN_MARKS} open MARKs on the stack")
        stack[:] = folded + top
        fold_at[0] = len(stack) + LEAN_STACK  # the next fold only after as many new entries again

    def pop_mark() -> list[Any]:
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is MARK:
                items = stack[i + 1 :]
                del stack[i:]
                return items
        raise ValueError("MARK expected on the stack")

    def pop() -> Any:
        if not stack:
            raise ValueError("stack underflow")
        top = stack[-1]
        if isinstance(top, Folded) and top.count > 1:
            top.count -= 1
            return None
        return stack.pop()

    def add_global(g: Global) -> None:
        s.globals.add(g.dotted)
        if len(s.globals) > MAX_GLOBALS:
            s.truncated = True
            raise LimitExceeded(f"more than {MAX_GLOBALS} distinct globals")

    uses = s.uses

    def note(kind: str, detail: str) -> None:
        if len(s.notes) < 100:
            s.notes.append((kind, detail[:MAX_NAME]))

    def record(func: Any, how: str, args: Any) -> None:
        """How ``func`` is used, with the globals among its arguments: judged later by the rules."""
        if func.__class__ is Global:
            argg: tuple[tuple[int, str], ...] = ()
            if args.__class__ is tuple:
                for a in args[:8]:
                    if a.__class__ is Global or a is WALKED:
                        argg = tuple(
                            (i, a.dotted if a.__class__ is Global else WALKED_ARG)
                            for i, a in enumerate(args[:8])
                            if a.__class__ is Global or a is WALKED
                        )
                        break
            key = (func.dotted, how, argg)
            if key not in uses:
                if len(uses) < MAX_USES:
                    uses.add(key)
                else:
                    s.truncated = True
        elif isinstance(func, PersId) and _persid_class(func) is not None:
            # torch's legacy format stores a whole module's class as ('module', cls, file, source): its
            # persistent_load returns cls, which the pickle then calls or rebuilds
            record(_persid_class(func), how, args)
        elif isinstance(func, Obj) and func.wraps is not None:
            record(func.wraps, CALLED, args)  # calling functools.partial(f, ...) calls f
        elif isinstance(func, Obj):
            inner = func.func.dotted if isinstance(func.func, Global) else "<unknown>"
            note("indirect-call", inner)
        else:
            note("indirect-call", "<unknown>" if func is None else f"<{type(func).__name__}>")

    def call(func: Any, args: Any, how: str = CALLED) -> Obj:
        record(func, how, args)
        wraps = _wraps(func, args)
        if not isinstance(func, Global) and (lean or not track):
            func = None  # no values kept: a chain of calls on results must not pile up in memory
        return Obj(func, None if lean or not track else args, wraps=wraps)

    # A lean walk keeps no values: bytes arguments are skipped from 64 KiB on instead of read.
    budget = getattr(fh, "op_budget", None)
    limit = min(max_ops, MAX_OPS, budget() if budget else MAX_OPS)
    frame_issues: list[str] = []
    for op, arg, _pos in iter_ops(fh, 64 << 10 if lean else MAX_ARG, frame_issues):
        if frame_issues:
            # pickle.loads reads straight across frames; a file loader drops the rest of the frame instead.
            # This walk reads across; the caller walks the file loader's reading too (NoPeekReader), and
            # the disagreement itself is a finding (pickle.frame-straddle)
            note("frame-straddle", frame_issues.pop())
            s.straddled = True
            frame_issues.clear()
        s.op_count += 1
        if s.op_count > limit:
            if budget and budget() > limit:  # more compressed input read since: a larger budget
                limit = min(max_ops, budget())
            else:
                s.truncated = True
                raise LimitExceeded(
                    f"more than {limit} opcodes"
                    + (" for the compressed bytes read (op_budget)" if budget or max_ops < MAX_OPS else "")
                )
        if len(stack) > fold_at[0]:
            if not lean:
                s.truncated = True  # values below the fold are lost: the listing is partial
            fold()
        if not s.op_count & 0xFFFFF and time.monotonic() - started > MAX_SECONDS:
            s.truncated = True
            raise LimitExceeded(f"more than {MAX_SECONDS:g} s")
        name = op.name
        if name in _LITERALS:  # the commonest opcodes first: one set lookup, not the chain below
            stack.append(arg)
            continue
        if name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
            continue
        if name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            if not stack:
                raise ValueError("memoize on an empty stack")
            # MEMOIZE takes the next slot (the memo's size); PUT names its slot. A lean memo drops
            # entries, so it counts slots instead of measuring itself.
            if name == "MEMOIZE":
                idx = s.memo_count if lean else len(memo)
            else:
                idx = int(arg or 0)
            if idx >= s.memo_count:
                s.memo_count = idx + 1
            if lean:
                top = stack[-1]
                if isinstance(top, (str, Global)) and (not isinstance(top, str) or len(top) <= 256):
                    memo[idx] = top
                    if len(memo) > LEAN_MEMO:
                        memo.popitem(last=False)  # type: ignore[call-arg]
            elif len(memo) < MAX_MEMO:
                memo[idx] = stack[-1]
            else:
                track = False
                s.truncated = True
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            idx = int(arg or 0)
            if lean and idx in memo:
                memo.move_to_end(idx)  # type: ignore[attr-defined]
            stack.append(memo.get(idx))
        elif name == "POP":
            pop()
        elif name == "POP_MARK":
            pop_mark()
        elif name == "DUP":
            stack.append(None if not stack or isinstance(stack[-1], Folded) else stack[-1])
        elif name in ("EMPTY_DICT",):
            stack.append({})
        elif name in ("EMPTY_LIST",):
            stack.append([])
        elif name in ("EMPTY_TUPLE",):
            stack.append(())
        elif name == "EMPTY_SET":
            stack.append([])
        elif name == "TUPLE1":
            stack.append((pop(),))
        elif name == "TUPLE2":
            b, a = pop(), pop()
            stack.append((a, b))
        elif name == "TUPLE3":
            c, b, a = pop(), pop(), pop()
            stack.append((a, b, c))
        elif name == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif name == "LIST":
            stack.append(pop_mark())
        elif name == "FROZENSET":
            stack.append(pop_mark())
        elif name == "DICT":
            items = pop_mark()
            stack.append({_key(k): v for k, v in zip(items[::2], items[1::2])})
        elif name in ("APPEND",):
            v = pop()
            if track and stack and isinstance(stack[-1], list):
                stack[-1].append(v)
        elif name in ("APPENDS", "ADDITEMS"):
            items = pop_mark()
            if track and stack and isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif name == "SETITEM":
            v, k = pop(), pop()
            _setitems(stack, [k, v], track)
        elif name == "SETITEMS":
            _setitems(stack, pop_mark(), track)
        elif name == "PROTO":
            s.protocol = arg
        elif name in ("FRAME",):
            pass
        elif name == "MARK":
            stack.append(MARK)
        elif name == "STOP":
            s.root = stack[-1] if stack else None
            break
        elif name in ("GLOBAL", "INST"):
            mod, nm = arg
            g = Global(bounded_name(mod), bounded_name(nm))
            add_global(g)
            if name == "INST":
                # _pickle.c instantiate(): no arguments and a class -> cls.__new__(cls); else cls(*args)
                inst_args = tuple(pop_mark())
                stack.append(call(g, inst_args, CALLED if inst_args else RECONSTRUCTED))
            else:
                stack.append(g)
        elif name == "STACK_GLOBAL":
            nm, mod = pop(), pop()
            g = Global(bounded_name(mod), bounded_name(nm))
            add_global(g)
            stack.append(g)
        elif name in ("EXT1", "EXT2", "EXT4"):
            g = Global("copyreg._extension_registry", bounded_name(str(arg)))
            add_global(g)
            stack.append(g)
        elif name == "REDUCE":
            args = pop()
            func = pop()
            derived = _resolved_name(func, args)
            if derived is not None:
                # getattr(G, "n") is the global G.n, as a dotted STACK_GLOBAL name would be (enums pickle
                # this way): followed, so its later use (called, referenced) is judged on G.n itself
                record(func, RESOLVED, args)
                add_global(derived)
                stack.append(derived)
                continue
            if _public_attribute(func, args):
                # getattr(value, "findall"): a bound method of a value the pickle built (a compiled regex's
                # findall as a tokenizer); only the lookup runs. The result is no global: calling it is an
                # indirect call (judged high), whatever getattr's place in callable_results
                record(func, RESOLVED, args)
                stack.append(Obj(None, None))
                continue
            if track:
                record(func, CALLED, args)
                stack.append(_reduce(func, args))
            else:
                stack.append(call(func, args))
        elif name in ("NEWOBJ",):
            args = pop()
            cls = pop()
            stack.append(call(cls, args, RECONSTRUCTED))
        elif name == "NEWOBJ_EX":
            kwargs = pop()
            args = pop()
            cls = pop()
            if isinstance(kwargs, dict) and isinstance(args, tuple):
                args = args + tuple(v for v in kwargs.values() if isinstance(v, Global))
            stack.append(call(cls, args, RECONSTRUCTED))
        elif name == "OBJ":
            items = pop_mark()
            if not items:
                raise ValueError("OBJ with no class")
            stack.append(call(items[0], tuple(items[1:]), CALLED if len(items) > 1 else RECONSTRUCTED))
        elif name == "BUILD":
            state = pop()
            target = stack[-1] if stack else None
            if isinstance(target, Global):
                # BUILD on a module-level object (a class, a module attribute): setattr on it changes code
                # that everything else in the process runs
                note("build-on-global", target.dotted)
            for key in _dunder_keys(state):
                # A BUILD whose state sets a dunder (__setstate__, __reduce__...) on the object: the next
                # BUILD or call runs whatever was stored there
                note("dunder-state", key)
            if isinstance(target, Obj):
                target.state = state
                if on_build is not None:
                    on_build(target, fh, s)
        elif name in ("BINPERSID", "PERSID"):
            stack.append(PersId(pop() if name == "BINPERSID" else arg))
        elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
            walked = len(arg or b"") >= 4 and _nested(arg, s, lean, note)
            stack.append(WALKED if walked else ("<bytes>", len(arg or b"")))
        elif isinstance(arg, Oversized):
            stack.append(f"<{arg.length} bytes, not read>")
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if name == "NEXT_BUFFER":
                stack.append(("<buffer>",))
        else:
            # literals: ints, floats, strings, None, bools
            stack.append(
                arg
                if name not in ("NONE", "NEWTRUE", "NEWFALSE")
                else {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name]
            )
        if len(s.tensors) >= MAX_TENSORS or (track and s.op_count > MAX_VALUE_OPS):
            track = False  # values past here are not built (memory): globals and calls are still judged
            s.truncated = True
    else:
        raise ValueError("pickle ended without STOP")
    return s


_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_GETATTR = frozenset({"builtins.getattr", "__builtin__.getattr"})
_PARTIAL = frozenset({"functools.partial", "functools.partialmethod"})
# cloudpickle's _builtin_type("X") is getattr(types, "X") (MethodType, CodeType...)
_TYPES_BY_NAME = frozenset({"cloudpickle.cloudpickle._builtin_type", "cloudpickle.cloudpickle_fast._builtin_type"})
# dill's _load_type("X") is a builtin type ("slice", "bytearray"), else a types.* one ("CodeType"): dill
# pickles every builtin type this way, so plain data (a pandas frame's slices) names them through it
_DILL_TYPES = frozenset({"dill._dill._load_type", "dill.dill._load_type"})


def _resolved_name(func: Any, args: Any) -> Global | None:
    """The global a call only looks up by name (getattr(G, "n"), cloudpickle's _builtin_type("X")), or None."""
    if func.__class__ is not Global or args.__class__ is not tuple:
        return None
    if len(args) == 2 and func.dotted in _GETATTR and isinstance(args[0], Global) and isinstance(args[1], str):
        return Global(args[0].module, bounded_name(f"{args[0].name}.{args[1]}"))
    if len(args) == 1 and func.dotted in _TYPES_BY_NAME and isinstance(args[0], str):
        return Global("types", bounded_name(args[0]))
    if len(args) == 1 and func.dotted in _DILL_TYPES and isinstance(args[0], str):
        import builtins

        # only a lookup in the builtins table, nothing called; other names are judged as types.X
        builtin = args[0].isidentifier() and isinstance(getattr(builtins, args[0], None), type)
        return Global("builtins" if builtin else "types", bounded_name(args[0]))
    return None
def _public_attribute(func: Any, args: Any) -> bool:
    """getattr(V, "name") on a value V (not a global) with a public constant name."""
    return (
        func.__class__ is Global
        and func.dotted in _GETATTR
        and args.__class__ is tuple
        and len(args) == 2
        and args[0].__class__ is not Global
        and isinstance(args[1], str)
        and args[1].isidentifier()
        and not args[1].startswith("_")
    )


_LITERALS = frozenset(
    "INT BININT BININT1 BININT2 LONG LONG1 LONG4 STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE "
    "SHORT_BINUNICODE BINUNICODE8 FLOAT BINFLOAT".split()
)


def joblib_arrays(obj: Obj, fh: IO[bytes], s: PickleSummary) -> None:
    """Follow joblib's framing: after BUILD of a NumpyArrayWrapper, the array's bytes sit in the file
    (raw, after optional alignment padding), or, for object arrays, a nested pickle (walked too). The
    wrappers of joblib < 0.10 name a file beside the pickle instead: only where it points is checked."""
    if not isinstance(obj.func, Global):
        return
    st = obj.state if isinstance(obj.state, dict) else {}
    if obj.func.name in ("NDArrayWrapper", "ZNDArrayWrapper"):
        # joblib < 0.10: the array is a file beside the pickle, which joblib (not aitrail) loads with
        # np.load(allow_pickle=True)  # safe: describes the victim's loader; aitrail only reads the name
        # from os.path.join(<the pickle's folder>, filename). A sibling is judged with its folder; a name
        # that leaves the folder is not, so it is a note (high).
        name = st.get("filename")
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
            s.notes.append(("sibling-outside", bounded_name(name)))
        return
    if obj.func.name != "NumpyArrayWrapper":
        return
    dtype = st.get("dtype")
    code = dtype.args[0] if isinstance(dtype, Obj) and isinstance(dtype.args, tuple) and dtype.args else None
    if _may_hold_objects(dtype):
        # An object array (numpy's dtype.hasobject, as its BUILD state sets it, or a dtype we cannot read:
        # fail closed): joblib pickle.loads what follows: a whole pickle, judged like the rest.
        s.nesting += 1
        if s.nesting > MAX_NESTING:
            raise LimitExceeded(f"joblib object arrays nested more than {MAX_NESTING} deep")
        try:
            walk(fh, s, joblib_arrays)
        finally:
            s.nesting -= 1
        return
    size = _itemsize(code) if isinstance(code, str) else None
    if size is None:
        raise ValueError(f"joblib array of unknown dtype {bounded_name(code)!r}")
    # joblib reads np.multiply.reduce(shape) elements: a list shape counts as a tuple; what is not a shape
    # of ints cannot be followed (fail closed: the walk stops, a malformed-pickle finding)
    shape = st.get("shape")
    if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValueError(f"joblib array of unreadable shape {bounded_name(shape)!r}")
    count = 1
    for d in shape:
        count *= d
    if st.get("numpy_array_alignment_bytes") is not None:
        pad = fh.read(1)
        if pad:
            fh.read(pad[0])
    remaining = count * size
    while remaining > 0:
        got = len(fh.read(min(remaining, 1 << 20)))
        if not got:
            raise ValueError("joblib array data truncated")
        remaining -= got


def _may_hold_objects(dtype: Any, depth: int = 0) -> bool:
    """numpy's ``dtype.hasobject`` for a dtype the pickle rebuilds: its code ('O'), the flags its BUILD
    state sets (bit 0, NPY_ITEM_HASOBJECT: numpy takes them from the state), its fields and subarray.
    What cannot be read is taken to hold objects (fail closed)."""
    if depth > 16 or not isinstance(dtype, Obj) or not isinstance(dtype.args, tuple) or not dtype.args:
        return True
    code = dtype.args[0]
    if not isinstance(code, str) or code.lstrip("<>|=").startswith("O"):
        return True
    st = dtype.state
    if st is None:
        return False  # no BUILD: numpy's dtype for the code alone
    if not isinstance(st, tuple) or len(st) < 8 or not isinstance(st[7], int) or st[7] & 1:
        return True
    sub, fields = st[2], st[4]
    if sub is not None and not (isinstance(sub, tuple) and len(sub) == 2 and not _may_hold_objects(sub[0], depth + 1)):
        return True
    if fields is None:
        return False
    if not isinstance(fields, dict):
        return True
    return any(not isinstance(v, tuple) or not v or _may_hold_objects(v[0], depth + 1) for v in fields.values())


def _itemsize(code: str) -> int | None:
    """Bytes per element of a numpy dtype string as joblib pickles it ('<f4', '<U21', '|b1', '?', 'V16')."""
    m = re.fullmatch(r"[<>|=]?([a-zA-Z?])(\d*)(?:\[\w+\])?", code)
    if not m:
        return None
    kind, n = m.group(1), int(m.group(2) or 1)
    if kind == "?":
        return 1
    return 4 * n if kind in "Uw" else n  # unicode: UCS-4 code points


_SCALARS = (str, int, float, bool, type(None))


def _key(k: Any) -> Any:
    # Only flat keys are hashed: hashing a tuple nested a million deep recurses in C.
    if isinstance(k, _SCALARS) or (isinstance(k, tuple) and all(isinstance(x, _SCALARS) for x in k)):
        return k
    return f"<{type(k).__name__}>"


_STRONG_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18", b"\x28\xb5\x2f\xfd")


class _Prefixed:
    """Bytes already read, then the rest of a stream (a look-ahead handed back)."""

    def __init__(self, head: bytes, fh: Any) -> None:
        self.head, self.fh = head, fh
        self.last = b""  # the last byte read, for walk_all's one-byte step back

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            out = bytes(self.fh.read(n))
        elif n < 0:
            out, self.head = bytes(self.head + self.fh.read()), b""
        else:
            out, self.head = self.head[:n], self.head[n:]
            out += self.fh.read(n - len(out)) if len(out) < n else b""
        self.last = out[-1:] or self.last
        return out

    def readline(self, limit: int = -1) -> bytes:
        i = self.head.find(b"\n")
        if i >= 0:
            return self.read(i + 1 if limit < 0 else min(i + 1, limit))
        head, self.head = self.head, b""
        out = head + self.fh.readline(limit - len(head) if limit >= 0 else -1)
        self.last = out[-1:] or self.last
        return out

    def tell(self) -> int:
        return -1

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        # Only the one-byte step back of walk_all's "is there another pickle?" probe.
        if whence != 1 or offset != -1 or not self.last:
            raise OSError("a look-ahead stream only steps back one byte")
        self.head, self.last = self.last + self.head, b""
        return -1


class _Walked:
    """A bytes value whose payload (a pickle, plain, compressed or in a torch.save zip) was walked whole."""

    def __repr__(self) -> str:
        return "<walked payload>"


WALKED = _Walked()
WALKED_ARG = "<walked payload>"  # how a walked payload argument is named in a CallRecord's arg_globals


def payload_shaped(head: bytes) -> bool:
    """Whether bytes starting with ``head`` may be a pickle, a compressed stream or a zip (torch.save)."""
    return (
        (looks_like_pickle(head) and head[2:3] in _PICKLE_SECOND)
        or head.startswith(_STRONG_MAGIC)
        or head.startswith(b"PK\x03\x04")
    )


def _nested(arg: Any, s: PickleSummary, lean: bool, note: Callable[[str, str], None]) -> bool:
    """A bytes argument that is itself a pickle (plain, compressed, or a torch.save zip) is a payload
    that whatever unpickles it later runs (torch.storage._load_from_bytes, __setstate__ methods that
    pickle.loads their state): walked into ``s.nested`` and judged like the outer pickle. True when
    it was walked whole (its loader then only rebuilds what was judged)."""
    import io

    if isinstance(arg, Oversized):
        if payload_shaped(arg.head):
            note("nested-not-walked", f"{arg.length} bytes")
        return False
    if arg[0] not in _NESTED_FIRST:  # the common case (dates, decimals, array bytes): one lookup
        return False
    data = bytes(arg)
    is_zip = data.startswith(b"PK\x03\x04")
    codec = compression(data[:4096]) if data[:1] not in (b"\x80",) and not is_zip else None
    if not (is_zip or codec or (looks_like_pickle(data) and data[2:3] in _PICKLE_SECOND)):
        return False
    if s.nesting >= MAX_NESTING:
        note("nested-not-walked", f"nested more than {MAX_NESTING} deep")
        return False
    sub = PickleSummary(nesting=s.nesting + 1)
    whole = True
    try:
        if is_zip:
            whole = _walk_zip_payload(data, sub)
        else:
            stream: Any = io.BytesIO(data) if codec is None else Decompressed(io.BytesIO(data), codec, "nested pickle")
            # pickles one after the other, as torch's legacy format writes them (magic number, protocol,
            # system info, the data, the storage keys), then raw storage bytes
            for _ in range(8):
                walk(stream, sub, lean=True, max_ops=op_budget(len(data)))
                nxt = stream.read(3)
                if not (looks_like_pickle(nxt) and nxt[2:3] in _PICKLE_SECOND):
                    break
                stream = _Prefixed(nxt, stream)
    except LimitExceeded:
        note("nested-not-walked", "a limit was reached")
        whole = False
    except (ValueError, EOFError, OSError, struct.error, zlib.error, lzma.LZMAError, RuntimeError, zipfile.BadZipFile):
        whole = False
        if not sub.globals:
            return False  # bytes that only start like a pickle: nothing a loader could import from them
    if len(s.nested) < 100:
        s.nested.append(sub)
    else:
        note("nested-not-walked", "more than 100 nested pickles")
        return False
    return whole and not sub.notes


def _walk_zip_payload(data: bytes, sub: PickleSummary) -> bool:
    """A torch.save zip held in a bytes value (how pickle.dumps writes tensors): its pickles walked into
    ``sub``; its storages (data/<n>) are raw bytes. False when it holds no pickle (not a torch.save zip)."""
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        pkls = [n for n in names if n.endswith(".pkl")]
        if not pkls or len(names) > 100_000:
            return False
        for n in pkls:
            info = z.getinfo(n)
            packed = max(info.compress_size, 1)
            if info.file_size > MAX_DECOMPRESSED or (
                info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * packed
            ):
                raise LimitExceeded(f"a zip member in a bytes value inflates {packed} bytes to {info.file_size}")
            with z.open(n) as fh:
                walk(fh, sub, lean=True, max_ops=op_budget(len(data)))  # type: ignore[arg-type]
        return True  # torch.load reads only data.pkl and raw storages (data/<n>): nothing else runs


# first bytes of a pickle (PROTO) or of a compressed stream (COMPRESSION_MAGIC, zlib's "x")
_NESTED_FIRST = frozenset(b"\x80\x1fB\xfd\x5d\x04\x28xP")
# opcodes a real pickle has right after PROTO: FRAME, MARK, EMPTY_DICT/LIST/TUPLE, a GLOBAL, a string
_PICKLE_SECOND = frozenset(bytes([b]) for b in b"\x95(}])\x8c\x93cX\x80KJMN\x88\x89\x8a")


def _persid_class(p: PersId) -> Global | None:
    pid = p.pid
    if isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "module" and isinstance(pid[1], Global):
        return pid[1]
    return None


def _dunder_keys(state: Any) -> list[str]:
    """Dunder keys a BUILD state would set on its object (a dict, or the (dict, slotstate) pair)."""
    dicts = [state] if isinstance(state, dict) else [d for d in state[:2] if isinstance(d, dict)] if (
        isinstance(state, tuple)
    ) else []
    return [k for d in dicts for k in d if isinstance(k, str) and k.startswith("__") and k.endswith("__")][:8]


def _setitems(stack: list[Any], items: list[Any], track: bool) -> None:
    if stack and not track and isinstance(stack[-1], dict):
        # A lean walk keeps no values, but keeps dunder keys (and their values) of dicts: a BUILD state
        # that sets __setstate__ must still be seen (see _dunder_keys). Bounded: 8 per dict.
        lean_d: dict = stack[-1]
        for k, v in zip(items[::2], items[1::2]):
            if isinstance(k, str) and k.startswith("__") and len(lean_d) < 8:
                lean_d[k[:MAX_NAME]] = v if isinstance(v, (Global, str)) else None
        return
    if not (track and stack):
        return
    target = stack[-1]
    if isinstance(target, Obj) and target.items is None:
        target.items = {}
    d = target if isinstance(target, dict) else target.items if isinstance(target, Obj) else None
    if d is not None:
        for k, v in zip(items[::2], items[1::2]):
            d[_key(k)] = v


def _reduce(func: Any, args: Any) -> Any:
    if isinstance(func, Global):
        if func.module == "torch._utils" and func.name in TENSOR_REBUILDERS and isinstance(args, tuple) and args:
            t = _tensor(args)
            if t:
                return t
        if func.module == "torch._utils" and func.name == "_rebuild_parameter" and isinstance(args, tuple) and args:
            if isinstance(args[0], Tensor):
                return args[0]
    return Obj(func, args, wraps=_wraps(func, args))


def _wraps(func: Any, args: Any) -> Global | None:
    """The global a functools.partial(G, ...) holds: calling the partial calls G."""
    if func.__class__ is Global and func.dotted in _PARTIAL and args.__class__ is tuple and args:
        return args[0] if args[0].__class__ is Global else None
    return None


def _tensor(args: tuple) -> Tensor | None:
    storage = args[0]
    if not isinstance(storage, PersId):
        return None
    pid = storage.pid
    dtype = "?"
    if isinstance(pid, tuple) and len(pid) >= 2 and isinstance(pid[1], Global):
        dtype = STORAGE_DTYPES.get(pid[1].name, pid[1].name)
    shape = args[2] if len(args) > 2 and isinstance(args[2], tuple) else ()
    key = pid[2] if isinstance(pid, tuple) and len(pid) >= 3 and isinstance(pid[2], str) else None
    offset = args[1] if len(args) > 1 and type(args[1]) is int else 0
    stride = args[3] if len(args) > 3 and isinstance(args[3], tuple) else None
    return Tensor(
        dtype,
        tuple(x for x in shape if isinstance(x, int)),
        key,
        offset,
        tuple(x for x in stride if isinstance(x, int)) if stride is not None else None,
    )


def collect_tensors(root: Any, limit: int = MAX_TENSORS) -> dict[str, Tensor]:
    """Name every tensor reachable from ``root`` by its dotted dict path (state_dict keys)."""
    out: dict[str, Tensor] = {}
    seen: set[int] = set()
    todo: list[tuple[str, Any, int]] = [("", root, 0)]
    while todo and len(out) < limit:
        prefix, v, depth = todo.pop()
        if isinstance(v, Tensor):
            out[prefix or "<root>"] = v
            continue
        if depth > 32 or id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Obj):
            if v.items:
                todo.append((prefix, v.items, depth + 1))
            if v.state is not None:
                todo.append((prefix, v.state, depth + 1))
            if isinstance(v.args, tuple):
                for a in v.args:
                    if isinstance(a, (dict, Obj)):
                        todo.append((prefix, a, depth + 1))
        elif isinstance(v, dict):
            for k, x in v.items():
                todo.append((f"{prefix}.{k}" if prefix else str(k), x, depth + 1))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v[:100_000]):
                if isinstance(x, (Tensor, dict, Obj, list, tuple)):
                    todo.append((f"{prefix}.{i}" if prefix else str(i), x, depth + 1))
    return dict(sorted(out.items()))


# -- fast path: pickles made of data opcodes only -------------------------------------------------
# A pickle that never uses GLOBAL, STACK_GLOBAL, INST, OBJ, REDUCE, NEWOBJ, BUILD, EXT* or PERSID
# cannot import or call anything. Checking that needs no stack: a table of argument sizes is enough,
# which is ~10x faster than the symbolic walk on opcode-dense pickles (token vocabularies).
_FIXED = {
    0x80: 1,
    0x95: 8,
    0x4B: 1,
    0x4D: 2,
    0x4A: 4,
    0x47: 8,
    0x68: 1,
    0x6A: 4,
    0x71: 1,
    0x72: 4,
}  # PROTO FRAME BININT1 BININT2 BININT BINFLOAT BINGET LONG_BINGET BINPUT LONG_BINPUT
_NOARG = frozenset(b"().}]N\x88\x89\x85\x86\x87tlsuae0\x94\x8f\x90\x91d2")  # MARK STOP ... MEMOIZE, sets
_LEN1 = frozenset(b"\x8cCU\x8a")  # SHORT_BINUNICODE SHORT_BINBYTES SHORT_BINSTRING LONG1: 1-byte length
_LEN4 = frozenset(b"XBT\x8b")  # BINUNICODE BINBYTES BINSTRING LONG4: 4-byte length
_LEN8 = frozenset(b"\x8d\x8e\x96")  # BINUNICODE8 BINBYTES8 BYTEARRAY8: 8-byte length


def data_only(buf: Any, pos: int = 0) -> int | None:
    """If the pickle at ``pos`` uses data opcodes only, the position just past its STOP; else None.
    A bytes value that may itself hold a pickle (see _nested) needs the full walk too."""
    n = len(buf)
    i = pos
    fixed, noarg, len1, len4, len8 = _FIXED, _NOARG, _LEN1, _LEN4, _LEN8
    frame_end = -1
    while i < n:
        start = i
        c = buf[i]
        i += 1
        if c == 0x95:  # FRAME: a new frame inside the current one is a loader differential too
            if start < frame_end or i + 8 > n:
                return None
            frame_end = i + 8 + int.from_bytes(buf[i : i + 8], "little")
        if c in noarg:
            if c == 0x2E:  # STOP
                return i
        elif c in len1:
            if i >= n:
                return None
            if c == 0x43 and buf[i] >= 4 and i + 1 < n and buf[i + 1] in _NESTED_FIRST:  # SHORT_BINBYTES payload?
                return None
            i += 1 + buf[i]
        elif c in fixed:
            i += fixed[c]
        elif c in len4:
            if i + 4 > n:
                return None
            if c == 0x42 and i + 4 < n and buf[i + 4] in _NESTED_FIRST:  # BINBYTES that may hold a pickle
                return None
            i += 4 + int.from_bytes(buf[i : i + 4], "little")
        elif c in len8:
            if i + 8 > n:
                return None
            if i + 8 < n and buf[i + 8] in _NESTED_FIRST:  # BINBYTES8 / BYTEARRAY8 that may hold a pickle
                return None
            i += 8 + int.from_bytes(buf[i : i + 8], "little")
        else:
            return None  # anything else (including every opcode that imports or calls): full walk
        if start < frame_end < i:  # this opcode straddled the frame's end: loaders disagree; full walk
            return None
    return None


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
PROBE_OPS = 1_000_000  # opcodes a probe reads before it calls the stream a pickle (fail closed)


def imports_before_error(fh: IO[bytes]) -> bool:
    """Whether an unpickler reading this stream would import something before it fails or stops.

    Nothing can run without an import (REDUCE, OBJ, BUILD... need a callable, and only GLOBAL, INST,
    STACK_GLOBAL and the EXT codes make one), so a stream that errors or stops first is harmless to
    ``pickle.load`` whatever its first byte; one that reaches an import of a dotted name is a pickle,
    however it starts (``G`` + 8 bytes + ``cos\nsystem\n...`` runs os.system). A GLOBAL naming no
    valid module path ends the real load with an ImportError: not counted (random binaries hit it)."""
    try:
        for n, (op, arg, _pos) in enumerate(iter_ops(fh, frame_issues=[])):
            name = op.name
            if name in ("GLOBAL", "INST"):
                mod, attr = arg if isinstance(arg, tuple) else (str(arg), "")
                return bool(_DOTTED.match(str(mod)) and _DOTTED.match(str(attr)))
            if name in ("STACK_GLOBAL", "EXT1", "EXT2", "EXT4"):
                return True
            if name == "STOP":
                return False
            if n >= PROBE_OPS:
                return True  # a long well-formed stream: let the full walk judge it
    except LimitExceeded:
        return True  # not read far enough to rule an import out: judged, and the walk reports the limit
    except (ValueError, EOFError, OSError, UnicodeDecodeError, struct.error):
        return False
    return False


# -- compressed pickles (joblib's compressors; pandas.read_pickle opens the same) -------------------
MAX_DECOMPRESSED = 16 << 30  # bytes one compressed stream may inflate to
RATIO_FLOOR = 64 << 20  # the ratio limit applies only past this many decompressed bytes
# Above DEFLATE's ceiling (~1032:1), so zlib and gzip streams, even of zeros, never reach it; bz2 and
# xz of long zero runs can (a documented false alarm, high: the rest is not judged).
MAX_RATIO = 1100
_OUT_CHUNK = 1 << 18  # decompressed bytes per step: memory stays flat whatever the stream says

# Magic numbers of the compressors joblib writes (and pandas infers), checked on content, not names.
COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


class Reopen:
    """Opens a file again for a probe's second look, and names the file for the per-file probe memo: the
    sniffer, the security rules and the catalogers each ask whether a file is a compressed pickle, tar or
    zip; a protocol-0/1 answer costs a walk of the whole inflated stream, so it is found once per file
    version (path, device, inode, size, mtime), not once per asker."""

    def __init__(self, path: Any) -> None:
        self.path = path

    def __call__(self) -> IO[bytes]:
        return open(self.path, "rb")

    def key(self) -> tuple[Any, ...] | None:
        import os

        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (os.path.realpath(self.path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


_PROBES: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
MAX_PROBES = 4096  # memoised answers kept (oldest dropped first)


def _memo(kind: str, reopen: Any, name: str | None, compute: Callable[[], Any]) -> Any:
    key = reopen.key() if isinstance(reopen, Reopen) else None
    if key is None:
        return compute()
    k = (kind, name, *key)
    if k in _PROBES:
        return _PROBES[k]
    out = compute()
    _PROBES[k] = out
    while len(_PROBES) > MAX_PROBES:
        _PROBES.popitem(last=False)
    return out


def compression(head: bytes, reopen: Callable[[], IO[bytes]] | None = None, name: str | None = None) -> str | None:
    """The compressor of a compressed pickle (memoised per file version when ``reopen`` is a Reopen)."""
    return _memo("compression", reopen, name, lambda: _compression(head, reopen, name)) if _codec(head) else None


def _compression(head: bytes, reopen: Callable[[], IO[bytes]] | None = None, name: str | None = None) -> str | None:
    """The compressor of a compressed *pickle* from its first bytes, or None: its head is inflated and
    must start like a pickle of protocol 2 or later, or — protocols 0 and 1 have no header — be a stream
    an unpickler imports from (``imports_before_error``, on the whole inflated stream, read again with
    ``reopen``), unless ``name`` says text or data (``vocab.txt.gz``: a word list can read as GLOBAL).

    bz2 and zstd emit nothing before a whole block (up to ~900 KB) is read, so a head may be too short
    to tell: then ``reopen`` (the file or member again) is read further, at most HEAD_PROBE bytes."""
    codec = _codec(head)
    if codec is None:
        return None
    try:
        first = _inflated_head(head, codec, reopen, 2)
    except LimitExceeded:
        # lz4/zstd without their packages: cannot look inside, so judged as a compressed pickle (fail
        # closed: the walk then reports it cannot decompress it, high)
        return codec if codec in ("lz4", "zstd") else None
    except (ValueError, EOFError, OSError, RuntimeError, zlib.error, lzma.LZMAError):
        return None
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return codec
    if first[:1] and _OPS[first[0]] is not None and reopen is not None and not _text_name(name):
        try:
            with reopen() as fh:
                if imports_before_error(Decompressed(fh, codec, "probe")):  # type: ignore[arg-type]
                    return codec
        except LimitExceeded:
            return codec  # fail closed: judged as a compressed pickle, and the walk reports the limit
        except (ValueError, EOFError, OSError, RuntimeError, zlib.error, lzma.LZMAError):
            return None
    return None


def compressed_tar(head: bytes, reopen: Callable[[], IO[bytes]] | None = None) -> str | None:
    """The compressor of a compressed tar (``x.tar.gz``: pandas.read_pickle opens the pickle inside
    one), from the ``ustar`` magic of its inflated head; None for anything else."""
    return _memo("tar", reopen, None, lambda: _compressed_tar(head, reopen)) if _codec(head) else None


def _compressed_tar(head: bytes, reopen: Callable[[], IO[bytes]] | None = None) -> str | None:
    codec, first = _inflated_start(head, reopen, 262)
    return codec if first[257:262] == b"ustar" else None


def _inflated_start(head: bytes, reopen: Callable[[], IO[bytes]] | None, n: int) -> tuple[str | None, bytes]:
    """The compressor of a stream and the first ``n`` bytes it inflates to ((None, b"") when it cannot tell)."""
    codec = _codec(head)
    if codec is None:
        return None, b""
    try:
        return codec, _inflated_head(head, codec, reopen, n)
    except (LimitExceeded, ValueError, EOFError, OSError, RuntimeError, zlib.error, lzma.LZMAError):
        return None, b""


def compressed_zip(head: bytes, reopen: Callable[[], IO[bytes]] | None = None) -> str | None:
    """The compressor of a compressed zip (``model.pt.gz``: torch's loader, handed the gzip-opened file, reads
    the torch zip inside, GzipFile being seekable), from the zip magic of its inflated head; None otherwise."""
    return _memo("zip", reopen, None, lambda: _compressed_zip(head, reopen)) if _codec(head) else None


def _compressed_zip(head: bytes, reopen: Callable[[], IO[bytes]] | None = None) -> str | None:
    codec, first = _inflated_start(head, reopen, 4)
    return codec if first in (b"PK\x03\x04", b"PK\x05\x06") else None


def _codec(head: bytes) -> str | None:
    codec = next((c for m, c in COMPRESSION_MAGIC if head.startswith(m)), None)
    if codec is None and head[:1] == b"x" and len(head) > 1 and (head[0] * 256 + head[1]) % 31 == 0:
        codec = "zlib"
    return codec


def _inflated_head(head: bytes, codec: str, reopen: Callable[[], IO[bytes]] | None, n: int) -> bytes:
    import io

    try:
        return Decompressed(io.BytesIO(head), codec, "head").read(n)
    except EOFError:
        if reopen is None:
            raise
        with reopen() as fh:
            return Decompressed(_Capped(fh, HEAD_PROBE), codec, "head").read(n)  # type: ignore[arg-type]


# Names of compressed text and data files: their content is not probed as a protocol-0 pickle.
_TEXT_SUFFIXES = frozenset(
    ".txt .json .jsonl .ndjson .csv .tsv .md .xml .yaml .yml .html .htm .fa .fasta .fastq .vcf .bed .sam "
    ".log .sql .srt .vtt .conll .arrow .parquet .npy .npz .safetensors .gguf .onnx .tar .model .vocab".split()
)


def compression_codec(head: bytes) -> str | None:
    """The compressor a stream starts with (gzip, bz2, xz, zlib, lz4 frame, zstd), from its magic alone."""
    return _codec(head)


def text_name(name: str | None) -> bool:
    """Whether a (compressed) file's name says text or data, not a pickle (``vocab.txt.gz``)."""
    return _text_name(name)


def _text_name(name: str | None) -> bool:
    return bool(name) and any(f".{x}".lower() in _TEXT_SUFFIXES for x in str(name).split(".")[1:])


HEAD_PROBE = 8 << 20  # compressed bytes read to find a compressed stream's first output bytes


class NoPeekReader:
    """A stream read the way ``_pickle.c`` reads a file object without ``peek`` (``io.BytesIO``, which
    is how torch.load hands data.pkl to the unpickler, and plain file-likes).

    The C unpickler keeps one input buffer. A read that fits in it comes from it; one that does not is
    read whole from the file, which stands where the buffer ends — what was left in the buffer is
    dropped — and those bytes become the buffer (a line likewise). FRAME asks for its whole frame: if
    it is not in the buffer already it is read from the file and becomes the buffer. So frames are a
    prefetch there, and an opcode straddling one reads bytes `pickle.loads` never would (iter_ops reads
    as ``pickle.loads`` does; this class is the other reading)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.buf = b""
        self.p = 0  # read position in buf

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            raise ValueError("unbounded read")
        if self.p + n <= len(self.buf):
            out = self.buf[self.p : self.p + n]
            self.p += n
            return out
        self.buf = self.fh.read(n)  # the rest of the buffer is dropped
        self.p = len(self.buf)
        return self.buf

    def readline(self, limit: int = -1) -> bytes:
        i = self.buf.find(b"\n", self.p)
        if i >= 0 and (limit < 0 or i + 1 - self.p <= limit):
            out = self.buf[self.p : i + 1]
            self.p = i + 1
            return out
        self.buf = self.fh.readline(limit)
        self.p = len(self.buf)
        return self.buf

    def skip(self, n: int, keep: int = 16) -> tuple[bytes, int]:
        """One read of ``n`` bytes that are not kept (only the first ``keep``): (head, bytes there)."""
        if self.p + n <= len(self.buf):
            head = self.buf[self.p : self.p + keep]
            self.p += n
            return head, n
        self.buf, self.p = b"", 0
        head = self.fh.read(keep)
        got, left = len(head), n - len(head)
        while left > 0:
            chunk = self.fh.read(min(left, 1 << 20))
            if not chunk:
                break
            got += len(chunk)
            left -= len(chunk)
        return head, got

    def frame(self, length: int) -> None:
        """FRAME: its bytes become the buffer unless they are in it already (load_frame)."""
        if self.p + length <= len(self.buf):
            return
        if length > MAX_PAYLOAD:  # picklers write frames of ~64 KiB; the loader would try to allocate this
            raise LimitExceeded(f"a FRAME of {length} bytes")
        self.buf = self.fh.read(length)
        self.p = 0

    def tell(self) -> int:
        return -1

    def seekable(self) -> bool:
        return False


class _Capped:
    """At most ``left`` bytes of a stream."""

    def __init__(self, fh: IO[bytes], left: int) -> None:
        self.fh, self.left = fh, left

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(min(n if n >= 0 else self.left, self.left))
        self.left -= len(data)
        return data


class Decompressed:
    """A compressed stream, inflated a bounded chunk at a time, offering what the walk uses (read,
    readline, tell, a one-byte step back) and nothing it would need to seek for.

    Every stream has two limits (each a DecompressionLimit): MAX_DECOMPRESSED bytes in all, and
    MAX_RATIO decompressed bytes per compressed byte once past RATIO_FLOOR. ``op_budget()`` tells the
    walk how many opcodes the compressed bytes read so far may cost. Concatenated streams are read on,
    as gzip, bz2, lzma and joblib's zlib reader do."""

    def __init__(self, fh: IO[bytes], codec: str, where: str) -> None:
        self.fh, self.codec, self.where = fh, codec, where
        self.buf = bytearray()
        self.off = 0  # read position in buf
        self.pos = 0  # decompressed bytes handed out
        self.compressed = 0
        self.out = 0
        self.pending = b""  # compressed input the decompressor has not taken yet
        self.done = False
        self.d: Any = self._new()

    def _new(self) -> Any:
        c = self.codec
        if c in ("zlib", "gzip"):
            return zlib.decompressobj(31 if c == "gzip" else 15)
        if c == "bz2":
            return bz2.BZ2Decompressor()
        if c in ("xz", "lzma"):
            return lzma.LZMADecompressor()
        if c == "lz4":
            try:
                import lz4.frame  # type: ignore[import-not-found,import-untyped,unused-ignore]
            except ImportError:
                raise LimitExceeded(f"{self.where} is lz4-compressed and the lz4 package is not installed") from None
            return lz4.frame.LZ4FrameDecompressor()
        if c == "zstd":  # pandas.read_pickle opens .zst pickles transparently
            try:
                import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]
            except ImportError:
                raise LimitExceeded(f"{self.where} is zstd-compressed and zstandard is not installed") from None
            return zstandard.ZstdDecompressor().decompressobj()
        raise LimitExceeded(f"{self.where} is {c}-compressed, which aitrail cannot decompress")

    def op_budget(self) -> int:
        return op_budget(self.compressed)

    def _step(self) -> None:
        if self.codec == "zstd":
            self._step_zstd()
            return
        d = self.d
        zl = self.codec in ("zlib", "gzip")
        if self.pending or (not zl and not d.needs_input and not d.eof):
            data, self.pending = self.pending, b""
        else:
            data = self.fh.read(1 << 16)
            self.compressed += len(data)
            if not data:
                self.done = True
                if zl:
                    self._emit(d.flush())
                    if not d.eof:
                        raise EOFError(f"{self.codec} stream in {self.where} is truncated")
                elif not d.eof:
                    raise EOFError(f"{self.codec} stream in {self.where} is truncated")
                return
        self._emit(d.decompress(data, _OUT_CHUNK))
        if zl:
            self.pending = d.unconsumed_tail
        if d.eof:
            rest = d.unused_data or b""
            if rest.strip(b"\x00") or (not rest and self._more_input()):
                self.d = self._new()  # another stream follows (trailing junk fails in the next step)
                self.pending = rest
            elif rest:
                self.done = True  # zero padding after the last stream (gzip readers skip it)

    def _step_zstd(self) -> None:
        # zstandard's decompressobj has no output bound per call: feeding 1 KiB at a time bounds one
        # call's output (~32 MiB at zstd's best ratio) before the size and ratio checks run.
        data, self.pending = (self.pending[:1024], self.pending[1024:]) if self.pending else (b"", b"")
        if not data:
            data = self.fh.read(1024)
            self.compressed += len(data)
            if not data:
                self.done = True
                if not self.d.eof:
                    raise EOFError(f"zstd stream in {self.where} is truncated")
                return
        if self.d.eof:  # another frame follows (zstd readers read across frames)
            self.d = self._new()
        import zstandard

        try:
            self._emit(self.d.decompress(data))
        except zstandard.ZstdError as e:
            raise ValueError(f"zstd stream in {self.where}: {e}") from None
        if self.d.eof and self.d.unused_data:
            self.pending = self.d.unused_data + self.pending

    def _more_input(self) -> bool:
        data = self.fh.read(1 << 16)
        self.compressed += len(data)
        if not data:
            self.done = True
            return False
        self.pending = data
        return True

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.out += len(data)
        if self.out > MAX_DECOMPRESSED:
            raise DecompressionLimit(f"{self.codec} stream in {self.where} inflates past {MAX_DECOMPRESSED >> 30} GiB")
        if self.out > RATIO_FLOOR and self.out > MAX_RATIO * max(self.compressed, 1):
            raise DecompressionLimit(
                f"{self.codec} stream in {self.where} inflates more than {MAX_RATIO}:1 "
                f"({self.compressed} compressed bytes to over {self.out >> 20} MiB)"
            )
        if self.off > (1 << 20):  # drop what was read (amortised: no quadratic copying)
            del self.buf[: self.off]
            self.off = 0
        self.buf += data

    def _fill(self, n: int) -> None:
        while len(self.buf) - self.off < n and not self.done:
            self._step()

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise ValueError("unbounded read of a compressed stream")
        self._fill(n)
        out = bytes(self.buf[self.off : self.off + n])
        self.off += len(out)
        self.pos += len(out)
        return out

    def readline(self, limit: int = 1 << 24) -> bytes:
        scanned = self.off
        while True:
            i = self.buf.find(b"\n", scanned)
            if i >= 0:
                return self.read(min(i + 1 - self.off, limit))
            scanned = len(self.buf)
            if scanned - self.off >= limit or self.done:
                return self.read(min(scanned - self.off, limit))
            before = len(self.buf) - self.off
            self._step()
            scanned = self.off + before  # _step may compact the buffer

    def tell(self) -> int:
        return self.pos

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        # Only the one-byte step back of walk_all's "is there another pickle?" probe.
        if whence != 1 or offset > 0 or -offset > self.off:
            raise OSError("a compressed stream only steps back within its buffer")
        self.off += offset
        self.pos += offset
        return self.pos


def is_joblib(fmt: str | None, name: str, codec: str | None = None) -> bool:
    """Whether a pickle file is read with joblib's framing (raw array bytes after each wrapper)."""
    return fmt == "joblib" or codec is not None or name.lower().endswith(".joblib")


def walk_joblib(fh: IO[bytes], summary: PickleSummary | None = None) -> PickleSummary:
    """One pickle read the way joblib.load reads it: the one reader of the inventory and the security walk."""
    return walk(fh, summary, joblib_arrays, lean=False)


# What reading a pickle, a compressed stream or an archive member can raise on hostile bytes (besides
# LimitExceeded): each becomes a finding naming the member, never an exception. RuntimeError covers
# zipfile's encrypted members and lz4's errors; struct.error and OverflowError hostile zip headers.
READ_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
    OverflowError,
    struct.error,
    zipfile.LargeZipFile,
)


def looks_like_pickle(head: bytes) -> bool:
    """A pickle of protocol 2 or later starts with PROTO and its number (what content sniffing trusts)."""
    return head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")


ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (*READ_ERRORS, zipfile.BadZipFile, tarfile.TarError)
