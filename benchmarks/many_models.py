"""Many models, many files: does `aitrail check` stay linear? (issue 10, item 5)

    .venv/bin/python benchmarks/many_models.py                 # Markdown table for BENCHMARKS.md
    .venv/bin/python benchmarks/many_models.py --exports          # also every writer (BOMs, reports) per case
    .venv/bin/python benchmarks/many_models.py --profile folders:1000 --profile files:20000

Inputs are made from real Hugging Face model cards (hub-metadata/hf-hub-2022-snapshot/models.parquet,
a 2022 Hub scrape; read with pyarrow) and built once under benchmarks/work/many-models/:
- `folders-N/`: N model folders `org--name/`, each with its real README.md card, a config.json from
  the row's config (else a minimal one), a tiny real safetensors file (4 KB, made with the
  safetensors package, different bytes per model) and the small text files its `siblings` list names
  (tokenizer_config.json, vocab.txt, ...: placeholders, at most 10; weights and binaries left out);
- `hfcache-N/hub/`: the same models as a Hugging Face cache, one snapshot each
  (`models--org--name/{blobs/<sha>, snapshots/<rev>/<file> -> ../../blobs/<sha>, refs/main}`; LFS
  files named by SHA-256, others by their git blob SHA-1, as huggingface_hub does);
- `files-N/`: one model folder with config.json, a real card and N small text files.

Each run is a fresh process: `aitrail.check.check(path)` in Python (import excluded, each stage
timed), then the CLI `aitrail check PATH` in the terminal (default) and json formats; peak RSS is
each process's own VmHWM.
The issue's bar: seconds per model flat within 1.5x from 100 to 10,000 folders; 100,000 files in
one folder checked in under 60 s. A size is skipped (and the table says so) when the previous sizes
extrapolate past the time budget (default 600 s), and a run is killed at 1.5x the budget.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "many-models"
SHARED = Path(os.environ.get("AITRAIL_SHARED", ROOT.parent / "shared"))
PARQUET = SHARED / "data/hub-metadata/hf-hub-2022-snapshot/models.parquet"

# Sibling files recreated as small placeholders: text only (weights and binaries would be malformed).
TEXT_SUFFIXES = {".json", ".txt", ".md", ".py", ".sh", ".yaml", ".yml", ".cfg", ".csv", ".tsv"}
TEXT_NAMES = {".gitattributes", ".gitignore"}
MAX_SIBLINGS = 10
PLACEHOLDERS = {
    ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
    ".gitignore": "checkpoint-*/\n",
    "tokenizer_config.json": '{"model_max_length": 512, "do_lower_case": true}\n',
    "special_tokens_map.json": '{"unk_token": "[UNK]", "pad_token": "[PAD]"}\n',
    "vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n",
    "merges.txt": "#version: 0.2\nt h\n",
}


# ---------------------------------------------------------------------------------------------- inputs


def load_rows(n: int, parquet: Path = PARQUET) -> list[dict[str, Any]]:
    """The first ``n`` models (file order) with a real card and an ``org/name`` id that fits a file name."""
    import pyarrow.parquet as pq

    cols = ["model_id", "sha", "siblings", "config_json", "config_architectures", "config_model_type", "card"]
    rows: list[dict[str, Any]] = []
    pf = pq.ParquetFile(parquet)
    for batch in pf.iter_batches(batch_size=2048, columns=cols):
        for r in batch.to_pylist():
            card = r["card"] or ""
            # the scrape stored "Error: the path 'README.md' does not exist ..." for repos without a card
            if "/" not in r["model_id"] or not card.strip() or card.startswith("Error: the path"):
                continue
            if len(("models--" + folder_name(r["model_id"])).encode()) > 255:  # a few 2022 espnet ids: NAME_MAX
                continue
            rows.append(r)
            if len(rows) == n:
                return rows
    if len(rows) < n:
        raise SystemExit(f"{parquet}: only {len(rows)} models with a card, {n} asked")
    return rows


def tiny_safetensors(i: int) -> bytes:
    import numpy as np
    from safetensors.numpy import save

    rng = np.random.default_rng(i)  # different bytes per model, so every digest is distinct
    return save(
        {
            "embeddings.weight": rng.standard_normal((32, 30), dtype=np.float32),
            "classifier.bias": np.full((2,), i, dtype=np.float32),
        },
        metadata={"format": "pt"},
    )


def model_files(row: dict[str, Any], i: int) -> dict[str, bytes]:
    """The files of one model folder, by path inside it."""
    config: Any = None
    if row.get("config_json"):
        try:
            config = json.loads(row["config_json"])
        except ValueError:
            config = None
    if not isinstance(config, dict):
        config = {"model_type": row.get("config_model_type") or "custom"}
        if row.get("config_architectures"):
            config["architectures"] = list(row["config_architectures"])
    files = {
        "README.md": row["card"].encode("utf-8", "surrogatepass"),
        "config.json": (json.dumps(config, indent=2) + "\n").encode(),
        "model.safetensors": tiny_safetensors(i),
    }
    extra = 0
    for name in row.get("siblings") or []:
        p = Path(name)
        if name in files or len(p.parts) > 2 or ".." in p.parts or name.startswith("/"):
            continue
        if p.name not in TEXT_NAMES and p.suffix.lower() not in TEXT_SUFFIXES:
            continue
        if extra == MAX_SIBLINGS:
            break
        text = PLACEHOLDERS.get(p.name)
        if text is None:
            code = p.suffix in (".py", ".sh")
            text = "{}\n" if p.suffix == ".json" else "# placeholder\n" if code else "placeholder\n"
        files[name] = text.encode()
        extra += 1
    return files


def folder_name(model_id: str) -> str:
    return model_id.replace("/", "--")


def write_folders(root: Path, rows: list[dict[str, Any]]) -> int:
    """N model folders side by side; returns the number of files written."""
    count = 0
    for i, row in enumerate(rows):
        base = root / folder_name(row["model_id"])
        for rel, data in model_files(row, i).items():
            p = base / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            count += 1
    return count


def _blob_name(rel: str, data: bytes) -> str:
    # huggingface_hub names LFS blobs by their SHA-256 and git-stored files by their git blob SHA-1
    if rel.endswith(".safetensors"):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_hf_cache(root: Path, rows: list[dict[str, Any]]) -> int:
    """A Hugging Face cache (``root/hub``) holding one snapshot per model; returns the files written."""
    hub = root / "hub"
    count = 0
    for i, row in enumerate(rows):
        repo = hub / ("models--" + folder_name(row["model_id"]))
        rev = row.get("sha") or hashlib.sha1(row["model_id"].encode()).hexdigest()
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(rev)
        snap = repo / "snapshots" / rev
        for rel, data in model_files(row, i).items():
            blob = repo / "blobs" / _blob_name(rel, data)
            if not blob.exists():
                blob.write_bytes(data)
            link = snap / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(blob, link.parent), link)
            count += 1
    return count


def write_many_files(root: Path, n: int, card_row: dict[str, Any]) -> int:
    """One model folder: config.json, a real card and ``n`` small text files beside them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}) + "\n")
    (root / "README.md").write_bytes(card_row["card"].encode("utf-8", "surrogatepass"))
    for i in range(n):
        (root / f"part-{i:06d}.txt").write_text(f"record {i}\n")
    return n + 2


def build(kind: str, n: int, work: Path = WORK, rows: list[dict[str, Any]] | None = None) -> Path:
    """The input for one case, built once (a ``.done`` marker says it is complete)."""
    path = work / f"{kind}-{n}"
    done = work / f"{kind}-{n}.done"  # beside the scanned tree, never inside it
    if done.exists():
        return target_of(kind, n, work)
    if path.exists():
        import shutil

        shutil.rmtree(path)
    path.mkdir(parents=True)
    t0 = time.perf_counter()
    if kind == "folders":
        written = write_folders(path, rows if rows is not None else load_rows(n))
    elif kind == "hfcache":
        written = write_hf_cache(path, rows if rows is not None else load_rows(n))
    elif kind == "files":
        written = write_many_files(path / "model", n, (rows or load_rows(1))[0])
    else:
        raise ValueError(kind)
    done.write_text(f"{written} files in {time.perf_counter() - t0:.1f} s\n")
    print(f"built {path}: {written} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return target_of(kind, n, work)


def target_of(kind: str, n: int, work: Path = WORK) -> Path:
    path = work / f"{kind}-{n}"
    return path / "hub" if kind == "hfcache" else path / "model" if kind == "files" else path


# ---------------------------------------------------------------------------------------------- runs

# Runs check() and reports what it found and how long each stage took (stages wrapped where they
# exist, so the probe keeps working while the code under it changes).
PROBE = r"""
import json, sys, time, importlib
stages = {}
def _hwm():  # this process's own peak RSS (ru_maxrss would include the parent's at fork time)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
def wrap(modname, attr, label):
    try:
        mod = importlib.import_module(modname)
        fn = getattr(mod, attr)
    except (ImportError, AttributeError):
        return
    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            stages[label] = stages.get(label, 0.0) + time.perf_counter() - t
    setattr(mod, attr, timed)
t_import = time.perf_counter()
import aitrail.check as C
for m, a, l in [("aitrail.check", "scan_all", "scan"), ("aitrail.analyze.licenses", "report", "licenses"),
                ("aitrail.analyze.openness", "assess", "openness"),
                ("aitrail.analyze.openness", "declarations", "openness"),
                ("aitrail.policy", "evaluate", "policy"), ("aitrail.check", "document", "document")]:
    wrap(m, a, l)
gc_cpu = [0.0, 0.0]
def on_gc(phase, info):  # CPU spent collecting garbage (grows with the live heap)
    if phase == "start":
        gc_cpu[1] = time.process_time()
    else:
        gc_cpu[0] += time.process_time() - gc_cpu[1]
import gc
gc.callbacks.append(on_gc)
c0 = time.process_time()
t0 = time.perf_counter()
r = C.check(sys.argv[1])
t1 = time.perf_counter()
c1 = time.process_time()
gc.callbacks.remove(on_gc)
doc = r.to_dict()
t2 = time.perf_counter()
inv = r.inventory
models = inv.models()
out = {
    "import": t0 - t_import, "seconds": t1 - t0, "cpu": c1 - c0, "gc_cpu": gc_cpu[0], "to_dict": t2 - t1,
    "stages": stages,
    "models": len(models), "files": sum(1 for c in inv.components if c.path),
    "repo_ids": sum(1 for m in models if m.properties.get("repo_id")),
    "findings": len(inv.findings), "passed": doc["policy"]["passed"],
}
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as fh:
        json.dump([{"id": m.id, "name": m.name, "root": m.properties.get("root"),
                    "repo_id": m.properties.get("repo_id"), "version": m.version,
                    "files": len(inv.related(m.id, __import__("aitrail.model").model.RelationshipKind.CONTAINS))}
                   for m in models], fh)
out["rss_mb"] = _hwm()
print(json.dumps(out))
"""


@dataclass
class Run:
    seconds: float | None = None  # wall time of the measured call (None: not run / killed)
    rss_mb: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_api(target: Path, timeout: float, listing: Path | None = None) -> Run:
    cmd = [sys.executable, "-c", PROBE, str(target)] + ([str(listing)] if listing else [])
    code, out, err, wall = _spawn(cmd, timeout)
    if code is None:
        return Run(error=f"killed after {wall:.0f} s")
    if code != 0:
        return Run(error=f"exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}")
    info = json.loads(out.strip().splitlines()[-1])
    return Run(seconds=info["seconds"], rss_mb=info["rss_mb"], info=info)


# The CLI's own entry point (what the `aitrail` script runs), telling its peak RSS on stderr at exit.
CLI = r"""
import sys
from aitrail.cli import main
try:
    code = main(sys.argv[1:])
finally:
    hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
    sys.stderr.write(f"\n@@VmHWM {hwm}\n")
sys.exit(code)
"""


def run_cli(target: Path, timeout: float, out_file: Path, fmt: str = "json") -> Run:
    cmd = [sys.executable, "-c", CLI, "check", str(target), "--format", fmt]
    with open(out_file, "w") as fh:
        code, _, err, wall = _spawn(cmd, timeout, stdout=fh)
    if code is None:
        return Run(error=f"killed after {wall:.0f} s")
    if code not in (0, 1):
        return Run(error=f"exit {code}: {err.strip()[-300:]}")
    hwm = [line.split()[1] for line in err.splitlines() if line.startswith("@@VmHWM")]
    return Run(seconds=wall, rss_mb=int(hwm[-1]) / 1024 if hwm else None, info={"exit": code})


SRC: Path | None = None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if SRC:  # measure another version of aitrail (e.g. `git archive <commit> src | tar -x -C DIR`)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


# terminal is what a person sees (and builds the per-model summary the reports share); json what CI reads
CLI_FORMATS = ("terminal", "json")


def _spawn(cmd: list[str], timeout: float, stdout: Any = None) -> tuple[int | None, str, str, float]:
    """Run ``cmd``: (exit code, or None when killed at ``timeout``; stdout; stderr; wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None, "", "", time.perf_counter() - t0
    return proc.returncode, out or "", err or "", time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- table


@dataclass
class Case:
    kind: str  # folders | hfcache | files
    n: int
    api: Run | None = None
    cli: dict[str, Run] = field(default_factory=dict)  # by --format
    exports: dict[str, float | str] = field(default_factory=dict)  # seconds, or why not measured
    skipped: str | None = None
    build_note: str = ""

    @property
    def units(self) -> int:  # what "per model" divides by (files for the one-folder case)
        return self.n

    def label(self) -> str:
        return {
            "folders": f"{self.n:,} model folders",
            "hfcache": f"HF cache, {self.n:,} snapshots",
            "files": f"1 model, {self.n:,} small files",
        }[self.kind]


def _fmt_s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def _per(case: Case, run: Run | None) -> str:
    if not run or run.seconds is None:
        return "—"
    return _ms(run.seconds / case.units)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def _cli_cell(run: Run | None) -> str:
    if run is None:
        return "not run"
    return run.error or f"{_fmt_s(run.seconds)} ({run.rss_mb or 0:.0f} MB)"


def table(cases: list[Case]) -> str:
    lines = [
        "| input | models found | files | `check()` in Python: wall (CPU, of it GC) "
        "| per model (per file for 1 model): wall / CPU "
        "| stages: scan / licences / openness / policy / document | peak RSS "
        "| CLI `aitrail check` terminal / `-f json` (peak RSS) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        if c.skipped:
            lines.append(f"| {c.label()} | | | skipped: {c.skipped} | | | | |")
            continue
        a = c.api
        if a is None or a.seconds is None:
            lines.append(f"| {c.label()} | | | {a.error if a else 'not run'} | | | | |")
            continue
        st = a.info.get("stages", {})
        stages = " / ".join(
            f"{st[k]:.1f}" if k in st else "?" for k in ("scan", "licenses", "openness", "policy", "document")
        )
        cli = " / ".join(_cli_cell(c.cli.get(f)) for f in CLI_FORMATS)
        cpu, gcs = a.info.get("cpu"), a.info.get("gc_cpu")
        wall = _fmt_s(a.seconds) + (f" ({_fmt_s(cpu)}, GC {_fmt_s(gcs)})" if cpu is not None else "")
        per = _per(c, a) + (f" / {_ms(cpu / c.units)}" if cpu is not None else "")
        lines.append(
            f"| {c.label()} | {a.info['models']:,} | {a.info['files']:,} | {wall} | {per} "
            f"| {stages} s | {a.rss_mb:.0f} MB | {cli} |"
        )
    return "\n".join(lines)


def verdicts(cases: list[Case]) -> list[str]:
    out = []
    folders = [c for c in cases if c.kind == "folders" and c.api and c.api.seconds]
    if len(folders) >= 2:
        per = [c.api.seconds / c.n for c in folders if c.api and c.api.seconds]
        ratio = max(per) / min(per)
        span = f"{folders[0].n:,} to {folders[-1].n:,} folders"
        met = "met" if ratio <= 1.5 else "NOT met"
        out.append(f"- per-model time from {span}: max/min = {ratio:.2f}x (target ≤ 1.5x: {met})")
        cpus = [c.api.info["cpu"] / c.n for c in folders if c.api and "cpu" in c.api.info]
        if len(cpus) == len(folders):  # CPU time: what a loaded machine's scheduling does not distort
            out.append(f"  (CPU time per model: max/min = {max(cpus) / min(cpus):.2f}x)")
    big = [c for c in cases if c.kind == "files" and c.n >= 100_000]
    for c in big:
        if c.api and c.api.seconds is not None:
            met = "met" if c.api.seconds < 60 else "NOT met"
            out.append(f"- {c.n:,} files in one folder: {c.api.seconds:.1f} s (target < 60 s: {met})")
        else:
            why = c.skipped or (c.api.error if c.api else "not run")
            out.append(f"- {c.n:,} files in one folder: not measured ({why}): target < 60 s NOT shown")
    return out


# ---------------------------------------------------------------------------------------------- driver


def predict(done: list[Case], n: int) -> float | None:
    """Seconds a next size would take, extrapolated from the measured ones of the same kind."""
    return extrapolate([(c.n, c.api.seconds) for c in done if c.api and c.api.seconds], n)


def extrapolate(pts: list[tuple[int, float]], n: int) -> float | None:
    """From (size, seconds) points: the last two give the growth exponent (never below linear)."""
    if not pts:
        return None
    if len(pts) == 1:
        n0, t0 = pts[0]
        return t0 * n / n0
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    import math

    k = max(1.0, math.log(max(t2, 1e-3) / max(t1, 1e-3)) / math.log(n2 / n1))
    return t2 * (n / n2) ** k


def run_cases(
    specs: list[tuple[str, int]],
    budget: float,
    work: Path = WORK,
    log: Any = sys.stderr,
    exports: bool = False,
    cli: bool = True,
) -> list[Case]:
    cases: list[Case] = []
    need = max((n for k, n in specs if k in ("folders", "hfcache")), default=1)
    rows = load_rows(need)
    for kind, n in specs:
        case = Case(kind, n)
        cases.append(case)
        same = [c for c in cases[:-1] if c.kind == kind]
        guess = predict(same, n)
        if guess is None and kind == "hfcache":  # same models as the folders: their curve is the guess
            guess = predict([c for c in cases[:-1] if c.kind == "folders"], n)
        if guess is not None and guess > budget:
            case.skipped = f"extrapolates to ~{guess:.0f} s (> {budget:.0f} s budget)"
            print(f"{case.label()}: {case.skipped}", file=log)
            continue
        target = build(kind, n, work, rows[:n] if kind != "files" else rows[:1])
        print(f"{case.label()}: check() ...", file=log, flush=True)
        case.api = run_api(target, timeout=budget * 1.5)
        print(f"  {case.api.seconds} s, {case.api.rss_mb} MB, {case.api.error or case.api.info}", file=log, flush=True)
        if case.api.seconds is None:
            continue
        for fmt in CLI_FORMATS if cli else ():
            pts = [(c.n, r.seconds) for c in same if (r := c.cli.get(fmt)) and r.seconds]
            guess = extrapolate(pts, n) if pts else case.api.seconds * 2
            if guess is not None and guess > budget:
                case.cli[fmt] = Run(error=f"skipped: extrapolates to ~{guess:.0f} s")
                continue
            out = work / f"{kind}-{n}.check.{fmt}"
            run = case.cli[fmt] = run_cli(target, timeout=budget * 1.5, out_file=out, fmt=fmt)
            print(f"  CLI -f {fmt}: {run.seconds} s {run.error or ''}", file=log, flush=True)
        if exports:
            skip = {}
            for name in EXPORTS:
                pts = [(c.n, v) for c in same if isinstance(v := c.exports.get(name), float)]
                guess = extrapolate(pts, n) if pts else None
                if guess is not None and guess > budget:
                    skip[name] = f"skipped: extrapolates to ~{guess:.0f} s"
            case.exports = run_exports(target, budget * 1.5, skip)
            print(f"  exports: {case.exports}", file=log, flush=True)
    return cases


EXPORTS = ("json_inventory", "cyclonedx", "spdx", "check_html", "check_markdown", "sarif")
# Every writer on one check result, each timed; one JSON line per writer as it ends (so a run killed
# at the time limit still tells what it finished).
EXPORTS_PROBE = r"""
import json, sys, time
from aitrail.check import check
skip = set(sys.argv[2].split(",")) - {""}
r = check(sys.argv[1])
doc = r.to_dict()
from aitrail.export import json_inventory, cyclonedx, spdx, check_html, check_markdown, sarif
for name, fn in [("json_inventory", lambda: json_inventory.dumps(r.inventory)),
                 ("cyclonedx", lambda: cyclonedx.dumps(r.inventory)),
                 ("spdx", lambda: spdx.dumps(r.inventory)),
                 ("check_html", lambda: check_html.render(doc)),
                 ("check_markdown", lambda: check_markdown.render(doc)),
                 ("sarif", lambda: json.dumps(sarif.from_check(doc)))]:
    if name in skip:
        continue
    print(json.dumps({"name": name, "started": True}), flush=True)
    t0 = time.perf_counter()
    try:
        fn()
        print(json.dumps({"name": name, "seconds": time.perf_counter() - t0}), flush=True)
    except Exception as e:
        print(json.dumps({"name": name, "error": f"{type(e).__name__}: {str(e)[:120]}"}), flush=True)
"""


def run_exports(target: Path, timeout: float, skip: dict[str, str]) -> dict[str, float | str]:
    out: dict[str, float | str] = dict(skip)
    env = _env()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", EXPORTS_PROBE, str(target), ",".join(skip)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, _ = proc.communicate()
    for line in stdout.splitlines():
        rec = json.loads(line)
        if "seconds" in rec:
            out[rec["name"]] = rec["seconds"]
        elif "error" in rec:
            out[rec["name"]] = rec["error"]
        else:
            out[rec["name"]] = f"killed after {time.perf_counter() - t0:.0f} s (whole run)"
    return out


def exports_table(cases: list[Case]) -> str:
    lines = ["| input | " + " | ".join(EXPORTS) + " |", "|---|" + "---|" * len(EXPORTS)]
    for c in cases:
        if not c.exports:
            continue
        cells = []
        for name in EXPORTS:
            v = c.exports.get(name)
            cells.append(_fmt_s(v) if isinstance(v, float) else (v or "—"))
        lines.append(f"| {c.label()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- profile

PROFILE_PROBE = r"""
import cProfile, pstats, sys, time, json
from aitrail.check import check
prof = cProfile.Profile()
t = {}
prof.enable()
t0 = time.perf_counter(); r = check(sys.argv[1]); t["check"] = time.perf_counter() - t0
doc = r.to_dict()
if "exports" in sys.argv[3:]:
    from aitrail.export import json_inventory, cyclonedx, spdx, check_html, check_markdown, sarif
    for name, fn in [("json_inventory", lambda: json_inventory.dumps(r.inventory)),
                     ("cyclonedx", lambda: cyclonedx.dumps(r.inventory)),
                     ("spdx", lambda: spdx.dumps(r.inventory)),
                     ("check_html", lambda: check_html.render(doc)),
                     ("check_markdown", lambda: check_markdown.render(doc)),
                     ("sarif", lambda: json.dumps(sarif.from_check(doc)))]:
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as e:
            t[name + "_error"] = f"{type(e).__name__}: {str(e)[:200]}"
        t[name] = time.perf_counter() - t0
prof.disable()
prof.dump_stats(sys.argv[2])
t["rss_mb"] = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
print(json.dumps(t))
"""


def profile(kind: str, n: int, budget: float, exports: bool, work: Path = WORK, top: int = 30) -> str:
    rows = load_rows(n if kind != "files" else 1)
    target = build(kind, n, work, rows)
    out = work / f"{kind}-{n}.prof"
    cmd = [sys.executable, "-c", PROFILE_PROBE, str(target), str(out)] + (["exports"] if exports else [])
    code, stdout, err, wall = _spawn(cmd, budget * 1.5)
    if code != 0:
        return f"profile of {kind}-{n} failed: exit {code}: {err[-500:]}"
    times = json.loads(stdout.strip().splitlines()[-1])
    rss = times.pop("rss_mb")
    return summarize(out, times, f"{kind}-{n}", wall, rss, top)


def summarize(prof: Path, times: dict[str, Any], label: str, wall: float, rss: float, top: int) -> str:
    st = pstats.Stats(str(prof))
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        short = file.split("/src/")[-1] if "/src/aitrail/" in file else file.split("site-packages/")[-1]
        rows.append((ct, tt, nc, f"{short}:{line} {fn}"))
    lines = [
        f"### {label}: wall {wall:.1f} s under cProfile, peak RSS {rss:.0f} MB; phases {json.dumps(times)}",
        "",
        f"Top {top} by cumulative time (share of {total:.1f} s profiled):",
        "",
        "| cumulative | share | own time | calls | function |",
        "|---|---|---|---|---|",
    ]
    for ct, tt, nc, name in sorted(rows, reverse=True)[:top]:
        lines.append(f"| {ct:.2f} s | {ct / total:.0%} | {tt:.2f} s | {nc:,} | `{name}` |")
    lines += ["", f"Top {top} by own time:", "", "| own time | share | calls | function |", "|---|---|---|---|"]
    for _ct, tt, nc, name in sorted(rows, key=lambda r: -r[1])[:top]:
        lines.append(f"| {tt:.2f} s | {tt / total:.0%} | {nc:,} | `{name}` |")
    return "\n".join(lines) + "\n"


def parse_spec(s: str) -> tuple[str, int]:
    kind, _, n = s.partition(":")
    if kind not in ("folders", "hfcache", "files") or not n.replace(",", "").replace("_", "").isdigit():
        raise argparse.ArgumentTypeError(f"{s!r}: use folders:N, hfcache:N or files:N")
    return kind, int(n.replace(",", "").replace("_", ""))


DEFAULT_CASES = ["folders:100", "folders:1000", "folders:10000", "hfcache:2000", "files:10000", "files:100000"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", type=parse_spec, help=f"default: {' '.join(DEFAULT_CASES)}")
    ap.add_argument("--budget", type=float, default=600, help="seconds one run may take (extrapolated)")
    ap.add_argument("--profile", action="append", type=parse_spec, default=[], help="cProfile this case instead")
    ap.add_argument("--exports", action="store_true", help="also time every writer (BOMs, reports) on each case")
    ap.add_argument("--no-cli", action="store_true", help="time check() (and --exports) only, not the CLI")
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--src", type=Path, help="import aitrail from this src/ folder (default: the installed one)")
    args = ap.parse_args(argv)
    global SRC
    SRC = args.src
    args.work.mkdir(parents=True, exist_ok=True)
    if args.profile:
        for kind, n in args.profile:
            print(profile(kind, n, args.budget, args.exports, args.work))
        return 0
    specs = args.cases or [parse_spec(s) for s in DEFAULT_CASES]
    cases = run_cases(specs, args.budget, args.work, exports=args.exports, cli=not args.no_cli)
    print(f"aitrail from {SRC or 'the installed package'}; {os.cpu_count()} cores; budget {args.budget:.0f} s a run\n")
    print(table(cases))
    print()
    if args.exports:
        print("Writers on the same check result (seconds each, in one process after check()):\n")
        print(exports_table(cases))
        print()
    print("\n".join(verdicts(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
