"""Curated base-model facts checked against a real inventory aitrail did not curate (session 6).

The LocalAI gallery (../shared hub-metadata/localai-gallery, 1,709 entries) declares a licence for the
Hugging Face repos it packages. Where an entry packages a repo that a curated family pattern claims,
the curated answer (with the family's own bases) must never be more permissive than the entry's licence.
Found this way: `^nvidia/Nemotron-` claimed the NVIDIA Open Model Licence for Nemotron-Research-Reasoning-
Qwen-1.5B, which is CC BY-NC 4.0 (a commercial "allowed" for a non-commercial model).
"""

from __future__ import annotations

import re

import pytest
from conftest import SHARED

import aitrail
from aitrail import yamlsafe
from aitrail.analyze import licenses as L
from aitrail.resolvers.curated import CuratedResolver

GALLERY = SHARED / "data" / "hub-metadata" / "localai-gallery" / "index.yaml"
ORDER = ("allowed", "allowed_with_obligations", "unknown", "not_allowed")


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", s.lower())


def _own_repos(entry: dict) -> list[str]:
    """Repos the entry packages itself: an entry also links the base it was made from, whose licence
    its `license:` does not describe, so a repo counts only when the entry is named after it."""
    out = []
    for url in entry.get("urls") or []:
        m = re.match(r"https://huggingface\.co/([^/]+/[^/?#]+)", url)
        if not m:
            continue
        name = re.sub(r"(?i)-(gguf|bf16|fp16)$", "", m.group(1).split("/")[1])
        if _norm(name) and _norm(name) in _norm(str(entry.get("name") or "")):
            out.append(m.group(1))
    return out


def _chain_verdict(model_id: str) -> str:
    cr = CuratedResolver()
    facts = cr.lookup(model_id)
    assert facts is not None
    ids = [facts.licences[0].value] + [
        f.licences[0].value for b in facts.bases if (f := cr.lookup(b.model_id)) is not None
    ]
    return max((L.licence_verdict(L.resolve(i), "commercial")[0] for i in ids), key=ORDER.index)


def test_curated_families_are_never_more_permissive_than_the_gallery():
    cr = CuratedResolver()
    said: dict[str, set[str]] = {}
    for entry in yamlsafe.load(GALLERY.read_text("utf-8")):
        declared = L.resolve(str(entry.get("license") or ""))
        if L.licence_verdict(declared, "commercial")[0] == "unknown":
            continue
        for repo in _own_repos(entry):
            if cr.lookup(repo) is not None:
                said.setdefault(repo, set()).add(declared.id)
    # entries that disagree about one repo (gemma-4-E2B-it: "gemma" in two entries, "apache-2.0" in others
    # and in Google's card) are no truth to test against
    agreed = {repo: ids.pop() for repo, ids in said.items() if len(ids) == 1}
    assert len(agreed) >= 50 and len(said) - len(agreed) <= 3
    worse = []
    for repo, lid in agreed.items():
        truth, ours = L.licence_verdict(L.resolve(lid), "commercial")[0], _chain_verdict(repo)
        if ORDER.index(ours) < ORDER.index(truth):
            worse.append((repo, lid, ours, truth))
    assert worse == []


@pytest.mark.parametrize(
    ("repo", "licence"),
    [
        ("nvidia/Nemotron-Research-Reasoning-Qwen-1.5B", "CC-BY-NC-4.0"),
        ("nvidia/Mistral-NeMo-Minitron-8B-Base", "LicenseRef-aitrail-nvidia-open-model"),
        ("nvidia/Nemotron-H-56B-Base-8K", None),  # a research-only licence: not the Open Model Licence
        ("mistralai/Pixtral-Large-Instruct-2411", "LicenseRef-aitrail-mrl-0.1"),
        ("mistralai/Pixtral-12B-2409", "Apache-2.0"),
        ("Qwen/Qwen2.5-Omni-3B", "LicenseRef-aitrail-qwen-research"),
        ("Qwen/Qwen2.5-VL-3B-Instruct", "LicenseRef-aitrail-qwen-research"),
        ("Qwen/Qwen2.5-VL-32B-Instruct", "Apache-2.0"),
        ("Qwen/Qwen2.5-Math-PRM-72B", "LicenseRef-aitrail-qwen"),
        ("Qwen/Qwen2-VL-72B-Instruct", "LicenseRef-aitrail-tongyi-qianwen"),
        ("google/gemma-3-4b-it", "LicenseRef-aitrail-gemma"),
        ("google/gemma-7b", "LicenseRef-aitrail-gemma"),
        ("unsloth/gemma-1.1-2b-it-bnb-4bit", "LicenseRef-aitrail-gemma"),
        ("google/gemma-4-31B-it", "Apache-2.0"),
        ("distilbert/distilgpt2", "Apache-2.0"),
        ("openai-community/gpt2-xl", "MIT"),
        ("openai/whisper-large-v3", "Apache-2.0"),
        ("openai/whisper-large-v3-turbo", None),  # another card (MIT): not claimed by the Whisper rule
        ("sentence-transformers/all-MiniLM-L6-v2", "Apache-2.0"),
    ],
)
def test_family_patterns_claim_only_what_their_source_names(repo, licence):
    facts = CuratedResolver().lookup(repo)
    assert (facts.licences[0].value if facts else None) == licence


@pytest.mark.parametrize(
    ("repo", "base"),
    [
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "Qwen/Qwen2.5-Math-1.5B"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "Qwen/Qwen2.5-Math-7B"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "Qwen/Qwen2.5-14B"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "Qwen/Qwen2.5-32B"),
        ("deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", "Qwen/Qwen3-8B-Base"),
    ],
)
def test_each_distilled_model_names_its_own_base(repo, base):
    facts = CuratedResolver().lookup(repo)
    assert [b.model_id for b in facts.bases] == [base]
    # and that base is itself resolved (the chain does not stop at an unknown hop)
    assert CuratedResolver().lookup(base) is not None


def _verdict(tmp_path, card: str) -> tuple[str, set[str]]:
    (tmp_path / "README.md").write_text(card)
    (tmp_path / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 4}')
    inv = aitrail.scan(tmp_path, hash_files=False)
    return L.report(inv, "commercial")["verdict"], {f.rule for f in inv.findings}


def test_a_flux_dev_lora_tagged_apache_is_laundering(tmp_path):
    """FLUX.1 [dev] is the base of most image LoRAs; its licence is non-commercial and binds Derivatives."""
    card = "---\nlicense: apache-2.0\nbase_model: black-forest-labs/FLUX.1-dev\n---\n# lora\n"
    verdict, rules = _verdict(tmp_path, card)
    assert verdict == "not_allowed" and "license.laundering" in rules


def test_a_flux_dev_lora_declaring_the_flux_licence_by_link_is_not_laundering(tmp_path):
    card = (
        "---\nlicense: other\nlicense_name: flux-1-dev-non-commercial-license\n"
        "license_link: https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/LICENSE.md\n"
        "base_model: black-forest-labs/FLUX.1-dev\n---\n# lora\n"
    )
    verdict, rules = _verdict(tmp_path, card)
    assert verdict == "not_allowed" and "license.laundering" not in rules


def test_a_flux_schnell_lora_is_allowed(tmp_path):
    card = "---\nlicense: apache-2.0\nbase_model: black-forest-labs/FLUX.1-schnell\n---\n# x\n"
    verdict, rules = _verdict(tmp_path, card)
    assert verdict in ("allowed", "allowed_with_obligations") and "license.laundering" not in rules


def test_curated_rules_agree_with_every_id_they_claim_in_the_2022_hub_scrape():
    """A rule whose source is the hub scrape must hold for every id it matches there (where the id is tagged)."""
    duckdb = pytest.importorskip("duckdb")
    snapshot = SHARED / "data" / "hub-metadata" / "hf-hub-2022-snapshot" / "models.parquet"
    rows = duckdb.connect().execute(f"select model_id, license_tags from '{snapshot}'").fetchall()
    cr, checked, wrong = CuratedResolver(), 0, []
    for mid, tags in rows:
        facts = cr.lookup(mid)
        if facts is None or len(tags) != 1:
            continue
        checked += 1
        if L.resolve(tags[0]).id != L.resolve(facts.licences[0].value).id:
            wrong.append((mid, tags[0], facts.licences[0].value))
    assert checked > 1400
    assert wrong == []
