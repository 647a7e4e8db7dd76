"""Model card front matter, fast where that is provably the same as the safe YAML loader.

Most hub cards' front matter is flat: ``key: word`` lines and ``- word`` lists. For those the result
is built directly; anything else (quotes, flow collections, nesting, anchors, tags, comments, numbers,
dates, YAML 1.1 booleans and nulls, tabs, duplicate keys...) goes to the safe loader. Scalars taken
here start with a letter and hold only letters, digits, ``_ . - / +`` and inner spaces, so no YAML
resolver but ``str`` can match them once the boolean/null words are excluded.
tests/test_hub_frontmatter.py proves the fast path gives the loader's result on every real card of
the 2022 hub snapshot.
"""

from __future__ import annotations

import re
from typing import Any, Callable

FAST_ENABLED = True
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_SCALAR = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_.\-/+: ]*[A-Za-z0-9_.\-/+])?\Z")
# PyYAML's reader refuses these characters anywhere in a document: such text goes to the loader (which fails)
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")
# YAML 1.1 booleans and nulls (PyYAML's resolver), compared lower-cased: a word such as "yEs" is a
# string to YAML but is sent to the loader anyway (cheaper to be conservative than exact).
_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "y", "n", "null"})


def parse(text: str, safe: Callable[[str], Any]) -> Any:
    """The front matter's data: :func:`fast` when it applies, else ``safe(text)``."""
    if FAST_ENABLED:
        got = fast(text)
        if got is not None:
            return got
    return safe(text)


def _value(s: str) -> str | None:
    """The string a one-line scalar means, or None when it is not one handled here. Quoted: without
    escapes or the quote inside (no folding, no ``\\``, no ``''``); plain: see _SCALAR, no ``: `` inside."""
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        inner = s[1:-1]
        if s[0] in inner or "\\" in inner:
            return None
        return inner
    if _SCALAR.match(s) and s.lower() not in _WORDS and "  " not in s and ": " not in s:
        return s
    return None


def fast(text: str) -> dict[str, Any] | None:
    """The mapping a flat front matter means, or None when it is not in the subset handled here."""
    if "\t" in text or "\r" in text or "\n  " in text and ": " in text.split("\n  ", 1)[1].split("\n", 1)[0]:
        return None  # nested mappings (model-index, widget...): straight to the loader, not parsed twice
    if _NON_PRINTABLE.search(text):
        return None
    out: dict[str, Any] = {}
    items: list[str] | None = None  # the list being read (after "key:" with no value)
    indent = -1
    for raw in text.split("\n"):
        line = raw.rstrip(" ")
        if not line:
            continue
        if items is not None and line.lstrip(" ").startswith("- "):
            lead = len(line) - len(line.lstrip(" "))
            if indent == -1:
                indent = lead
            item = _value(line[lead + 2 :].strip(" "))
            if lead != indent or item is None:
                return None
            items.append(item)
            continue
        if line[0] == " ":
            return None  # nesting or a continued scalar
        key, sep, value = line.partition(":")
        if not sep or not _KEY.match(key) or key.lower() in _WORDS or key in out:
            return None
        value = value.strip(" ")
        if value:
            got = _value(value)
            if got is None or not line[len(key) + 1 :].startswith(" "):
                return None
            out[key] = got
            items = None
        else:
            items = []
            indent = -1
            out[key] = items
    if not out:
        return None
    for k, v in out.items():
        if v == []:
            out[k] = None  # "key:" with nothing below is null
    return out


_OPENING_KEYS = ("base_model", "base_model_relation")


def opening(text: str) -> tuple[dict[str, str], str] | None:
    """({key: value}, the rest) when the front matter opens with plain ``base_model: X`` (then optionally
    ``base_model_relation: R``) lines followed by a plain key at the start of a line, as hub tools write
    them; else None. The whole then means ``{**opening, **rest}`` whenever the rest alone is a mapping
    without those keys (a plain scalar ends at a line starting in column 0, and the rest's mapping
    has the same indentation): tests/test_hub_frontmatter.py proves it on every real card."""
    head: dict[str, str] = {}
    pos = 0
    for key in _OPENING_KEYS:
        if not text.startswith(key + ": ", pos):
            break
        end = text.find("\n", pos)
        if end < 0:
            return None
        value = _value(text[pos + len(key) + 2 : end])
        if value is None or value != text[pos + len(key) + 2 : end]:  # plain, unquoted, not padded
            return None
        head[key] = value
        pos = end + 1
    nxt = text[pos : pos + 1]
    if not head or not (nxt.isascii() and (nxt.isalpha() or nxt == "_")):
        return None
    return head, text[pos:]
