"""Documentation completeness on cards aitrail did not write: a section that holds only a template's
placeholder documents nothing. Cards in tests/data/openreal were written by the real libraries
(make_cards.py): transformers' Trainer card says "More information needed" in every section it cannot
fill (2,176 cards of the 2022 hub snapshot), huggingface_hub's template "[More Information Needed]"."""

from __future__ import annotations

from pathlib import Path

import builders
import pytest
from conftest import SHARED

import aitrail
from aitrail.analyze import completeness

CARDS = Path(__file__).parent / "data" / "openreal"
SHARED_DATA = SHARED / "data"


def _items(tmp_path: Path, card: str) -> dict:
    (tmp_path / "README.md").write_text(card, encoding="utf-8")
    builders.safetensors_file(tmp_path / "model.safetensors")
    inv = aitrail.scan(tmp_path, hash_files=False)
    completeness.assess(inv)
    return {c.element: c for c in inv.completeness}


def test_the_trainer_cards_placeholder_is_not_an_intended_use(tmp_path):
    """Before: model.intended_use present ("model card section / aitrail.yaml") on this card."""
    items = _items(tmp_path, (CARDS / "trainer_card.md").read_text("utf-8"))
    use = items["model.intended_use"]
    assert not use.present
    # the missing element says what was found, where, and what it holds
    assert use.how_to_supply.startswith("README.md:")
    assert "[Intended uses & limitations]: only a template placeholder ('More information needed')" in use.how_to_supply
    assert "intended_use: in aitrail.yaml" in use.how_to_supply


def test_the_hub_templates_placeholders_are_not_documentation(tmp_path):
    items = _items(tmp_path, (CARDS / "hub_template_card.md").read_text("utf-8"))
    assert not items["model.intended_use"].present
    assert not items["model.limitations"].present  # cut part-way through the template's own sentence
    assert "only a template placeholder" in items["model.limitations"].how_to_supply


def test_a_filled_in_template_section_is_documentation_with_its_line(tmp_path):
    card = (CARDS / "hub_template_card.md").read_text("utf-8")
    head, tail = card.split("### Direct Use", 1)
    tail = tail.replace("[More Information Needed]", "Routing support tickets in English.", 1)
    items = _items(tmp_path, head + "### Direct Use" + tail)
    use = items["model.intended_use"]
    assert use.present
    line = next(i for i, t in enumerate(card.splitlines(), 1) if t == "## Uses")
    assert use.evidence == f"README.md:{line} [Uses]"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("More information needed", False),
        ("[More Information Needed]", False),
        ("<!-- Provide a longer summary. -->\n\n[More Information Needed]\n\n### Downstream Use\n\n<!-- x", False),
        ("TODO: Add table if available", False),
        ("(to do)", False),
        ("TBD", False),
        ("", False),
        ("Ticket routing. More information needed on other languages.", True),
        ("To do sentiment analysis.", True),
        ({"results": [1]}, True),
    ],
)
def test_stated(text, says):
    assert completeness.stated(text) is says


@pytest.mark.parametrize("front", ["license: other", "license: unknown", "license: '???'"])
def test_a_licence_value_that_names_no_licence_is_not_a_documented_licence(tmp_path, front):
    items = _items(tmp_path, f"---\n{front}\n---\n# m\nA model.\n")
    assert not items["model.license"].present and not items["spdx.ai.declaredLicense"].present
    assert "naming no licence" in items["model.license"].how_to_supply


def test_other_with_its_name_is_a_documented_licence(tmp_path):
    items = _items(tmp_path, "---\nlicense: other\nlicense_name: llama2\nlicense_link: LICENSE\n---\n# m\nA model.\n")
    assert items["model.license"].present
    assert items["model.license"].evidence == "other 'llama2' <LICENSE> (README.md [license])"


def _dimension(tmp_path: Path, card: str, dim: str = "modelcard") -> dict:
    from aitrail.analyze import openness

    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "README.md").write_text(card, encoding="utf-8")
    builders.safetensors_file(tmp_path / "model.safetensors")
    inv = aitrail.scan(tmp_path, hash_files=False)
    [d] = openness.declarations(inv, tmp_path)
    return openness.assess(d)["index"]["dimensions"][dim]


_modelcard = _dimension


def test_the_index_model_card_is_graded_on_what_the_card_states(tmp_path):
    """The Index asks for a card giving insight on training and evaluation. Before: any README.md was
    an "open" model card, the hub's unfilled template included."""
    dim = _modelcard(tmp_path / "a", (CARDS / "hub_template_card.md").read_text("utf-8"))
    assert dim["class"] == "closed" and "states none of" in dim["basis"]
    dim = _modelcard(tmp_path / "b", (CARDS / "trainer_card.md").read_text("utf-8"))
    assert dim["class"] == "partial"
    assert dim["basis"].endswith("states training; not intended use, limitations, evaluation")


def test_a_card_that_documents_every_topic_is_an_open_model_card(tmp_path):
    card = (
        "---\nlicense: mit\n---\n# m\n\nA sentiment classifier.\n\n## Intended uses\n\nProduct reviews in English.\n\n"
        "## Limitations\n\nFails on sarcasm.\n\n## Training data\n\nIMDB reviews, 25k.\n\n"
        "## Evaluation\n\n91% accuracy on the IMDB test split.\n"
    )
    assert _modelcard(tmp_path, card)["class"] == "open"


def test_the_memo_key_holds_what_the_card_states():
    from aitrail.analyze import mof, openness

    a = mof.Declaration("m", [13], {13: "MIT"}, {}, origin="scan", detail={13: {"training": True}})
    b = mof.Declaration("n", [13], {13: "MIT"}, {}, origin="scan", detail={13: {"training": False}})
    assert openness.memo_key(a) != openness.memo_key(b)
    assert openness.memo_key(a) == openness.memo_key(mof.Declaration("x", [13], {13: "MIT"}, {}, origin="scan",
                                                                      detail={13: {"training": True}}))


def _hardware(tmp_path: Path, card: str) -> dict:
    return _dimension(tmp_path, card, "hardware_architecture")


def test_hardware_is_documented_by_the_card_not_by_a_paper_it_cites(tmp_path):
    """Before: a card tag `arxiv:…` (here the Pile's paper, cited by GPT-Neo cards) made the hardware
    architecture "open"; the hub template's unfilled "Hardware Type:" line made it stated."""
    dim = _hardware(tmp_path / "a", "---\nlicense: mit\ntags:\n- arxiv:2101.00027\n---\n# m\nA model.\n")
    assert dim["class"] == "closed" and "cited, not read: Research paper arxiv:2101.00027" in dim["basis"]
    assert _hardware(tmp_path / "b", (CARDS / "hub_template_card.md").read_text("utf-8"))["class"] == "closed"
    card = "---\nlicense: mit\n---\n# m\nA model.\n\n## Compute Infrastructure\n\n8x A100 80GB for 3 days.\n"
    dim = _hardware(tmp_path / "c", card)
    assert dim["class"] == "open" and "the model card states the hardware" in dim["basis"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- **Hardware Type:** [More Information Needed]\n- **Hours used:** [More Information Needed]", False),
        ("- **Hardware Type:** 8x A100\n- **Hours used:** [More Information Needed]", True),
        ("Hardware: TPU v3-256", True),
    ],
)
def test_labels_left_bare_by_a_placeholder_state_nothing(text, says):
    assert completeness.stated(text) is says


def test_a_card_with_only_a_description_is_a_partial_model_card(tmp_path):
    dim = _modelcard(tmp_path, "---\nlicense: mit\n---\n# m\n\nA BERT model fine-tuned on German legal texts.\n")
    assert dim["class"] == "partial" and "states a description only" in dim["basis"]


def test_dataset_elements_name_the_datasets_and_which_lack_what(tmp_path):
    """Before: "3 datasets" present, and a missing licence said nothing of which dataset lacked it."""
    (tmp_path / "aitrail.yaml").write_text(
        "datasets:\n  - {name: a, license: cc-by-4.0, url: 'https://d.example/a'}\n"
        "  - {name: b, url: 'https://d.example/b'}\n",
        encoding="utf-8",
    )
    items = _items(tmp_path, "---\nlicense: mit\n---\n# m\nA model.\n")
    assert items["dataset.training"].evidence == "2 datasets: a, b (aitrail.yaml [datasets])"
    assert not items["dataset.license"].present
    assert items["dataset.license"].how_to_supply.startswith("not given for b; ")


def test_the_fast_path_of_stated_agrees_with_every_rule_on_real_card_sections():
    """stated() skips the placeholder rules when one search finds nothing they could remove; on the
    sections of 3,000 real cards (2022 hub snapshot) both answers are the same."""
    duckdb = pytest.importorskip("duckdb")
    from aitrail.catalog.model_card import sections, split_front_matter

    parquet = SHARED_DATA / "hub-metadata/hf-hub-2022-snapshot/models.parquet"
    rows = duckdb.sql(f"select card from read_parquet('{parquet}') where card is not null limit 3000").fetchall()
    texts = []
    for (card,) in rows:
        try:
            _, body, line = split_front_matter(card)
        except Exception:  # a card whose front matter does not close: its body is the card
            body, line = card, 1
        texts += [v["excerpt"] for v in sections(body, line).values()]
    assert len(texts) > 2000
    assert [completeness.stated(t) for t in texts] == [completeness._stated_text(t) if t else False for t in texts]
    assert sum(not completeness.stated(t) for t in texts) > 100  # placeholders are among them
