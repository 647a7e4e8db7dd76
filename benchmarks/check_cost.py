"""What `aitrail check` costs next to `aitrail scan` (with hashing) on the same multi-GB model.

    .venv/bin/python benchmarks/check_cost.py            # prints Markdown for BENCHMARKS.md

The issue's bar: check reads each byte at most once (hashing and the security rules share the
read) and costs no more than 1.2x a hashing scan. Measured per run, in a fresh process:
- wall time, page cache cold (every file's pages dropped with posix_fadvise first) and warm;
- bytes read from storage (/proc/self/io read_bytes) and through read() calls (rchar), divided by
  the model's size: 1.0 means every byte came from the disk once.

Models (built once in benchmarks/work/, real bytes, not sparse files):
- `sharded/`: an HF-style folder, 2 safetensors shards of 1 GiB, a 1 GiB torch-zip
  `pytorch_model.bin` of the same weights, config.json and a model card (3 GiB);
- `arrays-1g.pkl`: a 1 GiB raw pickle of numpy arrays (the security walk reads all of it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
sys.path.insert(0, str(ROOT / "benchmarks"))

PROBE = (
    "import sys, json\n"
    "from aitrail.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "io = dict(l.split(': ') for l in open('/proc/self/io').read().splitlines())\n"
    "print(json.dumps({'code': code, 'rchar': int(io['rchar']), 'read_bytes': int(io['read_bytes'])}),"
    " file=sys.stderr)\n"
)


def sharded(root: Path) -> Path:
    from pickle_throughput import torch_zip_1g

    if (root / "pytorch_model.bin").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = os.urandom
    for i in (1, 2):
        p = root / f"model-0000{i}-of-00002.safetensors"
        names = [f"layers.{i}.{j}.weight" for j in range(16)]
        header: dict[str, object] = {"__metadata__": {"format": "pt"}}
        off = 0
        for n in names:
            header[n] = {"dtype": "F32", "shape": [4096, 4096], "data_offsets": [off, off + (64 << 20)]}
            off += 64 << 20
        h = json.dumps(header).encode()
        h += b" " * (-len(h) % 8)
        with open(p, "wb") as fh:
            fh.write(len(h).to_bytes(8, "little") + h)
            block = rng(16 << 20)  # incompressible, so no layer below can shortcut the reads
            for _ in range(off // len(block)):
                fh.write(block)
    os.link(torch_zip_1g(WORK / "state-1g.pt"), root / "pytorch_model.bin")
    (root / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# benchmark model\n")
    return root


def files_of(target: Path) -> list[Path]:
    return [p for p in target.rglob("*") if p.is_file()] if target.is_dir() else [target]


def drop_cache(target: Path) -> None:
    for p in files_of(target):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run(args: list[str], cold: bool, target: Path) -> dict[str, float]:
    import time

    if cold:
        drop_cache(target)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    probe = json.loads(p.stderr.strip().splitlines()[-1])
    return {"wall": wall, **probe}


def measure(target: Path, repeat: int = 3) -> list[str]:
    size = sum(p.stat().st_size for p in files_of(target))
    out = []
    cmds = {
        "aitrail scan -f json (hashing)": ["scan", str(target), "-f", "json", "-q", "-o", os.devnull],
        "aitrail check -f json": ["check", str(target), "-f", "json", "-q", "-o", os.devnull],
    }
    res: dict[tuple[str, bool], list[dict[str, float]]] = {}
    for _ in range(repeat):  # interleaved, so drift in the machine hits both alike
        for name, args in cmds.items():
            for cold in (True, False):
                res.setdefault((name, cold), []).append(run(args, cold, target))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "rchar", "read_bytes")} for k, v in res.items()}
    for name in cmds:
        c, w = med[(name, True)], med[(name, False)]
        base_c, base_w = med[(next(iter(cmds)), True)], med[(next(iter(cmds)), False)]
        out.append(
            f"| {name} | {c['wall']:.2f} s | {w['wall']:.2f} s | {c['wall'] / base_c['wall']:.2f}× / "
            f"{w['wall'] / base_w['wall']:.2f}× | {c['read_bytes'] / size:.2f} | {c['rchar'] / size:.2f} |"
        )
    return [
        f"### {target.name} ({size / (1 << 30):.1f} GiB, {len(files_of(target))} files)",
        "",
        "| command | cold cache | warm cache | vs scan (cold / warm) | storage reads ÷ size (cold) "
        "| read() bytes ÷ size |",
        "|---|---|---|---|---|---|",
        *out,
        "",
    ]


def main() -> None:
    from pickle_throughput import arrays_1g

    lines = [
        "Command: `.venv/bin/python benchmarks/check_cost.py` (median of 3 interleaved runs each; "
        f"{os.cpu_count()} cores).",
        "",
    ]
    lines += measure(sharded(WORK / "sharded"))
    lines += measure(arrays_1g(WORK / "arrays-1g.pkl"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
