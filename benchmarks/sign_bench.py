"""Sign and verify a multi-GB model folder: aitrail vs the `model-signing` library, same run, same files.

    .venv/bin/python benchmarks/sign_bench.py [--gb 2.5] [--rounds 2] [--keep]

Generates safetensors shards with numpy (random float16, incompressible) in
benchmarks/work/sign_bench/ (git-ignored) plus a config and a card, then, alternating the tools
round by round (so neither always meets a warmer page cache), times in a fresh process each
(wall and CPU seconds: on a shared machine the CPU time is the steadier measure):
``aitrail sign`` (the full check: digests, catalogers, security rules, BOM and check attestations),
``aitrail verify``, ``model_signing`` sign and verify with the same EC P-256 key. Each tool
verifies the other's bundle too. Prints a Markdown table (median wall seconds, GB/s, peak RSS)
and deletes the files unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "sign_bench"
PY = sys.executable

AITRAIL = """
import sys
from aitrail import cli
if "aitrail.provenance.cli_sign" not in cli.EXTENSIONS:
    cli.EXTENSIONS.append("aitrail.provenance.cli_sign")
sys.exit(cli.main(sys.argv[1:]))
"""
MS_SIGN = """
import sys, pathlib, model_signing.signing
signer = model_signing.signing.Config().use_elliptic_key_signer(private_key=sys.argv[2])
signer.sign(pathlib.Path(sys.argv[1]), sys.argv[3])
"""
MS_VERIFY = """
import sys, pathlib, model_signing.verifying
verifier = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=sys.argv[2])
verifier.verify(pathlib.Path(sys.argv[1]), sys.argv[3])
"""


def make_model(root: Path, gb: float) -> int:
    import numpy as np
    from safetensors.numpy import save_file

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    shard_bytes = 512 << 20
    n = max(1, round(gb * (1 << 30) / shard_bytes))
    index = {}
    for i in range(n):
        name = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        tensors = {
            f"layers.{i}.w{j}": rng.standard_normal((4096, 8192), dtype=np.float32).astype(np.float16)
            for j in range(shard_bytes // (4096 * 8192 * 2))
        }
        save_file(tensors, str(root / name))
        index.update({k: name for k in tensors})
    (root / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": index}))
    (root / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# bench model\n")
    return sum(p.stat().st_size for p in root.iterdir())


def keys(d: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    k = ec.generate_private_key(ec.SECP256R1())
    priv, pub = d / "bench.key", d / "bench.pub"
    priv.write_bytes(
        k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pub.write_bytes(
        k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return priv, pub


def timed(args: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system, all threads), peak RSS (MB) of this child alone (wait4), exit code."""
    t = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.stdout is not None
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"  exit {code}: {' '.join(args[3:5])}\n{out.decode(errors='replace')[-2000:]}", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--generate", metavar="DIR", help=argparse.SUPPRESS)  # internal: the child that writes files
    a = ap.parse_args()
    if a.generate:  # in a child, so its numpy memory is not counted as the timed children's peak RSS
        print(make_model(Path(a.generate), a.gb))
        return 0
    model = WORK / "model"
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    try:
        gen = subprocess.run([PY, __file__, "--generate", str(model), "--gb", str(a.gb)], capture_output=True,
                             text=True)
        size = int(gen.stdout.strip())
        priv, pub = keys(WORK)
        ours, theirs = WORK / "aitrail.sig", WORK / "model_signing.sig"
        runs: dict[str, list[tuple[float, float, float, int]]] = {}
        steps = {
            "aitrail sign (check + BOM/check attestations)": [PY, "-c", AITRAIL, "sign", str(model), "--key", str(priv),
                                                            "--signature", str(ours), "-q"],
            "model_signing sign (key)": [PY, "-c", MS_SIGN, str(model), str(priv), str(theirs)],
            "aitrail verify": [PY, "-c", AITRAIL, "verify", str(model), "--signature", str(ours), "--key", str(pub)],
            "model_signing verify (key)": [PY, "-c", MS_VERIFY, str(model), str(pub), str(theirs)],
            "aitrail verify of model_signing's bundle": [PY, "-c", AITRAIL, "verify", str(model), "--signature",
                                                         str(theirs), "--key", str(pub)],
            "model_signing verify of aitrail's bundle": [PY, "-c", MS_VERIFY, str(model), str(pub), str(ours)],
            # the same job as model_signing's sign: digests and the signature, nothing else
            "aitrail sign --no-attestations": [PY, "-c", AITRAIL, "sign", str(model), "--key", str(priv),
                                               "--signature", str(WORK / "aitrail-only.sig"), "--no-attestations",
                                               "-q"],
            "model_signing sign (key), second sample": [PY, "-c", MS_SIGN, str(model), str(priv),
                                                        str(WORK / "model_signing-2.sig")],
        }
        for r in range(a.rounds):
            order = list(steps.items())
            if r % 2:  # alternate who goes first in each pair
                order = [order[i ^ 1] for i in range(len(order))]
            for name, args in order:
                runs.setdefault(name, []).append(timed(args))
        gb = size / 1e9
        print(f"\nmodel: {len(list(model.iterdir()))} files, {gb:.2f} GB; {os.cpu_count()} CPUs; "
              f"{a.rounds} round(s), page cache warm after generation\n")
        print("| step | median wall s | GB/s (wall) | median CPU s | peak RSS MB | exit codes |")
        print("|---|---:|---:|---:|---:|---|")
        for name, rs in runs.items():
            wall = statistics.median(r[0] for r in rs)
            cpu = statistics.median(r[1] for r in rs)
            print(f"| {name} | {wall:.2f} | {gb / wall:.2f} | {cpu:.2f} | {max(r[2] for r in rs):.0f} | "
                  f"{','.join(str(r[3]) for r in rs)} |")
        load = os.getloadavg()[0]
        print(f"\nload average at the end: {load:.1f} (a shared machine: CPU seconds are the steadier measure)")
    finally:
        if not a.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
