"""Licence 5-grams in numpy arrays: the hash of every 5-word window of a text at once, and an inverted
index counting how many of a text's 5-grams each reference holds in a handful of array operations
instead of a Python loop per posting.

Imported by ``license_text`` only when a text is identified (numpy's import is ~0.1 s): a scan that
meets no licence text never loads numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_BITS = 21  # hash buckets: the top bits of a hash; ~2 M buckets for ~1 M hashes, most hold 0 or 1
# The 5-gram hash (``license_text._h`` is its plain definition): a word's hash is the polynomial
# sum(byte_i * P**i) of its UTF-8 bytes, a window's folds its words' with K, then a 64-bit finaliser
# (MurmurHash3's fmix64) whose top 32 bits are kept. All mod 2**64: uint64 arithmetic wraps.
P = 0x9E3779B97F4A7C15
K = 0xC2B2AE3D27D4EB4F
_M1, _M2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
SHINGLE = 5
_CACHED = 1 << 16  # powers kept for texts up to 64 KiB (nearly every licence); a longer one makes its own
_pow: list[np.ndarray[Any, Any]] = []  # P**i and P**-i, i < _CACHED


def _powers(n: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """P**i and P**-i (mod 2**64) for i < at least n."""
    if _pow and len(_pow[0]) >= n:
        return _pow[0], _pow[1]
    size = max(n, _CACHED)
    pw = np.empty(size, np.uint64)
    pw[0], pw[1:] = 1, P
    inv = np.empty(size, np.uint64)
    inv[0], inv[1:] = 1, pow(P, -1, 1 << 64)
    np.cumprod(pw, out=pw)
    np.cumprod(inv, out=inv)
    if size == _CACHED:
        _pow[:] = [pw, inv]
    return pw, inv


def window_hashes(data: bytes) -> np.ndarray[Any, Any]:
    """uint32 hashes of every 5-word window of ``data`` (words separated by runs of spaces), in order;
    one hash of all the words when there are fewer than five, none when there are none."""
    a = np.frombuffer(data, np.uint8)
    word = np.zeros(len(a) + 2, np.int8)
    word[1:-1] = a != 32
    edge = word[1:] - word[:-1]  # +1 where a word starts, -1 just after it ends
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    m = len(starts)
    if not m:
        return np.zeros(0, np.uint32)
    pw, inv = _powers(len(a))
    prefix = np.zeros(len(a) + 1, np.uint64)
    np.cumsum(a * pw[: len(a)], out=prefix[1:])
    words = (prefix[ends] - prefix[starts]) * inv[starts]
    n = max(m - SHINGLE + 1, 1)
    h = words[:n].copy()
    for k in range(1, min(SHINGLE, m)):
        h *= K
        h += words[k : k + n]
    h ^= h >> 33
    h *= _M1
    h ^= h >> 33
    h *= _M2
    h ^= h >> 33
    return (h >> 32).astype(np.uint32)


class Postings:
    """Hash -> the references holding it. ``table``: distinct uint32 hashes in any order; ``counts[i]``:
    how many references hold ``table[i]``; ``postings``: their indices, ``counts[i]`` of them for entry
    ``i``, entries in table order."""

    def __init__(self, table: np.ndarray[Any, Any], counts: np.ndarray[Any, Any], postings: np.ndarray[Any, Any],
                 n_refs: int) -> None:
        order = np.argsort(table)  # distinct keys: no ties, any sort is stable
        self.keys = table[order]
        offsets = np.zeros(len(table) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        # the narrowest types that hold them (~25 MB warm for the LicenseDB): widened per text, not here
        self.starts = offsets[:-1][order].astype(np.uint32)
        self.lens = counts[order]
        self.postings = postings
        self.n_refs = n_refs
        # bucket b holds keys[bucket[b] : bucket[b + 1]]: a lookup is one or two gathers, not a binary search
        self.bucket = np.zeros((1 << _BITS) + 1, np.uint32)
        np.cumsum(np.bincount(self.keys >> (32 - _BITS), minlength=1 << _BITS), out=self.bucket[1:])

    @classmethod
    def of_sets(cls, sets: list[frozenset[int]]) -> Postings:
        """The index of references given as sets of hashes (reference i = ``sets[i]``)."""
        hashes = np.concatenate([np.fromiter(s, np.uint32, len(s)) for s in sets] or [np.zeros(0, np.uint32)])
        refs = np.repeat(np.arange(len(sets), dtype=np.uint32), [len(s) for s in sets])
        order = np.lexsort((refs, hashes))
        table, counts = np.unique(hashes[order], return_counts=True)
        return cls(table, counts, refs[order], len(sets))

    def find(self, q: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Positions in ``keys`` of the hashes of ``q`` (uint32) that are there, in ``q``'s order."""
        b = (q >> (32 - _BITS)).astype(np.int64)
        lo, hi = self.bucket[b], self.bucket[b + 1]
        pos = np.full(len(q), -1, np.int64)
        todo = np.flatnonzero(lo < hi)
        keys = self.keys
        while len(todo):  # k-th key of every bucket still unresolved; buckets are short
            at = lo[todo]
            hit = keys[at] == q[todo]
            pos[todo[hit]] = at[hit]
            lo[todo] += 1
            todo = todo[~hit & (lo[todo] < hi[todo])]
        return pos[pos >= 0]

    def overlap(self, q: np.ndarray[Any, Any]) -> Overlap:
        """What a text with distinct hashes ``q`` shares with every reference."""
        pos = self.find(q)
        lens = self.lens[pos].astype(np.int64)
        ends = np.cumsum(lens)
        idx = np.repeat(self.starts[pos].astype(np.int64) - (ends - lens), lens)
        idx += np.arange(len(idx))
        refs = self.postings[idx]
        return Overlap(self.keys[pos], ends, refs, np.bincount(refs, minlength=self.n_refs))


class Overlap:
    """A text against an index: ``counts[r]`` = how many of the text's hashes reference ``r`` holds."""

    def __init__(self, hashes: np.ndarray[Any, Any], ends: np.ndarray[Any, Any], refs: np.ndarray[Any, Any],
                 counts: np.ndarray[Any, Any]) -> None:
        self.hashes, self.ends, self.refs, self.counts = hashes, ends, refs, counts

    def part(self, ref: int) -> frozenset[int]:
        """The text's hashes that reference ``ref`` holds."""
        at = np.flatnonzero(self.refs == ref)
        return frozenset(self.hashes[np.searchsorted(self.ends, at, side="right")].tolist())

    def contenders(self, need: np.ndarray[Any, Any], top: int) -> list[tuple[int, int]]:
        """(shared, reference) of the references sharing a hash that hold at least ``need[r]`` of them or
        are among the ``top`` sharing most (ties kept), in reference order."""
        c = self.counts
        shared = c[c > 0]
        if not len(shared):
            return []
        floor = np.partition(shared, len(shared) - top)[len(shared) - top] if len(shared) > top else shared.min()
        keep = np.flatnonzero((c >= floor) | ((c >= need) & (c > 0)))
        return list(zip(c[keep].tolist(), keep.tolist()))


def distinct(hashes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The distinct hashes, sorted (np.unique, without its hashing overhead: ten times faster here)."""
    s = np.sort(hashes)
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def from_bytes(code: str, blob: bytes) -> np.ndarray[Any, Any]:
    """A little-endian array of the fingerprint files (``code``: 'I' uint32, 'H' uint16)."""
    return np.frombuffer(blob, {"I": "<u4", "H": "<u2"}[code]).astype({"I": np.uint32, "H": np.uint16}[code])
