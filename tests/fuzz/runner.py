"""Run fuzz cases through the whole pipeline in forked, memory-limited, watched worker processes.

Verdicts (per input): ``ok``; ``crash`` (an exception escaped); ``internal`` (a guard caught an
exception and said so in a ``scan.internal-error`` / ``security.incomplete`` finding); ``slow``
(over :data:`SLOW_S`); ``big`` (peak RSS over :data:`BIG_RSS`, output over :data:`BIG_OUT`, or the
address-space limit hit); ``hang`` (killed by the watchdog).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any, Iterable, Iterator

from .formats import Case, build

ZYGOTE = Path(__file__).with_name("zygote.py")
REGRESSIONS = Path(__file__).with_name("regressions")
KNOWN = Path(__file__).with_name("known_failures.txt")
SLOW_S = 5.0
BIG_RSS = 256 << 20
BIG_OUT = 10 << 20
MEM_LIMIT = 1 << 30
WATCHDOG_S = 60.0
FAILING = ("crash", "internal", "hang", "big")  # slow is reported, never a failure (timing is noisy)
ORDER = ["hang", "crash", "internal", "big", "slow", "ok"]


@dataclass
class Result:
    case: Case
    verdict: str
    detail: str
    wall: float
    rss: int
    out_bytes: int
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        """What must stay the same while minimising: verdict and the exception's class."""
        return f"{self.verdict}:{self.raw.get('exception') or self._internal_exc()}"

    def _internal_exc(self) -> str:
        internal = self.raw.get("internal") or []
        return internal[0]["exception"] if internal else ""

    def line(self) -> str:
        return (
            f"{self.verdict:8} {self.case.format:12} {self.wall:6.2f}s {self.rss >> 20:5d}MB "
            f"{self.out_bytes >> 10:7d}KB {self.detail[:160]}"
        )


def classify(raw: dict[str, Any]) -> tuple[str, str]:
    status = raw.get("status")
    if status == "killed":
        return "hang", "killed by the watchdog"
    if status == "died":
        sig = raw.get("signal")
        return ("big" if sig == 9 else "crash"), f"worker died (signal {sig}, exit {raw.get('exit')})"
    if status == "exception":
        exc = raw.get("exception", "?")
        where = raw.get("raised_in") or (raw.get("frames") or ["?"])[-1]
        if exc == "MemoryError" and raw.get("rss", 0) > MEM_LIMIT // 2:
            return "big", f"MemoryError at the {MEM_LIMIT >> 20} MB address-space limit, in {where}"
        return "crash", f"{exc}: {str(raw.get('message'))[:400]} @ {where}"
    internal = raw.get("internal") or []
    if any(i["exception"] == "MemoryError" for i in internal) and raw.get("rss", 0) > MEM_LIMIT // 2:
        return "big", "MemoryError caught by a guard: " + internal[0]["message"][:200]
    if internal:
        i = internal[0]
        where = f" @ {raw['raised_in']}" if raw.get("raised_in") else ""
        return "internal", f"{i['rule']}: {i['exception']}: {i['message'][:300]}{where}"
    if raw.get("rss", 0) > BIG_RSS:
        return "big", f"peak RSS {raw['rss'] >> 20} MB"
    if raw.get("out_bytes", 0) > BIG_OUT:
        return "big", f"output {raw['out_bytes'] >> 20} MB"
    if raw.get("wall", 0) > SLOW_S:
        return "slow", f"{raw['wall']:.1f} s"
    return "ok", ""


class Worker:
    """One zygote process (imports aitrail once, forks a child per input)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, MALLOC_ARENA_MAX="2", PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(ZYGOTE), str(warm_folder())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError("fuzz zygote failed to start (is aitrail importable?)")
        for w in json.loads(ready).get("warnings", []):
            print(f"fuzz zygote: {w}", file=sys.stderr)
        return self.proc

    def run(self, target: Path, timeout: float, mem: int) -> dict[str, Any]:
        proc = self.proc if self.proc and self.proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"dir": str(target), "timeout": timeout, "mem": mem}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            self.close()
            return {"status": "died", "signal": None, "exit": "zygote gone", "wall": 0, "rss": 0}
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.proc:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
            self.proc = None


_WARM: list[Path] = []


def warm_folder() -> Path:
    """One folder with the first seed of every format under its usual name (the zygote's warm-up)."""
    from .formats import FORMATS

    if _WARM and _WARM[0].is_dir():
        return _WARM[0]
    d = Path(tempfile.mkdtemp(prefix="aitrail-fuzz-warm-"))
    for fmt in FORMATS.values():
        seeds = fmt.seeds()
        name = sorted(seeds)[0]
        (d / fmt.filename).write_bytes(seeds[name])
        for n, b in fmt.extra.items():
            (d / n).write_bytes(b)
    import atexit

    atexit.register(shutil.rmtree, d, True)
    _WARM[:] = [d]
    return d


def materialise(case: Case, root: Path) -> Path:
    d = Path(tempfile.mkdtemp(prefix="in-", dir=root))
    for name, data in case.files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(data)
    return d


def run_case(worker: Worker, case: Case, tmp: Path, timeout: float = WATCHDOG_S, mem: int = MEM_LIMIT) -> Result:
    d = materialise(case, tmp)
    try:
        raw = worker.run(d, timeout, mem)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    verdict, detail = classify(raw)
    return Result(
        case, verdict, detail, float(raw.get("wall", 0)), int(raw.get("rss", 0)), int(raw.get("out_bytes", 0)), raw
    )


def run_cases(
    cases: Iterable[Case], workers: int = 1, timeout: float = WATCHDOG_S, mem: int = MEM_LIMIT
) -> Iterator[Result]:
    """Results in completion order; ``workers`` zygotes in parallel (2 cores are shared)."""
    with tempfile.TemporaryDirectory(prefix="aitrail-fuzz-") as t:
        tmp = Path(t)
        if workers <= 1:
            w = Worker()
            try:
                for c in cases:
                    yield run_case(w, c, tmp, timeout, mem)
            finally:
                w.close()
            return
        todo: Queue[Case | None] = Queue(maxsize=workers * 2)
        done: Queue[Result | None] = Queue()

        def loop() -> None:
            w = Worker()
            try:
                while (c := todo.get()) is not None:
                    done.put(run_case(w, c, tmp, timeout, mem))
            finally:
                w.close()
                done.put(None)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(workers)]
        for th in threads:
            th.start()

        def feed() -> None:
            try:
                for c in cases:
                    todo.put(c)
            finally:  # even when building a case failed: the workers must stop
                for _ in threads:
                    todo.put(None)

        threading.Thread(target=feed, daemon=True).start()
        finished = 0
        while finished < len(threads):
            r = done.get()
            if r is None:
                finished += 1
            else:
                yield r


# -- minimising and saving -----------------------------------------------------------------
def minimise(worker: Worker, res: Result, tmp: Path, budget_s: float = 60.0, max_runs: int = 40) -> Case:
    """Cut the fuzzed file down while the same verdict and exception class come back (bounded)."""
    case = res.case
    name = next(iter(case.files))
    data = case.data
    want = res.signature
    t0, runs = time.monotonic(), 0

    def same(candidate: bytes) -> bool:
        nonlocal runs
        runs += 1
        files = dict(case.files)
        files[name] = candidate
        r = run_case(worker, Case(case.recipe, files), tmp, timeout=min(WATCHDOG_S, 20))
        return r.signature == want

    chunk = len(data) // 2
    while chunk >= 1 and runs < max_runs and time.monotonic() - t0 < budget_s:
        progressed = False
        # Truncate the tail first (cheapest), then drop interior chunks.
        if len(data) > chunk and same(data[: len(data) - chunk]):
            data = data[: len(data) - chunk]
            progressed = True
        else:
            i = 0
            while i < len(data) and runs < max_runs and time.monotonic() - t0 < budget_s:
                cand = data[:i] + data[i + chunk :]
                if cand and same(cand):
                    data = cand
                    progressed = True
                else:
                    i += chunk
        if not progressed:
            chunk //= 2
    files = dict(case.files)
    files[name] = data
    return Case(case.recipe, files)


EXT = {
    "hfconfig": "json",
    "tokcfg": "json",
    "remotepy": "py",
    "card": "md",
    "urls": "txt",
    "stindex": "json",
    "adapter": "json",
    "mergekit": "yml",
    "modelfile": "txt",
    "requirements": "txt",
    "license": "txt",
}


def save(res: Result, case: Case | None = None, root: Path = REGRESSIONS) -> Path:
    """``<verdict>-<format>[-cfg]-<sha8>.<ext>``: the bytes when small, else the recipe (``.recipe.json``)."""
    case = case or res.case
    root.mkdir(parents=True, exist_ok=True)
    data = case.data
    fmt = case.format
    layout = "-cfg" if case.recipe.get("layout") == "cfg" else ""
    sha8 = hashlib.sha256(data).hexdigest()[:8]
    stem = f"{res.verdict}-{fmt}{layout}-{sha8}"
    if len(data) < 64 << 10:
        ext = EXT.get(fmt) or Path(next(iter(case.files))).suffix.lstrip(".") or "bin"
        p = root / f"{stem}.{ext}"
        if not p.exists():
            p.write_bytes(data)
    else:
        p = root / f"{stem}.recipe.json"
        if not p.exists():  # the same bytes from another recipe: keep the first (others may replay it)
            p.write_text(json.dumps({**case.recipe, "detail": res.detail[:500]}, indent=1) + "\n")
    return p


def load_regression(p: Path) -> Case:
    """A saved regression back into a case: recipes are rebuilt, raw files placed under the name
    their format is read by (plus a config.json for ``-cfg`` ones)."""
    from .formats import FORMATS, MINI_CONFIG

    if p.name.endswith(".recipe.json"):
        return build(json.loads(p.read_text()))
    parts = p.name.split("-")
    fmt = FORMATS[parts[1]]
    files = {fmt.filename: p.read_bytes()}
    files.update(fmt.extra)
    if parts[2] == "cfg" and "config.json" not in files:
        files["config.json"] = MINI_CONFIG
    return Case(
        {"format": fmt.name, "base": f"file:{p.name}", "layout": "cfg" if parts[2] == "cfg" else "alone"}, files
    )


def known_failures(path: Path = KNOWN) -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def regressions(root: Path = REGRESSIONS) -> list[Path]:
    return (
        sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith((".", "README")))
        if root.is_dir()
        else []
    )
