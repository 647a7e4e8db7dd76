"""Follow a model's lineage through the resolvers, every hop, fail closed.

Each base is asked of the resolvers in order; the first that holds a licence for it answers (one
that knows the model but not its licence does not end the search). A base nobody knows, a cycle,
a self-loop and a lineage deeper or wider than the limits are hops with a ``problem``: the caller
turns them into findings and an "unknown" verdict, never into silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from . import BaseRef, ModelFacts, Resolver, ResolverError

MAX_DEPTH = 32  # hub lineages reach depth 16 without cycles (../shared hub-metadata README)
MAX_HOPS = 512  # merges fan out: a lineage wider than this is cut, and says so


@dataclass
class Hop:
    model_id: str
    parent: str  # the model that names this one as its base
    relation: str
    evidence: str  # where the parent names it
    depth: int  # 1 for a direct base
    facts: ModelFacts | None = None
    tried: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problem: str | None = None  # unresolved | no-licence | cycle | self-loop | depth-limit | width-limit
    curated: ModelFacts | None = None  # curated facts beside a local claim (facts.local_claim): both count

    @property
    def resolved_by(self) -> str | None:
        return self.facts.resolver if self.facts else None


def ask(resolvers: Sequence[Resolver], model_id: str, revision: str | None = None) -> Hop:
    """One lookup through the resolvers: the first facts with a licence win; bases from any that has them."""
    hop = Hop(model_id, "", "", "", 0)
    known: list[ModelFacts] = []
    for r in resolvers:
        hop.tried.append(r.name)
        try:
            facts = r.lookup(model_id, revision)
        except ResolverError as e:
            hop.errors.append(f"{r.name}: {e}")
            continue
        if facts is None:
            continue
        known.append(facts)
        if facts.licences:
            break
    winner = next((f for f in known if f.licences), known[0] if known else None)
    if winner is not None and not winner.bases:
        other = next((f for f in known if f.bases), None)
        if other is not None:
            winner = ModelFacts(**{**winner.__dict__, "bases": other.bases})
    hop.facts = winner
    if winner is not None and winner.local_claim and winner.licences:
        # A sibling folder named like a published model, or a manifest shipped with the files, may say anything
        # about it: what aitrail knows of that model still counts (the caller takes the stricter, and says so).
        for r in resolvers:
            if r.name == "curated":
                try:
                    facts = r.lookup(model_id, revision)
                except ResolverError as e:
                    hop.errors.append(f"{r.name}: {e}")
                    continue
                if facts is not None and facts.licences:
                    hop.curated = facts
                    if r.name not in hop.tried:
                        hop.tried.append(r.name)
    if winner is None:
        hop.problem = "unresolved"
    elif not winner.licences:
        hop.problem = "no-licence"
    return hop


def walk(model_id: str, bases: Sequence[BaseRef], resolvers: Sequence[Resolver]) -> list[Hop]:
    """Every ancestor of ``model_id`` (whose direct ``bases`` the scan found), breadth first."""
    out: list[Hop] = []
    seen: set[str] = {model_id.lower()}
    memo: dict[str, Hop] = {}
    # (base, parent, path of ids from the model to the parent, depth)
    queue: list[tuple[BaseRef, str, tuple[str, ...], int]] = [(b, model_id, (model_id.lower(),), 1) for b in bases]
    while queue:
        ref, parent, path, depth = queue.pop(0)
        key = ref.model_id.strip().lower()
        hop = Hop(ref.model_id, parent, ref.relation, ref.evidence, depth)
        if key == parent.lower():
            hop.problem = "self-loop"
        elif key in path:
            hop.problem = "cycle"
        elif key in seen:
            continue  # a diamond (two merge inputs sharing a base): judged once
        elif depth > MAX_DEPTH:
            hop.problem = "depth-limit"
        elif len(out) >= MAX_HOPS:
            hop.problem = "width-limit"
        if hop.problem:
            if hop.problem in ("cycle", "self-loop"):
                hop.tried = [" -> ".join((*path, key))]
            out.append(hop)
            if hop.problem == "width-limit":
                break
            continue
        seen.add(key)
        found = memo.get(key) or ask(resolvers, ref.model_id)
        memo[key] = found
        hop.facts, hop.tried, hop.errors, hop.problem = found.facts, found.tried, found.errors, found.problem
        hop.curated = found.curated
        out.append(hop)
        if hop.facts is not None:
            bases = hop.facts.bases or (hop.curated.bases if hop.curated is not None else ())
            queue += [(b, ref.model_id, (*path, key), depth + 1) for b in bases]
    return out
