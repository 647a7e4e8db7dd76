"""Keras HDF5 configs read as JSON (any spelling, anywhere in the file), SavedModel graphs read as protobuf
(any varint spelling, the whole file), text-format SavedModels and keras_metadata.pb judged (review R5, R6, R31).

The .h5 fixtures are made by tests/data/secformats/gen_keras_h5.py with the real Keras 3.15.1 and h5py 3.16.0
(Keras loads the rewritten Lambda configs: the script asserts it)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import SHARED

import aitrail.analyze.security as S

DATA = Path(__file__).parent / "data" / "secformats"
CORPUS = SHARED / "data" / "security-corpus" / "files"
formats = importlib.import_module("aitrail.analyze.security.formats")


def _found(path: Path) -> set[tuple[str, str]]:
    return {(f.rule, f.severity) for f in S.scan_file(path, path.name).findings}


@pytest.mark.parametrize("name", ["lambda_spaced.h5", "lambda_escaped.h5"])
def test_a_lambda_in_a_respelt_h5_config_is_critical(name):
    assert ("keras.lambda", "critical") in _found(DATA / name)


def test_a_function_from_a_non_keras_module_in_an_h5_config_is_critical():
    assert ("keras.module-injection", "critical") in _found(DATA / "posix_activation.h5")


def test_a_plain_keras_h5_and_weights_only_h5_are_quiet():
    assert _found(DATA / "benign_dense.h5") == set()
    assert _found(Path(__file__).parent / "data/security/benign/keras/nested_functional.weights.h5") == set()


def test_a_config_past_any_offset_and_across_read_chunks_is_judged(tmp_path, monkeypatch):
    """Attributes written after the weights sit at the file's end (an object-header continuation): the
    whole file is read, a config straddling two reads is decoded whole."""
    monkeypatch.setattr(formats, "_CHUNK", 4096)
    cfg = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "L\\u0061mbda"}]}})
    raw = (DATA / "benign_dense.h5").read_bytes()
    big = tmp_path / "m.h5"
    big.write_bytes(raw + b"\0" * (3 * 4096 + 4000) + cfg.replace("\\\\", "\\").encode() + b"\0" * 100)
    assert ("keras.lambda", "critical") in _found(big)


def test_an_h5_naming_a_model_config_none_can_read_is_high(tmp_path):
    """e.g. a config stored as a variable-length string split across heap blocks, or compressed."""
    raw = (DATA / "benign_dense.h5").read_bytes()
    (tmp_path / "b.h5").write_bytes(raw.replace(b'{"', b'{\x01'))  # no JSON object decodes any more
    assert ("keras.config-unreadable", "high") in _found(tmp_path / "b.h5")


def _field(num: int, payload: bytes, overlong: bool = False) -> bytes:
    """A length-delimited protobuf field; ``overlong`` spells the tag and length as 2-byte varints
    (non-canonical, accepted by protobuf parsers)."""
    tag = (num << 3) | 2
    assert tag < 128 and len(payload) < 128
    if overlong:
        return bytes([tag | 0x80, 0, len(payload) | 0x80, 0]) + payload
    return bytes([tag, len(payload)]) + payload


@pytest.mark.parametrize("overlong", [False, True])
@pytest.mark.parametrize("where", ["graph", "function-library"])
def test_savedmodel_ops_are_read_from_the_protobuf(tmp_path, overlong, where):
    node = _field(1, b"n") + _field(2, b"ReadFile", overlong)
    graph = _field(1, node, overlong) if where == "graph" else _field(2, _field(1, _field(3, node, overlong)))
    saved = b"\x08\x01" + _field(2, _field(2, graph, overlong), overlong)
    (tmp_path / "saved_model.pb").write_bytes(saved)
    assert _found(tmp_path / "saved_model.pb") == {("tensorflow.file-or-python-op", "high")}


def test_savedmodel_larger_than_the_old_search_limit_is_read_whole(tmp_path):
    pad = _field(9, b"x" * 100)
    node = _field(2, b"EagerPyFunc")
    saved = pad * (700_000) + _field(2, _field(2, _field(1, node)))  # ~71 MB before the graph
    (tmp_path / "saved_model.pb").write_bytes(saved)
    assert _found(tmp_path / "saved_model.pb") == {("tensorflow.file-or-python-op", "high")}


def test_real_savedmodels():
    assert _found(CORPUS / "t01_tf_savedmodel_benign" / "saved_model.pb") == set()
    assert ("tensorflow.file-or-python-op", "high") in _found(CORPUS / "t02_tf_savedmodel_readfile_writefile" /
                                                              "saved_model.pb")


def test_a_savedmodel_that_is_not_protobuf_is_high(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01" + b"\0" * 100 + b"\x12\x08ReadFile")
    assert {s for _, s in _found(tmp_path / "saved_model.pb")} == {"high"}


@pytest.mark.parametrize(
    "spelling",
    ['op: "ReadFile"', "op: 'WriteFile'", 'op : "Read" "File"', 'op: "\\x52eadFile"', 'op: "\\122eadFile"',
     'op:"EagerPyFunc"', 'name: "a#b" op: "ReadFile"'],
)
def test_text_format_savedmodel_ops_are_judged(tmp_path, spelling):
    (tmp_path / "saved_model.pbtxt").write_text(
        "saved_model_schema_version: 1\nmeta_graphs {\n  graph_def {\n    # op: \"ShellExecute\" in a comment\n"
        f"    node {{ name: \"f\" {spelling} input: \"p\" }}\n  }}\n}}\n"
    )
    found = _found(tmp_path / "saved_model.pbtxt")
    assert found == {("tensorflow.file-or-python-op", "high")}, found
    rep = S.scan_file(tmp_path / "saved_model.pbtxt", "saved_model.pbtxt")
    assert not any("ShellExecute" in f.message for f in rep.findings)  # comments are not graph ops


def test_a_text_format_savedmodel_folder_is_judged_by_security_and_check(tmp_path):
    (tmp_path / "saved_model.pbtxt").write_text('meta_graphs { graph_def { node { op: "ReadFile" } } }\n')
    (tmp_path / "README.md").write_text("# m\n")
    report = S.scan(tmp_path)
    assert report["max_severity"] == "high"
    import aitrail

    inv = aitrail.scan(tmp_path)
    assert any(f.rule == "security.tensorflow.file-or-python-op" for f in inv.findings)


def test_keras_metadata_pb_layers_are_judged(tmp_path):
    """tf.keras SavedModels keep each layer's config as JSON in keras_metadata.pb (SavedMetadata.nodes)."""
    meta = json.dumps({"class_name": "Lambda", "name": "lam", "config": {"function": "4wEAAAAA"}}).encode()
    node = _field(1, b"\x08\x01") + bytes([(4 << 3) | 2]) + bytes([len(meta) | 0x80, len(meta) >> 7]) + meta
    (tmp_path / "keras_metadata.pb").write_bytes(b"\x0a" + bytes([len(node) | 0x80, len(node) >> 7]) + node)
    assert ("keras.lambda", "critical") in _found(tmp_path / "keras_metadata.pb")
    quiet = tmp_path / "q" / "keras_metadata.pb"
    quiet.parent.mkdir()
    quiet.write_bytes(b"\x0a\x02\x08\x01")
    assert _found(quiet) == set()


def test_shared_h5_attacks_stay_critical(tmp_path):
    for name in ("k01_keras_h5_lambda.h5", "k02_keras_h5_nested_lambda.h5"):
        shutil.copy(CORPUS / name, tmp_path / name)
        assert ("keras.lambda", "critical") in _found(tmp_path / name)


def test_an_op_name_used_as_a_node_name_or_constant_is_not_an_op(tmp_path):
    node = _field(1, b"ReadFile") + _field(2, b"Const") + _field(5, _field(1, b"value") + _field(2, b"WriteFile"))
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01" + _field(2, _field(2, _field(1, node))))
    assert _found(tmp_path / "saved_model.pb") == set()


@pytest.mark.parametrize("fn,bad", [("io.write_file", True), ("compat.v1.py_func", True), ("raw_ops.ReadFile", True),
                                    ("math.add", False), ("__operators__.add", False), ("nn.relu", False)])
def test_tf_keras_op_layers_calling_file_or_python_apis(fn, bad):
    """tf_keras TFOpLambda.from_config calls the TensorFlow function its config names, with its config's arguments."""
    from aitrail.analyze.security.formats import keras_config

    layer = {"class_name": "TFOpLambda", "config": {"name": f"tf.{fn}", "function": fn}, "inbound_nodes": []}
    rep = S.FileReport("m.h5", None, "hdf5")
    keras_config(rep, {"class_name": "Functional", "config": {"layers": [layer]}}, "m.h5")
    assert [(f.rule, f.severity) for f in rep.findings] == ([("keras.dangerous-function", "critical")] if bad else [])


def test_an_h5_whose_attribute_heap_is_compressed_is_high(tmp_path):
    """Dense attribute storage may carry an I/O filter: model_config (name and JSON) is then not in the bytes."""
    raw = (DATA / "dense_attrs.h5").read_bytes()
    assert _found(DATA / "dense_attrs.h5") == set()  # the plain dense storage is read as usual
    at = raw.index(b"FRHP")
    (tmp_path / "c.h5").write_bytes(raw[: at + 7] + b"\x10\x00" + raw[at + 9 :])
    assert ("keras.config-unreadable", "high") in _found(tmp_path / "c.h5")


def test_a_keras_config_inside_a_larger_decodable_object_is_judged(tmp_path):
    inner = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda"}]}})
    (tmp_path / "w.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64 + b'{"x": ' + inner.encode() + b"}" + b"\0" * 8)
    assert ("keras.lambda", "critical") in _found(tmp_path / "w.h5")


@pytest.mark.parametrize("stream,bad", [(b"file:///tmp/x", True), (b"stderr", False)])
def test_tf_print_to_a_file_is_a_file_write(tmp_path, stream, bad):
    attr = _field(1, b"output_stream") + _field(2, _field(2, stream))  # map entry: key, AttrValue{s}
    node = _field(1, b"p") + _field(2, b"PrintV2") + _field(5, attr)
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01" + _field(2, _field(2, _field(1, node))))
    assert _found(tmp_path / "saved_model.pb") == ({("tensorflow.file-or-python-op", "high")} if bad else set())


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def test_the_format_dispatch_judges_other_readings(tmp_path):
    """A .keras zip appended to a benign pickle (zipfile finds it from the end: keras.saving.load_model opens
    it) is judged by scan_file itself, not only by other_readings() called directly."""
    import io
    import pickle
    import zipfile
    from collections import OrderedDict

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("model.pkl", pickle.dumps(_Evil()))  # made, never loaded
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(OrderedDict(a=1)) + archive.getvalue())
    found = _found(path)
    assert ("format.polyglot", "high") in found and ("pickle.dangerous-global", "critical") in found, found


def test_an_onnx_limit_reached_is_high():
    """R30: for ONNX and safetensors the cataloger is the security check: a limit it reached left the rest
    (external data paths...) unjudged."""
    from aitrail.analyze.security.formats import from_catalog_error

    rep = S.FileReport("m.onnx", None, "onnx")
    from_catalog_error(rep, "scan.limit-exceeded", "m.onnx: more than 20,000,000 protobuf fields")
    assert [(f.rule, f.severity) for f in rep.findings] == [("limit-exceeded", "high")]


def test_text_format_print_to_a_file(tmp_path):
    (tmp_path / "saved_model.pbtxt").write_text(
        'meta_graphs { graph_def { node { name: "p" op: "PrintV2" input: "s"\n'
        '  attr { key: "output_stream" value { s: "file:///tmp/x" } } } } }\n'
    )
    assert _found(tmp_path / "saved_model.pbtxt") == {("tensorflow.file-or-python-op", "high")}
    (tmp_path / "saved_model.pbtxt").write_text(
        'meta_graphs { graph_def { node { op: "PrintV2" attr { key: "output_stream" value { s: "stderr" } } } } }\n'
    )
    assert _found(tmp_path / "saved_model.pbtxt") == set()
