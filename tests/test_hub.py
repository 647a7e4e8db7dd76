"""Hub-scale batch audits: inputs, judgements (the single-model ones), Parquet out, query, resume."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SHARED

import aitrail
from aitrail import cli
from aitrail.analyze import licenses
from aitrail.hub import batch, engines, query, run
from aitrail.model import RelationshipKind

HUB = SHARED / "data" / "hub-metadata"
MODELS = HUB / "hf-hub-2022-snapshot" / "models.parquet"
EDGES = HUB / "hf-lineage-2025" / "edges.csv"


def real_rows(n: int, where: str = "true") -> pa.Table:
    import duckdb

    sql = f"select * from read_parquet('{MODELS}') where {where} order by model_id limit {n}"
    return duckdb.sql(sql).arrow().read_all()


def hub_main(argv: list[str]) -> int:
    if "aitrail.hub.cli" not in cli.EXTENSIONS:
        cli.EXTENSIONS.append("aitrail.hub.cli")
    return cli.main(argv)


def test_register_on_a_fresh_parser():
    from aitrail.hub import cli as hub_cli

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    handlers = hub_cli.register(sub, cli._common)
    assert set(handlers) == {"hub"}
    a = p.parse_args(["hub", "run", "x.parquet", "--out", "d", "--engine", "dask", "--scheduler", "tcp://h:8786"])
    assert (a.hub_command, a.engine, a.scheduler, a.inputs) == ("run", "dask", "tcp://h:8786", ["x.parquet"])


@pytest.mark.parametrize("n", range(25))
def test_batch_judgement_equals_the_single_model_scan(tmp_path, n):
    """A real card with a licence, datasets or a base: the batch row says what `aitrail scan` + the
    licence/openness judgements say of a folder holding that card and the same files."""
    rows = real_rows(25, "card like '---%' and (len(license_tags) > 0 or len(dataset_tags) > 0)").to_pylist()
    rec = rows[n]
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text(rec["card"], "utf-8")
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2, np.float32)}, str(folder / "model.safetensors"))
    inv = aitrail.scan(folder, hash_files=False)
    m = inv.models()[0]
    rec = {**rec, "id": rec["model_id"], "siblings": ["model.safetensors"], "license_tags": [], "tags": []}
    out, _ = batch.judge(rec)
    for use in licenses.USES:
        assert out[f"verdict_{use}"] == licenses.model_verdict(licenses.entries(inv, m, use)), use
    assert out["licenses"] == [x.value for x in m.licenses]
    assert sorted(out["datasets"]) == sorted(c.name for c in inv.related(m.id, RelationshipKind.TRAINED_ON))
    assert out["bases"] == [c.name for c in inv.related(m.id, RelationshipKind.DERIVED_FROM)]
    scan_rules = {f.rule for f in inv.findings if f.rule.startswith("license.")}
    assert {r for r in out["findings"] if r.startswith("license.")} == scan_rules
    from aitrail.analyze import openness

    a = openness.assess(openness.declaration_from_inventory(inv, m))
    assert (out["mof_class"], out["osaid"]) == (a["mof"]["class"], a["osaid"]["verdict"])
    present = {c.element for c in inv.completeness if c.present}
    # the folder scan knows what a hub record cannot (a name from the folder, an architecture from config)
    hub_present = {e for e in present if e not in ("model.identifier", "model.version", "spdx.ai.downloadLocation",
                                                   "spdx.ai.packageVersion")}
    assert hub_present - {"model.hash", "security.file_hashes"} <= (
        set(batch.completeness.CHECKS) - set(out["completeness_missing"])
    )


def _bad_jsonl(path: Path) -> None:
    good = real_rows(3, "card like '---%license%'").to_pylist()
    lines = [json.dumps({"modelId": r["model_id"], "sha": r["sha"], "lastModified": r["last_modified"],
                         "card": r["card"], "siblings": [{"rfilename": s} for s in r["siblings"]]}) for r in good]
    lines += [
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"card": "no id"}),
        json.dumps({"modelId": "x/binary", "card": "ab\x00cd"}),
        json.dumps({"modelId": "x/badyaml", "card": "---\nlicense: [mit\n---\n# x\n"}),
        json.dumps({"modelId": "x/huge", "card": "x" * (batch.MAX_CARD + 1)}),
        json.dumps({"modelId": "x/cardnum", "card": 12}),
        json.dumps({"modelId": good[0]["model_id"], "card": "---\nlicense: mit\n---\n"}),  # a duplicate id
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_malformed_rows_are_counted_with_examples_never_fatal(tmp_path):
    src = tmp_path / "dump.jsonl"
    _bad_jsonl(src)
    s = run.run([str(src)], tmp_path / "out", batch_rows=4)
    assert s["records"] == 5  # 3 good + badyaml (judged, with its error) + the duplicate
    by = s["errors_by_rule"]
    assert by["hub.row.malformed"]["count"] == 6
    assert by["hub.card.front-matter"]["count"] == 1 and by["hub.card.front-matter"]["examples"] == ["x/badyaml"]
    assert s["duplicate_ids"]["count"] == 1
    assert set(s) >= {"records", "errors", "seconds", "records_per_second"}
    assert s["missing_columns"][str(src)]  # e.g. tags, config: reported, not fatal
    msgs = query.run(tmp_path / "out", "select message from errors order by row", "json")
    text = json.loads(msgs)
    assert any("not valid JSON" in m["message"] for m in text)
    assert any("NUL" in m["message"] for m in text) and any("more than the" in m["message"] for m in text)


def test_run_query_and_resume(tmp_path):
    t = real_rows(300)
    pq.write_table(t, tmp_path / "m.parquet")
    out = tmp_path / "run"
    assert hub_main(["hub", "run", str(tmp_path / "m.parquet"), "--out", str(out), "--batch-rows", "64", "-q"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["records"] + s["rejected"] == 300
    parts = sorted((out / "parts" / "results").glob("part-*.parquet"))
    assert len(parts) == 5
    before = query.run(out, "select * from results order by id")
    # an interrupted run: the last batch never finished
    parts[-1].unlink()
    mtimes = {p: p.stat().st_mtime_ns for p in parts[:-1]}
    s2 = run.run([str(tmp_path / "m.parquet")], out, batch_rows=64)
    assert s2["rows_this_run"] == 300 - 4 * 64  # only the missing batch was judged again
    assert all(p.stat().st_mtime_ns == m for p, m in mtimes.items())
    assert query.run(out, "select * from results order by id") == before
    assert s2["records"] == s["records"]
    # another batch size in the same folder is refused, not mixed
    with pytest.raises(aitrail.InputError):
        run.run([str(tmp_path / "m.parquet")], out, batch_rows=10)


def test_query_csv_and_json(tmp_path, capsys):
    pq.write_table(real_rows(200, "card like '---%license%'"), tmp_path / "m.parquet")
    out = tmp_path / "run"
    run.run([str(tmp_path / "m.parquet")], out)
    capsys.readouterr()
    sql = "select license_id, count(*) n from results group by 1 order by 2 desc, 1"
    assert hub_main(["hub", "query", str(out), sql]) == 0
    csv_out = capsys.readouterr().out
    assert csv_out.splitlines()[0] == "license_id,n" and "Apache-2.0" in csv_out
    sql = "select id, licenses from results order by id limit 2"
    assert hub_main(["hub", "query", str(out), sql, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and isinstance(rows[0]["licenses"], list)
    assert hub_main(["hub", "query", str(out), "select nonsense from results"]) == 2
    assert "query failed" in capsys.readouterr().err
    assert hub_main(["hub", "query", str(tmp_path), "select 1"]) == 2  # not a run folder


def test_csv_input_keeps_ids_as_text(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text('model_id,sha,card\n1e3,0123,"---\nlicense: mit\n---\n# x"\n', "utf-8")
    s = run.run([str(p)], tmp_path / "out")
    assert s["records"] == 1
    rows = json.loads(query.run(tmp_path / "out", "select id, sha, license_id from results", "json"))
    assert rows == [{"id": "1e3", "sha": "0123", "license_id": "MIT"}]


def test_part_files_are_the_only_output_of_a_batch(tmp_path):
    """A batch redone (a lost worker's task) overwrites its own parts: no row is written twice."""
    t = real_rows(50)
    b = t.to_batches()[0]
    from aitrail.hub import inputs

    src = inputs.Source(tmp_path / "x.parquet", "parquet")
    nb = inputs.normalise(b, src)
    for d in engines.TABLES:
        (tmp_path / "parts" / d).mkdir(parents=True)
    for _ in range(2):
        engines.work(engines._ipc(nb), "x", 0, str(tmp_path), engines.part_key(0, 0))
    assert len(list((tmp_path / "parts" / "results").iterdir())) == 1
    assert query.run(tmp_path, "select count(*) n from results").splitlines()[1] == "50"


def test_memoised_judgements_equal_unmemoised_on_all_real_cards(monkeypatch):
    """Judgements are memoised on the signature of what they read: on every real record the memoised
    row and findings are the ones computed on the record's own inventory."""
    from aitrail.hub import inputs

    srcs = inputs.sources([MODELS])
    recs = [r for _, _, b in inputs.batches(srcs, 4096) for r in b.to_pylist()]
    assert len(recs) == 29_432

    def all_rows() -> list[object]:
        out = []
        for r in recs:
            try:
                out.append(batch.judge(r))
            except ValueError as e:
                out.append(str(e))
        return out

    monkeypatch.setattr(batch, "MEMO", False)
    plain = all_rows()
    monkeypatch.setattr(batch, "MEMO", True)
    batch._MEMO.clear()
    memo = all_rows()
    assert len(batch._MEMO) < len(recs) // 5  # the memo is hit, not just filled
    for a, b in zip(plain, memo):
        assert a == b


def test_a_table_without_ids_is_skipped_with_a_note(tmp_path):
    """An edge list in the dump folder is not a million malformed rows."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "edges.csv").write_text("source,target,edge\na,b,finetuned\n" * 3, "utf-8")
    pq.write_table(real_rows(5), tmp_path / "in" / "m.parquet")
    s = run.run([str(tmp_path / "in")], tmp_path / "out")
    assert s["records"] == 5 and s["rejected"] == 0
    assert "no model id column" in s["skipped_inputs"][str(tmp_path / "in" / "edges.csv")]


def test_a_run_that_judges_no_record_is_not_a_clean_exit(tmp_path, capsys):
    """Every row malformed (binary cards): counted as errors, and the command says so with exit 2."""
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"x/m{i}", "card": "\u0000" * 10}) for i in range(3)) + "\n")
    out = tmp_path / "run"
    assert hub_main(["hub", "run", str(src), "--out", str(out), "-q"]) == 2
    s = json.loads((out / "summary.json").read_text())
    assert s["records"] == 0 and s["errors"] == 3
    assert "no record could be judged" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("siblings", "relation_line", "want"),
    [
        (["adapter_config.json", "adapter_model.safetensors"], "", "adapter"),
        (["x.Q4_K_M.gguf", "README.md"], "", "quantization"),
        (["model.safetensors"], "", "fine-tune"),
        (["adapter_config.json"], "base_model_relation: finetune\n", "fine-tune"),  # the card's word wins
    ],
)
def test_a_base_kind_is_read_from_the_repo_files_as_the_folder_scan_reads_it(tmp_path, siblings, relation_line, want):
    """A card naming a base without base_model_relation: the hub (and `aitrail scan`) take the kind from the
    repository's files; the batch row says the same, on the fast path and the reference."""
    card = f"---\nbase_model: acme/base-model\n{relation_line}license: mit\n---\n# x\n"
    rec = {"model_id": "acme/derived", "card": card, "siblings": siblings}
    pq.write_table(pa.Table.from_pylist([rec]), tmp_path / "m.parquet")
    out = tmp_path / "run"
    run.run([str(tmp_path / "m.parquet")], out)
    [row] = json.loads(query.run(out, "select relation from results", "json"))
    assert row["relation"] == want
    ref, _ = batch.judge({**rec, "id": rec["model_id"]})
    assert ref["relation"] == want
