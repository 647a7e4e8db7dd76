"""Generate a hub-scale metadata set (default 2.2 million models) from the real distribution.

Each synthetic model copies a real record of ../shared/data/hub-metadata/hf-hub-2022-snapshot/models.parquet
(drawn uniformly with a seed: card sizes, front matter, tags, siblings, config and dates keep their real
distribution) under a new id and sha. Lineage follows the real 2025 edge list: the share of models with a
base, the relation mix (finetuned/quantized/merged/adapter) and the skew of children per parent (a base is
drawn from the earlier models with a preference for popular ones). The base is written into the card's
front matter (``base_model`` / ``base_model_relation``) as the hub does, and also into an edge list.

    python scripts/gen_hub_synthetic.py --rows 2200000 --out benchmarks/work/hub-synth
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT.parent / "shared" / "data" / "hub-metadata"
RELATION = {"finetuned": "finetune", "quantized": "quantized", "merged": "merge", "adapter": "adapter"}


def real_mix() -> list[tuple[str, float]]:
    """The relation mix of the real 2025 edge list."""
    with open(HUB / "hf-lineage-2025" / "edges.csv", newline="", encoding="utf-8") as fh:
        kinds = Counter(r["edge"] for r in csv.DictReader(fh))
    total = sum(kinds.values())
    return [(k, n / total) for k, n in kinds.most_common()]


def with_base(card: str, base: str, relation: str) -> str:
    head = f"base_model: {base}\nbase_model_relation: {relation}\n"
    if card.startswith("---\n"):
        return "---\n" + head + card[4:]
    return "---\n" + head + "---\n" + card


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_200_000)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "work" / "hub-synth"))
    ap.add_argument("--per-file", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=13)
    # The 2025 edge list was crawled from models *with* lineage (92 % of its nodes have a parent), so it
    # cannot give the hub-wide share; 0.3 sits between the 2022 snapshot and the 2025 crawl.
    ap.add_argument("--lineage-share", type=float, default=0.3, help="share of models naming a base (0.3)")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    real = pq.read_table(HUB / "hf-hub-2022-snapshot" / "models.parquet")
    mix = real_mix()
    share = a.lineage_share
    rng = np.random.default_rng(a.seed)
    pick = random.Random(a.seed)
    kinds, weights = zip(*mix)
    ids_so_far: list[str] = []
    popular: list[str] = []  # preferential attachment: a parent drawn again is more likely drawn again
    edges = open(out / "edges.csv", "w", newline="", encoding="utf-8")
    ew = csv.writer(edges)
    ew.writerow(["source", "target", "edge"])
    made = 0
    part = 0
    while made < a.rows:
        n = min(a.per_file, a.rows - made)
        idx = rng.integers(0, real.num_rows, n)
        t = real.take(pa.array(idx))
        ids = [f"synth{(made + i) % 9973:04d}/{real_id.split('/')[-1][:60]}-{made + i}"
               for i, real_id in enumerate(t.column("model_id").to_pylist())]
        shas = [f"{x:040x}" for x in rng.integers(0, 2**63, n, dtype=np.int64)]
        cards = t.column("card").to_pylist()
        has_base = rng.random(n) < share
        for i in range(n):
            if has_base[i] and (ids_so_far or i):
                pool = ids_so_far if ids_so_far else ids
                hi = len(ids_so_far) if ids_so_far else i  # an earlier model (recent ones likelier)
                j = hi - 1 - min(hi - 1, int(pick.expovariate(1 / 50_000)))
                base = pick.choice(popular) if popular and pick.random() < 0.5 else pool[j]
                popular.append(base)
                if len(popular) > 100_000:
                    del popular[: len(popular) // 2]
                kind = pick.choices(kinds, weights)[0]
                cards[i] = with_base(cards[i] or "", base, RELATION.get(kind, "finetune"))
                ew.writerow([base, ids[i], kind])
        t = t.set_column(t.schema.get_field_index("model_id"), "model_id", pa.array(ids))
        t = t.set_column(t.schema.get_field_index("sha"), "sha", pa.array(shas))
        t = t.set_column(t.schema.get_field_index("card"), "card", pa.array(cards, pa.string()))
        t = t.set_column(t.schema.get_field_index("author"), "author", pc.utf8_slice_codeunits(pa.array(ids), 0, 9))
        pq.write_table(t, out / f"models-{part:03d}.parquet", compression="zstd", row_group_size=16_384)
        ids_so_far.extend(ids)
        made += n
        part += 1
        print(f"{made:,} rows", flush=True)
    edges.close()


if __name__ == "__main__":
    main()
