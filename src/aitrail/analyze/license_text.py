"""Identify a licence from its text, and say "unknown" rather than guess.

Written by hand because the field's tools fail the way that matters most here: ScanCode names a
confident *wrong* relative for AI licences it has no key for (Llama 3 as 3.1, OpenMDW 1.1 as 1.0),
and askalono knows no AI licence. Method:

- normalise (case, punctuation, markup, copyright lines) and cut the text into word 5-grams;
- each licence in the knowledge base has fingerprints: the hashed 5-grams of its reference texts
  (``knowledge/license_fingerprints.json``, built by ``scripts/gen_license_fingerprints.py``; hashes
  only, no licence text is shipped);
- *coverage* = share of a licence's 5-grams found in the text; *precision* = share of the text's
  5-grams that belong to the licence (overlaps counted through an inverted index in numpy,
  ``license_index``); several are reported when the text concatenates them (licence + use policy);
- a licence is named only when nearly all of it is in the text and what the text has beyond it
  is noise (see ``identify_text``); otherwise the answer is "unknown", with the closest licences,
  the whole licences it does contain, and the paragraphs the closest one lacks ("differs in these
  clauses").

Versions that differ by one clause (Llama 3 and 3.1; OpenMDW 1.0 and 1.1) differ in enough 5-grams
that one does not cover the other at 0.9: the leave-one-out test shows each is then "unknown".
"""

from __future__ import annotations

import base64
import heapq
import json
import re
import sys
import zlib
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from operator import itemgetter
from typing import Any, Callable

from .licenses import LicenseFacts, knowledge

SHINGLE = 5
KNOWN_AT = 0.90  # coverage needed to consider a licence at all
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]")
# A copyright line: "Copyright"/"(c)" with a year, a placeholder for one or "all rights reserved"
# (up to that phrase when a rewrapped paragraph goes on after it);
# not "(c) If You Publish..." (a list item) nor "Copyright law, as with..." (prose). [^\S\n], not
# \s: \s would span blank lines (quadratic).
_COPYRIGHT = re.compile(
    r"^[^\S\n]*[>#*_-]*[^\S\n]*(?:©|(?:copyright\b|\(c\))"
    r"(?=[^\n]*(?:\b(?:19|20)\d\d\b|all rights reserved|\(c\)|©|yyyy|<year>|\[year\])))"
    r"(?:[^\n]*?all rights reserved[.;]?|[^\n]*$)",
    re.I | re.M,
)
# PolyForm's "Required Notice: Copyright X" lines are the licensor's notices, like a copyright line (its
# text's own example is "Yoyodyne, Inc."): not content. Only with "Copyright" after it, so that the body's
# "lines beginning with Required Notice: that the licensor provided", rewrapped to a line start, stays.
_REQUIRED_NOTICE = re.compile(r"^[^\S\n]*>?[^\S\n]*`?required notice:`?[^\S\n]*copyright\b[^\n]*$", re.I | re.M)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
# List numbering ("1.", "b.", "iv)", "(a)") differs between copies of one licence: not content. Found
# anywhere, not only at a line's start, so that rewrapping (which moves line starts) changes nothing;
# not after a word, "." or "," ("U.S.", "e.g.", "700,000.").
_MARKER = re.compile(r"(?<![\w.,])\(?(?:\d{1,3}|[a-zA-Z]|i{2,3}|iv|vi{1,3}|ix|xi{1,3})[.)](?=\s|$)")
_INLINE_MARKER = re.compile(r"\((?:\d{1,2}|[a-zA-Z]|[ivxIVX]{1,5})\)")
MAX_TEXT = 1 << 20  # characters (and bytes of a file) identified; a longer text is cut there and says so
MAX_PARAGRAPHS = 5_000  # paragraphs compared when listing where an unknown text differs


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = _COPYRIGHT.sub(" ", _REQUIRED_NOTICE.sub(" ", text))
    return _INLINE_MARKER.sub(" ", _strip_markers(_strip_urls(text))).lower()


_URL_LOWER = re.compile(r"(?:https?://|www\.)\S+")


def _strip_urls(text: str) -> str:
    """``_URL.sub(" ", text)``, faster: the regex is tried only where "http" or "www." starts (in the
    lower-cased text, whose positions are the same unless lowering changes its length; "ſ" is the one
    character re.I matches to one of the URL's letters, "s", that lowering does not turn into it)."""
    low = text.lower()
    if len(low) != len(text) or "\u017f" in text:
        return _URL.sub(" ", text)
    out: list[str] = []
    done = at = 0
    while True:
        a, b = low.find("http", at), low.find("www.", at)
        if a < 0 and b < 0:
            break
        at = b if a < 0 or 0 <= b < a else a
        m = _URL_LOWER.match(low, at)
        if m is None:
            at += 1
            continue
        out += (text[done:at], " ")
        done = at = m.end()
    return "".join(out) + text[done:] if out else text


def _marker_shapes() -> re.Pattern[str]:
    """_MARKER anchored at its end: a "." or ")" before whitespace (rare characters, which the regex
    engine skips to), with one look-behind per shape of what precedes it, widest first: the first that
    fits is the leftmost start, the match ``_MARKER.sub`` replaces."""
    by_width = {4: ["viii", "xiii"], 3: [r"\d\d\d", "iii", "vii", "xii"], 2: [r"\d\d", "ii", "iv", "vi", "ix", "xi"],
                1: [r"\d", "[a-zA-Z]"]}
    shapes = []
    for width in (4, 3, 2, 1):
        x = "(?:" + "|".join(by_width[width]) + ")"
        shapes += [(width + 1, r"\(" + x), (width, x)]
    shapes.sort(key=lambda w: -w[0])
    return re.compile(r"[.)](?=\s|$)(?:" + "|".join(rf"(?<=(?<![\w.,])({x}[.)]))" for _, x in shapes) + ")")


_MARKER_END = _marker_shapes()


def _strip_markers(text: str) -> str:
    """``_MARKER.sub(" ", text)``, ~3x faster (tests check both agree)."""
    out: list[str] = []
    done = 0
    for m in _MARKER_END.finditer(text):
        start, end = m.span(m.lastindex or 0)
        out += (text[done:start], " ")
        done = end
    return "".join(out) + text[done:] if out else text


# ASCII text: every byte that is not [a-z0-9] becomes a space, so that splitting gives _TOKEN's words
_ASCII_WORDS = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256))


def _split(text: str) -> tuple[list[str], bytes]:
    """The normalised text's words, and the same as UTF-8 bytes separated by spaces (for hashing)."""
    text = _normalise(text)
    if text.isascii():  # the common case: one C pass instead of the regex
        data = text.encode().translate(_ASCII_WORDS)
        return data.decode().split(), data
    toks = _TOKEN.findall(text)
    return toks, " ".join(toks).encode()


def tokens(text: str) -> list[str]:
    return _split(text)[0]


_FOLD = (1 << 64) - 1


def _h(words: list[str]) -> int:
    """The 5-gram hash, by its definition (``license_index.window_hashes`` computes it for every window
    at once): words hashed as sum(byte_i * P**i), folded with K, MurmurHash3's fmix64, top 32 bits."""
    from .license_index import _M1, _M2, K, P

    h = 0
    for w in words:
        h = (h * K + sum(b * pow(P, i, 1 << 64) for i, b in enumerate(w.encode()))) & _FOLD
    h ^= h >> 33
    h = (h * _M1) & _FOLD
    h ^= h >> 33
    h = (h * _M2) & _FOLD
    h ^= h >> 33
    return h >> 32


def window_hashes(toks: list[str]) -> list[int]:
    """The hash of every 5-word window, in order (one pass; reused for coverage and diffs): ``_h`` of
    each window, or of all the words when there are fewer than five."""
    from .license_index import window_hashes as hashes

    return hashes(" ".join(toks).encode()).tolist()  # type: ignore[no-any-return]


def shingles(toks: list[str]) -> set[int]:
    return set(window_hashes(toks))


def encode(hashes: set[int]) -> str:
    return base64.b64encode(array("I", sorted(hashes)).tobytes()).decode()


def decode(blob: str) -> frozenset[int]:
    a = array("I")
    a.frombytes(base64.b64decode(blob))
    return frozenset(a)


@dataclass
class Reference:
    license_id: str
    shingles: frozenset[int]
    source: str
    twins: tuple[str, ...] = ()  # LicenseDB keys of near twins (a core reference's only)


# A reference sharing 5-grams with a text: (shared, size, id, source, key); key is a core reference's
# 5-grams or a LicenseDB index
Cand = tuple[int, int, str, str, "frozenset[int] | int"]
CORE = "license_fingerprints.json"
LICENSEDB = "license_fingerprints_licensedb.json"


def _read(name: str) -> dict[str, Any]:
    return json.loads(resources.files("aitrail.knowledge").joinpath(name).read_text("utf-8"))  # type: ignore[no-any-return]


def _array(code: str, blob: bytes) -> array[int]:
    a = array(code)
    a.frombytes(blob)
    if sys.byteorder != "little":  # the files are little-endian
        a.byteswap()
    return a


@lru_cache(maxsize=1)
def references() -> tuple[int, list[Reference]]:
    """The core references: AI licences and the common ones, tried first (the usual LICENSE file)."""
    raw = _read(CORE)
    return raw["version"], [
        Reference(r["id"], decode(r["shingles"]), r["source"], tuple(r.get("twins", ()))) for r in raw["references"]
    ]


class LicenseDB:
    """The rest of ScanCode's LicenseDB (~2,360 texts), for texts the core set cannot name.

    Stored as postings: a table of distinct 5-gram hashes and, for each, the references holding it
    (``scripts/gen_license_fingerprints.py``). Loading is array decoding, no per-reference sets. The
    first text to need it builds the numpy index (``license_index.Postings``: the hashes sorted and
    bucketed, ~0.05 s, ~25 MB); a text's overlaps are then counted in a few array operations.
    """

    TOP = 12  # references sharing most 5-grams kept as candidates for "closest" (ties kept)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: int = raw["version"]
        self.meta: list[dict[str, Any]] = raw["references"]
        self._raw: dict[str, Any] | None = raw
        self.sources = [f"scancode-licensedb:{m['key']}" for m in self.meta]
        self.sizes: list[int] = [m["size"] for m in self.meta]
        # ids as the knowledge base names them now, not as when the file was generated
        self.ids: list[str] = [licensedb_id(m["key"], m.get("spdx")) for m in self.meta]
        self._index: Any = None
        self._need: Any = None

    def index(self) -> Any:
        """The numpy index (``license_index.Postings``), built on first use."""
        if self._index is None:
            from .license_index import Postings, from_bytes

            raw, self._raw = self._raw, None
            assert raw is not None
            table = from_bytes("I", base64.b64decode(raw["table"]))
            counts = from_bytes("H", zlib.decompress(base64.b64decode(raw["counts"])))
            postings = from_bytes("H", zlib.decompress(base64.b64decode(raw["postings"])))
            self._index = Postings(table, counts, postings, len(self.meta))
            self._need = np_need(self.sizes)
        return self._index

    def contenders(self, overlap: Any) -> list[tuple[int, int]]:
        """(shared, reference) of the references that can be named or listed as closest, in reference
        order: nearly all present (``_identify``'s ``close`` or ``KNOWN_AT``), or among the ``TOP``
        sharing most (ties kept). The other ~2,000 would only be filtered out one by one later."""
        self.index()
        return overlap.contenders(self._need, self.TOP)  # type: ignore[no-any-return]


def np_need(sizes: list[int]) -> Any:
    """Shared 5-grams from which a reference of each size may be named (see ``_identify``'s ``close``)."""
    import numpy as np

    n = np.asarray(sizes, np.float64)
    return np.minimum(n - 8, KNOWN_AT * n)


@lru_cache(maxsize=1)
def licensedb() -> LicenseDB:
    return LicenseDB(_read(LICENSEDB))


@lru_cache(maxsize=1)
def identities() -> dict[str, dict[str, Any]]:
    """What the LicenseDB says about ids the knowledge base does not describe (name, ScanCode key)."""
    db = licensedb()
    return dict(zip(db.ids, db.meta))


def licensedb_id(key: str, spdx: str | None) -> str:
    """The aitrail id of the LicenseDB licence ``key``: the knowledge base's, else its SPDX id, else
    LicenseRef-scancode-<key>. Resolved when the LicenseDB is loaded (and by the generator): a licence
    the knowledge base names later (PolyForm's) is named so without regenerating the fingerprints."""
    kb = knowledge()
    facts = kb.lookup(key) or kb.lookup(f"LicenseRef-scancode-{key}") or (kb.lookup(spdx) if spdx else None)
    if facts:
        return facts.id
    return spdx if spdx and not spdx.startswith("LicenseRef-") else f"LicenseRef-scancode-{key}"


_calls = [0]


def _overlaps(s: set[int], refs: list[Reference], q: Callable[[], Any]) -> list[int]:
    """How many of the text's 5-grams each core reference has. A scan meets a licence file or two:
    plain set intersections (no numpy import); past a few calls (``aitrail license identify`` on many
    files, a LicenseDB text) the numpy index of the core set. ``q``: the text's hashes as an array."""
    _calls[0] += 1
    if _calls[0] <= 8:
        return [len(s & r.shingles) for r in refs]
    return _core_index().overlap(q()).counts.tolist()  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _core_index() -> Any:
    from .license_index import Postings

    return Postings.of_sets([r.shingles for r in references()[1]])


def identity(license_id: str) -> tuple[str | None, str | None, str | None]:
    """(name, SPDX id, ScanCode key) of a licence id: the knowledge base's, else the LicenseDB's."""
    f: LicenseFacts | None = knowledge().licenses.get(license_id)
    if f is not None:
        return f.name, f.spdx, f.scancode
    m = identities().get(license_id)
    return (m.get("name"), m.get("spdx"), m.get("key")) if m else (None, None, None)


@dataclass
class Match:
    license_id: str
    coverage: float  # share of the licence found in the text
    precision: float  # share of the text that is this licence
    source: str
    size: int = 0  # the licence's distinct 5-grams

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.license_id,
            "name": identity(self.license_id)[0],
            "coverage": round(self.coverage, 4),
            "precision": round(self.precision, 4),
        }


@dataclass
class Identification:
    file: str
    known: bool
    licenses: list[Match] = field(default_factory=list)  # identified (several when concatenated)
    closest: list[Match] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # text paragraphs the closest licence lacks
    error: str | None = None
    contains: list[Match] = field(default_factory=list)  # whole licences inside a text not fully explained
    truncated: int | None = None  # the text's full length when only its first MAX_TEXT were identified
    # named from the core set, imperfectly, as a licence with near twins in the LicenseDB: check there
    recheck: bool = field(default=False, repr=False)

    @property
    def confidence(self) -> float:
        return min((m.coverage for m in self.licenses), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        main = self.licenses[0].license_id if self.licenses else None
        name, spdx, scancode = identity(main) if main else (None, None, None)
        out: dict[str, Any] = {
            "file": self.file,
            "known": self.known,
            "id": main,
            "spdx_id": spdx,
            "scancode_key": scancode,
            "name": name,
            "confidence": round(self.confidence, 4),
            "licenses": [m.to_dict() for m in self.licenses],
            "closest": [m.to_dict() for m in self.closest],
        }
        if self.differences:
            out["differences"] = self.differences
        if self.contains:
            out["contains"] = [m.to_dict() for m in self.contains]
        if self.error:
            out["error"] = self.error
        if self.truncated is not None:
            out["truncated"] = self.truncated
        if not self.known and self.closest:
            c = self.closest[0].to_dict()
            out["message"] = (
                f"unknown licence; closest is {c['name'] or c['id']} ({c['coverage']:.0%} of it is in "
                f"this text), which differs in the paragraphs listed under 'differences'"
            )
        return out


def uncovered_runs(
    toks: list[str], ref: frozenset[int] | set[int], windows: list[int] | None = None
) -> list[list[str]]:
    """Runs of the text's words that no 5-gram of ``ref`` covers."""
    n = len(toks)
    if not n:
        return []
    windows = window_hashes(toks) if windows is None else windows
    # bit i of ``hit`` = window i is in ref; a word is covered by the windows starting at it and at the
    # SHINGLE - 1 words before it. Big-int shifts and a regex over the bit string: C loops, not Python.
    hit = int(bytes(map(ref.__contains__, reversed(windows))).translate(_BITS) or b"0", 2)
    covered = 0
    for k in range(SHINGLE):
        covered |= hit << k
    bits = format(covered & ((1 << n) - 1), f"0{n}b")[::-1]  # character i = word i
    return [toks[m.start() : m.end()] for m in _UNCOVERED.finditer(bits)]


_BITS = bytes.maketrans(b"\x00\x01", b"01")
_UNCOVERED = re.compile("0+")


def significant(run: list[str]) -> bool:
    """A difference that can change meaning: any number (versions, dates, caps) or six words or more.

    Shorter runs are what copies of one licence differ in: a project's name in "Neither the name of
    X", a title, a quote style.
    """
    return len(run) >= 6 or any(t.isdigit() for t in run)


def _inner(toks: list[str], union: set[int] | frozenset[int], windows: list[int]) -> list[list[str]]:
    """The text's words no licence found explains, less a short title before the licence ("The MIT
    License (MIT)") or a few closing words after it: not content, unless they carry a number. A
    closing sentence is content ("The Software is used with an Embedthis product licensed under…")."""
    runs = uncovered_runs(toks, union, windows)
    if not runs:
        return runs
    head, tail = runs[0], runs[-1]
    inner = runs[:]
    if toks[: len(head)] == head and len(head) < 12 and not any(t.isdigit() for t in head):
        inner = inner[1:]
    if inner and toks[len(toks) - len(tail) :] == tail and len(tail) < 6 and not any(t.isdigit() for t in tail):
        inner = inner[:-1]
    return inner


def _explained(toks: list[str], inner: list[list[str]]) -> bool:
    return not any(significant(x) for x in inner) and sum(map(len, inner)) <= 0.02 * len(toks)


def identify_text(text: str, file: str = "<text>", exclude: frozenset[str] = frozenset()) -> Identification:
    """Identify ``text`` against the core references, then, if it is not named (or named imperfectly
    as a licence with near twins in the LicenseDB), against the whole LicenseDB too.

    Only the first MAX_TEXT characters are read (``truncated`` then holds the full length): the cost
    stays bounded whatever a LICENSE file or a METADATA field holds."""
    full = len(text)
    if full > MAX_TEXT:
        text = text[:MAX_TEXT]
    from .license_index import distinct
    from .license_index import window_hashes as hashes

    toks, data = _split(text)
    hashed = hashes(data)  # once for both passes
    windows: list[int] = hashed.tolist()
    text_set = set(windows)
    q = lru_cache(maxsize=1)(lambda: distinct(hashed))  # the distinct hashes as an array, when an index needs it

    core = _core_candidates(text_set, q) if text_set else []
    # the core pass can only name a licence nearly all present in the text: without one, straight on
    if text_set and not any(c[0] >= KNOWN_AT * c[1] and _close(c) and c[2] not in exclude for c in core):
        result = _identify(text, file, exclude, True, toks, windows, text_set, q, core)
    else:
        first = _identify(text, file, exclude, False, toks, windows, text_set, q, core)
        result = (
            first
            if (first.known and not first.recheck) or first.error
            else _identify(text, file, exclude, True, toks, windows, text_set, q, core)
        )
    if full > MAX_TEXT:
        result.truncated = full
    return result


def _core_candidates(s: set[int], q: Callable[[], Any]) -> list[Cand]:
    """Every core reference sharing a 5-gram with the text (its key: the reference's 5-grams)."""
    refs = references()[1]
    counts = _overlaps(s, refs, q)
    return [(inter, len(r.shingles), r.license_id, r.source, r.shingles) for r, inter in zip(refs, counts) if inter]


def _close(c: Cand) -> bool:
    """Nearly all of the reference is in the text: at most max(8, 1 %) of its 5-grams missing."""
    return c[1] - c[0] <= 8 or c[1] - c[0] <= 0.01 * c[1]


@lru_cache(maxsize=1)
def _twinned() -> dict[str, tuple[str, ...]]:
    return {r.license_id: r.twins for r in references()[1] if r.twins}


def _identify(
    text: str,
    file: str,
    exclude: frozenset[str],
    extended: bool,
    toks: list[str],
    windows: list[int],
    s: set[int],
    q: Callable[[], Any],
    core: list[Cand],
) -> Identification:
    """Identify ``text`` (``toks``, its 5-gram ``windows`` and their set ``s``, the same as an array
    ``q()``) against the core set (``core``: its candidates), and the LicenseDB when ``extended``.
    ``exclude`` hides licences from the reference set (leave-one-out testing).

    A licence is named only when (1) nearly all of it is in the text (at most max(8, 1%) of its
    5-grams missing) and (2) what the text has beyond it is noise: no uncovered number (versions,
    dates, user caps), no uncovered run of six words or more, at most 2% of the words uncovered.
    """
    if not s:
        return Identification(file, False, error="no words to identify")
    # Every reference sharing a 5-gram with the text (Cand); its key gives the text's 5-grams it
    # holds (asked of a few only). Excluded ones stay as competitors: a hidden licence is still
    # what the text is, so a relative must not be named in its place.
    n = len(s)
    raw = core[:]
    db = licensedb() if extended else None
    overlap: Any = None
    if db is not None:
        overlap = db.index().overlap(q())
        sizes, ids, sources = db.sizes, db.ids, db.sources
        raw += [(inter, sizes[i], ids[i], sources[i], i) for inter, i in db.contenders(overlap)]

    def part(c: Cand) -> frozenset[int]:
        key = c[4]
        return frozenset(s & key) if isinstance(key, frozenset) else overlap.part(key)  # type: ignore[no-any-return]

    twinned = _twinned()
    close = list(filter(_close, raw))  # nearly all present
    best: dict[str, Cand] = {}
    for c in close:
        if c[2] in exclude or c[0] < KNOWN_AT * c[1]:
            continue
        # of one licence's references nearly all present (its whole text, the terms alone...), the one
        # holding most of the text, then the higher coverage: a rewrapped whole text is not cut to its terms
        if c[2] not in best or (c[0], c[0] * best[c[2]][1]) > (best[c[2]][0], best[c[2]][0] * c[1]):
            best[c[2]] = c
    # Among licences nearly all present, the one explaining most of the text comes first: a text
    # holding MIT also holds all of MIT-0, and must be named MIT. The rest only name the closest.
    strong = sorted(best.values(), key=lambda c: (c[0] / n, c[0] / c[1]), reverse=True)
    # the closest of the rest: nearly-all-present ones first, then by precision (shared 5-grams), then
    # coverage, exact ties in reference order (core set, then LicenseDB, each in file order). Drawn from
    # the nearly-all-present and the TOP sharing most, all those tied with the TOP-th kept: which of
    # equals is listed must not depend on the order candidates were counted in.
    floor = heapq.nlargest(LicenseDB.TOP, map(itemgetter(0), raw))[-1:] or [0]
    pool = [c for c in raw if c[0] >= KNOWN_AT * c[1] or c[0] >= floor[0]]
    weak = heapq.nlargest(  # = sorted(..., reverse=True)[:6], ties in pool order
        6,
        (c for c in pool if c[2] not in exclude and c[2] not in best),
        key=lambda c: (c[0] >= KNOWN_AT * c[1], c[0] / n, c[0] / c[1]),
    )
    ranked = [(Match(c[2], c[0] / c[1], c[0] / n, c[3], c[1]), c) for c in strong + weak]
    found: list[Match] = []
    union: set[int] = set()  # the text's 5-grams explained by the licences found so far
    for m, c in ranked[: len(strong)]:
        mine = part(c)
        if found and len(mine - union) < 0.5 * m.size:
            continue  # its clauses are already explained by a licence found before
        if not _nearest(c, mine, union, close, part):
            continue
        found.append(m)
        union |= mine
        inner = _inner(toks, union, windows)
        if _explained(toks, inner):
            ident = Identification(file, True, found, [x for x, _ in ranked if all(x is not f for f in found)][:3])
            if db is None and any(twinned.get(f.license_id) for f in found):
                ident.recheck = bool(inner) or any(f.size > round(f.coverage * f.size) for f in found)
            return ident
    ident = Identification(file, False, [], [x for x, _ in ranked[:3]], contains=found)
    if ranked and extended:  # an unknown from the core set only goes on to the LicenseDB: not its last word
        ident.differences = _differences(text, part(ranked[0][1]) | union)
    return ident



def _nearest(
    c: Cand, mine: frozenset[int], union: set[int], close: list[Cand], part: Callable[[Cand], frozenset[int]]
) -> bool:
    """Whether no other reference fits the text as well as candidate ``c``: none lacks as few of its
    5-grams and explains as much of the text (beyond what earlier licences explain). The LicenseDB
    holds many near twins (ISC and an X11 variant differing by one misspelt word; BSD-3-Clause and its
    "without modification" variant): a text that fits a twin as well may be that twin, so ``c`` is
    not named. Hidden (excluded) references count too: the text may be one of them."""
    missing = c[1] - c[0]
    own = len(mine - union)
    for o in close:
        if o[2] != c[2] and o[1] - o[0] <= missing and len(part(o) - union) >= own:
            return False
    return True


def _differences(text: str, ref: frozenset[int] | set[int], limit: int = 8) -> list[str]:
    """Paragraphs of ``text`` mostly absent from the reference: where the unknown text differs."""
    out = []
    paragraphs = re.split(r"\n\s*\n|\n(?=\s*(?:\d+\.|[a-z]\.|[ivx]+\.)\s)", text)
    for para in paragraphs[:MAX_PARAGRAPHS]:
        p = shingles(tokens(para))
        if len(p) >= 3 and len(p & ref) / len(p) < 0.5:
            words = " ".join(para.split())
            out.append(words[:160] + ("…" if len(words) > 160 else ""))
            if len(out) >= limit:
                break
    return out


def identify_file(path: str) -> Identification:
    """Identify a licence file from its first MAX_TEXT bytes (``truncated`` says when there is more)."""
    import os
    import stat

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
            return Identification(path, False, error="not a regular file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT)
    except OSError as e:
        return Identification(path, False, error=f"cannot read: {e.strerror}")
    text = decode_license(raw)
    if text is None:
        return Identification(path, False, error="binary content (NUL bytes), not a licence text")
    if not text.strip():
        return Identification(path, False, error="empty file")
    result = identify_text(text, path)
    if st.st_size > MAX_TEXT:
        result.truncated = st.st_size
    return result


def decode_license(raw: bytes) -> str | None:
    """Licence text from bytes: UTF-16 with a BOM, else UTF-8, cp1252 or latin-1 (mixed encodings are
    common in LICENSE files: fall back, never fail); None for binary content (NUL bytes)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace")  # a cut at an odd byte loses one character
    if b"\x00" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if e.start >= len(raw) - 3 and e.reason == "unexpected end of data":  # cut inside a character
            return raw[: e.start].decode("utf-8-sig")
    for enc in ("cp1252",):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # decodes every byte
