"""The hub index: built from hub tables and edge lists, updated incrementally, read as a Resolver."""

from __future__ import annotations

import sqlite3

import pyarrow.parquet as pq
import pytest
from conftest import MINILM
from test_hub import EDGES, hub_main, real_rows

from aitrail.hub import index
from aitrail.resolvers import Chain, Resolver, ResolverError
from aitrail.resolvers.hub_index import HubIndexResolver


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("hubidx")
    t = real_rows(400, "card like '---%'")
    pq.write_table(t, d / "m.parquet")
    edges = d / "edges.csv"
    edges.write_text("\n".join(EDGES.read_text("utf-8").splitlines()[:2001]) + "\n", "utf-8")
    return d, t


def test_index_answers_as_a_resolver(table, tmp_path):
    d, t = table
    out = tmp_path / "ix"
    assert hub_main(["hub", "index", str(d / "m.parquet"), "--out", str(out), "--lineage", str(d / "edges.csv"),
                     "-q"]) == 0
    r = HubIndexResolver(out)
    assert isinstance(r, Resolver)
    rec = next(x for x in t.to_pylist() if x["license_tags"])
    facts = r.lookup(rec["model_id"])
    assert facts is not None and facts.resolver == "hub index" and facts.revision == rec["sha"]
    assert [x.value for x in facts.licences] == rec["license_tags"][:1] or facts.licences[0].source == "card license"
    assert "m.parquet" in facts.source and "README.md" in facts.licences[0].location
    assert r.lookup(rec["model_id"], revision="0" * 40) is None  # another revision: not answered for
    assert r.lookup("nobody/nothing") is None
    # a model known only from the edge list: its bases with relation and the file line as evidence
    parent, child, kind = EDGES.read_text("utf-8").splitlines()[1].split(",")
    f2 = r.lookup(child)
    assert f2 is not None and f2.bases[0].model_id == parent and f2.bases[0].relation == "merge"
    assert "edges.csv line 2" in f2.bases[0].evidence
    ans = Chain([HubIndexResolver(tmp_path / "missing"), r]).lookup(child)
    assert ans.facts == f2 and ans.errors and "no hub index" in ans.errors[0]


def test_bases_and_datasets_from_cards(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"id": "a/ft", "sha": "1", "card": "---\\nlicense: apache-2.0\\nbase_model: meta-llama/Llama-3.1-8B'
                 '\\nbase_model_relation: adapter\\ndatasets: [squad]\\n---\\n"}\n', "utf-8")
    index.build([str(p)], tmp_path / "ix")
    f = HubIndexResolver(tmp_path / "ix").lookup("a/ft")
    assert f is not None
    assert [(b.model_id, b.relation) for b in f.bases] == [("meta-llama/Llama-3.1-8B", "adapter")]
    assert "base_model" in f.bases[0].evidence and f.datasets == ("squad",)
    assert [(x.value, x.source) for x in f.licences] == [("apache-2.0", "card license")]


def test_incremental_update_rejudges_only_changed_rows(table, tmp_path):
    d, t = table
    out = tmp_path / "ix"
    s1 = index.build([str(d / "m.parquet")], out)
    assert s1["judged"] == 400 and s1["unchanged"] == 0
    s2 = index.build([str(d / "m.parquet")], out)
    assert s2["judged"] == 0 and s2["unchanged"] == 400 and s2["models"] == 400
    rows = t.to_pylist()
    rows[0]["sha"] = "f" * 40
    rows[0]["card"] = "---\nlicense: mit\n---\n"
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(rows, t.schema), tmp_path / "m2.parquet")
    s3 = index.build([str(tmp_path / "m2.parquet")], out)
    assert (s3["judged"], s3["unchanged"], s3["models"]) == (1, 399, 400)
    f = HubIndexResolver(out).lookup(rows[0]["model_id"])
    assert f is not None and f.revision == "f" * 40 and f.licences[0].value == "mit"


def test_broken_or_foreign_index_fails_closed(tmp_path):
    (tmp_path / "index.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ResolverError, match="not a readable hub index"):
        HubIndexResolver(tmp_path).lookup("a/b")
    other = tmp_path / "o"
    other.mkdir()
    con = sqlite3.connect(other / "index.sqlite")
    con.executescript(index.SCHEMA)
    con.execute("insert into meta values ('format', '99')")
    con.commit()
    con.close()
    with pytest.raises(ResolverError, match="format 99"):
        HubIndexResolver(other).lookup("a/b")


def test_licenses_hub_index_resolves_the_middle_hop(tmp_path, capsys):
    """A fine-tune of a fine-tune of Llama: without the index the middle hop is unresolved (unknown);
    with it the chain reaches Llama and the laundering is found, the hop naming the hub index."""
    import json

    import numpy as np
    from safetensors.numpy import save_file

    mid = {"id": "someone/llama-ft", "sha": "b" * 40,
           "card": "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n---\n# ft\n"}
    (tmp_path / "t.jsonl").write_text(json.dumps(mid) + "\n", "utf-8")
    m = tmp_path / "m"
    m.mkdir()
    (m / "README.md").write_text("---\nlicense: apache-2.0\nbase_model: someone/llama-ft\n---\n# mine\n", "utf-8")
    save_file({"w": np.zeros(2, np.float32)}, str(m / "model.safetensors"))
    assert hub_main(["hub", "index", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "ix"), "-q"]) == 0
    capsys.readouterr()
    results = []
    for extra in ([], ["--hub-index", str(tmp_path / "ix")]):
        hub_main(["licenses", str(m), "--use", "commercial", "--format", "json", *extra])
        results.append(json.loads(capsys.readouterr().out))
    without, with_index = results
    assert without["verdict"] == "unknown"
    assert {f["rule"] for f in without["findings"]} == {"license.base-unresolved"}
    assert "license.laundering" in {f["rule"] for f in with_index["findings"]}
    hop = next(c for c in with_index["components"] if c["name"] == "someone/llama-ft")
    assert hop["resolved_by"] == "hub index"
    assert any(c["name"] == "meta-llama/Llama-3.1-8B" for c in with_index["components"])


def _content(out):
    con = sqlite3.connect(out / "index.sqlite")
    models = con.execute("select m.id, m.sha, m.last_modified, m.licences, m.bases, m.datasets, s.path, m.row "
                         "from models m join sources s on s.id = m.source order by m.id").fetchall()
    edges = con.execute("select * from edges order by child, parent").fetchall()
    con.close()
    return models, edges


def test_workers_build_the_same_index_as_one_process(table, tmp_path):
    """Several processes give the index one process gives, counts included: repeated ids across batches in
    flight (same and changed sha), scans and BOMs between tables, malformed rows, and an incremental update."""
    import json

    import pyarrow as pa

    import aitrail
    from aitrail.export import cyclonedx

    d, t = table
    rows = t.to_pylist()
    again = [dict(r) for r in rows[:120]]
    for r in again[::2]:
        r["sha"] = "e" * 40
        r["card"] = "---\nlicense: mit\nbase_model: meta-llama/Llama-3.1-8B\n---\n"
    pq.write_table(pa.Table.from_pylist(rows + again, t.schema), tmp_path / "a.parquet")
    docs = tmp_path / "docs"
    docs.mkdir()
    inv = aitrail.scan(MINILM, hash_files=False)
    (docs / "scan.json").write_text(json.dumps(inv.to_dict()), "utf-8")
    (docs / "m.cdx.json").write_text(cyclonedx.dumps(inv, "1.6"), "utf-8")
    (docs / "broken.json").write_text("{", "utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "x/y", "card": "---\\nlicense: mit\\n---\\n"}\n{"id": 3}\nnot json\n'
                                      + json.dumps({"id": rows[5]["model_id"], "sha": rows[5]["sha"],
                                                    "last_modified": rows[5]["last_modified"]}) + "\n", "utf-8")
    inputs = [str(tmp_path / "a.parquet"), str(docs), str(tmp_path / "b.jsonl")]
    got = []
    for w in (1, 2):
        out = tmp_path / f"ix{w}"
        s1 = index.build(inputs, out, [str(d / "edges.csv")], workers=w, batch_rows=50)
        s2 = index.build([str(tmp_path / "a.parquet")], out, workers=w, batch_rows=50)
        got.append(([{k: v for k, v in s.items() if k not in ("seconds", "workers")} for s in (s1, s2)],
                    _content(out)))
    assert got[0] == got[1]
    (s1, s2), (models, edges) = got[0]
    # unchanged: the 60 repeated rows of the same sha, and one JSONL row; in the update, the 60 rows whose
    # sha flips between the two copies are judged twice, the other 400 not at all
    assert (s1["malformed"], s1["unchanged"], s2["judged"], s2["unchanged"]) == (3, 61, 120, 400)
    assert len(edges) > 1990 and any(m[0] == "all-MiniLM-L6-v2" for m in models)  # 2,000 lines, self-loops dropped


def test_rows_without_sha_or_date_are_always_read_again(tmp_path):
    """A dump of id + card only: nothing says a row is unchanged, so a base relicensed to CC BY-NC is seen."""
    import json

    d1, d2 = tmp_path / "d1.jsonl", tmp_path / "d2.jsonl"
    d1.write_text(json.dumps({"id": "acme/base", "card": "---\nlicense: apache-2.0\n---\n# base\n"}) + "\n")
    d2.write_text(json.dumps({"id": "acme/base", "card": "---\nlicense: cc-by-nc-4.0\n---\n# base\n"}) + "\n")
    out = tmp_path / "ix"
    index.build([str(d1)], out)
    s = index.build([str(d2)], out)
    assert s["judged"] == 1 and s["unchanged"] == 0
    f = HubIndexResolver(out).lookup("acme/base")
    assert f is not None and [x.value for x in f.licences] == ["cc-by-nc-4.0"]
