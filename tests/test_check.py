"""`aitrail check`: one pass, one document, a policy, reports for people and CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from builders import safetensors_file, torch_zip
from conftest import MINILM, SHARED

from aitrail.cli import main
from aitrail.export import json_inventory

CORPUS = SHARED / "data" / "security-corpus" / "files"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def model_dir(tmp_path: Path, license: str = "apache-2.0", extra: dict[str, bytes] | None = None) -> Path:
    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    (d / "README.md").write_text(f"---\nlicense: {license}\n---\n# tiny\n")
    safetensors_file(d / "model.safetensors", {"w": ("float32", (4, 4))})
    for name, data in (extra or {}).items():
        (d / name).write_bytes(data)
    return d


def policy(tmp_path: Path, text: str) -> str:
    p = tmp_path / "policy.yaml"
    p.write_text("aitrail_policy: 1\n" + text)
    return str(p)


def test_contract_keys_and_a_passing_real_model(capsys):
    code, out, _ = run(capsys, str(MINILM), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert {"inventory", "licenses", "openness", "security", "policy"} <= set(doc)
    assert doc["policy"]["passed"] is True and doc["policy"]["violations"] == []
    assert json_inventory.validate(doc["inventory"]) == []
    assert doc["licenses"]["use"] == "commercial" and doc["licenses"]["verdict"] in ("allowed", "unknown")
    assert doc["openness"][0]["mof"]["label"]
    # the security section is `aitrail security`'s contract, with the digests the scan computed
    digests = {c["path"]: c["sha256"] for c in doc["inventory"]["components"] if c.get("path")}
    files = doc["security"]["files"]
    assert len(files) == len(digests) and all(f["sha256"] == digests[f["path"]] for f in files)
    assert doc["security"]["rules_version"] and "max_severity" in doc["security"]


def test_security_violation_fails_and_a_waiver_passes(tmp_path, capsys):
    d = model_dir(tmp_path, extra={"pytorch_model.bin": (CORPUS / "x01_pip_main.pkl").read_bytes()})
    code, out, _ = run(capsys, str(d), "--format", "json")
    doc = json.loads(out)
    assert code == 1
    v = doc["policy"]["violations"]
    assert [x["policy_key"] for x in v] == ["security.fail_on"]
    assert any("pytorch_model.bin" in e for e in v[0]["evidence"])
    pol = policy(
        tmp_path,
        "security:\n  fail_on: high\n  ignore:\n    - {rule: 'pickle.*', path: pytorch_model.bin, reason: test}\n",
    )
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", pol)
    doc = json.loads(out)
    assert code == 0 and doc["policy"]["waived"] and doc["policy"]["waived"][0]["reason"] == "test"


def test_licence_rules(tmp_path, capsys):
    d = model_dir(tmp_path, license="cc-by-nc-4.0")
    code, out, _ = run(capsys, str(d), "--format", "json")  # default policy: the use must not be refused
    doc = json.loads(out)
    assert code == 1 and doc["licenses"]["verdict"] == "not_allowed"
    assert doc["policy"]["violations"][0]["policy_key"] == "licenses.verdict"
    assert code == 1 and "not allowed" in doc["policy"]["violations"][0]["message"]
    assert main(["check", str(d), "--use", "research", "-f", "json"]) == 0
    capsys.readouterr()
    pol = policy(tmp_path, "use: research\nlicenses:\n  allow: [MIT, Apache-2.0]\n  deny: [CC-BY-NC-4.0]\n")
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", pol)
    keys = [v["policy_key"] for v in json.loads(out)["policy"]["violations"]]
    assert code == 1 and keys == ["licenses.allow", "licenses.deny"]


def test_openness_documentation_and_format_rules(tmp_path, capsys):
    d = model_dir(tmp_path)
    torch_zip(d / "pytorch_model.bin", {"w": (2, 2)})
    pol = policy(
        tmp_path,
        "openness: {min_mof_class: 3, osaid: true}\n"
        "documentation: {required: [model.version, model.license]}\n"
        "formats: {banned: [pytorch-zip]}\n",
    )
    code, out, _ = run(capsys, str(d), "--format", "json", "--policy", pol)
    v = {x["policy_key"]: x for x in json.loads(out)["policy"]["violations"]}
    assert code == 1
    assert set(v) == {
        "openness.min_mof_class",
        "openness.osaid",
        "documentation.required[model.version]",
        "formats.banned",
    }
    assert any("pytorch_model.bin" in e for e in v["formats.banned"]["evidence"])
    assert v["openness.min_mof_class"]["evidence"]  # what the next class needs


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("securty: {fail_on: high}\n", "'securty'"),
        ("security: {fail_on: severe}\n", "security.fail_on"),
        ("openness: {min_mof_class: true}\n", "openness.min_mof_class"),
        ("openness: {min_mof_class: '2'}\n", "openness.min_mof_class"),
        ("licenses: {allow: [MIT, 3]}\n", "licenses.allow[1]"),
        ("documentation: {required: [model.colour]}\n", "model.colour"),
        ("security: {ignore: [{path: x}]}\n", "security.ignore[0]"),
        ("licenses: [MIT]\n", "licenses"),
    ],
)
def test_bad_policies_name_the_key(tmp_path, capsys, text, named):
    code, out, err = run(capsys, str(MINILM), "--policy", policy(tmp_path, text))
    assert code == 2 and named in err and "policy.yaml" in err and out == ""


def test_policy_without_version_and_unreadable(tmp_path, capsys):
    p = tmp_path / "p.yaml"
    p.write_text("use: research\n")
    code, _, err = run(capsys, str(MINILM), "--policy", str(p))
    assert code == 2 and "aitrail_policy" in err
    code, _, err = run(capsys, str(MINILM), "--policy", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml" in err


def test_nothing_recognisable_is_a_helpful_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("shopping list\n")
    code, out, err = run(capsys, str(tmp_path), "--report", str(tmp_path / "r.html"))
    assert code == 2 and "nothing here is recognisable as a model" in err and "notes.txt" in err
    assert not (tmp_path / "r.html").exists() and out == ""
    code, _, err = run(capsys, str(tmp_path / "absent"))
    assert code == 2 and "absent" in err


def test_output_is_deterministic_and_timestamps_only_when_asked(tmp_path, capsys):
    outs = []
    for i in range(2):
        r = tmp_path / f"run{i}"
        r.mkdir()  # outputs never create folders (--mkdirs does)
        for fmt in ("json", "sarif", "markdown"):
            assert (
                main(["check", str(MINILM), "-f", fmt, "-o", str(r / f"out.{fmt}"), "--report", str(r / "r.html")]) == 0
            )
        outs.append({p.name: p.read_bytes() for p in sorted(r.iterdir())})
    assert outs[0] == outs[1] and len(outs[0]) == 4
    main(["check", str(MINILM), "--report", str(tmp_path / "t.md"), "--timestamp", "-q"])
    assert b"20" in (tmp_path / "t.md").read_bytes().splitlines()[-1]  # the year, in the footer
    assert b"UTC" not in outs[0]["r.html"] and b"+00:00" not in outs[0]["r.html"]


def test_sarif_holds_security_findings_and_policy_violations(tmp_path, capsys):
    d = model_dir(tmp_path, extra={"pytorch_model.bin": (CORPUS / "x01_pip_main.pkl").read_bytes()})
    code, out, _ = run(capsys, str(d), "--format", "sarif")
    doc = json.loads(out)
    from sarif_pydantic import Sarif

    assert code == 1 and Sarif.model_validate(doc).version == "2.1.0"
    rules = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert "policy/security.fail_on" in rules and any(r.startswith("pickle.") for r in rules)
    ids = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules <= ids


class _Parts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith("#"):
                self.urls.append(v)
            if k == "id":
                self.ids.add(v)

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_and_complete(tmp_path):
    d = model_dir(tmp_path, extra={"pytorch_model.bin": (CORPUS / "x01_pip_main.pkl").read_bytes()})
    (d / "aitrail.yaml").write_text("base_models: [{id: org/base-model, relation: fine-tune, license: mit}]\n")
    assert main(["check", str(d), "--report", str(tmp_path / "r.html"), "--report", str(tmp_path / "r.md"), "-q"]) == 1
    html = (tmp_path / "r.html").read_text()
    p = _Parts()
    p.feed(html)
    assert p.urls == [] and "script" not in p.tags and "link" not in p.tags  # nothing fetched, nothing run
    assert {"summary", "lineage", "licences", "openness", "security", "completeness", "components", "digests"} <= p.ids
    text = " ".join(p.text)
    for needle in ("FAILED", "org/base-model", "fine-tune", "pytorch_model.bin", "security.fail_on", "model.version"):
        assert needle in text, needle
    assert "@media print" in html and html.count("<svg") >= 4  # lineage + three badges
    md = (tmp_path / "r.md").read_text()
    assert "❌" in md and "security.fail_on" in md and "org/base-model (fine-tune)" in md


def test_report_name_and_write_errors(tmp_path, capsys):
    code, _, err = run(capsys, str(MINILM), "--report", str(tmp_path / "r.pdf"))
    assert code == 2 and "*.html or *.md" in err
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, str(MINILM), "-f", "json", "-o", str(tmp_path / "file" / "out.json"))
    assert code == 2 and "is not a folder" in err  # refused before the scan
    code, _, err = run(capsys, str(MINILM), "-f", "json", "-o", str(tmp_path / "missing" / "out.json"))
    assert code == 2 and "does not exist" in err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("AITRAIL_REQUIRE_BROWSER"),
    reason="chromium not installed (.ci/run installs it and sets AITRAIL_REQUIRE_BROWSER)",
)
def test_report_renders_in_a_real_browser(tmp_path):
    """Headless chromium draws the page: the banner's colour and the lineage graph are on screen."""
    browser = _chromium()
    assert browser, "AITRAIL_REQUIRE_BROWSER is set but no chromium was found"
    d = model_dir(tmp_path, extra={"pytorch_model.bin": (CORPUS / "x01_pip_main.pkl").read_bytes()})
    report = tmp_path / "r.html"
    main(["check", str(d), "--report", str(report), "-q"])
    shot = tmp_path / "shot.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,900"]
    subprocess.run([*common, f"--screenshot={shot}", report.as_uri()], check=True, capture_output=True, timeout=120)
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], check=True, capture_output=True, timeout=120, text=True
    ).stdout
    assert "FAILED" in dom and "<svg" in dom
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 900)
    colours = img.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text and boxes were drawn, not a blank page
    # the FAILED banner: light red background (#ffebee) covers a band near the top of the page
    banner = sum(n for n, c in colours if c == (0xFF, 0xEB, 0xEE))
    assert banner > 1200 * 20
    pdf = tmp_path / "r.pdf"  # the print stylesheet: the page prints to PDF
    subprocess.run([*common, f"--print-to-pdf={pdf}", report.as_uri()], check=True, capture_output=True, timeout=120)
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_documents_match_the_published_schema(tmp_path, capsys):
    from aitrail.check import validate

    d = model_dir(tmp_path, extra={"pytorch_model.bin": (CORPUS / "x01_pip_main.pkl").read_bytes()})
    (d / "model.sig").write_bytes(b"not really a bundle")
    for target in (MINILM, d):
        _, out, _ = run(capsys, str(target), "-f", "json")
        doc = json.loads(out)
        assert validate(doc) == []
    assert doc["security"]["signatures"][0]["path"] == "model.sig"
    doc["policy"]["passed"] = "yes"
    assert validate(doc)


@pytest.mark.parametrize("name", ["commercial-product.yaml", "open-science.yaml", "security-gate.yaml"])
def test_example_policies_load_and_judge_the_real_model(name, capsys):
    from conftest import ROOT

    code, out, err = run(capsys, str(MINILM), "-f", "json", "--policy", str(ROOT / "examples" / "policies" / name))
    doc = json.loads(out)
    assert code in (0, 1) and name in doc["policy"]["source"], err
    if name == "open-science.yaml":  # all-MiniLM-L6-v2 releases no training code or data: not open science
        keys = {v["policy_key"] for v in doc["policy"]["violations"]}
        assert code == 1 and {"openness.min_mof_class", "openness.osaid"} <= keys
    if name == "security-gate.yaml":
        assert code == 0


def test_security_section_equals_aitrail_security_on_the_same_files(tmp_path, capsys):
    """The check reuses the catalogers' reading of ONNX and safetensors files; the verdicts must not differ."""
    from builders import raw_safetensors

    from aitrail.analyze import security

    d = model_dir(tmp_path)
    shutil.copy(CORPUS / "o01_onnx_external_data_traversal.onnx", d / "model.onnx")
    shutil.copy(CORPUS / "x01_pip_main.pkl", d / "extra.pkl")
    raw_safetensors(d / "bad.safetensors", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1 << 40]}})
    (d / "broken.safetensors").write_bytes(b"\xff" * 12)
    _, out, _ = run(capsys, str(d), "-f", "json")
    doc = json.loads(out)
    alone = security.scan(d)

    def rules(files):
        return {f["path"]: sorted((x["severity"], x["rule"]) for x in f["findings"]) for f in files}

    assert rules(doc["security"]["files"]) == rules(alone["files"])
    assert rules(alone["files"])["model.onnx"] and rules(alone["files"])["bad.safetensors"]
    assert {f["path"]: f["sha256"] for f in doc["security"]["files"]} == {
        f["path"]: f["sha256"] for f in alone["files"]
    }


def test_every_real_model_at_once(tmp_path, capsys):
    """Six real models (safetensors, GGUF, ONNX, PyTorch pickles, packages) in one check and its reports."""
    from conftest import REAL

    from aitrail.check import validate

    code = main(
        ["check", str(REAL), "-f", "json", "--report", str(tmp_path / "r.html"), "--report", str(tmp_path / "r.md")]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and validate(doc) == []
    assert len(doc["openness"]) == len(
        [c for c in doc["inventory"]["components"] if c.get("properties", {}).get("scanned")]
    )
    assert len(doc["openness"]) >= 5
    html = (tmp_path / "r.html").read_text()
    assert html.count('class="lineage"') == len(doc["openness"])
    assert all(name in html for name in (o["model"] for o in doc["openness"]))


def test_unknown_licence_is_said_first_in_every_report(tmp_path):
    """issue 12 item 7: an unknown verdict passes the default policy as a warning, so every report says
    it first, with why (here: a base no resolver knows)."""
    import io

    from rich.console import Console

    from aitrail import check as C
    from aitrail.export import check_html, check_markdown, check_terminal

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\nbase_model: nobody/unknown-model\n---\n# x\n")
    r = C.check(tmp_path)
    doc = C.document(r.scan, r.licenses, r.openness, r.signatures, r.policy)
    assert doc["licenses"]["verdict"] == "unknown"
    md = check_markdown.render(doc)
    assert md.index("UNKNOWN") < md.index("PASSED") and "nobody/unknown-model" in md.split("PASSED")[0]
    html = check_html.render(doc)
    assert html.index("Licence: UNKNOWN") < html.index("PASSED")
    buf = io.StringIO()
    check_terminal.render(doc, Console(file=buf, width=200, color_system=None))
    assert buf.getvalue().lstrip().startswith("licence: UNKNOWN") and "nobody/unknown-model" in buf.getvalue()


def test_a_check_document_says_which_knowledge_judged_it(tmp_path, capsys):
    """The registry re-judges documents judged with other knowledge: the stamp is the document's own."""
    from aitrail import knowledge

    code, out, _ = run(capsys, str(model_dir(tmp_path)), "--format", "json")
    doc = json.loads(out)
    assert doc["inventory"]["tool"]["knowledge_version"] == knowledge.version()
    assert json_inventory.validate(doc["inventory"]) == []
