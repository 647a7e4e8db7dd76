"""Dataset risks: URL lists and declared download locations (plain HTTP, raw IPs, expired
domains, no per-item digests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import FileReport

_URL = re.compile(rb"https?://[^\s,;\"'<>]+", re.I)
_IP = re.compile(r"^\[?[0-9a-f:.]+\]?$", re.I)
URL_LIST_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".urls")
MAX_URL_LINES = 50_000_000


@dataclass
class DatasetPolicy:
    expired: frozenset[str] = frozenset()  # domains the user lists as expired or re-registered
    resolve: Any = None  # callable(host) -> bool (resolves?) for --online; None = offline


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def url_risks(rep: FileReport, urls: list[tuple[str, str]], policy: DatasetPolicy) -> None:
    """Plain HTTP, raw IP hosts, expired (or, with --online, unresolvable) domains."""
    http = [u for u, _ in urls if u.lower().startswith("http://")]
    if http:
        rep.add(
            "medium",
            "dataset.plain-http",
            f"{len(http)} download URL(s) use plain HTTP (content can be swapped in transit), e.g. {http[0][:120]}",
            urls[0][1],
        )
    hosts: dict[str, str] = {}
    for u, where in urls:
        hosts.setdefault(_host(u), where)
    ips = [h for h in hosts if h and _IP.match(h) and any(c.isdigit() for c in h)]
    if ips:
        rep.add(
            "medium",
            "dataset.ip-host",
            f"{len(ips)} host(s) are raw IP addresses (no domain owner to check), e.g. {ips[0]}",
            hosts[ips[0]],
        )
    for h, where in sorted(hosts.items()):
        if h and any(h == d or h.endswith("." + d) for d in policy.expired):
            rep.add(
                "high",
                "dataset.expired-domain",
                f"URLs point at {h}, listed as expired: whoever buys the "
                "domain controls the training data (split-view poisoning)",
                where,
            )
        elif h and policy.resolve is not None and not _IP.match(h) and not policy.resolve(h):
            rep.add(
                "high",
                "dataset.unresolvable-domain",
                f"{h} does not resolve: the domain may have expired and be for sale",
                where,
            )


def dns_resolves(host: str, timeout: float = 3.0) -> bool:
    """--online only: does the host still resolve? (Results are cached per process.)"""
    import socket

    if host in _DNS:
        return _DNS[host]
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        socket.getaddrinfo(host, 443)
        ok = True
    except OSError:
        ok = False
    finally:
        socket.setdefaulttimeout(old)
    _DNS[host] = ok
    return ok


_DNS: dict[str, bool] = {}


def url_list(rep: FileReport, path: Path, head: bytes, policy: DatasetPolicy) -> None:
    lines = head.splitlines()[:20]
    if len(lines) < 2 or sum(1 for ln in lines if _URL.search(ln)) < len(lines) // 2:
        return
    header = lines[0].lower()
    has_digest = any(k in header for k in (b"sha256", b"sha1", b"md5", b"hash", b"digest", b"checksum"))
    urls: list[tuple[str, str]] = []
    hosts_seen: set[str] = set()
    total = 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if n > MAX_URL_LINES:
                rep.add("low", "dataset.url-list-truncated", f"more than {MAX_URL_LINES} lines: the rest unread")
                break
            m = _URL.search(line)
            if not m:
                continue
            total += 1
            u = m.group(0).decode("utf-8", "replace")
            h = _host(u)
            if u.lower().startswith("http://") or h not in hosts_seen:  # one example per host is enough
                hosts_seen.add(h)
                urls.append((u, f"{rep.path}:{n}"))
    rep.add("info", "dataset.url-list", f"URL list of {total} items across {len(hosts_seen)} hosts")
    if not has_digest:
        rep.add(
            "medium",
            "dataset.url-list-without-digests",
            f"{total} URLs and no per-item digest column: "
            "what is downloaded cannot be checked against what was audited",
        )
    url_risks(rep, urls, policy)
