"""The fuzz harness in CI: every saved regression, a seeded smoke run bounded by count, and the
harness's own promises (reproducible recipes, verdicts, the watchdog). See docs/fuzzing.md."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from . import formats as F
from . import runner as R

REGRESSIONS = R.regressions()
KNOWN = R.known_failures()
SMOKE_SEED = 20261202
SMOKE_COUNT = 300


@pytest.fixture(scope="module")
def worker():
    w = R.Worker()
    yield w
    w.close()


@pytest.fixture(scope="module")
def regression_results() -> dict[str, R.Result]:
    """All saved regressions in one batch on two workers (a known hang costs the full watchdog)."""
    cases = [R.load_regression(p) for p in REGRESSIONS]
    names = {id(c): p.name for c, p in zip(cases, REGRESSIONS)}
    return {names[id(r.case)]: r for r in R.run_cases(cases, workers=2)}


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regressions(path: Path, regression_results: dict[str, R.Result]) -> None:
    res = regression_results[path.name]
    if path.name in KNOWN:
        # Fixed means ok: a known hang that is merely slow on this machine is not fixed yet (and
        # whether it is killed at the watchdog or finishes at 50 s must not flip the test).
        if res.verdict != "ok":
            pytest.xfail(f"known failure ({KNOWN[path.name]}): {res.line()}")
        pytest.fail(f"{path.name} is fixed: remove its line from tests/fuzz/known_failures.txt")
    assert res.verdict not in R.FAILING, f"{path.name}: {res.line()}"


def test_known_failures_name_saved_regressions() -> None:
    names = {p.name for p in REGRESSIONS}
    stale = sorted(set(KNOWN) - names)
    assert not stale, f"known_failures.txt names files that are not in tests/fuzz/regressions/: {stale}"
    assert all(KNOWN.values()), "every known failure says why"


def _known_signatures() -> set[tuple[str, str, str]]:
    """(verdict, format, exception) of the regressions still expected to fail: the smoke run
    tolerates those (they are tracked one by one above) and fails on anything new."""
    out = set()
    for name, reason in KNOWN.items():
        parts = name.split("-")
        first = reason.split(":", 1)[0].strip()
        exc = first if first.endswith(("Error", "Exception")) else ""
        out.add((parts[0], parts[1], exc))
        if parts[0] in ("slow", "hang"):  # which of the two a slow input gets depends on the machine
            out |= {("slow", parts[1], exc), ("hang", parts[1], exc)}
    return out


def test_fuzz_smoke(tmp_path: Path) -> None:
    """A seeded run bounded by count (never by time): crash/internal/hang/big fail it unless the
    same (verdict, format, exception) is a listed known failure; slow inputs are only reported."""
    cases = (F.build({**F.make_recipe(SMOKE_SEED, i), "index": i}) for i in range(SMOKE_COUNT))
    known = _known_signatures()
    new, tolerated, slow, n = [], [], [], 0
    for res in R.run_cases(cases, workers=2):
        n += 1
        exc = res.raw.get("exception") or res._internal_exc()
        if res.verdict == "slow":
            slow.append(res.line())
        elif res.verdict in R.FAILING:
            (tolerated if (res.verdict, res.case.format, exc) in known else new).append(
                f"{res.line()} recipe={json.dumps(res.case.recipe)}"
            )
    assert n == SMOKE_COUNT
    if slow or tolerated:
        print(f"\n{len(slow)} slow, {len(tolerated)} known failures:", *slow, *tolerated, sep="\n  ")
    assert not new, "new fuzz failures (save with benchmarks/fuzz.py):\n" + "\n".join(new)


# -- the harness itself ------------------------------------------------------------------
def test_recipes_are_reproducible() -> None:
    for i in range(len(F.FORMATS) * 2):
        r = F.make_recipe(5, i)
        assert F.make_recipe(5, i) == r
        a, b = F.build(r), F.build(json.loads(json.dumps(r)))
        assert hashlib.sha256(a.data).digest() == hashlib.sha256(b.data).digest(), r


def test_every_format_has_seeds_mutators_and_a_filename() -> None:
    for fmt in F.FORMATS.values():
        assert fmt.seeds(), fmt.name
        assert F.mutators(fmt), fmt.name
        for name, seed in fmt.seeds().items():
            assert seed, f"{fmt.name}: empty seed {name}"


@pytest.mark.parametrize(
    "raw, verdict",
    [
        ({"status": "done", "internal": [], "wall": 0.1, "rss": 60 << 20, "out_bytes": 1000}, "ok"),
        ({"status": "exception", "exception": "RecursionError", "message": "m", "raised_in": "x.py:1 f"}, "crash"),
        (
            {
                "status": "done",
                "internal": [{"rule": "security.incomplete", "exception": "ValueError", "message": "m"}],
            },
            "internal",
        ),
        ({"status": "killed"}, "hang"),
        ({"status": "done", "internal": [], "rss": 300 << 20}, "big"),
        ({"status": "done", "internal": [], "out_bytes": 11 << 20}, "big"),
        ({"status": "exception", "exception": "MemoryError", "rss": 900 << 20}, "big"),
        ({"status": "exception", "exception": "MemoryError", "rss": 60 << 20}, "crash"),  # parser stack overflow
        ({"status": "done", "internal": [], "wall": 6.0}, "slow"),
        ({"status": "died", "signal": 11}, "crash"),
    ],
)
def test_verdicts(raw: dict, verdict: str) -> None:
    assert R.classify(raw)[0] == verdict


def test_watchdog_kills_and_reports_hang(worker: R.Worker, tmp_path: Path) -> None:
    case = F.build(F.make_recipe(1, 0))
    res = R.run_case(worker, case, tmp_path, timeout=0.0)
    assert res.verdict == "hang"
    # The worker survives a killed child and runs the next input.
    assert (
        R.run_case(
            worker, F.Case({"format": "safetensors"}, {"model.safetensors": F.st_seeds()["small"]}), tmp_path
        ).verdict
        == "ok"
    )


def test_saved_names_round_trip(tmp_path: Path) -> None:
    case = F.build({"format": "npy", "base": "seed:f32", "base_rng": 1, "steps": [], "layout": "cfg"})
    res = R.Result(case, "crash", "x", 0.0, 0, 0)
    p = R.save(res, root=tmp_path)
    assert p.name.startswith("crash-npy-cfg-") and p.suffix == ".npy"
    back = R.load_regression(p)
    assert back.files == case.files
    big = F.build({"format": "urls", "base": "seed:urls", "base_rng": 1, "steps": [], "layout": "alone"})
    big.files["urls.txt"] = b"x" * (70 << 10)
    p2 = R.save(R.Result(big, "slow", "x", 0.0, 0, 0), root=tmp_path)
    assert p2.name.endswith(".recipe.json")
