"""Lineage at hub scale: the base graph of every judged model and of edge lists, closed.

Edges come from the cards (``base_model`` with its relation, as the single-model path reads it) and
from edge lists (``source,target,edge``: parent, child, finetuned|quantized|merged|adapter). Self-loops
are counted and dropped; cycles are collapsed into one strongly connected component (Tarjan, iterative),
so the closure is finite. Licences flow down chains with the licence knowledge base's constraint model
(terms that flow down, commercial grants of "no"/"conditional"): a model declaring a permissive
commercial licence below a base whose licence binds derivatives is *laundering*, with the chain as
evidence. Bases the run's tables do not hold are asked of a hub index when one is given (``resolve``):
its licence and bases extend the graph, each hop marked ``hub index``; a base neither the run, the index
nor aitrail's curated base families know stays unresolved and is counted (never taken as permissive).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

KINDS = {
    "finetuned": "fine-tune",
    "fine-tune": "fine-tune",
    "finetune": "fine-tune",
    "quantized": "quantization",
    "quantization": "quantization",
    "merged": "merge",
    "merge": "merge",
    "adapter": "adapter",
}
EXAMPLES = 10
# names that say "derived" without a recorded base (undocumented-lineage estimate)
DERIVED_NAME = re.compile(
    r"(?:fine-?tuned|-ft\b|gguf|gptq|awq|exl2|bnb|4bit|8bit|lora|qlora|merge|distill|-sft\b|-dpo\b)", re.I
)
QUANT_NAME = re.compile(r"(?:gguf|gptq|awq|exl2|bnb|4bit|8bit|-int[48]\b|mlx)", re.I)


@dataclass
class Graph:
    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    parents: list[list[tuple[int, str, str]]] = field(default_factory=list)  # (parent, relation, evidence)
    self_loops: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)

    def node(self, mid: str) -> int:
        n = self.index.get(mid)
        if n is None:
            n = self.index[mid] = len(self.ids)
            self.ids.append(mid)
            self.parents.append([])
        return n

    def add(self, child: str, parent: str, relation: str, evidence: str) -> None:
        if child == parent:
            self.self_loops.append(child)
            return
        c, p = self.node(child), self.node(parent)
        if all(q != p for q, _, _ in self.parents[c]):
            self.parents[c].append((p, relation, evidence))

    def edges(self) -> int:
        return sum(map(len, self.parents))


def read_edges(g: Graph, path: str | Path) -> None:
    """An edge list (CSV with source/parent, target/child and edge/relation columns)."""
    p = Path(path)
    try:
        fh = open(p, newline="", encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror})") from None
    with fh:
        rd = csv.DictReader(fh)
        cols = rd.fieldnames or []
        src = next((c for c in ("source", "parent", "base") if c in cols), None)
        dst = next((c for c in ("target", "child", "model") if c in cols), None)
        kind = next((c for c in ("edge", "relation", "kind") if c in cols), None)
        if not src or not dst:
            raise InputError(f"{p}: an edge list needs source and target columns (has {', '.join(cols)})")
        for n, row in enumerate(rd, 2):
            a, b = (row.get(src) or "").strip(), (row.get(dst) or "").strip()
            if not a or not b:
                if len(g.malformed) < 1000:
                    g.malformed.append(f"{p.name} line {n}: missing source or target")
                continue
            rel = KINDS.get((row.get(kind) or "").strip().lower(), "unknown") if kind else "unknown"
            g.add(b, a, rel, f"{p.name} line {n}")


def components(g: Graph) -> tuple[list[int], int]:
    """Strongly connected components (Tarjan, iterative): (component of each node, count).
    Components are numbered in reverse topological order of the child->parent graph: parents first."""
    n = len(g.ids)
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on[v] = True
            ps = g.parents[v]
            recurse = False
            while i < len(ps):
                w = ps[i][0]
                i += 1
                if index[w] == -1:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if on[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return comp, ncomp


@dataclass
class Closure:
    depth: list[int]
    n_ancestors: list[int]
    n_descendants: list[int]
    roots: list[list[int]]
    in_cycle: list[bool]
    cycles: int


def close(g: Graph, max_roots: int = 5) -> Closure:
    """Ancestor closure over the condensed graph: depth (longest chain to a root), ancestor and
    descendant counts, the roots each model derives from (up to ``max_roots``)."""
    comp, ncomp = components(g)
    members: list[list[int]] = [[] for _ in range(ncomp)]
    for v, c in enumerate(comp):
        members[c].append(v)
    cparents: list[set[int]] = [set() for _ in range(ncomp)]
    for v, ps in enumerate(g.parents):
        for p, _, _ in ps:
            if comp[p] != comp[v]:
                cparents[comp[v]].add(comp[p])
    anc: list[frozenset[int]] = [frozenset()] * ncomp
    depth = [0] * ncomp
    roots: list[tuple[int, ...]] = [()] * ncomp
    for c in range(ncomp):  # Tarjan numbers parents before children
        cps = cparents[c]
        if not cps:
            roots[c] = (c,)
            continue
        s: set[int] = set(cps)
        r: dict[int, None] = {}
        d = 0
        for p in cps:
            s |= anc[p]
            d = max(d, depth[p] + 1)
            for x in roots[p]:
                r[x] = None
        anc[c], depth[c] = frozenset(s), d
        roots[c] = tuple(r)[: max_roots * 4]
    desc = [0] * ncomp
    for c in range(ncomp):
        for a in anc[c]:
            desc[a] += len(members[c])
    n = len(g.ids)
    cyc = sum(1 for m in members if len(m) > 1)
    return Closure(
        depth=[depth[comp[v]] for v in range(n)],
        n_ancestors=[sum(len(members[a]) for a in anc[comp[v]]) + len(members[comp[v]]) - 1 for v in range(n)],
        n_descendants=[desc[comp[v]] + len(members[comp[v]]) - 1 for v in range(n)],
        roots=[sorted({members[r][0] for r in roots[comp[v]]} - {v})[:max_roots] for v in range(n)],
        in_cycle=[len(members[comp[v]]) > 1 for v in range(n)],
        cycles=cyc,
    )


# -- licences down the chains ---------------------------------------------------------------------


def _facts(lic: str | None) -> Any:
    from ..analyze import licenses

    if not lic:
        return None
    return licenses.resolve(lic).facts


def binds(f: Any) -> list[str]:
    """The terms of a licence that bind derivatives (the licence issue's constraint model)."""
    if f is None:
        return []
    out = [f"{t.clause}: {t.id}" for t in f.terms if t.flows_down]
    if f.commercial in ("no", "conditional"):
        out.append(f"{f.commercial_clause or 'grant'}: commercial use {f.commercial}")
    return out


def inherit(g: Graph, licence: dict[str, str | None], curated: dict[str, Any] | None = None) -> dict[str, Any]:
    """Walk each model's chain: the nearest ancestor whose licence binds derivatives; laundering where
    a model below it declares a permissive commercial licence. ``licence``: model id -> declared licence;
    ``curated``: ``licenses.base_licence`` answers already asked (``resolve``)."""
    from ..analyze import licenses

    comp, _ = components(g)
    nearest: list[tuple[int, str, str] | None] = [None] * len(g.ids)  # (ancestor, licence id, binding terms)
    facts_of: dict[str | None, Any] = {}
    laundering: list[dict[str, Any]] = []
    drift: Counter[tuple[str, str]] = Counter()
    for members in _by_component(comp):  # parents' components first; a cycle is one unit
        own_facts: dict[int, Any] = {}
        for v in members:
            mid = g.ids[v]
            own = licence.get(mid)
            if own is None and mid not in licence:
                known = curated[mid] if curated and mid in curated else licenses.base_licence(mid)  # a base family
                own_facts[v] = known[0] if known else None
            else:
                if own not in facts_of:
                    facts_of[own] = _facts(own)
                own_facts[v] = facts_of[own]
            for p, _, _ in g.parents[v]:
                pl = licence.get(g.ids[p])
                if pl and own:
                    drift[(pl, own)] += 1
        c = comp[members[0]]
        outside = next((nearest[p] for v in members for p, _, _ in g.parents[v] if comp[p] != c and nearest[p]
                        is not None), None)
        # every member of a cycle is an ancestor of every other: a binding licence of one binds them all
        inside = [(v, f.id, "; ".join(b[:3])) for v in members if (f := own_facts[v]) is not None and (b := binds(f))]
        for v in members:
            f = own_facts[v]
            up = next((x for x in inside if x[0] != v), None) or outside
            if f is None:
                nearest[v] = up
                continue
            if up is not None and f.commercial == "yes" and f.id != up[1] and not any(t.flows_down for t in f.terms):
                mid = g.ids[v]
                laundering.append({"model": mid, "declares": licence.get(mid) or f.id, "base": g.ids[up[0]],
                                   "base_licence": up[1], "binds": up[2], "chain": _chain(g, v, up[0])})
            b = binds(f)
            nearest[v] = (v, f.id, "; ".join(b[:3])) if b else up
    return {"laundering": laundering, "drift": drift, "nearest": nearest}


def _chain(g: Graph, v: int, target: int, limit: int = 20) -> list[str]:
    """One parent path from v up to target (breadth first), as ids."""
    prev = {v: -1}
    todo = [v]
    for x in todo:
        if x == target or len(todo) > 100_000:
            break
        for p, _, _ in g.parents[x]:
            if p not in prev:
                prev[p] = x
                todo.append(p)
    if target not in prev:
        return [g.ids[v], "…", g.ids[target]]
    path = [target]
    while path[-1] != v:
        path.append(prev[path[-1]])
    return [g.ids[x] for x in reversed(path)][:limit]


# -- bases beyond the run -------------------------------------------------------------------------

INDEX = "hub index"


def resolve(g: Graph, licence: dict[str, str | None], index: Any = None) -> dict[str, Any]:
    """Bases that are not models of the run, resolved breadth first: the hub index (a Resolver, optional)
    gives their licence (added to ``licence``) and their own bases (added to ``g``, evidence prefixed
    ``hub index:``, looked up in turn); then aitrail's curated base families; the rest are unresolved.
    Returns {"by": id -> resolver, "unresolved": [ids], "errors": [messages], "curated": id -> answer}."""
    from collections import deque

    from ..analyze import licenses
    from ..resolvers import ResolverError

    by: dict[str, str] = {}
    curated: dict[str, Any] = {}
    unresolved: list[str] = []
    errors: list[str] = []
    todo = deque(m for m in g.ids if m not in licence)
    seen = set(todo)
    while todo:
        mid = todo.popleft()
        facts = None
        if index is not None:
            try:
                facts = index.lookup(mid)
            except ResolverError as e:  # a broken index: every hop it would answer stays unresolved
                if len(errors) < EXAMPLES:
                    errors.append(str(e))
        if facts is not None:
            if facts.licences:
                licence[mid] = facts.licences[0].value
                by[mid] = facts.resolver
            for b in facts.bases:
                g.add(mid, b.model_id, KINDS.get(b.relation, b.relation), f"{facts.resolver}: {b.evidence}")
                if b.model_id not in licence and b.model_id not in seen:
                    seen.add(b.model_id)
                    todo.append(b.model_id)
        if mid not in by:
            known = curated[mid] = licenses.base_licence(mid)
            if known:
                by[mid] = "curated"
            else:
                unresolved.append(mid)
    return {"by": by, "unresolved": unresolved, "errors": errors, "curated": curated}


def unresolved_above(g: Graph, unresolved: set[str]) -> list[int | None]:
    """For each model the nearest unresolved model on its chains (itself included), or None: a chain
    through a base nobody knows is not free of binding terms, only unknown."""
    comp, _ = components(g)
    out: list[int | None] = [None] * len(g.ids)
    for members in _by_component(comp):  # parents first; a cycle is one unit
        c = comp[members[0]]
        inside = next((v for v in members if g.ids[v] in unresolved), None)
        outside = next((out[p] for v in members for p, _, _ in g.parents[v] if comp[p] != c and out[p] is not None),
                       None)
        for v in members:
            out[v] = v if g.ids[v] in unresolved else inside if inside is not None else outside
    return out


def _by_component(comp: list[int]) -> list[list[int]]:
    """The models grouped by strongly connected component, parents' components first."""
    groups: dict[int, list[int]] = {}
    for v in sorted(range(len(comp)), key=lambda v: comp[v]):
        groups.setdefault(comp[v], []).append(v)
    return list(groups.values())


# -- a run's lineage -----------------------------------------------------------------------------


def from_results(g: Graph, rows: Iterable[tuple[str, list[str] | None, str | None]]) -> None:
    for mid, bases, rel in rows:
        for b in bases or []:
            g.add(mid, b, rel or "unknown", "card base_model")


def edge_files(out: Path) -> list[str]:
    """The edge lists an earlier build of this run used."""
    return list(_inputs(out).get("edge_files") or [])


def hub_index(out: Path) -> str | None:
    """The hub index an earlier build of this run used."""
    return _inputs(out).get("hub_index")


def _inputs(out: Path) -> dict[str, Any]:
    import json

    p = out / "lineage" / "inputs.json"
    return dict(json.loads(p.read_text("utf-8"))) if p.is_file() else {}


def build(out: Path, edge_files: list[str], progress: bool = False, index: str | Path | None = None) -> dict[str, Any]:
    """DIR/lineage/{lineage,closure}.parquet from the run's results and edge lists, bases beyond the run
    resolved through the hub index ``index`` (a folder) when given; returns the summary."""
    import json
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import query
    from .run import _bar

    bar = _bar(progress, "lineage", "steps", total=5)
    step = (lambda: bar.update(1)) if bar is not None else (lambda: None)
    t0 = time.monotonic()
    con = query.connect(out)
    g = Graph()
    from_results(g, con.execute("select id, bases, relation from results where len(bases) > 0").fetchall())
    for f in edge_files:
        read_edges(g, f)
    lic = dict(con.execute("select id, licenses[1] from results").fetchall())
    judged = set(lic)
    resolver = None
    if index is not None:
        from ..resolvers.hub_index import HubIndexResolver

        resolver = HubIndexResolver(Path(index))
    res = resolve(g, lic, resolver)
    by = res["by"]
    unres = set(res["unresolved"])
    step()
    cl = close(g)
    step()
    inh = inherit(g, lic, res["curated"])
    above = unresolved_above(g, unres)
    step()
    t_closure = time.monotonic() - t0
    dest = out / "lineage"
    dest.mkdir(exist_ok=True)
    (dest / "inputs.json").write_text(json.dumps({"edge_files": edge_files,
                                                  "hub_index": str(index) if index is not None else None}), "utf-8")
    edges = [(g.ids[c], g.ids[p], rel, ev) for c, ps in enumerate(g.parents) for p, rel, ev in ps]
    pq.write_table(pa.table({"child": [e[0] for e in edges], "parent": [e[1] for e in edges],
                             "relation": [e[2] for e in edges], "evidence": [e[3] for e in edges],
                             "resolved_by": [INDEX if e[3].startswith(INDEX + ":") else "run" for e in edges]}),
                   (dest / "lineage").with_suffix(".parquet"))  # spelt apart: "lineage." is a rule namespace
    nearest = inh["nearest"]
    pq.write_table(pa.table({
        "id": g.ids,
        "depth": pa.array(cl.depth, pa.int32()),
        "ancestors": pa.array(cl.n_ancestors, pa.int32()),
        "descendants": pa.array(cl.n_descendants, pa.int32()),
        "roots": [[g.ids[r] for r in rs] for rs in cl.roots],
        "in_cycle": cl.in_cycle,
        "licence": [lic.get(m) for m in g.ids],
        "bound_by": [g.ids[x[0]] if x else None for x in nearest],
        "bound_by_licence": [x[1] if x else None for x in nearest],
        "licence_resolved_by": ["run" if m in judged else by.get(m) for m in g.ids],
        "unresolved_ancestor": [g.ids[x] if x is not None and g.ids[x] != m else None for m, x in zip(g.ids, above)],
    }), dest / "closure.parquet")
    step()
    # the run's own models, each hop of the chain marked with who supplied it (the run, the index, curated)
    laundering = [x | {"resolved_by": ["run" if m in judged else by.get(m, "unresolved") for m in x["chain"]]}
                  for x in inh["laundering"] if x["model"] in judged]
    relations = Counter(rel for ps in g.parents for _, rel, _ in ps)
    n = len(g.ids)
    top = sorted(range(n), key=lambda v: -cl.n_descendants[v])[:EXAMPLES]
    lic = {m: lic[m] for m in judged}  # the estimates below are over the run's own models
    quant_orphans = [m for m in lic if QUANT_NAME.search(m) and (m not in g.index or not g.parents[g.index[m]])]
    documented = sum(1 for m in lic if m in g.index and g.parents[g.index[m]])
    looks_derived = [m for m in lic if DERIVED_NAME.search(m) and (m not in g.index or not g.parents[g.index[m]])]
    step()
    if bar is not None:
        bar.close()
    return {
        "nodes": n,
        "edges": g.edges(),
        "relations": dict(relations),
        "self_loops": {"count": len(g.self_loops), "examples": g.self_loops[:EXAMPLES]},
        "malformed_edges": {"count": len(g.malformed), "examples": g.malformed[:EXAMPLES]},
        "cycles": cl.cycles,
        "max_depth": max(cl.depth, default=0),
        "most_derived_bases": [{"id": g.ids[v], "descendants": cl.n_descendants[v]} for v in top],
        "laundering": {"count": len(laundering), "examples": laundering[:EXAMPLES]},
        "bases_beyond_run": {
            "resolved_by": dict(Counter(by.values())),
            "unresolved": {"count": len(unres), "examples": res["unresolved"][:EXAMPLES]},
            "models_below_unresolved": sum(1 for m, x in zip(g.ids, above) if x is not None and g.ids[x] != m),
            "hub_index": str(index) if index is not None else None,
            "hub_index_errors": res["errors"],
        },
        "licence_drift_top": [{"from": a, "to": b, "count": c} for (a, b), c in inh["drift"].most_common(EXAMPLES)],
        "orphaned_quantizations": {"count": len(quant_orphans), "examples": quant_orphans[:EXAMPLES]},
        "undocumented_lineage": {
            "judged_models": len(lic),
            "with_recorded_base": documented,
            "name_says_derived_but_no_base": len(looks_derived),
            "examples": looks_derived[:EXAMPLES],
        },
        "seconds": round(t_closure, 3),
    }
