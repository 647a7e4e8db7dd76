"""Lineage at hub scale: closure with self-loops and cycles, licences down chains, laundering."""

from __future__ import annotations

import json

import pytest
from test_hub import EDGES

from aitrail.hub import lineage, run


def graph(edges: list[tuple[str, str, str]]) -> lineage.Graph:
    g = lineage.Graph()
    for child, parent, rel in edges:
        g.add(child, parent, rel, "test")
    return g


def test_closure_with_self_loops_and_cycles():
    g = graph([("b", "a", "fine-tune"), ("c", "b", "quantization"), ("b", "b", "fine-tune"),
               ("x", "y", "merge"), ("y", "x", "merge"), ("z", "y", "fine-tune"), ("c", "z", "merge")])
    cl = lineage.close(g)
    at = {m: i for i, m in enumerate(g.ids)}
    assert g.self_loops == ["b"]
    assert cl.cycles == 1 and cl.in_cycle[at["x"]] and cl.in_cycle[at["y"]] and not cl.in_cycle[at["c"]]
    assert cl.depth[at["a"]] == 0 and cl.depth[at["b"]] == 1 and cl.depth[at["c"]] == 2
    assert cl.n_ancestors[at["c"]] == 5  # b, a, z, and the x<->y cycle
    assert cl.n_descendants[at["a"]] == 2 and cl.n_descendants[at["x"]] == 3  # y (its cycle), z, c
    assert sorted(g.ids[r] for r in cl.roots[at["c"]]) == ["a", "x"]


def test_real_edges_closure():
    g = lineage.Graph()
    lineage.read_edges(g, EDGES)
    assert g.edges() == 30_341  # 30,383 rows less 42 self-loops (no duplicates)
    assert len(g.self_loops) == 42
    cl = lineage.close(g)
    at = g.index
    assert cl.n_descendants[at["unsloth/llama-3-8b-bnb-4bit"]] >= 738
    assert max(cl.depth) == 16  # the longest chain once self-loops are dropped (data README)


def test_licence_inheritance_and_laundering_with_examples():
    g = graph([("org/ft", "meta-llama/Llama-3.1-8B", "fine-tune"), ("q/ft-GGUF", "org/ft", "quantization"),
               ("ok/bert-ft", "google-bert/bert-base-uncased", "fine-tune")])
    inh = lineage.inherit(g, {"org/ft": "llama3.1", "q/ft-GGUF": "apache-2.0", "ok/bert-ft": "mit"})
    la = inh["laundering"]
    assert [x["model"] for x in la] == ["q/ft-GGUF"]
    assert la[0]["chain"] == ["q/ft-GGUF", "org/ft"] and "llama-3.1" in la[0]["base_licence"] and la[0]["binds"]
    assert inh["drift"][("llama3.1", "apache-2.0")] == 1


def test_curated_base_family_binds_when_the_index_holds_no_licence():
    g = graph([("org/ft", "meta-llama/Llama-3.1-8B", "fine-tune")])
    la = lineage.inherit(g, {"org/ft": "apache-2.0"})["laundering"]
    assert la and la[0]["base"] == "meta-llama/Llama-3.1-8B"


def test_run_with_lineage_writes_closure_and_summary(tmp_path):
    rows = [
        {"id": "meta-llama/Llama-3.1-8B", "card": "---\nlicense: llama3.1\n---\n"},
        {"id": "a/ft", "card": "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n---\n"},
        {"id": "a/ft-GGUF", "card": "---\nlicense: mit\nbase_model: a/ft\nbase_model_relation: quantized\n---\n"},
        {"id": "b/self", "card": "---\nlicense: mit\nbase_model: b/self\n---\n"},
        {"id": "c/model-GPTQ", "card": "---\nlicense: mit\n---\n"},
    ]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    out = tmp_path / "run"
    run.run([str(tmp_path / "t.jsonl")], out)
    s = lineage.build(out, [])
    assert s["edges"] == 2 and s["self_loops"]["examples"] == ["b/self"]
    assert s["laundering"]["count"] == 2  # a/ft and a/ft-GGUF, both below Llama
    assert {e["model"] for e in s["laundering"]["examples"]} == {"a/ft", "a/ft-GGUF"}
    assert s["orphaned_quantizations"]["examples"] == ["c/model-GPTQ"]
    assert s["max_depth"] == 2
    from aitrail.hub import query

    got = json.loads(query.run(out, "select id, depth, bound_by from closure order by id", "json"))
    assert {r["id"]: r["bound_by"] for r in got}["a/ft-GGUF"] == "meta-llama/Llama-3.1-8B"
    rel = json.loads(query.run(out, "select relation from lineage where child = 'a/ft-GGUF'", "json"))
    assert rel == [{"relation": "quantization"}]


@pytest.mark.parametrize("bad", ["source,target\n,x\n", "a,b\n1,2\n"])
def test_malformed_edge_lists(tmp_path, bad):
    p = tmp_path / "e.csv"
    p.write_text(bad, "utf-8")
    g = lineage.Graph()
    if bad.startswith("a,b"):
        from aitrail.errors import InputError

        with pytest.raises(InputError, match="source and target"):
            lineage.read_edges(g, p)
    else:
        lineage.read_edges(g, p)
        assert g.malformed and g.edges() == 0


def test_resumed_run_keeps_its_edge_lists(tmp_path):
    from test_hub import hub_main

    rows = [{"id": "a/ft", "card": "---\nlicense: apache-2.0\n---\n"}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "e.csv").write_text("source,target,edge\nmeta-llama/Llama-3.1-8B,a/ft,finetuned\n", "utf-8")
    out = tmp_path / "run"
    args = ["hub", "run", str(tmp_path / "t.jsonl"), "--out", str(out), "-q"]
    assert hub_main([*args, "--lineage", str(tmp_path / "e.csv")]) == 0
    first = json.loads((out / "summary.json").read_text())["lineage"]
    assert first["edges"] == 1 and first["laundering"]["count"] == 1
    assert hub_main(args) == 0  # again, without --lineage: the same edges, not none
    again = json.loads((out / "summary.json").read_text())["lineage"]
    assert again["edges"] == 1 and again["laundering"] == first["laundering"]


def test_hub_index_resolves_bases_beyond_the_run(tmp_path):
    """A fine-tune of a fine-tune of Llama: the run holds only the last model. Without an index the middle
    hop is unresolved and counted (and the model is marked below it, not free); with the index the chain
    reaches Llama through it, each hop marked with who supplied it, and the laundering is found."""
    from test_hub import hub_main

    from aitrail.hub import query

    mid = {"id": "someone/llama-ft", "sha": "b" * 40,
           "card": "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n---\n"}
    (tmp_path / "idx.jsonl").write_text(json.dumps(mid) + "\n", "utf-8")
    assert hub_main(["hub", "index", str(tmp_path / "idx.jsonl"), "--out", str(tmp_path / "ix"), "--workers", "1",
                     "-q"]) == 0
    mine = {"id": "me/grand-ft", "card": "---\nlicense: apache-2.0\nbase_model: someone/llama-ft\n---\n"}
    (tmp_path / "t.jsonl").write_text(json.dumps(mine) + "\n", "utf-8")
    out = tmp_path / "run"
    run.run([str(tmp_path / "t.jsonl")], out)
    without = lineage.build(out, [])
    assert without["laundering"]["count"] == 0
    assert without["bases_beyond_run"]["unresolved"] == {"count": 1, "examples": ["someone/llama-ft"]}
    assert without["bases_beyond_run"]["models_below_unresolved"] == 1
    got = json.loads(query.run(out, "select id, unresolved_ancestor, licence_resolved_by from closure order by id",
                               "json"))
    assert got == [{"id": "me/grand-ft", "unresolved_ancestor": "someone/llama-ft", "licence_resolved_by": "run"},
                   {"id": "someone/llama-ft", "unresolved_ancestor": None, "licence_resolved_by": None}]
    args = ["hub", "run", str(tmp_path / "t.jsonl"), "--out", str(out), "-q"]
    assert hub_main([*args, "--hub-index", str(tmp_path / "ix")]) == 0
    s = json.loads((out / "summary.json").read_text())["lineage"]
    beyond = s["bases_beyond_run"]
    assert beyond["unresolved"]["count"] == 0 and beyond["models_below_unresolved"] == 0
    assert beyond["resolved_by"] == {"hub index": 1, "curated": 1}
    la = s["laundering"]["examples"]
    assert [x["model"] for x in la] == ["me/grand-ft"] and s["laundering"]["count"] == 1  # the run's models only
    assert la[0]["chain"] == ["me/grand-ft", "someone/llama-ft", "meta-llama/Llama-3.1-8B"]
    assert la[0]["resolved_by"] == ["run", "hub index", "curated"]
    hop = json.loads(query.run(out, "select parent, resolved_by, evidence from lineage where child = "
                                    "'someone/llama-ft'", "json"))
    assert hop[0]["parent"] == "meta-llama/Llama-3.1-8B" and hop[0]["resolved_by"] == "hub index"
    assert "README.md" in hop[0]["evidence"] and "base_model" in hop[0]["evidence"]
    assert hub_main(args) == 0  # resumed without --hub-index: the same index, the same lineage
    assert json.loads((out / "summary.json").read_text())["lineage"]["laundering"] == s["laundering"]


def test_a_broken_hub_index_fails_closed(tmp_path):
    from test_hub import hub_main

    (tmp_path / "t.jsonl").write_text(json.dumps({"id": "me/ft", "card": "---\nlicense: mit\nbase_model: "
                                                  "someone/x\n---\n"}) + "\n", "utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.sqlite").write_bytes(b"not a database" * 100)
    out = tmp_path / "run"
    run.run([str(tmp_path / "t.jsonl")], out)
    s = lineage.build(out, [], index=tmp_path / "bad")  # from Python: every hop it would answer is unresolved
    assert s["bases_beyond_run"]["unresolved"]["examples"] == ["someone/x"]
    assert "not a readable hub index" in s["bases_beyond_run"]["hub_index_errors"][0]
    # from the command line, a mistyped index is an error before any work
    assert hub_main(["hub", "run", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "r2"), "--hub-index",
                     str(tmp_path / "nothing"), "-q"]) != 0
    assert not (tmp_path / "r2").exists()


def test_hub_index_reaches_the_verdict_of_every_row(tmp_path):
    """The rows' own licence verdicts resolve bases through --hub-index too, as `aitrail licenses
    --hub-index` does for one model: a fine-tune (tagged apache-2.0) of a model the index knows as CC BY-NC
    is not "unknown" but not allowed for commercial use; without the index the base is unresolved."""
    from test_hub import hub_main

    from aitrail.hub import query

    base = {"id": "someone/nc-model", "sha": "c" * 40, "card": "---\nlicense: cc-by-nc-4.0\n---\n"}
    (tmp_path / "idx.jsonl").write_text(json.dumps(base) + "\n", "utf-8")
    assert hub_main(["hub", "index", str(tmp_path / "idx.jsonl"), "--out", str(tmp_path / "ix"), "--workers", "1",
                     "-q"]) == 0
    mine = {"id": "me/ft", "card": "---\nlicense: apache-2.0\nbase_model: someone/nc-model\n---\n"}
    (tmp_path / "t.jsonl").write_text(json.dumps(mine) + "\n", "utf-8")
    sql = "select id, verdict_commercial from results"
    for flag, want in (([], "unknown"), (["--hub-index", str(tmp_path / "ix")], "not_allowed")):
        out = tmp_path / f"run{len(flag)}"
        assert hub_main(["hub", "run", str(tmp_path / "t.jsonl"), "--out", str(out), "-q", *flag]) == 0
        assert json.loads(query.run(out, sql, "json")) == [{"id": "me/ft", "verdict_commercial": want}], flag


@pytest.mark.parametrize("order", [0, 1])
def test_a_cycle_is_one_unit_for_licences_and_unresolved_bases(order):
    """a <-> b (a cycle), b under Llama 2, c under a: every one is bound by Llama 2, whatever order the cycle's
    members are met in; the same for a base nobody knows above the cycle."""
    cyc = [("acme/a", "acme/b", "fine-tune"), ("acme/b", "acme/a", "fine-tune")]
    edges = [*cyc[:: 1 if order else -1], ("acme/b", "meta-llama/Llama-2-7b-hf", "fine-tune"),
             ("acme/c", "acme/a", "fine-tune")]
    g = graph(edges)
    inh = lineage.inherit(g, {"acme/a": "mit", "acme/b": "mit", "acme/c": "mit"})
    assert sorted(x["model"] for x in inh["laundering"]) == ["acme/a", "acme/b", "acme/c"]
    assert all(inh["nearest"][g.index[m]] is not None for m in ("acme/a", "acme/b", "acme/c"))
    g2 = graph([*edges[:2], ("acme/b", "zzunknown/base-x", "fine-tune"), ("acme/c", "acme/a", "fine-tune")])
    above = lineage.unresolved_above(g2, {"zzunknown/base-x"})
    assert all(above[g2.index[m]] == g2.index["zzunknown/base-x"] for m in ("acme/a", "acme/b", "acme/c"))
