"""Pickle scanning: aitrail security against picklescan, modelscan and fickling, time and peak memory.

    S=benchmarks/work/secpeers/bin
    .venv/bin/python benchmarks/pickle_throughput.py --picklescan $S/picklescan --modelscan $S/modelscan \
        --fickling $S/fickling --aitrail benchmarks/work/user-venv/bin/aitrail

Builds (once, in benchmarks/work/) a benign ~71 MB vocabulary pickle ({token: id}, protocol 4: one
opcode every few bytes), a 1 GiB torch-zip state dict, a 1 GiB raw pickle of arrays and a folder of
two opcode-dense pickles that need the symbolic walk; times each tool with /usr/bin/time (wall
seconds, peak RSS). Prints Markdown for BENCHMARKS.md section 7.
"""

from __future__ import annotations

import argparse
import pickle
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"


def vocab(path: Path, target: int = 71 << 20) -> Path:
    if path.exists():
        return path
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    d: dict[str, int] = {}
    size = 0
    while size < target:
        tok = "".join(rng.choice(letters) for _ in range(rng.randint(6, 16)))
        if tok not in d:
            d[tok] = len(d)
            size += len(tok) + 9
    path.write_bytes(pickle.dumps(d, protocol=4))
    return path


def torch_zip_1g(path: Path) -> Path:
    """A torch.save-shaped zip: a state-dict pickle naming 64 tensors and 1 GiB of tensor data."""
    import zipfile

    sys.path.insert(0, str(ROOT / "tests"))
    import builders  # the test suite's torch-pickle builder (no torch needed)

    if path.exists():
        return path
    chunk = WORK / "zeros-16m.bin"
    chunk.write_bytes(bytes(16 << 20))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", builders.torch_pickle({f"layer.{i}.weight": (2048, 2048) for i in range(64)}))
        for i in range(64):
            z.write(chunk, f"archive/data/{i}")
    chunk.unlink()
    return path


def arrays_1g(path: Path) -> Path:
    """A raw pickle (protocol 4) of numpy arrays, 1 GiB: the bytes live inside the pickle stream."""
    import numpy as np

    if not path.exists():
        with open(path, "wb") as fh:
            pickle.dump({f"a{i}": np.zeros(8 << 20, dtype=np.float32) for i in range(32)}, fh, protocol=4)
    return path


TIMEOUT = 180  # seconds a peer may take on one file before it is stopped (reported as such)


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak MB, exit code); wall is inf when the tool was stopped at TIMEOUT."""
    try:
        r = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return float("inf"), 0, -1
    wall, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024, r.returncode


def row(name: str, mb: float, wall: float, rss: int, rc: int) -> str:
    if wall == float("inf"):
        return f"| {name} | > {TIMEOUT} s (stopped) | < {mb / TIMEOUT:.2f} MB/s | n/a | n/a |"
    return f"| {name} | {wall:.2f} s | {mb / wall:.1f} MB/s | {rss} MB | {rc} |"


def peers(args: argparse.Namespace, f: Path) -> list[tuple[str, list[str]]]:
    out = []
    if args.picklescan:
        out.append(("picklescan 1.0.5", [str(args.picklescan.resolve()), "--path", str(f)]))
    if args.modelscan:
        out.append(("modelscan 0.8.8", [str(args.modelscan.resolve()), "-p", str(f)]))
    if args.fickling:
        out.append(("fickling 0.1.12", [str(args.fickling.resolve()), "--check-safety", str(f)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--picklescan", type=Path)
    ap.add_argument("--modelscan", type=Path)
    ap.add_argument("--fickling", type=Path)
    ap.add_argument(
        "--aitrail",
        type=Path,
        default=ROOT / ".venv/bin/aitrail",
        help="the aitrail to time; pass a non-editable install (benchmarks/work/user-venv/bin/aitrail), whose "
        "modules are compiled at install time like picklescan's, when start-up matters",
    )
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    head = "| tool | wall time | throughput | peak memory | exit code |\n|---|---|---|---|---|"
    cases = [
        ("An opcode-dense benign pickle (67 MB vocabulary, protocol 4)", vocab(WORK / "vocab-71mb.pkl"), False),
        ("1 GiB torch-zip state dict", torch_zip_1g(WORK / "state-1g.pt"), True),
        ("1 GiB raw pickle of numpy arrays", arrays_1g(WORK / "arrays-1g.pkl"), True),
        (
            "A folder of two opcode-dense pickles that need the symbolic walk (a GLOBAL, then 6 M short strings each)",
            pushes_folder(WORK / "pushes-2x60mb"),
            False,
        ),
    ]
    out = [f"## 7. Pickle scanning speed and memory (peers stopped after {TIMEOUT} s)"]
    for label, f, big in cases:
        files = list(f.iterdir()) if f.is_dir() else [f]
        mb = sum(x.stat().st_size for x in files) / (1 << 20)
        line = f"### {label} ({mb:.0f} MB"
        if big:
            cat = min(timed(["cat", str(f)])[0] for _ in range(2))
            line += f"; `cat` reads it in {cat:.2f} s = {mb / max(cat, 1e-3):.0f} MB/s"
        out += ["", line + ")", "", head]
        aitrail = [str(args.aitrail), "security", str(f), "--format", "json"]
        mine = [("aitrail security", aitrail)]
        if big:
            mine.append(("aitrail security --no-digest", [*aitrail, "--no-digest"]))
        for name, cmd in mine:
            out.append(row(name, mb, *min((timed(cmd) for _ in range(5 if big else 2)), key=lambda t: t[0])))
        for name, cmd in peers(args, f):
            runs = [timed(cmd) for _ in range(5 if big and "picklescan" in name else 1)]
            out.append(row(name, mb, *min(runs, key=lambda t: t[0])))
    print("\n".join(out))


def pushes_folder(folder: Path, n: int = 6_000_000) -> Path:
    """Two pickles that import collections.OrderedDict, then push n distinct short strings."""
    if folder.exists():
        return folder
    folder.mkdir(parents=True)
    head = b"\x80\x04\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94"
    body = b"".join(b"\x8c\x08" + b"%08d" % i for i in range(n))
    for name in ("a.pkl", "b.pkl"):
        (folder / name).write_bytes(head + body + b".")
    return folder


if __name__ == "__main__":
    sys.exit(main())
