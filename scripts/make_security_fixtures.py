"""Benign ML files made with the real libraries, for the security scan's false-alarm floor (issue 11).

Each file is what a real repository holds (a Trainer checkpoint, whole saved modules, fitted
estimators, compressed joblib, TorchScript, tokenizers...), written by the library itself, tiny.
Output: tests/data/security/benign/<family>/<file>, a manifest.csv (file,kind,malicious,technique,
source — as ../shared/data/security-corpus) and VERSIONS.txt. The tests read only those files.

The libraries live in a separate venv (never in the project's .venv):

    python3.11 -m venv benchmarks/work/fixturegen
    benchmarks/work/fixturegen/bin/pip install torch transformers accelerate peft scikit-learn scipy \\
        pandas xgboost lightgbm catboost sentencepiece tokenizers joblib numpy lz4 zstandard \\
        lightning trl pyarrow fastai gensim statsmodels nltk skorch keras h5py onnx onnxscript skl2onnx onnxmltools
    benchmarks/work/fixturegen/bin/python scripts/make_security_fixtures.py

The folder is rewritten from scratch; optional families (catboost, zstd) whose library is missing
are listed as skipped, never faked. Runs give the same bytes except where a library writes ids,
timings, dates or uninitialised padding (legacy torch storage keys, pickle.dumps of tensors, .keras and
pandas zip dates, GridSearchCV times, vectorizers' stop-word ids, np.longdouble, gensim, catboost, fastai,
TorchScript, onnxmltools).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import io
import os
import pickle
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "security" / "benign"

LIBS = [
    "torch", "transformers", "accelerate", "peft", "scikit-learn", "scipy", "pandas", "numpy", "joblib",
    "xgboost", "lightgbm", "catboost", "sentencepiece", "tokenizers", "lz4", "zstandard", "lightning", "trl", "pyarrow",
    "fastai", "torchvision", "gensim", "statsmodels", "nltk", "skorch", "keras", "h5py", "onnx", "skl2onnx",
    "onnxmltools", "onnxscript",
]  # fmt: skip

# A user's own model code: pickles of it name `tinylm.TinyLM`, which a loader must import.
TINYLM = textwrap.dedent(
    """
    import torch
    from torch import nn

    class TinyLM(nn.Module):
        def __init__(self, vocab=16, dim=8):
            super().__init__()
            self.embed = nn.Embedding(vocab, dim)
            self.norm = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(0.1))
            self.head = nn.Linear(dim, vocab, bias=False)

        def forward(self, ids):
            return self.head(self.mlp(self.norm(self.embed(ids))))

    # what else user code puts in checkpoints: a namedtuple, a dataclass, a function
    import collections, dataclasses

    Batch = collections.namedtuple("Batch", ["ids", "labels"])

    @dataclasses.dataclass
    class Config:
        vocab: int = 16
        dim: int = 8

    def clean(X):
        return X
    """
)


def version(dist: str) -> str | None:
    if dist == "python":
        return sys.version.split()[0]
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


class Out:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: list[dict[str, str]] = []
        self.skipped: list[str] = []

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def row(self, rel: str, kind: str, technique: str, *libs: str) -> None:
        assert (self.root / rel).is_file(), rel
        src = "; ".join(f"{lib} {version(lib)}" for lib in libs)
        self.rows.append({"file": rel, "kind": kind, "malicious": "0", "technique": technique, "source": src})

    def pickle(self, rel: str, obj: Any, technique: str, *libs: str, protocol: int = 4) -> None:
        self.path(rel).write_bytes(pickle.dumps(obj, protocol=protocol))
        self.row(rel, "pickle", technique, *libs)

    def torch(self, rel: str, obj: Any, technique: str, *libs: str, legacy: bool = False) -> None:
        import torch

        torch.save(obj, self.path(rel), _use_new_zipfile_serialization=not legacy)
        self.row(rel, "pytorch-legacy" if legacy else "pytorch-zip", technique, "torch", *libs)


def tiny_bert_config() -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=16, type_vocab_size=2, num_labels=2,
    )  # fmt: skip


def trainer_checkpoint(o: Out) -> None:
    """A real Trainer run of two steps: the checkpoint folder exactly as transformers writes it."""
    import torch
    from transformers import BertForSequenceClassification, Trainer, TrainingArguments

    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_bert_config())
    data = [
        {"input_ids": torch.tensor([1, 5, 7, 2]), "attention_mask": torch.ones(4, dtype=torch.long),
         "labels": torch.tensor(i % 2)}
        for i in range(4)
    ]  # fmt: skip
    # main() runs in a scratch folder: relative paths keep the files the same from run to run
    args = TrainingArguments(
        output_dir="trainer_output", max_steps=2, save_steps=2, save_strategy="steps", per_device_train_batch_size=2,
        report_to="none", use_cpu=True, logging_strategy="no", seed=0, learning_rate=1e-3,
    )  # fmt: skip
    Trainer(model=model, args=args, train_dataset=data).train()
    ckpt = Path("trainer_output") / "checkpoint-2"
    kinds = {".bin": "pytorch-zip", ".pt": "pytorch-zip", ".pth": "pytorch-zip", ".json": "json",
             ".safetensors": "safetensors"}  # fmt: skip
    for f in sorted(ckpt.iterdir()):
        rel = f"trainer/checkpoint-2/{f.name}"
        shutil.copyfile(f, o.path(rel))
        o.row(rel, kinds.get(f.suffix, "other"), f"HF Trainer checkpoint file {f.name}", "transformers", "torch",
              "accelerate")  # fmt: skip


def torch_modules(o: Out, tmp: Path) -> None:
    import torch
    from torch import nn
    from transformers import BertModel

    torch.manual_seed(0)
    o.torch("torch/whole_bert_module.pt", BertModel(tiny_bert_config()), "whole nn.Module: tiny BERT (transformers)",
            "transformers")  # fmt: skip
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2), nn.Softmax(dim=-1))
    o.torch("torch/whole_mlp_module.pt", mlp, "whole nn.Module: MLP (nn.Sequential)")
    conv = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(2, 3),
    )  # fmt: skip
    o.torch("torch/whole_convnet_module.pt", conv, "whole nn.Module: convnet (Conv2d, BatchNorm2d, pools)")
    rnn = nn.ModuleDict({
        "lstm": nn.LSTM(4, 4, batch_first=True), "gru": nn.GRU(4, 4),
        "enc": nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, batch_first=True),
    })  # fmt: skip
    o.torch("torch/whole_rnn_transformer_modules.pt", rnn, "whole nn.Module: LSTM, GRU, TransformerEncoderLayer")
    (tmp / "tinylm.py").write_text(TINYLM)
    sys.path.insert(0, str(tmp))
    import tinylm  # type: ignore[import-not-found]

    o.torch("torch/whole_user_class_tinylm.pt", tinylm.TinyLM(), "whole nn.Module of a user class tinylm.TinyLM")
    o.torch("torch/whole_user_class_tinylm_legacy.pt", tinylm.TinyLM(), "legacy torch.save of user class tinylm.TinyLM",
            legacy=True)  # fmt: skip
    o.torch("torch/whole_mlp_module_legacy.pt", mlp, "legacy (non-zip) torch.save of a whole MLP", legacy=True)
    o.torch("torch/state_dict_legacy.pt", mlp.state_dict(), "legacy (non-zip) torch.save of a state_dict", legacy=True)
    # (not a user enum member: it pickles as a call of the user's class with its value, which no
    # scanner can tell from a call of a user function without reading that code)
    user = {"batch": tinylm.Batch([1, 2], [0]), "config": tinylm.Config(), "postprocess": tinylm.clean}
    o.torch("torch/user_objects.pt", user, "user code in a checkpoint: namedtuple, dataclass, function (module "
            "tinylm)")  # fmt: skip
    o.pickle("torch/user_objects.pkl", user, "the same user objects (module tinylm), plain pickle", "python")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    pipe = make_pipeline(FunctionTransformer(tinylm.clean), StandardScaler()).fit([[0.0, 1.0], [1.0, 0.0]])
    o.pickle("sklearn/function_transformer_user_function.pkl", pipe, "FunctionTransformer of a user function "
             "(tinylm.clean)", "scikit-learn")  # fmt: skip


def torch_tensors(o: Out) -> None:
    import torch

    x = torch.linspace(-1, 1, 8)
    f8 = {name: x.to(getattr(torch, name)) for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                                                         "float8_e5m2fnuz") if hasattr(torch, name)}  # fmt: skip
    o.torch("torch/float8_tensors.pt", f8, "torch.float8_* tensors (e4m3fn, e5m2, fnuz)")
    o.torch("torch/float8_dtypes_as_values.pt", {"compute_dtype": torch.float8_e4m3fn,
            "dtypes": [torch.float8_e5m2, torch.bfloat16, torch.float16]}, "torch dtypes stored as values")  # fmt: skip
    dense = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]])
    sparse = {"coo": dense.to_sparse(), "csr": dense.to_sparse_csr(), "csc": dense.to_sparse_csc(),
              "bsr": dense.to_sparse_bsr((1, 1))}  # fmt: skip
    o.torch("torch/sparse_tensors.pt", sparse, "sparse COO/CSR/CSC/BSR tensors")
    o.torch("torch/layouts_as_values.pt", {"layouts": [torch.strided, torch.sparse_coo, torch.sparse_csr,
            torch.sparse_csc]}, "torch layouts as values (torch.serialization._get_layout)")  # fmt: skip
    q = torch.quantize_per_tensor(x, 0.1, 0, torch.qint8)
    qc = torch.quantize_per_channel(dense, torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.quint8)
    o.torch("torch/quantized_tensors.pt", {"per_tensor": q, "per_channel": qc}, "quantized tensors (qint8, quint8)")
    o.torch("torch/misc_values.pt", {"size": torch.Size([2, 3]), "device": torch.device("cpu"), "half": x.half(),
            "bf16": x.bfloat16(), "complex": torch.complex(x, x), "bool": x > 0, "int": x.long(),
            "param": torch.nn.Parameter(x), "view": dense[:, 1:]},
            "torch.Size, device, Parameter, views, assorted dtypes")  # fmt: skip
    o.torch("torch/rng_state.pth", {"cpu": torch.get_rng_state(), "python": __import__("random").getstate()},
            "RNG states as Trainer saves them (torch + python random)")  # fmt: skip


def torch_training_state(o: Out) -> None:
    import argparse as ap
    import functools

    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Linear(4, 2)
    for cls, kw in ((torch.optim.Adam, {"lr": 1e-3}), (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                    (torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 0.01})):  # fmt: skip
        opt = cls(m.parameters(), **kw)
        m(torch.ones(1, 4)).sum().backward()
        opt.step()
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
        sched.step()
        o.torch(f"torch/optimizer_{cls.__name__.lower()}_state.pt", {"optimizer": opt.state_dict(),
                "lr_scheduler": sched.state_dict()}, f"torch.save of {cls.__name__} + StepLR state_dict")  # fmt: skip
    lam = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD(m.parameters(), lr=0.1), max_lr=0.1, total_steps=10)
    o.torch("torch/onecycle_scheduler_state.pt", lam.state_dict(), "OneCycleLR state_dict (stores functools.partial"
            " anneal functions)")  # fmt: skip
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    o.torch("torch/gradscaler_state.pt", scaler.state_dict(), "torch.amp.GradScaler state_dict")
    args = ap.Namespace(arch="transformer_lm", lr=[0.0005], max_tokens=2048, optimizer="adam", adam_betas="(0.9, 0.98)",
                        seed=1, fp16=True, task="language_modeling", data="data-bin/wiki")  # fmt: skip
    o.torch("torch/fairseq_style_checkpoint.pt", {
        "args": args, "cfg": None, "model": m.state_dict(),
        "optimizer_history": [{"criterion_name": "CrossEntropyCriterion", "optimizer_name": "FairseqAdam",
                               "lr_scheduler_state": {"best": 3.2}, "num_updates": 10}],
        "extra_state": {"epoch": 2, "val_loss": 3.2, "train_iterator": {"epoch": 2, "iterations_in_epoch": 5}},
        "last_optimizer_state": torch.optim.Adam(m.parameters()).state_dict(),
    }, "fairseq-style checkpoint with argparse.Namespace args")  # fmt: skip
    o.torch("torch/functools_partial_round.pt", {"state": m.state_dict(), "postprocess": functools.partial(round,
            ndigits=2)}, "functools.partial(round, ndigits=2) inside a saved state")  # fmt: skip


def torchscript(o: Out) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    traced = torch.jit.trace(net.eval(), torch.zeros(1, 1, 4, 4))
    torch.jit.save(traced, o.path("torchscript/traced_convnet.pt"))
    o.row("torchscript/traced_convnet.pt", "torchscript", "torch.jit.trace of a convnet, torch.jit.save", "torch")

    class Gate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:
                return self.lin(x)
            return x.flip([0])

    torch.jit.save(torch.jit.script(Gate()), o.path("torchscript/scripted_gate.pt"))
    o.row("torchscript/scripted_gate.pt", "torchscript", "torch.jit.script with control flow, torch.jit.save", "torch")


def peft_accelerate(o: Out) -> None:
    import torch
    from accelerate.utils import DataLoaderConfiguration, GradientAccumulationPlugin, ProjectConfiguration
    from peft import LoraConfig, get_peft_model
    from transformers import BertModel

    torch.manual_seed(0)
    cfg = LoraConfig(r=2, lora_alpha=4, target_modules=["query", "value"], lora_dropout=0.0)
    o.pickle("peft/lora_config.pkl", cfg, "peft.LoraConfig pickled", "peft")
    pm = get_peft_model(BertModel(tiny_bert_config()), cfg)
    o.torch("peft/whole_peft_lora_model.pt", pm, "whole PeftModel (LoRA on tiny BERT) torch.save", "peft",
            "transformers")  # fmt: skip
    o.pickle("accelerate/accelerate_configs.pkl", {
        "dataloader": DataLoaderConfiguration(), "project": ProjectConfiguration(project_dir="runs"),
        "grad_acc": GradientAccumulationPlugin(num_steps=2)}, "accelerate config dataclasses pickled", "accelerate")


def sklearn_models(o: Out) -> dict[str, Any]:
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    df = pd.DataFrame({"age": rng.integers(18, 80, 20), "city": ["a", "b", "c", "a"] * 5, "score": X[:, 1]})
    texts = ["good model", "bad model", "great work", "awful bug", "nice result", "terrible loss"] * 2
    labels = [1, 0, 1, 0, 1, 0] * 2
    models: dict[str, Any] = {
        "pipeline_scaler_logreg": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y),
        "columntransformer_pipeline": Pipeline([
            ("prep", ColumnTransformer([("num", StandardScaler(), ["age", "score"]),
                                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])),
            ("clf", LogisticRegression())]).fit(df, y),
        "svc_rbf": SVC(probability=False).fit(X, y),
        "tfidf_text_classifier": Pipeline([("tfidf", TfidfVectorizer()), ("nb", MultinomialNB())]).fit(texts, labels),
        "random_forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y),
        "kmeans": KMeans(n_clusters=2, n_init=1, random_state=0).fit(X),
        "standard_scaler": StandardScaler().fit(X),
        "logistic_regression": LogisticRegression().fit(X, y),
    }  # fmt: skip
    for name, est in models.items():
        o.pickle(f"sklearn/{name}.pkl", est, f"scikit-learn {type(est).__name__} pickled", "scikit-learn")
        joblib.dump(est, o.path(f"sklearn/{name}.joblib"))
        o.row(f"sklearn/{name}.joblib", "joblib", f"scikit-learn {type(est).__name__} joblib.dump", "scikit-learn",
              "joblib")  # fmt: skip
    for proto in (0, 2, 5):
        o.pickle(f"sklearn/logistic_regression_protocol{proto}.pkl", models["logistic_regression"],
                 f"LogisticRegression pickled with protocol {proto}", "scikit-learn", protocol=proto)  # fmt: skip
    return models


def joblib_compressors(o: Out, models: dict[str, Any]) -> None:
    import joblib

    est = models["columntransformer_pipeline"]
    # every compressor at every level (0 means joblib writes no compression at all)
    plan = [(m, lvl) for m in ("zlib", "gzip", "bz2", "lzma", "xz", "lz4") for lvl in range(1, 10)] + [("xz", 0)]
    for method, level in plan:
        rel = f"joblib/pipeline_{method}_{level}.joblib"
        joblib.dump(est, o.path(rel), compress=(method, level))
        o.row(rel, "joblib", f"joblib.dump compress=({method!r}, {level})", "joblib", "scikit-learn",
              *(["lz4"] if method == "lz4" else []))  # fmt: skip
    joblib.dump(est, o.path("joblib/pipeline_compress_true.joblib"), compress=True)
    o.row("joblib/pipeline_compress_true.joblib", "joblib", "joblib.dump compress=True (zlib 3)", "joblib")
    for ext in ("gz", "bz2", "xz", "lzma", "lz4", "z"):  # joblib picks the compressor from the name
        rel = f"joblib/pipeline_by_extension.joblib.{ext}"
        joblib.dump(est, o.path(rel))
        o.row(rel, "joblib", f"joblib.dump compressor inferred from .{ext}", "joblib")


def numpy_scipy(o: Out) -> None:
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    gens = {
        "generator_pcg64": np.random.default_rng(1), "random_state": np.random.RandomState(1),
        "pcg64": np.random.PCG64(1), "pcg64dxsm": np.random.PCG64DXSM(1), "mt19937": np.random.MT19937(1),
        "philox": np.random.Philox(1), "sfc64": np.random.SFC64(1), "seed_sequence": np.random.SeedSequence(1),
        "generator_philox": np.random.Generator(np.random.Philox(2)),
    }  # fmt: skip
    o.pickle("numpy/random_generators.pkl", gens, "numpy Generator, RandomState, every bit generator, SeedSequence",
             "numpy")  # fmt: skip
    o.pickle("numpy/legacy_global_random_state.pkl", np.random.get_state(), "np.random.get_state() tuple", "numpy")
    scalars = {
        "f64": np.float64(1.5), "f32": np.float32(2.5), "f16": np.float16(0.5), "i64": np.int64(7), "i8": np.int8(-3),
        "u32": np.uint32(9), "bool": np.bool_(True), "c128": np.complex128(1 + 2j), "str": np.str_("x"),
        "bytes": np.bytes_(b"y"), "dt64": np.datetime64("2026-01-02T03:04"), "td64": np.timedelta64(5, "s"),
        "longdouble": np.longdouble(1.25),
    }  # fmt: skip
    o.pickle("numpy/scalars.pkl", scalars, "numpy scalars of every kind", "numpy")
    dtypes = {"float64_type": np.float64, "int32_type": np.int32, "dtype_f8": np.dtype("float64"),
              "dtype_struct": np.dtype([("x", "<f4"), ("y", "<i2", (2,))]), "dtype_be": np.dtype(">u2"),
              "dtype_dt": np.dtype("M8[ns]"), "dtype_unicode": np.dtype("U4")}  # fmt: skip
    o.pickle("numpy/dtypes_and_scalar_types.pkl", dtypes, "numpy.float64 as a type value and np.dtype objects",
             "numpy")  # fmt: skip
    arrays = {"f": rng.normal(size=(3, 2)), "fortran": np.asfortranarray(np.ones((2, 3))),
              "masked": np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), "record": np.rec.array([(1, 2.0)],
              dtype=[("a", "i4"), ("b", "f8")]), "matrix": np.asmatrix(np.eye(2))}  # fmt: skip
    o.pickle("numpy/arrays_masked_record_matrix.pkl", arrays, "ndarray, Fortran order, masked, record array, matrix",
             "numpy", protocol=5)  # fmt: skip
    dense = np.array([[0, 1.5, 0], [2, 0, 0], [0, 0, 3]])
    mats = {
        "csr": sp.csr_matrix(dense), "csc": sp.csc_matrix(dense), "coo": sp.coo_matrix(dense),
        "lil": sp.lil_matrix(dense), "dok": sp.dok_matrix(dense), "bsr": sp.bsr_matrix(dense),
        "dia": sp.dia_matrix(dense), "csr_array": sp.csr_array(dense), "coo_array": sp.coo_array(dense),
    }  # fmt: skip
    o.pickle("scipy/sparse_matrices.pkl", mats, "scipy.sparse matrices and arrays of every format", "scipy")


def pandas_frames(o: Out) -> None:
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({
        "f": [1.5, 2.5, np.nan], "i": pd.array([1, None, 3], dtype="Int64"), "s": pd.array(["a", None, "c"],
        dtype="string"), "cat": pd.Categorical(["x", "y", "x"]), "when": pd.date_range("2026-01-01", periods=3,
        tz="UTC"), "delta": pd.to_timedelta([1, 2, 3], unit="h"), "b": [True, False, True],
    }, index=pd.Index(["r1", "r2", "r3"], name="row"))  # fmt: skip
    o.pickle("pandas/dataframe.pkl", df, "pandas DataFrame with nullable, categorical, tz datetimes", "pandas")
    ser = pd.Series([1, 2, 3], index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)]), name="n")
    o.pickle("pandas/series_multiindex.pkl", ser, "pandas Series with MultiIndex", "pandas")
    df.to_pickle(o.path("pandas/dataframe_to_pickle.pkl"))
    o.row("pandas/dataframe_to_pickle.pkl", "pickle", "DataFrame.to_pickle (no compression)", "pandas")
    comps = ["gzip", "bz2", "xz", "zip", "tar"]
    if version("zstandard"):
        comps.append("zstd")
    else:
        o.skipped.append("pandas to_pickle zstd: zstandard not installed")
    for comp in comps:
        rel = f"pandas/dataframe_to_pickle_{comp}.pkl.{ {'gzip': 'gz', 'zstd': 'zst'}.get(comp, comp)}"
        df.to_pickle(o.path(rel), compression={"method": comp, "mtime": 0} if comp == "gzip" else comp)
        o.row(rel, f"pickle-{comp}", f"DataFrame.to_pickle(compression={comp!r})", "pandas",
              *(["zstandard"] if comp == "zstd" else []))  # fmt: skip


def boosters(o: Out) -> None:
    import lightgbm as lgb
    import numpy as np
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = xgb.XGBClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
    o.pickle("xgboost/xgbclassifier.pkl", clf, "xgboost XGBClassifier pickled", "xgboost")
    o.pickle("xgboost/booster.pkl", clf.get_booster(), "xgboost Booster pickled", "xgboost")
    lg = lgb.LGBMClassifier(n_estimators=2, num_leaves=3, min_child_samples=2, verbose=-1).fit(X, y)
    o.pickle("lightgbm/lgbmclassifier.pkl", lg, "lightgbm LGBMClassifier pickled", "lightgbm")
    o.pickle("lightgbm/booster.pkl", lg.booster_, "lightgbm Booster pickled", "lightgbm")
    try:
        import catboost
    except ImportError:
        o.skipped.append("catboost: not installed")
        return
    cb = catboost.CatBoostClassifier(iterations=2, depth=2, verbose=False, random_seed=0, allow_writing_files=False)
    o.pickle("catboost/catboostclassifier.pkl", cb.fit(X, y), "catboost CatBoostClassifier pickled", "catboost")


def tokenizer_objects(o: Out) -> None:
    import sentencepiece as spm
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    corpus = ["the model reads files", "a scanner never loads them", "tokens are pieces of words"] * 20
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=buf, vocab_size=30,
                                   model_type="unigram", minloglevel=2)  # fmt: skip
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    o.pickle("tokenizers/sentencepiece_processor.pkl", sp, "SentencePieceProcessor pickled", "sentencepiece")
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=40, special_tokens=["[UNK]"], show_progress=False))
    o.pickle("tokenizers/hf_tokenizers_bpe.pkl", tok, "tokenizers.Tokenizer (BPE) pickled", "tokenizers")
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    o.pickle("tokenizers/transformers_fast_tokenizer.pkl", fast, "transformers PreTrainedTokenizerFast pickled",
             "transformers", "tokenizers")  # fmt: skip


TINYLIT = textwrap.dedent(
    """
    import lightning as L
    import torch
    from torch import nn

    class TinyLit(L.LightningModule):
        def __init__(self, dim=4, lr=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Linear(dim, 1)

        def training_step(self, batch, _):
            x, y = batch
            return nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 1)}
    """
)


def torch_more(o: Out) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    o.torch("torch/generator_object.pt", {"generator": torch.Generator().manual_seed(1)}, "torch.Generator object")
    o.torch("torch/meta_and_nested_tensors.pt", {
        "meta": torch.empty(3, 4, device="meta"),
        "nested": torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]),
        "jagged": torch.nested.nested_tensor([torch.ones(2, 4), torch.ones(3, 4)], layout=torch.jagged),
    }, "meta tensors, nested tensors (strided and jagged layouts)")  # fmt: skip
    more = [getattr(torch, n) for n in ("float8_e8m0fnu", "float4_e2m1fn_x2", "uint16", "uint32", "uint64", "int4",
                                        "uint4", "complex32", "bits8") if hasattr(torch, n)]  # fmt: skip
    o.torch("torch/rare_dtypes_as_values.pt", {"dtypes": more, "e8m0": torch.ones(2).to(torch.float8_e8m0fnu)},
            "rare torch dtypes as values (e8m0, fp4, uint16-64, int4, complex32, bits8)")  # fmt: skip
    o.torch("torch/whole_swa_averaged_model.pt", torch.optim.swa_utils.AveragedModel(nn.Linear(3, 3)),
            "whole torch.optim.swa_utils.AveragedModel")  # fmt: skip
    qd = torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 4)), {nn.Linear}, dtype=torch.qint8)
    o.torch("torch/whole_dynamic_quantized_module.pt", qd, "whole dynamically quantized module (torch.ao)")
    o.torch("torch/dynamic_quantized_state_dict.pt", qd.state_dict(), "dynamically quantized state_dict (packed)")
    sd = nn.utils.parametrizations.weight_norm(nn.Linear(3, 3)).state_dict()
    o.torch("torch/weight_norm_state_dict.pt", sd, "state_dict of a weight_norm parametrized module")
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)
            self.register_buffer("scale", torch.ones(2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x) * self.scale

    torch.export.save(torch.export.export(Scaled(), (torch.zeros(1, 3),)), o.path("torch/exported_program.pt2"))
    o.row("torch/exported_program.pt2", "pytorch-pt2", "torch.export.save archive (.pt2: JSON program, raw weights, "
          "a torch.save zip of sample inputs inside)", "torch")  # fmt: skip
    for proto in (4, 5):
        torch.save({"w": torch.ones(2), "meta": {"epoch": 1}}, o.path(f"torch/state_protocol{proto}.pt"),
                   pickle_protocol=proto)  # fmt: skip
        o.row(f"torch/state_protocol{proto}.pt", "pytorch-zip", f"torch.save(pickle_protocol={proto})", "torch")
    # pickle.dumps (not torch.save) of tensors and modules: each storage is a nested torch.save
    # (torch.storage._load_from_bytes), as in ray, multiprocessing, skorch and many caches
    o.pickle("torch/tensors_via_plain_pickle.pkl", {"w": torch.ones(2, 2), "ids": torch.arange(3)},
             "pickle.dumps of torch tensors (nested torch.save per storage)", "torch")  # fmt: skip
    o.pickle("torch/module_via_plain_pickle.pkl", nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
             "pickle.dumps of a whole nn.Module", "torch")  # fmt: skip


def sklearn_more(o: Out) -> None:
    import joblib
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest, StackingClassifier, VotingClassifier
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, LabelEncoder, PolynomialFeatures
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(20, 3)))
    y = (X[:, 0] > X[:, 0].mean()).astype(int)
    texts = ["good model", "bad model", "great work", "awful bug"] * 3
    models: dict[str, Any] = {
        "function_transformer_log1p": make_pipeline(FunctionTransformer(np.log1p), Ridge()).fit(X, y),
        "grid_search_cv": GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, scoring="accuracy").fit(X, y),
        "knn_kd_tree": KNeighborsClassifier(3, algorithm="kd_tree").fit(X, y),
        "kd_and_ball_trees": {"kd": KDTree(X), "ball": BallTree(X)},
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y),
        "mlp_classifier": MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y),
        "count_and_hashing_vectorizers": {"count": CountVectorizer().fit(texts),
                                          "hash": HashingVectorizer(n_features=8)},
        "imputer_pca_svd_poly": make_pipeline(SimpleImputer(), PolynomialFeatures(2), PCA(2), TruncatedSVD(1)).fit(X),
        "isolation_forest": IsolationForest(n_estimators=3, random_state=0).fit(X),
        "voting_and_stacking": {
            "vote": VotingClassifier([("lr", LogisticRegression()), ("knn", KNeighborsClassifier(3))]).fit(X, y),
            "stack": StackingClassifier([("lr", LogisticRegression())], cv=2).fit(X, y)},
        "calibrated_classifier": CalibratedClassifierCV(LogisticRegression(), cv=2).fit(X, y),
        "label_encoder": LabelEncoder().fit(["cat", "dog", "fish"]),
        "decision_tree_regressor": DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y),
    }  # fmt: skip
    for name, est in models.items():
        o.pickle(f"sklearn/{name}.pkl", est, f"scikit-learn {name.replace('_', ' ')} pickled", "scikit-learn")
    for name in ("grid_search_cv", "hist_gradient_boosting", "function_transformer_log1p"):
        joblib.dump(models[name], o.path(f"sklearn/{name}.joblib"), compress=3)
        o.row(f"sklearn/{name}.joblib", "joblib", f"scikit-learn {name.replace('_', ' ')} joblib.dump compress=3",
              "scikit-learn", "joblib")  # fmt: skip


def accelerate_state(o: Out) -> None:
    """accelerate's save_state folder: model, optimizer, scheduler, RNG states, a registered object."""
    import torch
    from accelerate import Accelerator
    from torch import nn

    class Counter:  # what users register for checkpointing: anything with state_dict/load_state_dict
        def __init__(self) -> None:
            self.steps = 3

        def state_dict(self) -> dict[str, int]:
            return {"steps": self.steps}

        def load_state_dict(self, d: dict[str, int]) -> None:
            self.steps = d["steps"]

    torch.manual_seed(0)
    acc = Accelerator(cpu=True)
    model = nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LinearLR(opt)
    model, opt, sched = acc.prepare(model, opt, sched)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    acc.register_for_checkpointing(Counter())
    acc.save_state("accelerate_state")
    for f in sorted(Path("accelerate_state").iterdir()):
        rel = f"accelerate/save_state/{f.name}"
        shutil.copyfile(f, o.path(rel))
        kind = "safetensors" if f.suffix == ".safetensors" else "pytorch-zip"
        o.row(rel, kind, f"accelerate Accelerator.save_state file {f.name}", "accelerate", "torch")


def lightning_checkpoint(o: Out, tmp: Path) -> None:
    import lightning as L
    import torch

    (tmp / "tinylit.py").write_text(TINYLIT)
    if str(tmp) not in sys.path:
        sys.path.insert(0, str(tmp))
    import tinylit  # type: ignore[import-not-found]

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.ones(4, 4), torch.zeros(4, 1))
    trainer = L.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir="lightning_root")  # fmt: skip
    trainer.fit(tinylit.TinyLit(), torch.utils.data.DataLoader(data, batch_size=2))
    ckpts = sorted(Path("lightning_root").rglob("*.ckpt"))
    assert ckpts, "lightning wrote no checkpoint"
    shutil.copyfile(ckpts[-1], o.path("lightning/epoch_checkpoint.ckpt"))
    o.row("lightning/epoch_checkpoint.ckpt", "pytorch-zip", "Lightning Trainer checkpoint (.ckpt) with hparams, "
          "callbacks, loops, optimizer and scheduler states", "lightning", "torch")  # fmt: skip


def transformers_more(o: Out) -> None:
    import torch
    from transformers import BertForSequenceClassification, GenerationConfig, Seq2SeqTrainingArguments
    from trl import SFTConfig

    torch.manual_seed(0)
    s2s = Seq2SeqTrainingArguments(output_dir="trainer_output", report_to="none", use_cpu=True,
                                   generation_config=GenerationConfig(max_new_tokens=8))  # fmt: skip
    o.torch("transformers/seq2seq_training_args.bin", s2s, "Seq2SeqTrainingArguments with a GenerationConfig "
            "(as Seq2SeqTrainer writes training_args.bin)", "transformers")  # fmt: skip
    sft = SFTConfig(output_dir="trainer_output", report_to="none", use_cpu=True, max_length=64)
    o.torch("transformers/trl_sft_training_args.bin", sft, "TRL SFTConfig (as SFTTrainer writes training_args.bin)",
            "trl", "transformers")  # fmt: skip
    o.pickle("transformers/generation_config.pkl", GenerationConfig(do_sample=True, top_p=0.9),
             "transformers GenerationConfig pickled", "transformers")  # fmt: skip
    model = BertForSequenceClassification(tiny_bert_config())
    o.torch("transformers/pytorch_model.bin", model.state_dict(), "HF-style pytorch_model.bin (state_dict)")
    o.pickle("transformers/bert_config.pkl", tiny_bert_config(), "transformers BertConfig pickled", "transformers")


def pandas_more(o: Out) -> None:
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({
        "period": pd.period_range("2026-01", periods=3, freq="M"),
        "interval": pd.IntervalIndex.from_breaks([0, 1, 2, 3]),
        "sparse": pd.arrays.SparseArray([0, 0, 1]),
        "arrow_str": pd.array(["a", "b", None], dtype="string[pyarrow]"),
        "arrow_int": pd.array([1, 2, None], dtype=pd.ArrowDtype(__import__("pyarrow").int64())),
        "bool_na": pd.array([True, None, False], dtype="boolean"),
        "float32": pd.array([1.0, None, 2.0], dtype="Float32"),
    }, index=pd.DatetimeIndex(["2026-01-01", "2026-01-02", "2026-01-03"], freq="D"))  # fmt: skip
    o.pickle("pandas/dataframe_period_interval_sparse_arrow.pkl", df, "DataFrame with Period, Interval, Sparse, "
             "pyarrow-backed and masked columns, DatetimeIndex", "pandas", "pyarrow")  # fmt: skip
    scalars = {"ts": pd.Timestamp("2026-01-01", tz="UTC"), "td": pd.Timedelta("1h"), "nat": pd.NaT, "na": pd.NA,
               "period": pd.Period("2026-01", freq="M"), "interval": pd.Interval(0, 1), "offset": pd.offsets.Day(2),
               "range_index": pd.RangeIndex(5), "cat_index": pd.CategoricalIndex(["a", "b"]),
               "nan": np.nan}  # fmt: skip
    o.pickle("pandas/scalars_offsets_indexes.pkl", scalars, "pandas Timestamp, Timedelta, NaT, NA, Period, Interval, "
             "DateOffset, RangeIndex, CategoricalIndex", "pandas")  # fmt: skip


def numpy_containers(o: Out) -> None:
    import datetime as dt

    import joblib
    import numpy as np

    obj = np.array([{"label": "cat", "score": 0.9}, ("box", [1, 2]), dt.date(2026, 1, 1), None], dtype=object)
    np.save(o.path("numpy/object_array.npy"), obj, allow_pickle=True)
    o.row("numpy/object_array.npy", "numpy-npy-object", "np.save of an object array (pickle inside .npy)", "numpy")
    np.savez_compressed(o.path("numpy/object_and_numeric_arrays.npz"), labels=obj, weights=np.ones((2, 2)))
    o.row("numpy/object_and_numeric_arrays.npz", "numpy-npz", "np.savez_compressed with an object array member",
          "numpy")  # fmt: skip
    joblib.dump({"labels": obj, "weights": np.arange(6.0).reshape(2, 3), "ints": np.arange(4)},
                o.path("joblib/object_and_numeric_arrays.joblib"))  # fmt: skip
    o.row("joblib/object_and_numeric_arrays.joblib", "joblib", "joblib.dump of object and numeric arrays (a pickle "
          "nested in joblib's array records)", "joblib", "numpy")  # fmt: skip
    joblib.dump({"labels": obj, "w": np.ones(3)}, o.path("joblib/object_and_numeric_arrays_lz4.joblib"),
                compress=("lz4", 3))  # fmt: skip
    o.row("joblib/object_and_numeric_arrays_lz4.joblib", "joblib", "lz4-compressed joblib with an object array",
          "joblib", "numpy", "lz4")  # fmt: skip


def boosters_more(o: Out) -> None:
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=40), "c": pd.Categorical(rng.choice(["a", "b"], 40))})
    y = df["x"] * 2
    o.pickle("xgboost/xgbregressor_categorical.pkl", xgb.XGBRegressor(n_estimators=2, max_depth=2,
             enable_categorical=True, tree_method="hist").fit(df, y), "XGBRegressor on a categorical DataFrame",
             "xgboost", "pandas")  # fmt: skip
    o.pickle("lightgbm/lgbmregressor_categorical.pkl", lgb.LGBMRegressor(n_estimators=2, num_leaves=3,
             min_child_samples=2, verbose=-1).fit(df, y), "LGBMRegressor on a categorical DataFrame", "lightgbm",
             "pandas")  # fmt: skip


def fastai_torchvision(o: Out) -> None:
    """fastai's Learner.export (the export.pkl of many hub repos: a whole Learner) and torchvision transforms."""
    import numpy as np
    import pandas as pd
    import torch
    from fastai.tabular.all import Categorify, FillMissing, Normalize, TabularDataLoaders, accuracy, tabular_learner
    from torchvision import transforms as T

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(18, 80, 32).astype(float), "city": rng.choice(["a", "b", "c"], 32),
                       "y": rng.choice(["no", "yes"], 32)})  # fmt: skip
    dls = TabularDataLoaders.from_df(df, path=".", procs=[Categorify, FillMissing, Normalize], cat_names=["city"],
                                     cont_names=["age"], y_names="y", bs=8)  # fmt: skip
    learn = tabular_learner(dls, layers=[4], metrics=accuracy)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1)
    learn.export(o.path("fastai/export.pkl"))
    o.row("fastai/export.pkl", "pytorch-zip", "fastai Learner.export of a tabular learner (whole Learner, procs, "
          "DataLoaders)", "fastai", "torch", "pandas")  # fmt: skip
    tf = T.Compose([T.Resize(32), T.CenterCrop(28), T.ToTensor(), T.Normalize([0.5], [0.5])])
    o.torch("torchvision/transforms_compose.pt", {"transform": tf}, "torchvision transforms.Compose saved with "
            "torch.save", "torchvision")  # fmt: skip


def data_science_libraries(o: Out) -> None:
    """Other pickles model repositories hold: gensim models, statsmodels results, NLTK's Punkt, skorch nets."""
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    import torch
    from gensim.models import Word2Vec
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    from skorch import NeuralNetClassifier

    sents = [["the", "model", "reads", "files"], ["a", "scanner", "never", "loads", "them"]] * 10
    w2v = Word2Vec(sents, vector_size=4, min_count=1, epochs=1, workers=1, seed=0)
    w2v.save(str(o.path("gensim/word2vec.model")))
    o.row("gensim/word2vec.model", "pickle", "gensim Word2Vec.save (pickle, arrays inline)", "gensim")
    w2v.wv.save(str(o.path("gensim/word2vec.kv")))
    o.row("gensim/word2vec.kv", "pickle", "gensim KeyedVectors.save", "gensim")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2 + rng.normal(size=20)})
    smf.ols("y ~ x", data=df).fit().save(str(o.path("statsmodels/ols_results.pickle")), remove_data=True)
    o.row("statsmodels/ols_results.pickle", "pickle", "statsmodels OLS results .save(remove_data=True) from a "
          "formula", "statsmodels")  # fmt: skip
    punkt = PunktSentenceTokenizer("Dr. Smith went home. He said hi. Mr. Jones stayed. The end. " * 5)
    o.pickle("nltk/punkt_tokenizer.pickle", punkt, "NLTK PunktSentenceTokenizer pickled (as nltk_data's punkt)",
             "nltk", protocol=2)  # fmt: skip
    torch.manual_seed(0)
    net = NeuralNetClassifier(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(dim=-1)), max_epochs=1,
                              verbose=0, train_split=None)  # fmt: skip
    X = rng.normal(size=(8, 3)).astype("float32")
    net.fit(X, (X[:, 0] > 0).astype("int64"))
    o.pickle("skorch/neuralnet_classifier.pkl", net, "skorch NeuralNetClassifier pickled (torch module inside "
             "an sklearn estimator)", "skorch", "torch")  # fmt: skip


def keras_models(o: Out) -> None:
    """Keras 3 (torch backend) models without Lambda layers: nested functional, a registered custom layer."""
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    import numpy as np
    from keras import layers

    @keras.saving.register_keras_serializable(package="tinylm")
    class Scale(layers.Layer):  # a user's registered layer: the config names it, loading needs that code
        def __init__(self, factor: float = 2.0, **kw: Any) -> None:
            super().__init__(**kw)
            self.factor = factor

        def call(self, x: Any) -> Any:
            return x * self.factor

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "factor": self.factor}

    keras.utils.set_random_seed(0)
    inner = keras.Sequential([layers.Input((4,)), layers.Dense(4, activation="gelu")], name="inner")
    inp = keras.Input((4,), name="x")
    h = Scale(0.5)(layers.LayerNormalization()(inner(inp)))
    model = keras.Model(inp, layers.Dense(2, activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.ones((4, 4)), np.zeros(4), epochs=1, verbose=0)
    model.save(o.path("keras/nested_functional.keras"))
    o.row("keras/nested_functional.keras", "keras-v3", "Keras 3 .keras: nested Sequential in a functional model, "
          "registered custom layer, compiled with optimizer state", "keras", "torch")  # fmt: skip
    model.save(o.path("keras/nested_functional.h5"))
    o.row("keras/nested_functional.h5", "keras-h5", "legacy HDF5 model.save of the same model", "keras", "h5py")
    model.save_weights(o.path("keras/nested_functional.weights.h5"))
    o.row("keras/nested_functional.weights.h5", "keras-weights-h5", "Keras save_weights (.weights.h5)", "keras",
          "h5py")  # fmt: skip
    seq = keras.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu"), layers.MaxPooling2D(),
                            layers.Flatten(), layers.Dropout(0.1), layers.Dense(3)])  # fmt: skip
    seq.save(o.path("keras/convnet_sequential.keras"))
    o.row("keras/convnet_sequential.keras", "keras-v3", "Keras 3 .keras: Sequential convnet", "keras", "torch")


def onnx_models(o: Out) -> None:
    """ONNX from the converters: an sklearn pipeline (ai.onnx.ml domain), lightgbm, a torch MLP, external data."""
    import lightgbm as lgb
    import numpy as np
    import onnx
    import torch
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    onnx.save(to_onnx(pipe, X[:1], target_opset={"": 17, "ai.onnx.ml": 3}), o.path("onnx/sklearn_pipeline.onnx"))
    o.row("onnx/sklearn_pipeline.onnx", "onnx", "skl2onnx: Scaler + LinearClassifier + ZipMap (ai.onnx.ml domain)",
          "skl2onnx", "onnx")  # fmt: skip
    lg = lgb.LGBMClassifier(n_estimators=2, num_leaves=3, min_child_samples=2, verbose=-1).fit(X, y)
    lm = convert_lightgbm(lg, initial_types=[("x", FloatTensorType([None, 3]))], target_opset=15, zipmap=False)
    onnx.save(lm, o.path("onnx/lightgbm.onnx"))
    o.row("onnx/lightgbm.onnx", "onnx", "onnxmltools: LightGBM TreeEnsembleClassifier (ai.onnx.ml)", "onnxmltools",
          "onnx")  # fmt: skip
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch.onnx.export(net, (torch.zeros(1, 3),), str(o.path("onnx/torch_mlp_legacy_exporter.onnx")), dynamo=False,
                      input_names=["x"], output_names=["y"])  # fmt: skip
    o.row("onnx/torch_mlp_legacy_exporter.onnx", "onnx", "torch.onnx.export(dynamo=False) of an MLP", "torch", "onnx")
    # the default (torch.export-based) exporter writes the weights beside the graph
    torch.onnx.export(net, (torch.zeros(1, 3),), str(o.path("onnx/torch_mlp.onnx")), input_names=["x"],
                      output_names=["y"])  # fmt: skip
    for f in sorted(o.path("onnx").glob("torch_mlp.onnx*")):
        o.row(f"onnx/{f.name}", "onnx" if f.suffix == ".onnx" else "onnx-external-data",
              f"torch.onnx.export (torch.export-based, default) wrote {f.name}", "torch", "onnx", "onnxscript")
    legacy = onnx.load(str(o.path("onnx/torch_mlp_legacy_exporter.onnx")))
    onnx.save_model(legacy, str(o.path("onnx/external/model.onnx")), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)  # fmt: skip
    o.row("onnx/external/model.onnx", "onnx", "ONNX with its weights in external data (model.onnx.data)", "onnx")
    o.row("onnx/external/model.onnx.data", "onnx-external-data", "the external data file beside it", "onnx")


def stdlib_objects(o: Out) -> None:
    import argparse as ap
    import collections
    import datetime as dt
    import decimal
    import fractions
    import pathlib
    import re
    import time
    import uuid

    objs = {
        "datetime": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "date": dt.date(2026, 1, 2),
        "time": dt.time(3, 4), "timedelta": dt.timedelta(hours=5), "tz": dt.timezone(dt.timedelta(hours=2), "X"),
        "decimal": decimal.Decimal("3.14"), "fraction": fractions.Fraction(1, 3),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "pure_posix": pathlib.PurePosixPath("runs/exp1"), "posix": pathlib.PosixPath("/data/train.csv"),
        "pure_windows": pathlib.PureWindowsPath(r"C:\\runs"),
        "ordered": collections.OrderedDict(a=1), "default": collections.defaultdict(list, {"k": [1]}),
        "counter": collections.Counter("aab"), "deque": collections.deque([1, 2], maxlen=5),
        "namespace": ap.Namespace(lr=0.1), "set": {1, 2}, "frozenset": frozenset({3}), "complex": 1 + 2j,
        "bytearray": bytearray(b"ab"), "range": range(3), "slice": slice(1, 5, 2),
        "enum": re.IGNORECASE, "struct_time": time.gmtime(0),
    }  # fmt: skip
    for proto in (0, 2, 4):
        o.pickle(f"stdlib/stdlib_objects_protocol{proto}.pkl", objs, "datetime, decimal, uuid, pathlib, "
                 f"collections, argparse objects (protocol {proto})", "python", protocol=proto)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":  # set orders inside pickles follow string hashes
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():  # rewritten from scratch; the folder's README is written by hand
        if p.is_dir():
            shutil.rmtree(p)
        elif p.name != "README.md":
            p.unlink()
    o = Out(out)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        trainer_checkpoint(o)
        torch_modules(o, Path(tmp))
        torch_tensors(o)
        torch_training_state(o)
        torchscript(o)
        peft_accelerate(o)
        models = sklearn_models(o)
        joblib_compressors(o, models)
        numpy_scipy(o)
        pandas_frames(o)
        boosters(o)
        tokenizer_objects(o)
        stdlib_objects(o)
        torch_more(o)
        sklearn_more(o)
        accelerate_state(o)
        lightning_checkpoint(o, Path(tmp))
        transformers_more(o)
        pandas_more(o)
        numpy_containers(o)
        boosters_more(o)
        fastai_torchvision(o)
        data_science_libraries(o)
        keras_models(o)
        onnx_models(o)
    o.rows.sort(key=lambda r: r["file"])
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["file", "kind", "malicious", "technique", "source"], lineterminator="\n")
        w.writeheader()
        w.writerows(o.rows)
    lines = [f"python {sys.version.split()[0]}"] + [f"{lib} {version(lib)}" for lib in LIBS if version(lib)]
    (out / "VERSIONS.txt").write_text("\n".join(lines) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(o.rows)} files, {size / 1e6:.2f} MB in {out}")
    for s in o.skipped:
        print("skipped:", s)


if __name__ == "__main__":
    main()
