"""The fast batch path (hub/fast.py: each distinct template judged once) gives the reference's tables
(batch.judge record by record) on every real card and on synthetic fine-tunes of real cards."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from test_hub import MODELS

from aitrail.hub import batch, fast, inputs


def _tables(batches: list[tuple[int, pa.RecordBatch]], use_fast: bool, monkeypatch: pytest.MonkeyPatch) -> list:
    monkeypatch.setattr(batch, "FAST", use_fast)
    monkeypatch.setattr(batch, "PARSE_MEMO", use_fast)  # the reference parses every front matter itself
    fast.clear()
    return [batch.judge_batch(b, "src", first) for first, b in batches]


def _assert_same(ref: list, got: list) -> None:
    for (r1, f1, e1), (r2, f2, e2) in zip(ref, got, strict=True):
        for a, b in ((r1, r2), (f1, f2), (e1, e2)):
            if not a.equals(b):  # name the first differing row
                for x, y in zip(a.to_pylist(), b.to_pylist()):
                    assert x == y
                assert a.num_rows == b.num_rows
                assert a.schema == b.schema


def test_fast_batches_equal_the_reference_on_all_real_cards(monkeypatch):
    batches = [(first, b) for _, first, b in inputs.batches(inputs.sources([MODELS]))]
    assert sum(b.num_rows for _, b in batches) == 29_432
    ref = _tables(batches, False, monkeypatch)
    got = _tables(batches, True, monkeypatch)
    _assert_same(ref, got)
    assert len(fast._TEMPLATES) < 29_432 * 0.6  # duplicate cards share one judgement


def _synthetic(tmp_path, n: int = 3000) -> list[tuple[int, pa.RecordBatch]]:
    """Real records under new ids, a third fine-tunes naming a base in the opening front-matter line
    (as the hub's tools and scripts/gen_hub_synthetic.py write it): unknown bases, curated ones, the model
    itself, a placeholder-like name; and cards that only look like it."""
    import pyarrow.parquet as pq

    real = pq.read_table(MODELS).slice(0, 4000)
    rng = random.Random(5)
    idx = [rng.randrange(real.num_rows) for _ in range(n)]
    t = real.take(pa.array(idx))
    ids = [f"synth{i % 97:02d}/{m.split('/')[-1][:60]}-{i}" for i, m in enumerate(t.column("model_id").to_pylist())]
    cards = t.column("card").to_pylist()
    specials = ["meta-llama/Llama-2-7b-hf", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "bert-base-uncased",
                "Org/Mixed-Case_Base.v2", "x" * 97, "'quoted/base'", "yes", "a: b", "zz/ZzAitrailBase0"]
    for i in range(n):
        c = cards[i] or ""
        roll = rng.random()
        if roll < 0.35:
            base = f"synth{rng.randrange(97):02d}/base-{rng.randrange(500)}"
            if rng.random() < 0.2:
                base = rng.choice(specials)
            if rng.random() < 0.03:
                base = ids[i].upper() if rng.random() < 0.5 else ids[i]  # the model names itself
            rel = rng.choice(["finetune", "quantized", "merge", "adapter", "Fine-Tune", ""])
            head = f"base_model: {base}\n" + (f"base_model_relation: {rel}\n" if rel else "")
            c = "---\n" + head + (c[4:] if c.startswith("---\n") else "---\n" + c)
        elif roll < 0.38:
            c = "---\nbase_model: some/base\n  continued: x\n---\n" + c  # not a plain opening line
        elif roll < 0.40:
            c = "---\nbase_model: some/base\nlicense: [mit\n---\n# broken\n"
        cards[i] = c
    if n > 10:
        ids[7] = "meta-llama/Llama-3.1-8B"  # a curated family's base, fine-tuned from its distillate
        cards[7] = "---\nbase_model: deepseek-ai/DeepSeek-R1-Distill-Llama-8B\nlicense: mit\n---\n"
    t = t.set_column(t.schema.get_field_index("model_id"), "model_id", pa.array(ids))
    t = t.set_column(t.schema.get_field_index("card"), "card", pa.array(cards, pa.string()))
    path = tmp_path / "synth.parquet"
    pq.write_table(t, path)
    return [(first, b) for _, first, b in inputs.batches(inputs.sources([path]), 512)]


def test_fast_batches_equal_the_reference_on_synthetic_fine_tunes(tmp_path, monkeypatch):
    batches = _synthetic(tmp_path)
    ref = _tables(batches, False, monkeypatch)
    got = _tables(batches, True, monkeypatch)
    _assert_same(ref, got)
    # fine-tunes of unknown bases share their card's judgement (the base is a placeholder in the key)
    with_placeholder = [k for k, v in fast._TEMPLATES.items() if fast.BASE in k[0] and v is not fast._SLOW]
    assert len(with_placeholder) > 50
    rows = sum(b.num_rows for _, b in batches)
    assert len(fast._TEMPLATES) < rows * 0.8


def test_records_the_placeholders_cannot_stand_for_are_judged_on_their_own(monkeypatch):
    card = "---\nbase_model: org/unknown-base\nlicense: mit\n---\n# m\n"
    recs = [
        {"id": "a/m1", "card": card, "sha": "1" * 40},
        {"id": "a/m2", "card": card, "sha": "2" * 40},
        {"id": "org/Unknown-Base", "card": card, "sha": "3" * 40},  # the model is its base (case aside)
        {"id": "a/m3", "card": card + f"see {fast.BASE}\n"},  # a card quoting a placeholder
        {"id": "weird id!", "card": card},  # not a hub repo id
    ]
    b = pa.RecordBatch.from_pylist(recs)
    monkeypatch.setattr(batch, "FAST", True)
    fast.clear()
    got = batch.judge_batch(b, "s", 0)
    monkeypatch.setattr(batch, "FAST", False)
    ref = batch.judge_batch(b, "s", 0)
    _assert_same([ref], [got])
    res = got[0].to_pylist()
    assert [r["bases"] for r in res] == [["org/unknown-base"]] * 5
    msgs = got[1].column("message").to_pylist()
    assert any(m.startswith("a/m2: base org/unknown-base") for m in msgs)
    assert sum(1 for v in fast._TEMPLATES.values() if v is not fast._SLOW) >= 1


def test_batches_judged_in_threads_equal_the_reference(tmp_path, monkeypatch):
    """A Dask worker may run several tasks in threads: they share the templates and still give the
    reference's tables."""
    from concurrent.futures import ThreadPoolExecutor

    batches = _synthetic(tmp_path, 1200)
    ref = _tables(batches, False, monkeypatch)
    monkeypatch.setattr(batch, "FAST", True)
    fast.clear()
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda fb: batch.judge_batch(fb[1], "src", fb[0]), batches))
    _assert_same(ref, got)


def test_with_resolvers_beyond_the_curated_facts_every_record_is_judged_on_its_own(monkeypatch):
    """A configured resolver (a hub index) may know a base the placeholder would stand for."""
    from aitrail.analyze import licenses

    class Index:
        name = "hub-index"

        def lookup(self, model_id, revision=None):
            from aitrail.resolvers import LicenceEvidence, ModelFacts

            if model_id == "org/known-to-the-index":
                lic = LicenceEvidence("mit", "declared", "x")
                return ModelFacts(model_id, "hub-index", "test index", licences=(lic,))
            return None

    card = "---\nbase_model: {}\nlicense: mit\n---\n"
    recs = [{"id": f"a/m{i}", "card": card.format(b)} for i, b in enumerate(["org/unknown", "org/known-to-the-index"])]
    b = pa.RecordBatch.from_pylist(recs)
    monkeypatch.setattr(batch, "FAST", True)
    fast.clear()
    token = licenses.configure(hub_index=Index())
    try:
        got = batch.judge_batch(b, "s", 0)
        monkeypatch.setattr(batch, "FAST", False)
        batch._MEMO.clear()
        ref = batch.judge_batch(b, "s", 0)
    finally:
        licenses._EXTRA.reset(token)
    _assert_same([ref], [got])
    assert not fast._TEMPLATES
