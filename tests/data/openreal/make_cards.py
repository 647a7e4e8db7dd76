"""Model cards written by the real libraries (not by hand), for tests/test_openreal_*.py.

    benchmarks/work/fixturegen/bin/python tests/data/openreal/make_cards.py

Generated with transformers 5.24.0 (the Trainer's card, transformers.modelcard.TrainingSummary) and
huggingface_hub 2.4.0 (ModelCard.from_template, the hub's default template). The inputs below are the
only choices made here; everything else is what the libraries write.
"""

from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData
from transformers.modelcard import TrainingSummary

HERE = Path(__file__).parent

# a fine-tune of Llama 2 that declares apache-2.0, as the Trainer writes it when told so
trainer = TrainingSummary(
    model_name="llama2-imdb-sft",
    language="en",
    license="apache-2.0",
    finetuned_from="meta-llama/Llama-2-7b-hf",
    tasks="text-generation",
    dataset="imdb",
    dataset_tags="imdb",
    eval_results={"Loss": 1.234},
    hyperparameters={"learning_rate": 2e-05, "seed": 42, "num_epochs": 1.0},
)
(HERE / "trainer_card.md").write_text(trainer.to_model_card(), encoding="utf-8")

# the hub's template as `huggingface-cli`/ModelCard users get it, with two licences declared
data = ModelCardData(license=["apache-2.0", "cc-by-nc-4.0"], language="en", library_name="transformers")
(HERE / "hub_template_card.md").write_text(str(ModelCard.from_template(data, model_id="acme/tiny-model")), "utf-8")
