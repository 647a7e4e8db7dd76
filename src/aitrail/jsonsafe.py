"""JSON (and the shape of any parsed document), bounded: nesting depth and node count are capped.

The standard library parses JSON in C, but it recurses once per nesting level (RecursionError
near 1,000 levels, after the C stack has been used) and every reader after it walks the result
recursively too. A document deeper than :data:`MAX_DEPTH` is refused with a :class:`ShapeError`
naming the limit, so no reader downstream ever meets one. YAML aliases can make a small document
expand to billions of nodes when walked or written out; :func:`check_shape` counts nodes as a
walk would see them (aliases expanded) and stops at :data:`MAX_NODES`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Real configs nest a few tens of levels (Keras functional models ~20); 128 leaves ample room and
# keeps every recursive reader far from Python's recursion limit.
MAX_DEPTH = 128
# Nodes as a walk sees them: tokenizer.json files hold a few million (vocabulary and merges).
MAX_NODES = 20_000_000


class ShapeError(ValueError):
    """The document is deeper or larger than aitrail reads; the message says which limit."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with the depth limit; raises json.JSONDecodeError or ShapeError. (Its size is
    bounded by the text's: JSON has no aliases.)"""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ShapeError(f"nested deeper than {max_depth} levels (aitrail's JSON limit)", "depth") from None
    check_depth(doc, max_depth)
    # "\ud800" escapes decode to lone surrogates, which no output can encode: written as the escape
    # instead (the text is kept, and every writer stays strict UTF-8).
    if _SURROGATE_ESCAPE.search(text if isinstance(text, str) else text.decode("latin-1")):
        doc = scrub(doc)
    return doc


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE = re.compile(r"[\ud800-\udfff]")


def scrub_text(s: str) -> str:
    """``s`` with each lone surrogate written as its ``\\uXXXX`` escape (encodable as UTF-8)."""
    return _LONE.sub(lambda m: f"\\u{ord(m.group()):04x}", s) if _LONE.search(s) else s


def scrub(obj: Any) -> Any:
    """A copy of a parsed document whose strings (keys too) hold no lone surrogates."""
    if isinstance(obj, str):
        return scrub_text(obj)
    if isinstance(obj, dict):
        return {scrub(k): scrub(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def check_depth(doc: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise ShapeError if a tree (parsed JSON: no shared values) nests deeper than ``max_depth``.

    Level by level, so the cost is one type test per value and no recursion.
    """
    level = [doc] if isinstance(doc, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise ShapeError(f"nested deeper than {max_depth} levels (aitrail's JSON limit)", "depth")
        nxt: list[Any] = []
        for obj in level:
            nxt.extend(v for v in (obj.values() if type(obj) is dict else obj) if type(v) in _CONTAINERS)
        level = nxt


_CONTAINERS = (dict, list)


def check_shape(doc: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Raise ShapeError if ``doc`` nests deeper than ``max_depth``, holds more than ``max_nodes``
    values counting a shared (aliased) container each time it is reached, or contains itself.

    Linear in the *distinct* containers: each one's expanded size and depth are computed once
    (post-order, iterative) and reused wherever it is shared.
    """
    if not isinstance(doc, (dict, list, tuple)):
        return None
    done: dict[int, tuple[int, int]] = {}  # id -> (values beneath, levels beneath)
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        obj, children_done = stack.pop()
        key = id(obj)
        items = list(obj.values()) if isinstance(obj, dict) else obj
        if not children_done:
            if key in done:
                continue
            if key in open_:
                raise ShapeError("a value contains itself (a recursive YAML alias)", "recursion")
            open_.add(key)
            stack.append((obj, True))
            for v in items:
                if isinstance(v, (dict, list, tuple)) and v and id(v) not in done:
                    if id(v) in open_:
                        raise ShapeError("a value contains itself (a recursive YAML alias)", "recursion")
                    stack.append((v, False))
            if len(open_) > max_depth:
                raise ShapeError(f"nested deeper than {max_depth} levels (aitrail's limit for documents)", "depth")
            continue
        size, depth = len(items), 1
        for v in items:
            if isinstance(v, (dict, list, tuple)) and v:
                sub = done[id(v)]
                size += sub[0]
                depth = max(depth, sub[1] + 1)
        if depth > max_depth:
            raise ShapeError(f"nested deeper than {max_depth} levels (aitrail's limit for documents)", "depth")
        if size > max_nodes:
            raise ShapeError(
                f"more than {max_nodes:,} values (aitrail's limit for documents; YAML aliases count each time "
                "they are used)",
                "size",
            )
        done[key] = (size, depth)
        open_.discard(key)
    return None
