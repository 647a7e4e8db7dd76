"""Issue 10 leftovers of the security dispatch: Keras configs past the JSON limits, chat template files,
remote code named by a tokenizer's or processor's config, zip members with an empty name, and .keras
members whose declared sizes would have zipfile allocate gigabytes."""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

from aitrail.analyze import security as S
from aitrail.catalog import arrays
from aitrail.catalog.base import FileRef

LAMBDA = {"class_name": "Lambda", "config": {"name": "l", "function": "YmFk"}}


def _rules(rep: S.FileReport) -> dict[str, str]:
    return {f.rule: f.severity for f in rep.findings}


def _keras(path: Path, config: str) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        z.writestr("config.json", config)
        z.writestr("model.weights.h5", b"")


def test_a_keras_lambda_beside_a_5000_deep_list_is_critical(tmp_path):
    deep = "[" * 5000 + "]" * 5000
    dense = '{"class_name": "Dense", "config": {"units": ' + deep + "}}"
    cfg = '{"class_name": "Sequential", "config": {"layers": [' + json.dumps(LAMBDA) + ", " + dense + "]}}"
    p = tmp_path / "model.keras"
    _keras(p, cfg)
    rep = S.scan_file(p, p.name)
    sev = _rules(rep)
    assert sev.get("keras.lambda") == "critical", rep.findings
    assert sev.get("keras.config-unreadable") == "high"  # still says the config was not judged as a whole
    assert all("model.keras:config.json" in (f.location or "") for f in rep.findings)


def test_a_keras_config_past_the_size_limit_is_high(tmp_path, monkeypatch):
    import aitrail.analyze.security as sec

    monkeypatch.setattr(sec, "MAX_SCAN_BYTES", 100)
    p = tmp_path / "model.keras"
    _keras(p, json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}] * 20}}))
    assert _rules(S.scan_file(p, p.name)) == {"keras.config-limit": "high"}


def test_a_chat_template_file_is_judged(tmp_path):
    bad = "{{ cycler['__in' + 'it__']['__glo' ~ 'bals__'] }}"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": bad}))
    (tmp_path / "chat_template.jinja").write_text(bad)
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": bad}))
    for name in ("tokenizer_config.json", "chat_template.jinja", "chat_template.json"):
        rep = S.scan_file(tmp_path / name, name)
        assert rep.findings and all(f.severity in ("high", "critical") for f in rep.findings), (name, rep.findings)
        assert all(f.rule.startswith("chat-template.") for f in rep.findings)
    # and a folder of only a chat_template.json is something the rules judge (no NothingToScan)
    only = tmp_path / "only"
    only.mkdir()
    (only / "chat_template.json").write_text(json.dumps({"chat_template": bad}))
    assert S.scan(only)["max_severity"] in ("high", "critical")


def test_benign_chat_template_files_pass(tmp_path):
    ok = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] }}{% endfor %}"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": ok, "model_max_length": 512}))
    assert S.scan_file(tmp_path / "tokenizer_config.json", "tokenizer_config.json").findings == []


def test_remote_code_named_by_a_tokenizer_config_is_reviewed(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}})
    )
    (tmp_path / "tokenization_x.py").write_text("import os\nos.system('id')\n")
    (tmp_path / "helper.py").write_text("import os\nos.system('id')\n")  # named by no auto_map: not judged
    report = S.scan(tmp_path)
    by = {r["path"]: r for r in report["files"]}
    assert any(f["severity"] in ("high", "critical") for f in by["tokenization_x.py"]["findings"]), by
    assert by["helper.py"]["findings"] == []


def test_remote_code_named_by_a_processor_config_alone_is_reviewed(tmp_path):
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"auto_map": {"AutoImageProcessor": "image_processing_x.XProcessor"}})
    )
    (tmp_path / "image_processing_x.py").write_text("import subprocess\nsubprocess.run(['id'])\n")
    report = S.scan(tmp_path)  # without the auto_map, nothing here is judged (NothingToScan)
    by = {r["path"]: r for r in report["files"]}
    assert report["max_severity"] in ("high", "critical"), by


def _zip_with_empty_name(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
        z.writestr(zipfile.ZipInfo(""), pickle.dumps([1, 2], protocol=2))


def test_a_zip_member_with_an_empty_name_is_a_finding_naming_the_archive(tmp_path):
    p = tmp_path / "model.pt"
    _zip_with_empty_name(p)
    assert [i.filename for i in zipfile.ZipFile(p).infolist()] == ["archive/data.pkl", ""]
    rep = S.scan_file(p, p.name)
    rules = [(f.rule, f.severity) for f in rep.findings]
    assert ("zip.corrupt", "high") in rules, rules
    assert [f for f in rep.findings if f.rule == "zip.corrupt"][0].message.startswith("model.pt:")
    assert not any(f.rule == "security.incomplete" for f in rep.findings), rules


def _lying_stored_size(path: Path, member: str, size: int) -> None:
    """Set the central-directory compressed size of a stored member (what zipfile trusts) to ``size``."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + n]) == name:
            struct.pack_into("<I", data, at + 20, size)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    else:
        raise AssertionError(member)
    path.write_bytes(bytes(data))


def test_a_keras_member_declaring_2_gib_is_not_read(tmp_path):
    # Found by fuzzing (seed 23, input 310): a stored metadata.json whose compressed size says 2 GiB had
    # zipfile allocate 2 GiB for one read (MemoryError under the fuzz workers' 1 GiB limit).
    p = tmp_path / "model.keras"
    _keras(p, json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
    _lying_stored_size(p, "metadata.json", 2147483674)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from pathlib import Path\n"
        "from aitrail.catalog import arrays\n"
        "from aitrail.catalog.base import FileRef\n"
        "p = Path(sys.argv[1])\n"
        "out = arrays.catalog_keras(FileRef(path=p, rel=p.name, size=p.stat().st_size, head=b'', format='keras'))\n"
        "print([(f.rule, f.severity.value, f.message) for f in out.findings])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "scan.keras.malformed" in res.stdout and "metadata.json declares 2147483674 bytes" in res.stdout


def test_a_keras_member_past_the_read_limit_is_a_finding(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "MAX_KERAS_MEMBER", 64)
    p = tmp_path / "model.keras"
    _keras(p, json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}] * 10}}))
    out = arrays.catalog_keras(FileRef(path=p, rel=p.name, size=p.stat().st_size, head=b"", format="keras"))
    assert [(f.rule, f.severity.value) for f in out.findings] == [("scan.keras.malformed", "medium")]
    assert out.properties.get("keras_version") == "3.6.0" and "class_name" not in out.properties
