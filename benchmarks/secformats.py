"""Cost of reading Keras HDF5 configs whole, walking SavedModel graphs as protobuf, and reading the top-level
keys of configs too large to parse (the session 6 'secformats' changes), beside SHA-256 of the same file (which
every scan computes anyway).

    .venv/bin/python benchmarks/secformats.py [--mb 512]

Files are made under benchmarks/work/secformats (git-ignored): the real Keras HDF5 fixture followed by N MB
of float32 noise (weights), a SavedModel of 1,000,000 nodes, a 60 MB config.json with its auto_map last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from aitrail.analyze.security import FileReport
from aitrail.analyze.security.formats import embedded_keras_configs, tensorflow_ops
from aitrail.analyze.security.remote_code import config_code

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "secformats"


def _timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _sha(path: Path) -> float:
    def run() -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    return _timed(run)[0]


def _field(num: int, payload: bytes) -> bytes:
    n = len(payload)
    out = bytearray([(num << 3) | 2])
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out) + payload


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=512)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)

    h5 = WORK / "big.h5"
    if not h5.exists() or h5.stat().st_size < args.mb << 20:
        rng = np.random.default_rng(0)
        with open(h5, "wb") as fh:
            fh.write((ROOT / "tests/data/secformats/lambda_escaped.h5").read_bytes())
            for _ in range(args.mb):
                fh.write(rng.standard_normal(1 << 18, dtype=np.float32).tobytes())
    rep = FileReport("big.h5", None, "hdf5")
    t, _ = _timed(lambda: embedded_keras_configs(rep, h5, "big.h5", (b"model_config",)))
    rules = sorted({f.rule for f in rep.findings})
    print(f"HDF5 {h5.stat().st_size >> 20} MB: configs read whole {t:.2f} s, sha256 {_sha(h5):.2f} s; findings {rules}")

    pb = WORK / "saved_model.pb"
    if not pb.exists():
        node = _field(1, b"dense/kernel") + _field(2, b"MatMul") + _field(3, b"x") + _field(3, b"w")
        graph = _field(1, node) * 1_000_000 + _field(1, _field(2, b"ReadFile"))  # worst case: a needle is present
        pb.write_bytes(b"\x08\x01" + _field(2, _field(2, graph)))
    rep = FileReport("saved_model.pb", None, None)
    t, _ = _timed(lambda: tensorflow_ops(rep, pb, "saved_model.pb"))
    print(
        f"SavedModel {pb.stat().st_size >> 20} MB, 1,000,001 nodes: protobuf walk {t:.2f} s, sha256 {_sha(pb):.2f} s; "
        f"findings {sorted({f.rule for f in rep.findings})}"
    )

    cfg = WORK / "config.json"
    if not cfg.exists():
        cfg.write_text(
            json.dumps({"model_type": "x", "pad": ["x" * 100] * 600_000})[:-1]
            + ', "auto\\u005fmap": {"AutoModel": "modeling_x.X"}}'
        )
    t, found = _timed(lambda: config_code(cfg))
    mb = cfg.stat().st_size >> 20
    print(f"config.json {mb} MB (600,000 strings): top-level keys read {t:.2f} s; refs {found.refs}")


if __name__ == "__main__":
    main()
