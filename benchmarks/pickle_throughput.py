"""Opcode-dense pickles: aitrail security vs picklescan, time and peak memory. Prints Markdown.

    .venv/bin/python benchmarks/pickle_throughput.py --picklescan benchmarks/work/secpeers/bin/picklescan

Builds (once, in benchmarks/work/) a benign ~71 MB vocabulary pickle ({token: id}, protocol 4: one
opcode every few bytes) and times each tool with /usr/bin/time (wall seconds, peak RSS).
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


def timed(cmd: list[str]) -> tuple[float, int, int]:
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--picklescan", type=Path)
    ap.add_argument(
        "--aitrail",
        type=Path,
        default=ROOT / ".venv/bin/aitrail",
        help="the aitrail to time; pass a non-editable install (benchmarks/work/user-venv/bin/aitrail), whose "
        "modules are compiled at install time like picklescan's, when start-up matters",
    )
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    p = vocab(WORK / "vocab-71mb.pkl")
    mb = p.stat().st_size / (1 << 20)
    rows = [("aitrail security", [str(args.aitrail), "security", str(p), "--format", "json"])]
    if args.picklescan:
        rows.append(("picklescan 1.0.5", [str(args.picklescan.resolve()), "--path", str(p)]))
    out = [
        f"## 7. An opcode-dense benign pickle ({mb:.0f} MB vocabulary, protocol 4)",
        "",
        "| tool | wall time | throughput | peak memory | verdict (exit code) |",
        "|---|---|---|---|---|",
    ]
    for name, cmd in rows:
        wall, rss, rc = min((timed(cmd) for _ in range(2)), key=lambda t: t[0])
        out.append(f"| {name} | {wall:.1f} s | {mb / wall:.1f} MB/s | {rss} MB | {rc} |")
    for label, f in (
        ("1 GiB torch-zip state dict", torch_zip_1g(WORK / "state-1g.pt")),
        ("1 GiB raw pickle of numpy arrays", arrays_1g(WORK / "arrays-1g.pkl")),
    ):
        size = f.stat().st_size / (1 << 20)
        cat = min(timed(["cat", str(f)])[0] for _ in range(2))
        out += [
            "",
            f"### {label} ({size:.0f} MB; `cat` reads it in {cat:.2f} s = {size / max(cat, 1e-3):.0f} MB/s)",
            "",
            "| tool | wall time | throughput | peak memory | exit code |",
            "|---|---|---|---|---|",
        ]
        aitrail = [str(args.aitrail), "security", str(f), "--format", "json"]
        cmds = [("aitrail security", aitrail), ("aitrail security --no-digest", [*aitrail, "--no-digest"])]
        if args.picklescan:
            cmds.append(("picklescan 1.0.5", [str(args.picklescan.resolve()), "--path", str(f)]))
        for name, cmd in cmds:
            wall, rss, rc = min((timed(cmd) for _ in range(5)), key=lambda t: t[0])
            out.append(f"| {name} | {wall:.2f} s | {size / wall:.0f} MB/s | {rss} MB | {rc} |")
    folder = pushes_folder(WORK / "pushes-2x60mb")
    size = sum(f.stat().st_size for f in folder.iterdir()) / (1 << 20)
    out += [
        "",
        f"### A folder of two opcode-dense pickles that need the symbolic walk ({size:.0f} MB: a GLOBAL, then "
        "6 M short strings each)",
        "",
        "| tool | wall time | throughput | peak memory | exit code |",
        "|---|---|---|---|---|",
    ]
    cmds = [("aitrail security (worker processes)", [str(args.aitrail), "security", str(folder), "--format", "json"])]
    if args.picklescan:
        cmds.append(("picklescan 1.0.5", [str(args.picklescan.resolve()), "--path", str(folder)]))
    for name, cmd in cmds:
        wall, rss, rc = timed(cmd)
        out.append(f"| {name} | {wall:.1f} s | {size / wall:.1f} MB/s | {rss} MB | {rc} |")
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
