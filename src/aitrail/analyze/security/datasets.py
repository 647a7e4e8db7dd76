"""Dataset risks: URL lists and declared download locations (plain HTTP, raw IPs, expired
domains, no per-item digests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import FileReport

_URL = re.compile(rb"https?://[^\s,;\"'<>]+", re.I)
_AUTHORITY = re.compile(rb"https?://([^\s,;\"'<>/?#]*)", re.I)  # what decides the host: parsed once per value
# The first URL of each line (a CSV row's other columns are not download locations): its authority.
_FIRST = re.compile(rb"^[^\n]*?https?://([^\s,;\"'<>/?#]*)", re.M)  # run on the lower-cased block
_FIRST_AT = re.compile(rb"^[^\n]*?(https?://)", re.I | re.M)
_IP = re.compile(r"^\[?[0-9a-f:.]+\]?$", re.I)
URL_LIST_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".urls")
MAX_URL_LINES = 50_000_000
MAX_URL_BYTES = 1 << 30  # bytes of a URL list read (50 M lines of ~20 bytes)
MAX_HOSTS = 25_000  # distinct hosts checked (expired, IP, --online resolution): ~0.3 s of Python
MAX_RESOLVED = 1_000  # hosts looked up with --online (3 s timeout each)
BLOCK = 1 << 20


@dataclass
class DatasetPolicy:
    expired: frozenset[str] = frozenset()  # domains the user lists as expired or re-registered
    resolve: Any = None  # callable(host) -> bool (resolves?) for --online; None = offline


_SCHEME_AUTH = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)")


def _host(url: str) -> str:
    """The host of a URL, lower-cased ("" when there is none): what urlsplit().hostname gives, without
    its cost (a URL list holds millions)."""
    m = _SCHEME_AUTH.match(url)
    if not m:
        return ""
    auth = m.group(1).rpartition("@")[2]
    if auth.startswith("["):
        end = auth.find("]")
        return auth[1:end].lower() if end > 0 else ""
    return auth.partition(":")[0].lower()


def url_risks(rep: FileReport, urls: list[tuple[str, str]], policy: DatasetPolicy, http_count: int = 0) -> None:
    """Plain HTTP, raw IP hosts, expired (or, with --online, unresolvable) domains.

    ``http_count``: plain-HTTP URLs counted by the caller beyond those in ``urls``."""
    http = [u for u, _ in urls if u.lower().startswith("http://")]
    if http or http_count:
        rep.add(
            "medium",
            "dataset.plain-http",
            f"{max(http_count, len(http))} download URL(s) use plain HTTP (content can be swapped in transit), "
            f"e.g. {_show(http[0] if http else urls[0][0])}",
            next((w for u, w in urls if u.lower().startswith("http://")), urls[0][1]),
        )
    hosts: dict[str, str] = {}
    for u, where in urls:
        hosts.setdefault(_host(u), where)
    ips = [h for h in hosts if h and _IP.match(h) and any(c.isdigit() for c in h)]
    if ips:
        rep.add(
            "medium",
            "dataset.ip-host",
            f"{len(ips)} host(s) are raw IP addresses (no domain owner to check), e.g. {_show(ips[0])}",
            hosts[ips[0]],
        )
    expired = {d.lower().strip(".") for d in policy.expired}
    resolved = 0
    for h, where in sorted(hosts.items()):
        labels = h.split(".")
        if h and expired and any(".".join(labels[i:]) in expired for i in range(len(labels))):
            rep.add(
                "high",
                "dataset.expired-domain",
                f"URLs point at {_show(h)}, listed as expired: whoever buys the "
                "domain controls the training data (split-view poisoning)",
                where,
            )
        elif h and policy.resolve is not None and not _IP.match(h):
            resolved += 1
            if resolved > MAX_RESOLVED:
                continue
            if not policy.resolve(h):
                rep.add(
                    "high",
                    "dataset.unresolvable-domain",
                    f"{_show(h)} does not resolve: the domain may have expired and be for sale",
                    where,
                )
    if resolved > MAX_RESOLVED:
        rep.add(
            "medium",
            "dataset.limit-exceeded",
            f"{resolved} hosts to look up; the first {MAX_RESOLVED} were (the rest not checked online)",
        )


def _show(s: str) -> str:
    """A URL or host quoted in a message: bounded and printable."""
    s = s if len(s) <= 120 else s[:119] + "…"
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


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
    """A list of download URLs (one per line, as in LAION-style parquet exports turned to text/CSV):
    hosts, plain HTTP, digests. Read in blocks with C-level searches, within MAX_URL_BYTES and
    MAX_URL_LINES; one example URL per host is kept (at most MAX_HOSTS hosts). Only the first URL of
    each line counts (a CSV row's other columns are not download locations)."""
    lines = head.splitlines()[:20]
    if len(lines) < 2 or sum(1 for ln in lines if _URL.search(ln)) < len(lines) // 2:
        return
    header = lines[0].lower()
    has_digest = any(k in header for k in (b"sha256", b"sha1", b"md5", b"hash", b"digest", b"checksum"))
    urls: list[tuple[str, str]] = []
    authorities: set[bytes] = set()
    hosts_seen: set[str] = set()
    total = http = 0
    more_hosts = http_shown = False
    line_no = 1
    read = 0

    def record(block: bytes) -> None:
        """Keep one example URL (and its line) per new host, and the first plain-HTTP URL."""
        nonlocal more_hosts, http_shown
        pos, pos_line = 0, line_no  # line numbers counted lazily, forward only
        for m in _FIRST_AT.finditer(block):
            start = m.start(1)
            a = _AUTHORITY.match(block, start)
            auth = a.group(1).lower() if a else b""
            is_http = block[start + 4 : start + 5] == b":"
            want_http = is_http and not http_shown
            is_new = auth not in authorities
            if not is_new and not want_http:
                continue
            if is_new and len(authorities) >= MAX_HOSTS:
                more_hosts = True
                if not want_http:
                    continue
            elif is_new:
                authorities.add(auth)
            pos_line += block.count(b"\n", pos, start)
            pos = start
            u = _URL.match(block, start)
            url = (u.group(0) if u else b"")[:2000].decode("utf-8", "replace")
            h = _host(url)
            if want_http or h not in hosts_seen:  # one example per host is enough
                http_shown = http_shown or is_http
                if len(hosts_seen) < MAX_HOSTS:
                    hosts_seen.add(h)
                urls.append((url, f"{rep.path}:{pos_line}"))

    with open(path, "rb") as fh:
        carry = b""
        while True:
            data = fh.read(BLOCK)
            read += len(data)
            buf = carry + data
            if not data:
                block, carry = buf, b""
            else:
                cut = buf.rfind(b"\n")
                if cut < 0 and len(buf) < 4 * BLOCK:
                    carry = buf  # a line longer than a block: keep reading (up to four blocks)
                    continue
                cut = len(buf) - 1 if cut < 0 else cut
                block, carry = buf[: cut + 1], buf[cut + 1 :]
            # Counting and the set difference run in C; Python walks a block only when it holds a
            # host not seen before (or the first plain-HTTP URL).
            lowered = block.lower()
            auths = _FIRST.findall(lowered)
            total += len(auths)
            n_http = lowered.count(b"http://")
            http += n_http
            new = set(auths) - authorities
            if (new and len(authorities) < MAX_HOSTS) or (n_http and not http_shown):
                record(block)
            elif new:
                more_hosts = True
            line_no += block.count(b"\n")
            if not data:
                break
            if line_no > MAX_URL_LINES or read >= MAX_URL_BYTES:
                rep.add(
                    "medium",
                    "dataset.url-list-truncated",
                    f"more than {min(line_no - 1, MAX_URL_LINES)} lines or {MAX_URL_BYTES} bytes: the rest unread",
                )
                break
    rep.add("info", "dataset.url-list", f"URL list of {total} items across {len(hosts_seen)} hosts")
    if more_hosts:
        rep.add(
            "medium",
            "dataset.limit-exceeded",
            f"more than {MAX_HOSTS} distinct hosts: the first {MAX_HOSTS} were checked, the rest not",
        )
    if not has_digest:
        rep.add(
            "medium",
            "dataset.url-list-without-digests",
            f"{total} URLs and no per-item digest column: "
            "what is downloaded cannot be checked against what was audited",
        )
    if urls:
        url_risks(rep, urls, policy, http)
