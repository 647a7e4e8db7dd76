"""`aitrail lineage PATH`: the derived-from graph of the models in PATH, every edge with its evidence.

Direct edges are what the scan read (card ``base_model`` and its relation, config ``_name_or_path``,
PEFT adapter configs, GGUF ``general.base_model.*``, mergekit configs, the manifest); further hops come
from the resolvers (``analyze.licenses.lineage``: models scanned together, then curated facts, then
whatever the command configured), each naming the resolver that supplied it. Unresolved bases,
cycles and self-loops are edges with a ``problem``, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import LINEAGE_GRADES, RelationshipKind

GRADES = LINEAGE_GRADES  # evidence grades, weakest first (model.py: the inventory records them too)


@dataclass
class Edge:
    child: str
    base: str
    relation: str
    evidence: str
    source: str  # "scan" for edges read from the files, else the resolver's name
    grade: str = "declared"
    problem: str | None = None
    weights: dict[str, Any] | None = None  # lineage compare of the two models' weights, when both were scanned

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Graph:
    target: str
    models: list[str] = field(default_factory=list)  # the scanned models (roots of the drawing)
    edges: list[Edge] = field(default_factory=list)

    def nodes(self) -> list[str]:
        seen: dict[str, None] = dict.fromkeys(self.models)
        for e in self.edges:
            seen.setdefault(e.child)
            seen.setdefault(e.base)
        return list(seen)

    def problems(self) -> list[str]:
        return [f"{e.child} -> {e.base}: {e.problem}" for e in self.edges if e.problem]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "models": self.models,
            "nodes": self.nodes(),
            "edges": [e.to_dict() for e in self.edges],
            "problems": self.problems(),
            "grades": list(GRADES),
        }


def build(path: Path, check_weights: bool = False, follow_symlinks: bool = False) -> Graph:
    """The graph of every model in ``path``; ``check_weights`` compares the weights of each edge whose
    two ends were both scanned here (grade ``weight-similar`` when they agree, a problem when not)."""
    from ..analyze import licenses
    from ..scanner import scan

    inv = scan(path, hash_files=check_weights, follow_symlinks=follow_symlinks)
    g = Graph(str(path))
    for m in inv.models():
        if not m.properties.get("scanned"):
            continue
        g.models.append(m.name)
        for rel in inv.outgoing(m.id, RelationshipKind.DERIVED_FROM):
            base = inv.component(rel.target)
            name = base.name if base else rel.target
            ev = ", ".join(str(e) for e in rel.evidence)
            edge = Edge(m.name, name, str(rel.derivation or "unknown"), ev, "scan")
            if name.strip().lower() == m.name.strip().lower():
                named_itself = all(e.key == "_name_or_path" for e in rel.evidence)
                # config.json naming the checkpoint the model was saved as is not a claim of lineage
                edge.problem = None if named_itself else "self-loop"
                if named_itself:
                    continue
            g.edges.append(edge)
        for hop in licenses.lineage(inv, m):
            if hop.depth <= 1 and hop.problem not in ("cycle", "self-loop", "depth-limit", "width-limit"):
                _annotate(g, m.name, hop)
                continue
            problem = None if hop.problem == "no-licence" else hop.problem
            if problem in ("cycle", "self-loop") and hop.tried:
                problem = f"{problem}: {hop.tried[0]}"  # the walk puts the path in ``tried``
            source = hop.resolved_by or ("resolvers" if problem else ", ".join(hop.tried) or "resolvers")
            g.edges.append(Edge(hop.parent, hop.model_id, hop.relation, hop.evidence, source, problem=problem))
    for f in inv.findings:
        if f.rule == SELF_LOOP_RULE:  # the scan drops a model's edge to itself; it reports it as this finding
            model = next((m for m in inv.models() if f.evidence and f.evidence.path and m.properties.get("scanned")
                          and _inside(f.evidence.path, str(m.properties.get("root") or "."))), None)
            name = model.name if model else f.path or "?"
            g.edges.append(Edge(name, name, "unknown", str(f.evidence or f.path), "scan", problem="self-loop"))
    g.edges = _dedupe(g.edges)
    if check_weights:
        _check_weights(g, inv, path, follow_symlinks)
    return g


def _check_weights(g: Graph, inv: Any, path: Path, follow_symlinks: bool) -> None:
    from .compare import compare
    from .tensors import WeightsError

    roots: dict[str, list[str]] = {}
    for m in inv.models():
        if not m.properties.get("scanned"):
            continue
        root = str(m.properties.get("root") or ".")
        keys = {m.name, str(m.properties.get("repo_id") or ""), root.rstrip("/").rsplit("/", 1)[-1]} - {"", "."}
        for k in keys:
            roots.setdefault(k.lower(), []).append(root)

    def where(name: str) -> str | None:
        hit = roots.get(name.lower()) or roots.get(name.lower().rsplit("/", 1)[-1]) or []
        return hit[0] if len(set(hit)) == 1 else None

    digests: dict[str, set[str]] = {}  # model root -> sha256 of its weights files
    for c in inv.components:
        if c.type.value == "weights" and c.sha256 and c.path:
            owners = [r for rs in roots.values() for r in rs if _inside(c.path, r)]
            if owners:  # the innermost model folder holding the file
                digests.setdefault(max(owners, key=len), set()).add(c.sha256)
    base = path if path.is_dir() else path.parent
    for e in g.edges:
        a, b = where(e.base), where(e.child)
        if a is None or b is None or a == b or e.problem in ("self-loop",):
            continue
        shared = digests.get(a, set()) & digests.get(b, set())
        if shared:
            e.grade = "hash-shared"
            e.evidence += f"; {len(shared)} weights file(s) with the same SHA-256"
        try:
            res = compare(base / a, base / b, follow_symlinks=follow_symlinks)
        except WeightsError as ex:
            e.weights = {"verdict": "unknown", "reason": str(ex)}
            continue
        e.weights = {k: v for k, v in res.to_dict().items() if k in ("verdict", "kind", "confidence", "bytes_read")}
        if res.verdict == "derived":
            e.grade = "weight-similar"
        elif res.verdict in ("architecture_only", "unrelated"):
            e.problem = e.problem or f"declared, but the weights say {res.verdict.replace('_', ' ')}"


SELF_LOOP_RULE = "lineage.self-loop"


def _inside(path: str, root: str) -> bool:
    return root in ("", ".") or path == root or path.startswith(root.rstrip("/") + "/")


def _annotate(g: Graph, child: str, hop: Any) -> None:
    """A direct base the resolvers looked up: unresolved ones say so on the scan's edge."""
    for e in g.edges:
        if e.child == child and e.base.lower() == hop.model_id.lower() and hop.problem == "unresolved":
            e.problem = f"unresolved (tried: {', '.join(hop.tried) or 'no resolver'})"


def _dedupe(edges: list[Edge]) -> list[Edge]:
    """One edge per (child, base); a problem any walk found on it is kept (a declared edge that closes a
    cycle is still declared, and still closes the cycle)."""
    out: dict[tuple[str, str], Edge] = {}
    for e in edges:
        key = (e.child.lower(), e.base.lower())
        have = out.get(key)
        if have is None:
            out[key] = e
            continue
        for part in e.evidence.split("; "):
            if part and part not in have.evidence.split("; "):
                have.evidence += f"; {part}"
        have.problem = have.problem or e.problem
        if have.source == "resolvers" and e.source != "resolvers":
            have.source = e.source
    return list(out.values())


# -- renderers --------------------------------------------------------------------------------------


def render(g: Graph, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(g.to_dict(), indent=2) + "\n"
    if fmt == "mermaid":
        return mermaid(g)
    if fmt == "dot":
        return dot(g)
    return tree(g)


def tree(g: Graph) -> str:
    by_child: dict[str, list[Edge]] = {}
    for e in g.edges:
        by_child.setdefault(e.child.lower(), []).append(e)
    lines: list[str] = []

    def walk(name: str, prefix: str, seen: tuple[str, ...]) -> None:
        kids = by_child.get(name.lower(), [])
        for i, e in enumerate(kids):
            last = i == len(kids) - 1
            tail = f"  !! {e.problem}" if e.problem else ""
            grade = f"; {e.grade}" if e.grade != "declared" else ""
            what = f"[{e.relation}{grade}; {e.source}: {e.evidence}]"
            lines.append(f"{prefix}{'└── ' if last else '├── '}{e.base}  {what}{tail}")
            if e.base.lower() not in seen and not e.problem:
                walk(e.base, prefix + ("    " if last else "│   "), (*seen, e.base.lower()))

    for m in g.models:
        lines.append(m)
        walk(m, "", (m.lower(),))
    if not g.models:
        lines.append(f"{g.target}: no model found")
    return "\n".join(lines) + "\n"


def _id(nodes: list[str], name: str) -> str:
    return f"n{nodes.index(name)}"


def _label(s: str) -> str:
    return s.replace('"', "'").replace("\n", " ")[:200]


def mermaid(g: Graph) -> str:
    nodes = g.nodes()
    out = ["flowchart BT"]
    out += [f'  {_id(nodes, n)}["{_label(n)}"]' for n in nodes]
    for e in g.edges:
        label = e.relation + (f" !! {e.problem}" if e.problem else "")
        arrow = "-.->" if e.problem else "-->"
        out.append(f'  {_id(nodes, e.child)} {arrow}|"{_label(label)}"| {_id(nodes, e.base)}')
    return "\n".join(out) + "\n"


def dot(g: Graph) -> str:
    nodes = g.nodes()
    out = ["digraph lineage {", "  rankdir=BT;"]
    out += [f'  {_id(nodes, n)} [label="{_label(n)}"{", shape=box" if n in g.models else ""}];' for n in nodes]
    for e in g.edges:
        style = ', style=dashed, color=red' if e.problem else ""
        label = e.relation + (f" ({e.problem})" if e.problem else "")
        out.append(f'  {_id(nodes, e.child)} -> {_id(nodes, e.base)} [label="{_label(label)}"{style}];')
    out.append("}")
    return "\n".join(out) + "\n"
