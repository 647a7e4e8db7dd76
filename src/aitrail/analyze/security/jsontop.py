"""The values of chosen top-level keys of a JSON object, read from its text without parsing the rest.

A config that is too large or too deep for the bounded JSON reader (jsonsafe) is still loaded by
transformers (``json.load``, no such limits), so what it names must still be judged: this reader
skips every other value by its brackets and strings (no recursion, no tree built), decodes keys as
JSON does ("auto\\u005fmap" is "auto_map") and keeps every occurrence of a wanted key (``json.loads``
keeps the last; a judge should see all).
"""

from __future__ import annotations

import json
import re

# A JSON string (unrolled: linear, no backtracking) or a bracket: the only tokens that change nesting.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]', re.S)
_COLON = re.compile(r"\s*:\s*")
_WS = re.compile(r"\s*")


def top_level(text: str, keys: set[str]) -> dict[str, list[str]]:
    """{key: [the text of each of its values]} for the wanted keys of the top-level object of ``text``
    (empty when the text is not an object). A value cut off by the end of the text is not returned."""
    found: dict[str, list[str]] = {}
    start = _WS.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", start):
        return found
    depth = 0
    capture: tuple[str, int, int] | None = None  # (key, start of its value, depth it closes at)
    for m in _TOKEN.finditer(text, start):
        tok = m.group()
        if tok in ("{", "["):
            depth += 1
            continue
        if tok in ("}", "]"):
            depth -= 1
            if capture and depth == capture[2]:
                found.setdefault(capture[0], []).append(text[capture[1] : m.end()])
                capture = None
            if depth <= 0:
                break
            continue
        if depth != 1 or capture:
            continue
        colon = _COLON.match(text, m.end())
        if not colon or not colon.group().strip():
            continue  # a value, not a key
        try:
            key = json.loads(tok)
        except ValueError:
            continue
        if key not in keys:
            continue
        at = colon.end()
        if text.startswith(("{", "["), at):
            capture = (key, at, 1)
        elif text.startswith('"', at):
            s = _TOKEN.match(text, at)
            if s:
                found.setdefault(key, []).append(s.group())
        # numbers, true/false/null: nothing a judge reads
    return found
