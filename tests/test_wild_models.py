"""Wild models (issue 10 item 7): names and descriptions from real cards, ONNX metadata_props,
hostile ONNX protobufs, policy values, and the HTML report's lineage box."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import MINILM, REAL, SHARED

import aitrail
from aitrail.catalog.model_card import first_paragraph, split_front_matter, title_name

PARQUET = SHARED / "data/hub-metadata/hf-hub-2022-snapshot/models.parquet"
SILERO = REAL / "silero-vad/silero_vad/data/silero_vad.onnx"


def _card_model(tmp_path: Path, card: str, folder: str = "some-folder") -> aitrail.model.Component:
    d = tmp_path / folder
    d.mkdir()
    (d / "README.md").write_text(card, encoding="utf-8")
    (d / "config.json").write_text('{"model_type": "bert", "architectures": ["BertModel"]}')
    [m] = aitrail.scan(d).models()
    return m


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "Model documentation",
        "Model Card",
        "Model card",
        "Model Details",
        "README",
        "Table of Contents",
        "Introduction",
        "Overview",
        "Model description",
        "Model Trained Using AutoNLP",  # 165 real cards of the 2022 hub snapshot
        "My Awesome Model",  # the hub's example card, copied by 49
        "{MODEL_NAME}",
        "TODO: Fill this model card",
        "Model Card for Model ID",  # huggingface_hub's template with its default
        "Model Card for {{ model_id | default('Model ID', true) }}",
        "**Usage**",
        "[Introduction](#introduction)",
        "This model is specifically designed for the legal domain.",  # a sentence
    ],
)
def test_generic_headings_name_nothing(tmp_path, heading):
    assert title_name(heading) is None
    m = _card_model(tmp_path, f"# {heading}\n\nA BERT model for legal text classification in German.\n")
    assert m.name == "some-folder"
    assert "card_title" not in m.properties


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("Model Card for Zephyr 7B Beta", "Zephyr 7B Beta"),
        ("Model card: CLIP", "CLIP"),
        ("BioGPT Model Card", "BioGPT"),
        ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2"),
        ("[medbert](https://github.com/trueto/medbert)", "medbert"),
        (
            '<a name="introduction"></a> BERTweet: A pre-trained language model',
            "BERTweet: A pre-trained language model",
        ),
        ("Harry Potter DialoGPT Model", "Harry Potter DialoGPT Model"),
    ],
)
def test_headings_that_name_something(tmp_path, heading, name):
    assert title_name(heading) == name
    assert _card_model(tmp_path, f"# {heading}\n\nSome text about this model here.\n").name == name


def test_front_matter_model_name_beats_heading_and_model_index(tmp_path):
    card = textwrap.dedent(
        """\
        ---
        model_name: Acme Sentiment v2
        model-index:
        - name: results
          results: []
        ---
        # Fancy Title Heading

        A sentiment classifier for product reviews.
        """
    )
    m = _card_model(tmp_path, card)
    assert m.name == "Acme Sentiment v2"
    assert m.properties["provenance"]["name"][0]["key"] == "model_name"


def test_generic_model_index_name_is_not_a_name(tmp_path):
    # Trainer's auto-generated cards name the output folder: "results", "output", "test"
    card = "---\nmodel-index:\n- name: output\n  results: []\n---\n# Model description\n\nText about it.\n"
    assert _card_model(tmp_path, card, "bert-imdb").name == "bert-imdb"
    card = "---\nmodel-index:\n- name: distilbert-imdb\n  results: []\n---\n# Model description\n\nIt is good.\n"
    assert _card_model(tmp_path, card, "x").name == "distilbert-imdb"


def test_real_card_name_and_description():
    [m] = aitrail.scan(MINILM).models()
    assert m.name == "all-MiniLM-L6-v2"
    assert m.description.startswith("This is a [sentence-transformers](https://www.SBERT.net) model: It maps")


# -- descriptions ---------------------------------------------------------------------------------

TOC_CARD = """\
---
license: apache-2.0
---
<!-- Provide a quick summary of what the model is/does. -->

[![badge](https://img.shields.io/badge/a-b-c)](https://example.org) [![x](https://x/y.svg)](https://x)

![logo](logo.png)

# Model documentation

## Table of Contents
- [Model Details](#model-details)
- [Uses](#uses)
  - [Direct Use](#direct-use)
1. [Training](#training)

**Table of Contents**
* [Evaluation](#evaluation)

## Model Details

[More Information Needed]

```python
print("code is not a description")
```

| a | b |
|---|---|

The model classifies legal documents by their area of law. It was trained on court decisions.
More text of the same paragraph.

Second paragraph.
"""


def test_description_skips_toc_badges_comments_code_and_placeholders(tmp_path):
    m = _card_model(tmp_path, TOC_CARD)
    assert m.description == (
        "The model classifies legal documents by their area of law. It was trained on court decisions. "
        "More text of the same paragraph."
    )
    assert "card_title" not in m.properties


def test_description_from_setext_heading_and_multiline_comment():
    body = "Fancy Name\n==========\n\n<!--\nfill this in\nplease\n-->\n\nIt detects speech in audio streams.\n"
    assert first_paragraph(body) == "It detects speech in audio streams."


def _real_cards() -> list[dict[str, str]]:
    pq = pytest.importorskip("pyarrow.parquet")
    rows = pq.read_table(PARQUET, columns=["model_id", "card"]).to_pylist()
    return [r for r in rows if r["card"] and r["card"].strip()]


LINK_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*\[[^\]]*\]\(#")


def test_real_cards_with_a_table_of_contents():
    toc = [
        r
        for r in _real_cards()
        if re.search(r"(?im)^\W*table of contents\W*$", r["card"])
        or re.search(r"(?m)^\s*[-*]\s*\[[^\]]+\]\(#", r["card"])
    ]
    assert len(toc) >= 5
    for r in toc:
        _, body, _ = split_front_matter(r["card"])
        desc = first_paragraph(body) or ""
        assert not LINK_LIST.match(desc), (r["model_id"], desc[:200])
        assert "table of contents" not in desc.lower()[:40], r["model_id"]


def test_real_cards_headings_never_generic():
    """Across all 29,087 real cards: no first heading the knowledge list calls generic becomes a name."""
    from aitrail.catalog.model_card import headings, is_generic

    named = dropped = 0
    for r in _real_cards():
        try:
            _, body, _ = split_front_matter(r["card"])
        except Exception:
            body = r["card"]
        h = next((t for _i, lv, t in headings(body.split("\n")) if lv == 1), None)
        if h is None:
            continue
        name = title_name(h)
        if name is None:
            dropped += 1
            continue
        named += 1
        assert not is_generic(name), (r["model_id"], h)
        assert name.lower() not in ("model card", "model documentation", "model details", "readme"), r["model_id"]
    assert named > 7000 and 500 < dropped < 1500, (named, dropped)  # measured: 8,232 named, 723 dropped


# -- ONNX metadata_props --------------------------------------------------------------------------


def _onnx(path: Path, meta: dict[str, str], **kw) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], [0.0] * 6)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [w],
    )
    model = helper.make_model(graph, producer_name="unit-test", **kw)
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_metadata_props_become_facts_and_licence_evidence(tmp_path):
    d = tmp_path / "vad"
    d.mkdir()
    _onnx(
        d / "model.onnx",
        {
            "Licence": "MIT",
            "model_author": "Silero Team",
            "TASK": "voice-activity-detection",
            "Description": "Detects speech in 16 kHz audio.",
            "version": "5.1",
            "unrelated": "x",
        },
    )
    [m] = aitrail.scan(d).models()
    assert (m.version, m.description) == ("5.1", "Detects speech in 16 kHz audio.")
    assert m.properties["supplier"] == "Silero Team"
    assert m.properties["task"] == "voice-activity-detection"
    [lic] = m.licenses
    assert lic.value == "MIT"
    assert (lic.evidence.path, lic.evidence.key) == ("model.onnx", "metadata_props.Licence")
    from aitrail.analyze import licenses

    rep = licenses.report(aitrail.scan(d), "commercial")
    [entry] = [c for c in rep["components"] if c["role"] == "model"]
    assert entry["license"] == "MIT" and entry["verdict"] in ("allowed", "allowed_with_obligations")


def test_onnx_name_and_model_version_and_doc_string(tmp_path):
    p = _onnx(tmp_path / "m.onnx", {"model_name": "Tiny VAD"}, model_version=7, doc_string="A tiny detector.")
    [m] = aitrail.scan(p).models()
    assert (m.name, m.version, m.description) == ("Tiny VAD", "7", "A tiny detector.")
    p2 = _onnx(tmp_path / "n.onnx", {"name": "model"})  # generic: the file's stem names it
    assert aitrail.scan(p2).models()[0].name == "n"


# -- hostile ONNX ---------------------------------------------------------------------------------


def _mutants(data: bytes, n: int, seed: int) -> list[bytes]:
    """Seeded structure-blind mutations of a real ONNX file: flips, truncations, splices, nested lengths."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        b = bytearray(data)
        kind = rng.randrange(5)
        if kind == 0:  # byte flips where the model header and graph structure live
            for _ in range(rng.randint(1, 16)):
                b[rng.randrange(min(len(b), 8192))] = rng.randrange(256)
        elif kind == 1:
            del b[rng.randrange(len(b)) :]
        elif kind == 2:  # a varint made huge or endless
            i = rng.randrange(min(len(b), 8192))
            b[i : i + 1] = b"\xff" * rng.randint(1, 12)
        elif kind == 3:  # a chunk copied elsewhere (messages inside messages)
            i, j = rng.randrange(len(b)), rng.randrange(min(len(b), 8192))
            b[j:j] = b[i : i + rng.randint(1, 4096)]
        else:  # flips anywhere
            for _ in range(rng.randint(1, 64)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    return out


def test_onnx_mutants_end_in_findings_not_crashes(tmp_path):
    """300 seeded mutants of the real silero-vad ONNX: every one scans without an internal error."""
    data = SILERO.read_bytes()
    for i, blob in enumerate(_mutants(data, 300, seed=10)):
        p = tmp_path / f"m{i}.onnx"
        p.write_bytes(blob)
        inv = aitrail.scan(p, hash_files=False)
        bad = [f.message for f in inv.findings if f.rule == "scan.internal-error"]
        assert bad == [], (i, bad)
        for f in inv.findings:
            assert len(f.message) < 2000, (i, f.rule)
        p.unlink()


def _nested(depth: int) -> bytes:
    """A graph whose node attribute holds a graph whose node ... ``depth`` deep, as raw protobuf."""

    def ld(num: int, payload: bytes) -> bytes:
        return _varint(num << 3 | 2) + _varint(len(payload)) + payload

    g = ld(1, ld(4, b"Identity"))
    for _ in range(depth):
        g = ld(1, ld(4, b"If") + ld(5, ld(1, b"then_branch") + ld(6, g)))  # node.attribute.g
    return b"\x08\x08" + ld(7, g)  # ir_version 8, graph


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append(n & 0x7F | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def test_deeply_nested_and_huge_dims_onnx(tmp_path):
    p = tmp_path / "deep.onnx"
    p.write_bytes(_nested(5000))
    inv = aitrail.scan(p)
    assert [f.rule for f in inv.findings if f.rule.startswith("scan.")] == ["scan.onnx.not-protobuf"]
    assert "nested too deeply" in inv.findings[0].message and "deep.onnx" in inv.findings[0].message
    # a tensor with 100,000 dims of 2**62: the element count is clamped, not a 6-million-bit integer
    dims = b"".join(b"\x08" + _varint(1 << 62) for _ in range(100_000))
    tensor = _varint(5 << 3 | 2) + _varint(len(dims)) + dims
    graph = _varint(7 << 3 | 2) + _varint(len(tensor)) + tensor
    (tmp_path / "dims.onnx").write_bytes(b"\x08\x08" + graph)
    code = f"import aitrail; aitrail.scan({str(tmp_path / 'dims.onnx')!r})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_onnx_flood_of_operator_names_is_bounded(tmp_path):
    def ld(num: int, payload: bytes) -> bytes:
        return _varint(num << 3 | 2) + _varint(len(payload)) + payload

    nodes = b"".join(ld(1, ld(4, f"Op{i}".encode())) for i in range(6000))
    p = tmp_path / "ops.onnx"
    p.write_bytes(b"\x08\x08" + ld(7, nodes))
    inv = aitrail.scan(p)
    [w] = [c for c in inv.components if c.path == "ops.onnx"]
    assert len(w.properties["op_types"]) == 4097 and w.properties["op_count"] == 6000
    [lim] = [f for f in inv.findings if f.rule == "scan.limit-exceeded"]
    assert "ops.onnx" in lim.message and "operator types" in lim.message


# -- policy values --------------------------------------------------------------------------------


def _policy_error(body: str) -> str:
    from aitrail import policy
    from aitrail.errors import PolicyError
    from aitrail.yamlsafe import load

    with pytest.raises(PolicyError) as e:
        policy.parse(load("aitrail_policy: 1\n" + body), "p.yaml")
    return str(e.value)


@pytest.mark.parametrize(
    ("body", "named", "suggested"),
    [
        ("formats: {banned: [pikle]}", "formats.banned[0]", "pickle"),
        ("formats: {banned: [safetensor]}", "formats.banned[0]", "safetensors"),
        ("licenses: {deny: [CC-BY-NC-4]}", "licenses.deny[0]", "CC-BY-NC-4.0"),
        ("licenses: {allow: [MIT, Apache-2.1]}", "licenses.allow[1]", "Apache-2.0"),
        ("licenses: {fail_on_findings: [license.launder]}", "licenses.fail_on_findings[0]", "license.laundering"),
        ("licenses: {fail_on_findings: ['licence.*']}", "licenses.fail_on_findings[0]", "license.*"),
        ("licenses: {verdict: allowed_with_obligation}", "licenses.verdict", "allowed_with_obligations"),
        ("security: {fail_on: hihg}", "security.fail_on", "high"),
        ("security: {unknown_globals: critcal}", "security.unknown_globals", "critical"),
        ("use: comercial", "use", "commercial"),
        ("openness: {min_mof_class: 4}", "openness.min_mof_class", None),
        ("openness: {min_mof_class: 'Class I'}", "openness.min_mof_class", None),
        ("documentation: {required: [model.licence]}", "documentation.required[0]", "model.license"),
        ("securty: {fail_on: high}", "securty", "security"),
        ("security: {ignore: [{rule: pickle.dangerous-globl, reason: x}]}", "security.ignore[0].rule", None),
        ("security: {ignore: [{rule: 'remote_code.*', reason: x}]}", "security.ignore[0].rule", "remote-code.*"),
        ("security: {ignore: [{rule: pickles.unknown-global}]}", "security.ignore[0].rule", "pickle.unknown-global"),
        ("security: {ignore: [{rule: x.y, resaon: r}]}", "security.ignore[0]", "reason"),
        ("security: {ignore: [{rule: ''}]}", "security.ignore[0].rule", None),
        ("security: {ignore: [remote-code.present]}", "security.ignore[0]", None),
    ],
)
def test_policy_values_are_validated(body, named, suggested):
    msg = _policy_error(body)
    assert msg.startswith("p.yaml: ") and named in msg, msg
    if suggested:
        assert f"did you mean '{suggested}" in msg, msg


def test_waiver_typo_suggests_the_rule():
    assert "did you mean 'pickle.dangerous-global'?" in _policy_error(
        "security: {ignore: [{rule: pickle.dangerous-globl, reason: x}]}"
    )


@pytest.mark.parametrize(
    "body",
    [
        "formats: {banned: [pickle, pytorch, joblib, numpy-npz, gguf]}",
        "licenses: {allow: [MIT, apache 2.0, 'MIT OR Apache-2.0', LicenseRef-acme-internal, llama3.1, other]}",
        "licenses: {deny: [cc-by-nc-4.0, CC-BY-NC-SA-4.0, GPL-3.0-or-later]}",
        "licenses: {fail_on_findings: [license.laundering, 'license.*']}",
        "security: {ignore: [{rule: 'remote-code.*', path: 'modeling_*.py', reason: reviewed}]}",
        "security: {ignore: [{rule: pickle.unknown-global}, {rule: onnx.custom-op-domain}, {rule: '*'}]}",
        "security: {ignore: [{rule: pickle.some-future-rule, reason: newer aitrail}]}",  # known family, no near id
        "documentation: {required: [model.license, dataset.training]}",
    ],
)
def test_valid_policy_values_pass(body):
    from aitrail import policy
    from aitrail.yamlsafe import load

    policy.parse(load("aitrail_policy: 1\n" + body), "p.yaml")


def test_policy_value_error_exits_2_with_suggestion(tmp_path):
    p = tmp_path / "policy.yaml"
    p.write_text("aitrail_policy: 1\nformats: {banned: [pikle]}\n")
    r = subprocess.run(
        [str(Path(sys.executable).parent / "aitrail"), "check", str(SILERO), "--policy", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r
    assert "formats.banned[0]" in r.stderr and "did you mean 'pickle'?" in r.stderr and str(p) in r.stderr


def _check_doc(formats: list[str], licences: list[dict]) -> dict:
    return {
        "inventory": {"components": [{"path": "m.pkl", "format": f} for f in formats], "completeness": []},
        "security": {"files": []},
        "licenses": {"verdict": "allowed", "use": "commercial", "components": licences, "findings": [], "models": []},
        "openness": [],
    }


def test_banned_family_bans_its_variants_and_aliases_resolve():
    from aitrail import policy
    from aitrail.yamlsafe import load

    pol = policy.parse(load("aitrail_policy: 1\nformats: {banned: [joblib]}"), "p.yaml")
    [v] = policy.evaluate(pol, _check_doc(["joblib-zlib"], []))["violations"]
    assert v["policy_key"] == "formats.banned" and v["evidence"] == ["m.pkl: joblib-zlib"]
    # an alias in the deny list means its licence: "CC BY-NC 4.0" declared, resolved to CC-BY-NC-4.0
    pol = policy.parse(load("aitrail_policy: 1\nlicenses: {deny: [cc-by-nc-4.0], allow: [apache 2.0]}"), "p.yaml")
    comps = [{"name": "m", "role": "model", "license": "Apache-2.0", "declared": "apache-2.0", "verdict": "allowed"}]
    assert policy.evaluate(pol, _check_doc([], comps))["passed"]
    comps[0].update(license="CC-BY-NC-4.0", declared="cc-by-nc-4.0")
    keys = [v["policy_key"] for v in policy.evaluate(pol, _check_doc([], comps))["violations"]]
    assert keys == ["licenses.allow", "licenses.deny"]


def test_every_format_name_is_documented():
    from aitrail.policy import known_formats

    doc = (Path(__file__).resolve().parents[1] / "docs/policy.md").read_text()
    missing = [f for f in known_formats() if f"`{f}`" not in doc and f"`-{f.split('-', 1)[-1]}`" not in doc]
    assert missing == []


# -- the HTML report's lineage box ------------------------------------------------------------------

LONG_NAMES = [
    "TheBloke/Mistral-7B-Instruct-v0.2-code-ft-GPTQ-4bit-128g-actorder_True-extended-context-32k",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW/MMMMMMMMMMMMMMMMMMMMMMMMM",
    "長い名前のモデル日本語テストモデル名前がとても長いモデル名前がとても長い/モデル名前",
    "a" * 300,
]


def _facts(name: str):
    from aitrail.export import summary as S

    return S.ModelFacts(
        id=f"model:{name}",
        name=name,
        version=None,
        architecture=None,
        task=None,
        parameters="unknown",
        formats=[],
        files=[],
        total_size=0,
        licences=[],
        bases=[(n, "merge", []) for n in LONG_NAMES] + [("meta-llama/Llama-2-7b", S.HOW["unknown"], [])],
        datasets=LONG_NAMES[::-1],
        licence_verdict="allowed",
        openness=None,
    )


def _boxes_and_texts(svg: str):
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(svg)
    rect = None
    for el in root:
        if el.tag == ns + "rect":
            rect = el
        elif el.tag == ns + "line":
            rect = None
        elif el.tag == ns + "text":
            shown = "".join(el.itertext()).removeprefix(el.findtext(ns + "title") or "")
            yield rect, el, shown


@pytest.mark.parametrize("name", LONG_NAMES)
def test_lineage_svg_text_never_leaves_its_box(name):
    from aitrail.export.check_html import lineage_svg

    svg = lineage_svg(_facts(name), {}, "commercial")
    texts = list(_boxes_and_texts(svg))
    assert len(texts) >= 2 * len(LONG_NAMES)
    for rect, text, shown in texts:
        size = float(text.get("font-size"))
        # the box, or for an edge label the gap between the columns (91 px)
        room = float(rect.get("width")) - 12 if rect is not None else 91
        bound = float(text.get("textLength") or len(shown) * size * 1.1)  # 1.1 em a character: any font
        assert bound <= room, (shown, bound, room)
        if rect is not None:
            x, w = float(rect.get("x")), float(rect.get("width"))
            assert abs(float(text.get("x")) - (x + w / 2)) < 1  # centred in its own box
            y, h = float(rect.get("y")), float(rect.get("height"))
            assert y < float(text.get("y")) < y + h
        assert text.findtext("{http://www.w3.org/2000/svg}title")  # the full label on hover
    full = [t.findtext("{http://www.w3.org/2000/svg}title") for _, t, _ in texts]
    assert name in full and all(n in full for n in LONG_NAMES)


def _chromium() -> str | None:
    import os
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found and os.environ.get("AITRAIL_REQUIRE_BROWSER"):
        pytest.fail("AITRAIL_REQUIRE_BROWSER is set but no chromium is installed")
    return found


@pytest.mark.skipif(not _chromium(), reason="chromium not installed (.ci/run installs it)")
def test_lineage_text_pixels_stay_inside_the_boxes(tmp_path):
    """Headless chromium draws the lineage with the longest names: no black text pixel outside a box."""
    Image = pytest.importorskip("PIL.Image")
    from aitrail.export.check_html import lineage_svg

    svg = lineage_svg(_facts(LONG_NAMES[1]), {}, "commercial")
    height = int(re.search(r'viewBox="0 0 900 (\d+)"', svg).group(1))
    svg = svg.replace('class="lineage"', f'width="900" height="{height}"', 1)
    page = tmp_path / "l.html"
    page.write_text(f'<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff">{svg}</body>')
    png = tmp_path / "l.png"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size=900,{height}", f"--screenshot={png}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    rects = [
        tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
        for r, _, _ in _boxes_and_texts(lineage_svg(_facts(LONG_NAMES[1]), {}, "commercial"))
        if r is not None
    ]
    img = Image.open(png).convert("RGB")
    outside = [
        (x, y)
        for y in range(img.height)
        for x in range(img.width)
        if max(img.getpixel((x, y))) < 60
        and not any(rx <= x <= rx + rw and ry <= y <= ry + rh for rx, ry, rw, rh in rects)
    ]
    inside = sum(1 for y in range(img.height) for x in range(img.width) if max(img.getpixel((x, y))) < 60)
    assert inside > 500  # the text was drawn
    assert outside == [], outside[:20]


@pytest.mark.parametrize(
    "card",
    [
        "[" * 2_000_000,  # was quadratic in the link pattern: minutes
        "[a](" * 500_000,
        "# " + "[" * 1_000_000,
        "# a" + " #" * 1_000_000,
        "## License\n" * 300_000,
        "".join(f"{'#' * (1 + i % 6)} Training data {i}\n" for i in range(300_000)),
        "<!--\n" + "x\n" * 1_000_000,
    ],
    ids=["brackets", "links", "heading-brackets", "heading-hashes", "licence-headings", "nested", "open-comment"],
)
def test_hostile_cards_finish(tmp_path, card):
    d = tmp_path / "m"
    d.mkdir()
    (d / "README.md").write_text(card)
    code = f"import aitrail; aitrail.scan({str(d)!r}, hash_files=False)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_description_search_limit_is_a_finding(tmp_path):
    from aitrail.catalog.model_card import MAX_DESCRIPTION_LINES

    m = _card_model(tmp_path, "# x\n" + "| a | b |\n" * MAX_DESCRIPTION_LINES + "Prose far below the table here.\n")
    assert m.description is None
    inv_findings = aitrail.scan(tmp_path / "some-folder").findings
    [lim] = [f for f in inv_findings if f.rule == "scan.limit-exceeded"]
    assert "README.md" in lim.message and "20,000 lines" in lim.message


@pytest.mark.parametrize(
    ("location", "rule"),
    [
        ("a\x00b", "scan.onnx.external-data-invalid"),  # was a ValueError escaping the reader
        ("x" * 3000, "scan.onnx.external-data-invalid"),  # was "unreadable" (ENAMETOOLONG from exists())
        ("..\\..\\secrets.bin", "scan.onnx.external-data-outside"),  # how Windows reads it
        ("C:\\Windows\\win.ini", "scan.onnx.external-data-outside"),
        ("../../etc/passwd", "scan.onnx.external-data-outside"),
        ("weights.bin", "scan.onnx.external-data-missing"),
    ],
)
def test_onnx_external_data_locations(tmp_path, location, rule):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    t = helper.make_tensor("w", TensorProto.FLOAT, [2], [0.0, 0.0])
    del t.float_data[:]
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", location
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [], [y], [t])
    (tmp_path / "m.onnx").write_bytes(helper.make_model(g).SerializeToString())
    inv = aitrail.scan(tmp_path)
    assert [f.rule for f in inv.findings if f.rule.startswith("scan.")] == [rule]
    assert all("m.onnx" in f.message and len(f.message) < 400 for f in inv.findings)


def test_hugging_face_template_cards(tmp_path):
    """Cards made by huggingface_hub's own template: its defaults name and describe nothing."""
    hub = pytest.importorskip("huggingface_hub")
    blank = str(hub.ModelCard.from_template(hub.ModelCardData(license="mit")))
    assert "# Model Card for Model ID" in blank
    m = _card_model(tmp_path, blank, "blank-model")
    assert m.name == "blank-model" and m.description is None
    filled = hub.ModelCard.from_template(
        hub.ModelCardData(license="mit"),
        model_id="Acme Sentiment",
        model_summary="A sentiment classifier for product reviews in German.",
        developers="Acme AI Lab",
    )
    m = _card_model(tmp_path, str(filled), "filled")
    assert (m.name, m.description) == ("Acme Sentiment", "A sentiment classifier for product reviews in German.")


def test_bulleted_description_is_a_fallback():
    assert first_paragraph("- **Model type:** BERT\n- **Language:** de\n") is None
    body = "- A model that tags German legal text.\n- Trained on court decisions.\n\n| a |\n"
    assert first_paragraph(body) == "- A model that tags German legal text. - Trained on court decisions."
    assert first_paragraph(body + "\nIt tags legal text in German.\n") == "It tags legal text in German."


def test_bullet_with_a_link_is_not_a_label():
    body = "- This model forked from [kobart](https://huggingface.co/hyunwoongko/kobart) for fine tuning\n"
    assert first_paragraph(body) == body.strip()


def test_prose_after_a_bold_contents_label_ends_the_toc():
    body = "**Contents**\n- [Uses](#uses)\n- [Training](#training)\nIntroduction\n\n"
    body += "The model tags legal text in German.\n"
    body += "\nSecond paragraph here.\n"
    assert first_paragraph(body) == "The model tags legal text in German."
