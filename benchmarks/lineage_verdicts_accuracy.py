"""Lineage verdicts on real derivatives: is "may I use it commercially?" ever more permissive than the truth?

    .venv/bin/python benchmarks/lineage_verdicts_accuracy.py [--limit N] [--hub-index DIR]

Cases: every LocalAI gallery entry (../shared hub-metadata/localai-gallery, a real inventory) that
declares a licence and names a Hugging Face repo whose parents in the 2025 hub lineage edges
(hf-lineage-2025/edges.csv) are all base models of a family in TRUTH below. Each case is scanned as
a folder holding only its card (licence + base_model): the base is not present, as when a user
downloads a derivative. The expected commercial verdict and laundering are written here from the
licences' clauses (TRUTH and CHILD), independently of aitrail's knowledge files.

    .venv/bin/python benchmarks/lineage_verdicts_accuracy.py --cards-2022

Second set (session 6): the real 2022 hub cards (hf-hub-2022-snapshot) whose base is named by the card
itself (front matter `base_model`, or the trainers' generated sentence "is a fine-tuned version of [X](...)",
found here by its own regex) and is a base in CARDS_TRUTH; each card scanned with its config.json.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data" / "hub-metadata"

import aitrail  # noqa: E402
from aitrail import yamlsafe  # noqa: E402
from aitrail.analyze import licenses as L  # noqa: E402

ORDER = ("allowed", "allowed_with_obligations", "unknown", "not_allowed")
# Root family -> (commercial verdict, licences a derivative may carry without laundering, clause).
LLAMA = ("allowed_with_obligations", {"llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"},
         "Llama Community License §1.b (Agreement, AUP), §2 (700M MAU)")
TRUTH = [
    (r"^(meta-llama|unsloth|NousResearch)/(meta-)?llama-(2|3)", LLAMA),
    (r"^(google|unsloth)/gemma", ("allowed_with_obligations", {"gemma"}, "Gemma ToU §3.1-3.2")),
    (r"^(Qwen|unsloth)/Qwen2\.5-(Coder-)?3B", ("not_allowed", set(), "Qwen RESEARCH LICENSE: non-commercial")),
    (r"^(Qwen|unsloth)/Qwen2(\.5)?-72B", ("allowed_with_obligations", {"qwen", "tongyi-qianwen"}, "Qwen §4, §5(b)")),
    (r"^(Qwen|unsloth)/(Qwen2|Qwen2\.5|Qwen3)-", ("allowed", None, "Apache-2.0")),
    (r"^(mistralai|unsloth)/(Mistral-7B|mistral-7b|Mixtral|Mistral-Nemo|Mistral-Small-24B)",
     ("allowed", None, "Apache-2.0")),
    (r"^(microsoft|unsloth)/(phi-2|Phi-3|Phi-3\.5|phi-4|Phi-4)", ("allowed", None, "MIT")),
    (r"^(CohereForAI|CohereLabs)/c4ai-command", ("not_allowed", set(), "CC BY-NC 4.0 §1(i)")),
    (r"^(TinyLlama/TinyLlama|HuggingFaceTB/SmolLM|allenai/OLMo|EleutherAI/pythia)", ("allowed", None, "Apache-2.0")),
    # session 6: bases of the gallery's derivatives outside the table above, from their publishers' cards
    (r"^deepseek-ai/DeepSeek-R1-Distill-Llama-", LLAMA),  # "originally licensed under llama3.1 / llama3.3"
    (r"^deepseek-ai/DeepSeek-R1-Distill-Qwen-|^deepseek-ai/DeepSeek-R1-0528-Qwen3",
     ("allowed", None, "MIT (Qwen: Apache-2.0)")),
    (r"^(mistralai|unsloth)/(Mistral-Small-3|Devstral-Small|Magistral-Small)", ("allowed", None, "Apache-2.0")),
    (r"^(CohereForAI|CohereLabs)/aya-", ("not_allowed", set(), "CC BY-NC 4.0 §1(i)")),
    (r"^nvidia/Nemotron-Research-", ("not_allowed", set(), "CC BY-NC 4.0 §1(i)")),
    (r"^LGAI-EXAONE/EXAONE-(3\.0|3\.5|Deep)-", ("not_allowed", set(), "EXAONE AI Model License 1.1 - NC §3.1")),
    (r"^(google|unsloth)/gemma-4-", ("allowed", None, "Apache-2.0 (Gemma 4 card)")),
    (r"^black-forest-labs/FLUX\.1-([A-Za-z]+-)?dev", ("not_allowed", set(), "FLUX.1 [dev] Non-Commercial License §2")),
]
# A derivative's own declared licence, commercial verdict from its clauses.
CHILD = {"apache-2.0": "allowed", "mit": "allowed", "cc-by-4.0": "allowed", "cc0-1.0": "allowed",
         "llama2": "allowed_with_obligations", "llama3": "allowed_with_obligations",
         "llama3.1": "allowed_with_obligations", "llama3.2": "allowed_with_obligations",
         "llama3.3": "allowed_with_obligations", "gemma": "allowed_with_obligations",
         "cc-by-nc-4.0": "not_allowed", "cc-by-nc-sa-4.0": "not_allowed", "cc-by-sa-4.0": "allowed"}
NC = {"cc-by-nc-4.0", "cc-by-nc-sa-4.0"}


def truth_for(repo: str) -> tuple[str, set[str] | None, str] | None:
    for pat, t in TRUTH:
        if re.search(pat, repo, re.I):
            return t
    return None


def cases(limit: int | None) -> list[dict]:
    parents: dict[str, list[str]] = {}
    for e in csv.DictReader(open(SHARED / "hf-lineage-2025/edges.csv")):
        parents.setdefault(e["target"].lower(), []).append(e["source"])
    out, seen = [], set()
    for g in yamlsafe.load((SHARED / "localai-gallery/index.yaml").read_text("utf-8")):
        lic = str(g.get("license") or "").strip().lower()
        if lic not in CHILD:
            continue
        for url in g.get("urls") or []:
            m = re.match(r"https://huggingface\.co/([^/]+/[^/?#]+)", url)
            if not m or m.group(1).lower() not in parents or m.group(1).lower() in seen:
                continue
            ps = parents[m.group(1).lower()]
            truths = [truth_for(p) for p in ps]
            seen.add(m.group(1).lower())
            out.append({"repo": m.group(1), "license": lic, "bases": ps, "truths": truths})
    return out[:limit] if limit else out


def expected(c: dict) -> tuple[str, bool]:
    verdicts = [CHILD[c["license"]]] + [t[0] for t in c["truths"]]
    laundered = False
    for verdict, carriers, _ in c["truths"]:
        if carriers is None:
            continue
        if verdict == "not_allowed":
            laundered |= c["license"] not in NC
        else:
            laundered |= c["license"] not in carriers
    return max(verdicts, key=ORDER.index), laundered


# Bases of the 2022 cards, from their publishers' statements (not from aitrail's knowledge files).
CARDS_TRUTH = [
    (r"^microsoft/(layoutlmv2|layoutxlm|layoutlmv3)-", "not_allowed", "CC BY-NC-SA 4.0 (the base's card)"),
    (r"^facebook/wav2vec2-.*voxpopuli", "not_allowed", "CC BY-NC 4.0 (facebookresearch/voxpopuli README)"),
    (r"^(bert-base-(uncased|cased|multilingual-cased)|distilbert-base-(uncased|cased)|t5-(small|base|large))$",
     "allowed", "Apache-2.0 (the base's card)"),
    (r"^(roberta-(base|large)|xlm-roberta-(base|large)|gpt2)$", "allowed", "MIT (the base's card)"),
]
CARD_CHILD = {**CHILD, "gpl-3.0": "allowed", "agpl-3.0": "allowed", "afl-3.0": "allowed"}
CARD_CHILD["cc-by-nc-sa-3.0"] = "not_allowed"
_GENERATED = re.compile(r"\bis a fine-tuned version of\s+\[[^\]\n]+\]\(https://huggingface\.co/([^()\s]+)\)")


def cards_2022() -> None:
    import duckdb

    parquet = SHARED / "hf-hub-2022-snapshot/models.parquet"
    rows = duckdb.connect().execute(
        f"select model_id, license_tags, card, config_json from '{parquet}' where len(license_tags) = 1"
    ).fetchall()
    tally: Counter[str] = Counter()
    wrong: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (mid, tags, card, cfg) in enumerate(rows):
            lic = tags[0].lower()
            if lic not in CARD_CHILD or not card:
                continue
            head = card.split("\n---", 1)[0] if card.startswith("---") else ""
            m = re.search(r"(?m)^base_model:\s*(\S+)\s*$", head) or _GENERATED.search(card)
            base = m.group(1).strip().rstrip("/") if m else None
            truth = next(((v, c) for pat, v, c in CARDS_TRUTH if base and re.search(pat, base)), None)
            if truth is None:
                continue
            d = Path(tmp) / str(i)
            d.mkdir()
            (d / "README.md").write_text(card)
            (d / "config.json").write_text(cfg or "{}")
            inv = aitrail.scan(d, hash_files=False)
            got = L.report(inv, "commercial")["verdict"]
            want = max([CARD_CHILD[lic], truth[0]], key=ORDER.index)
            laundered = truth[0] == "not_allowed" and CARD_CHILD[lic] != "not_allowed"
            flagged = any(f.rule == "license.laundering" for f in inv.findings)
            tally["cases"] += 1
            tally["exact"] += got == want
            tally["laundering_truth"] += laundered
            tally["laundering_found"] += laundered and flagged
            tally["laundering_false"] += flagged and not laundered
            if ORDER.index(got) < ORDER.index(want):
                tally["more_permissive"] += 1
                wrong.append(f"{mid} ({lic} <- {base}, {truth[1]}): {got}, truth {want}")
    print("| measure (2022 hub cards) | value |\n|---|---|")
    print(f"| fine-tunes whose card names a base in CARDS_TRUTH | {tally['cases']} |")
    print(f"| exact commercial verdict | {tally['exact']} |")
    print(f"| more permissive than the truth (goal 0) | {tally['more_permissive']} |")
    print(f"| laundering recall | {tally['laundering_found']}/{tally['laundering_truth']} |")
    print(f"| laundering false flags | {tally['laundering_false']} |")
    for w in wrong[:20]:
        print(f"- more permissive: {w}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int)
    ap.add_argument("--cards-2022", action="store_true", help="the 2022 hub cards' own base statements instead")
    ap.add_argument("--hub-index", help="also resolve through a local hub index (aitrail.hub.index.build)")
    args = ap.parse_args()
    if args.cards_2022:
        return cards_2022()
    if args.hub_index:
        from aitrail.resolvers.hub_index import HubIndexResolver

        L.configure(hub_index=HubIndexResolver(args.hub_index))
    cs = cases(args.limit)
    tally: Counter[str] = Counter()
    wrong: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, c in enumerate(cs):
            d = Path(tmp) / str(i)
            d.mkdir()
            bases = "".join(f"\n  - {b}" for b in c["bases"])
            (d / "README.md").write_text(f"---\nlicense: {c['license']}\nbase_model:{bases}\n---\n# {c['repo']}\n")
            inv = aitrail.scan(d, hash_files=False)
            rep = L.report(inv, "commercial")
            got = rep["verdict"]
            hops = [comp for comp in rep["components"] if comp["role"] == "base-model"]
            tally["hops"] += len(hops)
            for comp in hops:
                tally[f"by:{comp['resolved_by']}"] += 1
            flagged = any(f.rule == "license.laundering" for f in inv.findings)
            if not all(c["truths"]):  # a base outside the truth table: its licence is unknown here too
                tally["uncovered"] += 1
                unresolved = any(comp["resolved_by"] is None for comp in hops)
                tally["uncovered_confident"] += got in ("allowed", "allowed_with_obligations") and unresolved
                tally[f"uncovered:{got}"] += 1
                continue
            want, laundered = expected(c)
            tally["cases"] += 1
            tally["exact"] += got == want
            if ORDER.index(got) < ORDER.index(want):
                tally["more_permissive"] += 1
                wrong.append(f"{c['repo']} ({c['license']} <- {', '.join(c['bases'])}): {got}, truth {want}")
            tally["laundering_truth"] += laundered
            tally["laundering_found"] += laundered and flagged
            tally["laundering_false"] += flagged and not laundered
    print("| measure | value |\n|---|---|")
    print(f"| derivative cases (gallery licence + base in hub edges) | {tally['cases']} |")
    print(f"| exact commercial verdict | {tally['exact']} |")
    print(f"| more permissive than the truth (goal 0) | {tally['more_permissive']} |")
    print(f"| laundering recall | {tally['laundering_found']}/{tally['laundering_truth']} |")
    print(f"| laundering false flags | {tally['laundering_false']} |")
    print(f"| other derivatives (a base outside the truth table) | {tally['uncovered']} |")
    print(f"| ... allowed though a base in the lineage is unresolved (goal 0) | {tally['uncovered_confident']} |")
    dist = ", ".join(f"{v} {n}" for v in ORDER if (n := tally[f"uncovered:{v}"]))
    print(f"| ... their verdicts | {dist} |")
    by = ", ".join(f"{k[3:]} {n}" for k, n in sorted(tally.items()) if k.startswith("by:"))
    print(f"| lineage hops judged, by resolver (None = unresolved) | {tally['hops']}: {by} |")
    for w in wrong[:20]:
        print(f"- more permissive: {w}")


if __name__ == "__main__":
    main()
