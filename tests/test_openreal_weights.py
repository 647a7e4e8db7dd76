"""Openness of a scanned folder on cards aitrail did not write: the weights are open only when every
licence over them is (their own and their bases', as the licence verdicts read them), and the data
component is open only when every dataset is. Cards in tests/data/openreal were written by the real
libraries (make_cards.py: transformers' Trainer card, huggingface_hub's template)."""

from __future__ import annotations

from pathlib import Path

import builders
import pytest

import aitrail
from aitrail.analyze import openness

CARDS = Path(__file__).parent / "data" / "openreal"


def _assess(folder: Path) -> dict:
    inv = aitrail.scan(folder, hash_files=False)
    [d] = openness.declarations(inv, folder)
    return openness.assess(d)


def _folder(tmp_path: Path, card: str, weights: str = "model.safetensors") -> Path:
    (tmp_path / "README.md").write_text(card, encoding="utf-8")
    builders.safetensors_file(tmp_path / weights)
    return tmp_path


def _assess_with(tmp_path: Path, card: str, name: str, text: str) -> dict:
    """A folder with the card, weights and one more file beside them, graded."""
    folder = _folder(tmp_path, card)
    (folder / name).write_text(text, encoding="utf-8")
    return _assess(folder)


def _comp(a: dict, name: str) -> dict:
    return next(c for c in a["mof"]["components"] if c["component"] == name)


def _item(a: dict, name: str) -> dict:
    return next(it for r in a["osaid"]["requirements"] for it in r["items"] if it["item"] == name)


def test_a_fine_tune_of_llama_2_declaring_apache_is_not_open_weights(tmp_path):
    """The Trainer's card of a Llama 2 fine-tune says `license: apache-2.0`: the weights still contain
    Llama 2, under the Llama 2 Community Licence. Before: "open" (Apache-2.0), Index weights open."""
    a = _assess(_folder(tmp_path, (CARDS / "trainer_card.md").read_text("utf-8")))
    w = _comp(a, "Model parameters (Final)")
    assert w["status"] == "not open" and w["license"] == "LicenseRef-aitrail-llama-2"
    # the evidence names the file, each licence and where it was read (the card key, the curated fact)
    assert w["declared_at"].startswith("found: model.safetensors; licences: Apache-2.0 (README.md")
    assert "meta-llama/Llama-2-7b-hf" in w["declared_at"] and "base_models.yaml" in w["declared_at"]
    assert _item(a, "Model parameters")["status"] == "licence"
    dims = a["index"]["dimensions"]
    assert dims["weights_endmodel"]["class"] == dims["weights_basemodel"]["class"] == "partial"
    assert dims["licenses"]["class"] == "partial"
    assert not a["summary"].startswith("Open weights")


def test_two_licences_declared_both_apply(tmp_path):
    """huggingface_hub's template card with `license: [apache-2.0, cc-by-nc-4.0]`: the licence verdicts
    apply both (a conflict), so the weights are not open. Before: the first one only ("open")."""
    a = _assess(_folder(tmp_path, (CARDS / "hub_template_card.md").read_text("utf-8")))
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["license"]) == ("not open", "CC-BY-NC-4.0")
    assert "Apache-2.0 (README.md" in w["declared_at"] and "CC-BY-NC-4.0 (README.md" in w["declared_at"]
    assert a["index"]["dimensions"]["weights_endmodel"]["class"] == "partial"


def test_a_base_whose_licence_is_unknown_leaves_the_weights_licence_unknown(tmp_path):
    card = "---\nlicense: mit\nbase_model: some-lab/unpublished-base-7b\n---\n# m\nA fine-tune.\n"
    a = _assess(_folder(tmp_path, card))
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["license"], w["state"]) == ("not open", "NOASSERTION", "licence not known")
    assert "some-lab/unpublished-base-7b" in w["declared_at"]
    assert a["summary"].startswith("Weights released, licence not known")
    assert "released without a licence" not in a["summary"]


def test_an_open_base_keeps_open_weights(tmp_path):
    """The rule is every licence, not "any base": a fine-tune of Mistral 7B (Apache-2.0) under MIT."""
    card = "---\nlicense: mit\nbase_model: mistralai/Mistral-7B-v0.1\n---\n# m\nA fine-tune.\n"
    a = _assess(_folder(tmp_path, card))
    assert _comp(a, "Model parameters (Final)")["status"] == "open"
    assert a["summary"].startswith("Open weights, not open source AI")


def _with_data(tmp_path: Path, datasets: str) -> dict:
    _folder(tmp_path, "---\nlicense: apache-2.0\n---\n# m\nA model.\n")
    (tmp_path / "aitrail.yaml").write_text("datasets:\n" + datasets, encoding="utf-8")
    return _assess(tmp_path)


OPEN = "  - {name: open-part, license: cc-by-4.0, url: 'https://data.example/open'}\n"


def test_the_data_is_open_only_when_every_dataset_is(tmp_path):
    """Before: the first dataset's licence stood for all of them."""
    nc = "  - {name: nc-part, license: cc-by-nc-4.0, url: 'https://data.example/nc'}\n"
    a = _with_data(tmp_path, OPEN + nc)
    d = _comp(a, "Datasets")
    assert (d["status"], d["license"]) == ("not open", "CC-BY-NC-4.0")
    assert "open-part: cc-by-4.0" in d["declared_at"] and "nc-part: cc-by-nc-4.0" in d["declared_at"]
    assert a["index"]["dimensions"]["datasources_endmodel"]["class"] == "partial"
    # the Index's licence dimension covers the data sources too (before: "open", the weights' Apache-2.0)
    lic = a["index"]["dimensions"]["licenses"]
    assert (lic["class"], lic["basis"]) == ("partial", "licence Apache-2.0; not covered: Datasets: CC-BY-NC-4.0")


def test_a_dataset_without_a_licence_makes_the_data_licence_unknown(tmp_path):
    a = _with_data(tmp_path, OPEN + "  - {name: scraped-part, url: 'https://data.example/s'}\n")
    d = _comp(a, "Datasets")
    assert (d["license"], d["state"]) == ("NOASSERTION", "licence not known")
    assert "scraped-part: licence not given" in d["declared_at"]
    assert a["index"]["dimensions"]["datasources_endmodel"]["class"] == "partial"


def test_every_dataset_open_is_open(tmp_path):
    a = _with_data(tmp_path, OPEN + "  - {name: more, license: odc-by, url: 'https://data.example/m'}\n")
    assert _comp(a, "Datasets")["status"] == "open"
    assert a["index"]["dimensions"]["datasources_endmodel"]["class"] == "open"
    assert a["index"]["dimensions"]["licenses"]["class"] == "open"


def test_a_folder_without_a_licence_says_none_was_found_not_that_none_was_released(tmp_path):
    """A scan sees files, not a release: no licence in them is "no licence found in the scanned files";
    a paper or training code the card only points at has a licence aitrail does not know."""
    card = "---\ntags:\n- arxiv:2101.00027\n---\n# m\nA model.\n"
    a = _assess(_folder(tmp_path, card))
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["state"]) == ("unlicensed", "no licence found in the scanned files")
    paper = _comp(a, "Research paper")
    assert (paper["license"], paper["state"]) == ("NOASSERTION", "licence not known")
    assert a["summary"].startswith("Weights found with no licence in the scanned files")
    assert "released without a licence" not in a["summary"]
    assert "no licence found in the scanned files: model parameters" in a["summary"]
    assert "licence not known: training methodologies and techniques" in a["summary"]


def test_an_open_base_does_not_license_a_derivative_that_declares_nothing(tmp_path):
    """25 cards of the 2022 snapshot (a fine-tune of gpt2-medium declaring no licence) would otherwise
    borrow their base's MIT."""
    a = _assess(_folder(tmp_path, "---\nbase_model: mistralai/Mistral-7B-v0.1\n---\n# m\nA fine-tune.\n"))
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["state"]) == ("unlicensed", "no licence found in the scanned files")
    assert "no licence declared (bases: Apache-2.0" in w["declared_at"]


def test_weights_read_by_their_packages_licence_name_the_file_it_was_read_from():
    """silero-vad's ONNX weights declare nothing; the wheel's METADATA does (the licence verdicts read
    the model by its package's licence): the evidence names that file."""
    from conftest import REAL

    folder = REAL / "silero-vad"
    a = _assess(folder)
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["license"]) == ("open", "MIT")
    assert "silero_vad-6.2.3.dist-info/METADATA" in w["declared_at"]


def test_every_grade_names_its_clause(tmp_path):
    a = _assess(_folder(tmp_path, "---\nlicense: mit\n---\n# m\nA model.\n"))
    want = "MOF 1.0, Class III - Open Model: required document component, under an open licence"
    assert _comp(a, "Model card")["clause"] == want
    assert all(r["clause"].startswith("OSAID 1.0") for r in a["osaid"]["requirements"])
    hw = a["index"]["dimensions"]["hardware_architecture"]["clause"]
    assert hw.startswith("European Open Source AI Index, 'Hardware architecture': Is the hardware architecture")


def test_a_mof_yml_cannot_license_away_the_base(tmp_path):
    """A producer's mof.yml saying Apache-2.0 for the weights of a Llama 2 fine-tune (the Trainer's card).
    Before: the sidecar won, "Open weights"."""
    mof_yml = (
        "framework: {name: Model Openness Framework, version: '1.0', date: '2024-12-15'}\n"
        "release:\n  name: m\n  components:\n    - {name: 'Model parameters (Final)', license: Apache-2.0}\n"
    )
    a = _assess_with(tmp_path, (CARDS / "trainer_card.md").read_text("utf-8"), "mof.yml", mof_yml)
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["license"]) == ("not open", "LicenseRef-aitrail-llama-2")
    assert w["declared_at"].startswith("mof.yml release.components[0]; found: model.safetensors; licences: Apache-2.0")
    assert not a["summary"].startswith("Open weights")


def test_the_base_models_side_of_the_index_is_graded_on_the_base(tmp_path):
    """A fine-tune of Mistral 7B declaring its own open data: the Index's base-model data is Mistral's,
    which the folder does not show. Before: base data "open" (mirroring the fine-tune's)."""
    _folder(tmp_path, "---\nlicense: mit\nbase_model: mistralai/Mistral-7B-v0.1\n---\n# m\nA fine-tune.\n")
    (tmp_path / "aitrail.yaml").write_text("datasets:\n" + OPEN, encoding="utf-8")
    dims = _assess(tmp_path)["index"]["dimensions"]
    assert dims["datasources_endmodel"]["class"] == "open"
    base = dims["datasources_basemodel"]
    assert base["class"] == "closed" and base["basis"].startswith("base model mistralai/Mistral-7B-v0.1: its training")
    w = dims["weights_basemodel"]
    assert (w["class"], w["basis"]) == ("open", "base model mistralai/Mistral-7B-v0.1: Apache-2.0")


def test_a_base_whose_licence_is_not_known_is_closed_base_weights(tmp_path):
    card = "---\nlicense: mit\nbase_model: some-lab/unpublished-base-7b\n---\n# m\nA fine-tune.\n"
    w = _assess(_folder(tmp_path, card))["index"]["dimensions"]["weights_basemodel"]
    want = "base model some-lab/unpublished-base-7b: NOASSERTION: licence not known"
    assert (w["class"], w["basis"]) == ("closed", want)


@pytest.mark.parametrize(
    ("expression", "status", "licence"),
    [("Apache-2.0 OR CC-BY-NC-4.0", "open", "Apache-2.0"), ("Apache-2.0 AND CC-BY-NC-4.0", "not open", "CC-BY-NC-4.0")],
)
def test_an_spdx_expression_is_graded_as_the_licence_verdicts_read_it(tmp_path, expression, status, licence):
    """Before: the whole expression was looked up as one id, so an OR with an open choice was not open."""
    a = _assess(_folder(tmp_path, f"---\nlicense: {expression}\n---\n# m\nA model.\n"))
    w = _comp(a, "Model parameters (Final)")
    assert (w["status"], w["license"]) == (status, licence)
    assert f"licences: {licence} ({expression}: README.md [license])" in w["declared_at"]


def test_code_in_a_folder_with_two_licences_is_under_both(tmp_path):
    """The hub template card declares apache-2.0 and cc-by-nc-4.0 without saying which covers what: the
    training script found beside it is not shown to be under an OSI licence. Before: Apache-2.0 (the first)."""
    script = "import torch\nfrom transformers import Trainer\n\ntrainer = Trainer(model=None)\ntrainer.train()\n"
    a = _assess_with(tmp_path, (CARDS / "hub_template_card.md").read_text("utf-8"), "train.py", script)
    code = _comp(a, "Training code")
    assert (code["status"], code["license"]) == ("not open", "CC-BY-NC-4.0")
    assert code["declared_at"].startswith("found: train.py; licences: Apache-2.0 (README.md")
    assert _item(a, "Training, validation and testing")["status"] == "licence"


@pytest.mark.parametrize(
    ("dataset", "status", "licence", "said"),
    [
        ("squad", "open", "CC-BY-SA-4.0", "squad: CC BY-SA 4.0 [Data Provenance Initiative audit"),
        ("xnli", "not open", "LicenseRef-dpi-xnli", "xnli: non-commercial: CC BY-NC 4.0 [Data Provenance"),
        ("imdb", "not open", "NOASSERTION", "imdb: use unspecified: Unspecified [Data Provenance"),
    ],
)
def test_hub_datasets_are_graded_by_their_audited_licences(tmp_path, dataset, status, licence, said):
    """A card's `datasets:` hub ids, graded by the Data Provenance Initiative's audit the licence verdicts
    use (knowledge/datasets_dpi.json). Before: "Datasets: not found in the scanned files"."""
    a = _assess(_folder(tmp_path, f"---\nlicense: mit\ndatasets:\n- {dataset}\n---\n# m\nA model.\n"))
    d = _comp(a, "Datasets")
    assert (d["status"], d["license"]) == (status, licence)
    assert said in d["declared_at"]
    assert "does not know" not in d["state"]  # an audited LicenseRef is known: known not to be open
