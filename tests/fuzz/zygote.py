"""Fuzz worker: imports aitrail once, then forks one child per input (run as a script, not imported).

Protocol: one JSON request per stdin line ``{"dir": ..., "timeout": s, "mem": bytes}``, one JSON
answer per stdout line. The child runs the whole pipeline under ``RLIMIT_AS``; the zygote is the
watchdog (kills the child at ``timeout``) and reads the child's own peak RSS from ``wait4``, so
every input is measured alone. Forking a pre-imported process costs milliseconds where a fresh
interpreter costs a second: this is what keeps a 300-input smoke run short.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
import tempfile
import time
import traceback

# Findings that mean "a guard caught an exception": the input found a bug even if nothing escaped.
INTERNAL_RULES = {"scan.internal-error", "security.incomplete"}
EXC_NAME = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt)|StopIteration)\b")


def _internal(doc: object, out: list[dict[str, str]]) -> None:
    # Iterative walk: the document may be deep (that is one of the things being fuzzed).
    stack = [doc]
    while stack:
        d = stack.pop()
        if isinstance(d, dict):
            rule = d.get("rule")
            msg = d.get("message")
            if rule in INTERNAL_RULES and isinstance(msg, str):
                m = EXC_NAME.search(msg)
                if m:
                    out.append({"rule": rule, "exception": m.group(1), "message": msg[:400]})
            stack.extend(d.values())
        elif isinstance(d, list):
            stack.extend(d)


def _encode(text: str, doc: object, what: str) -> bytes:
    """Strict UTF-8, as the CLI writes files; on failure, name where in the document the lone
    surrogate sits so the fix can find its source."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        stack: list[tuple[str, object]] = [("", doc)]
        where = "?"
        while stack:
            path, d = stack.pop()
            if isinstance(d, dict):
                for k, v in d.items():
                    if isinstance(k, str) and _bad(k):
                        where = f"{path}/<key {k!r}>"
                        stack.clear()
                        break
                    stack.append((f"{path}/{k}", v))
            elif isinstance(d, list):
                stack.extend((f"{path}[{i}]", v) for i, v in enumerate(d))
            elif isinstance(d, str) and _bad(d):
                where = f"{path} = {d[:80]!r}"
                break
        e.reason = f"{e.reason}; {what} at {where}"
        raise


def _bad(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def pipeline(target: str) -> dict[str, object]:
    """Everything a user can run on ``target``: check (JSON), security, and the three exports."""
    from aitrail import check as check_mod
    from aitrail.analyze import security
    from aitrail.errors import AitrailError  # noqa: F401 - imported so a missing module is a crash
    from aitrail.export import cyclonedx, markdown, spdx
    from aitrail.inputs import InputError
    from aitrail.scanner import scan_all

    out_bytes = 0
    internal: list[dict[str, str]] = []
    refused: list[str] = []
    inv = None
    doc: dict[str, object] | None = None
    try:
        res = check_mod.check(target)
        doc = res.to_dict()
        inv = res.inventory
    except InputError as e:  # a documented refusal (exit 2), e.g. nothing recognisable: not a bug
        refused.append(f"check: {type(e).__name__}: {str(e)[:200]}")
        try:
            scanned = scan_all(target, hash_files=True)
            doc = {"inventory": scanned.inventory.to_dict(), "security": scanned.security_report()}
            inv = scanned.inventory
        except InputError as e2:
            refused.append(f"scan: {type(e2).__name__}: {str(e2)[:200]}")
    if doc is not None:
        # As `aitrail check --format json` writes it (ensure_ascii=False), encoded strictly: a lone
        # surrogate that reaches the output is a crash when the CLI writes the file.
        out_bytes += len(_encode(json.dumps(doc, ensure_ascii=False), doc, "check JSON"))
        _internal(doc, internal)
    try:
        sec = security.scan(target, workers=1)
        out_bytes += len(json.dumps(sec))
        _internal(sec, internal)
    except InputError as e:
        refused.append(f"security: {type(e).__name__}: {str(e)[:200]}")
    if inv is not None:
        for mod in (cyclonedx, spdx, markdown):
            out_bytes += len(_encode(mod.dumps(inv), inv.to_dict(), mod.__name__))
    return {"out_bytes": out_bytes, "internal": internal, "refused": refused}


CAUGHT: list[str] = []  # where the exceptions that guards turned into findings were raised


def _where(tb: object) -> str | None:
    frames = traceback.extract_tb(tb)  # type: ignore[arg-type]
    src = next((f for f in reversed(frames) if "/aitrail/" in f.filename), None)
    return f"{src.filename.split('/src/')[-1]}:{src.lineno} {src.name}" if src else None


def record_guards() -> None:
    """Wrap the two ways a guard reports a caught exception so the report can say which aitrail
    function raised it: the guard runs inside its ``except`` block, so the exception is current."""
    from aitrail import model
    from aitrail.analyze.security import report

    init = model.Finding.__init__
    add = report.FileReport.add

    def finding_init(self: object, *a: object, **k: object) -> None:
        init(self, *a, **k)  # type: ignore[arg-type]
        if getattr(self, "rule", None) in INTERNAL_RULES and sys.exc_info()[2] is not None:
            CAUGHT.append(_where(sys.exc_info()[2]) or "?")

    def report_add(self: object, severity: str, rule: str, *a: object, **k: object) -> None:
        add(self, severity, rule, *a, **k)  # type: ignore[arg-type]
        if rule in INTERNAL_RULES and sys.exc_info()[2] is not None:
            CAUGHT.append(_where(sys.exc_info()[2]) or "?")

    model.Finding.__init__ = finding_init  # type: ignore[method-assign]
    report.FileReport.add = report_add  # type: ignore[method-assign]


def child(target: str, result_path: str, mem: int) -> None:
    if mem:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    try:
        record_guards()
    except Exception:  # noqa: BLE001 - only a nicer report is lost
        pass
    t0 = time.monotonic()
    try:
        res = pipeline(target)
        res["status"] = "done"
        if CAUGHT and res.get("internal"):
            res["raised_in"] = CAUGHT[0]
    except BaseException as e:  # noqa: BLE001 - any escape is the finding
        tb = traceback.extract_tb(e.__traceback__)
        frames = [
            f"{os.path.relpath(f.filename) if 'aitrail' in f.filename else f.filename}:{f.lineno} {f.name}"
            for f in tb[-8:]
        ]
        src = next((f for f in reversed(tb) if "/aitrail/" in f.filename), None)
        res = {
            "status": "exception",
            "exception": type(e).__name__,
            "message": str(e)[:400],
            "frames": frames,
            "raised_in": f"{src.filename.split('/src/')[-1]}:{src.lineno} {src.name}" if src else None,
        }
    res["seconds"] = time.monotonic() - t0
    try:
        with open(result_path, "w") as f:
            json.dump(res, f)
    finally:
        os._exit(0)


def die_with_parent() -> None:
    """Linux: be killed when the parent goes (a killed runner must not leave workers behind)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_one(req: dict[str, object]) -> dict[str, object]:
    fd, result_path = tempfile.mkstemp(prefix="fuzz-result-", suffix=".json")
    os.close(fd)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)  # so the watchdog can kill anything the child starts
            die_with_parent()
            sys.stdin.close()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)  # the protocol owns stdout; aitrail must not print into it
            child(str(req["dir"]), result_path, int(req.get("mem") or 0))  # type: ignore[call-overload]
        finally:
            os._exit(70)
    timeout = float(req.get("timeout", 60))  # type: ignore[arg-type]
    killed = False
    while True:
        wpid, status, usage = os.wait4(pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() - t0 > timeout:
            killed = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wpid, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.005 if time.monotonic() - t0 < 0.5 else 0.05)
    wall = time.monotonic() - t0
    try:
        with open(result_path) as f:
            body = f.read()
        res = json.loads(body) if body else {}
    except (OSError, ValueError):
        res = {}
    finally:
        try:
            os.unlink(result_path)
        except OSError:
            pass
    if killed:
        res = {"status": "killed"}
    elif not res:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        res = {"status": "died", "signal": sig, "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
    res["wall"] = wall
    res["rss"] = usage.ru_maxrss * 1024  # Linux reports KiB
    return res


def warm_up(folder: str) -> list[str]:
    """Run the pipeline once here so children fork with every lazy import and cache loaded (a cold
    child takes ~4 s, a warm one ~0.05 s), then stop the threads it left: forking a process with
    live pool threads leaves the child an executor whose workers do not exist."""
    import gc
    from concurrent.futures import ThreadPoolExecutor

    warnings = []
    try:
        pipeline(folder)
    except BaseException as e:  # noqa: BLE001 - the warm-up input is ordinary; report, go on cold
        warnings.append(f"warm-up failed: {type(e).__name__}: {e}")
    for o in gc.get_objects():
        if isinstance(o, ThreadPoolExecutor):
            o.shutdown(wait=True)
    for name, mod in list(sys.modules.items()):
        if name.startswith("aitrail"):
            for attr, fn in list(vars(mod).items()):
                if "pool" in attr.lower() and hasattr(fn, "cache_clear"):
                    fn.cache_clear()
    import threading

    if threading.active_count() > 1:
        warnings.append(f"threads alive after warm-up: {[t.name for t in threading.enumerate()]}")
    return warnings


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when to stop
    die_with_parent()
    # Import everything once, before any fork, so children start warm.
    import aitrail.analyze.security  # noqa: F401
    import aitrail.check  # noqa: F401
    import aitrail.export.cyclonedx  # noqa: F401
    import aitrail.export.markdown  # noqa: F401
    import aitrail.export.spdx  # noqa: F401

    warnings = warm_up(sys.argv[1]) if len(sys.argv) > 1 else []
    sys.stdout.write(json.dumps({"ready": True, "warnings": warnings}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        res = run_one(json.loads(line))
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
