"""The values of chosen top-level keys of a JSON object, read from its bytes without parsing the rest.

A config that is too large or too deep for the bounded JSON reader (jsonsafe) is still loaded by
transformers (``json.load``, no such limits), so what it names must still be judged: this reader
skips every other value by its brackets and strings (no recursion, no tree built; the regular
expressions run over the buffer, so a memory-mapped file of any size is read in place), decodes
keys as JSON does ("auto\\u005fmap" is "auto_map") and keeps every occurrence of a wanted key
(``json.loads`` keeps the last; a judge should see all). UTF-8 never puts '"', '\\' or a bracket
inside a multi-byte character, so working on bytes is exact.
"""

from __future__ import annotations

import json
import mmap
import re
from typing import Union

Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]  # any object re can search

# A JSON string (unrolled: linear, no backtracking) or a bracket: the only tokens that change nesting.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]', re.S)
_COLON = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*")
_WS = re.compile(rb"[ \t\r\n]*")


def top_level(data: Buffer, keys: set[str], max_value: int | None = None) -> dict[str, list[bytes]]:
    """{key: [the bytes of each of its values]} for the wanted keys of the top-level object in ``data``
    (empty when it is not an object). A value cut off by the end of the data is not returned; one longer
    than ``max_value`` bytes is returned as b"" (the caller reports it unread)."""
    found: dict[str, list[bytes]] = {}
    start = _WS.match(data).end()  # type: ignore[union-attr, call-overload]
    if data[start : start + 1] != b"{":
        return found
    depth = 0
    capture: tuple[str, int] | None = None  # (key, start of its value): an object or array at depth 1
    for m in _TOKEN.finditer(data, start):  # type: ignore[call-overload]
        tok = m.group()
        if tok in (b"{", b"["):
            depth += 1
            continue
        if tok in (b"}", b"]"):
            depth -= 1
            if capture and depth == 1:
                found.setdefault(capture[0], []).append(_cut(data, capture[1], m.end(), max_value))
                capture = None
            if depth <= 0:
                break
            continue
        if depth != 1 or capture:
            continue
        colon = _COLON.match(data, m.end())  # type: ignore[call-overload]
        if not colon or b":" not in colon.group():
            continue  # a value, not a key
        try:
            key = json.loads(tok)
        except ValueError:
            continue
        if key not in keys:
            continue
        at = colon.end()
        first = data[at : at + 1]
        if first in (b"{", b"["):
            capture = (key, at)
        elif first == b'"':
            s = _TOKEN.match(data, at)  # type: ignore[call-overload]
            if s:
                found.setdefault(key, []).append(_cut(data, at, s.end(), max_value))
        # numbers, true/false/null: nothing a judge reads
    return found


def _cut(data: Buffer, start: int, end: int, max_value: int | None) -> bytes:
    return b"" if max_value is not None and end - start > max_value else bytes(data[start:end])
