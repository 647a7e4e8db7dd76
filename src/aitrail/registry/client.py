"""Talking to a registry over HTTP with the standard library (``aitrail push``, the resolver): no
redirects followed (to any host), bounded responses, errors named with the URL."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

MAX_RESPONSE = 64 * 1024 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are never followed: urllib would copy the Authorization header to the new location
    (another host included) and turn a POST into a GET, reporting success for an upload never made."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


NO_REDIRECTS = urllib.request.build_opener(_NoRedirect)  # also for the operator's webhooks


class RegistryError(Exception):
    """The registry could not be reached or refused the request: the message says which and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def request(
    base: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    params: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Any:
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise RegistryError(f"{base}: not an http(s) URL")
    data = json.dumps(body, ensure_ascii=False, default=str).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with NO_REDIRECTS.open(req, timeout=timeout) as resp:  # scheme checked above; redirects refused
            raw = resp.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as e:
        detail = ""
        try:
            problem = json.loads(e.read(65536))
            detail = f": {problem.get('title', '')}: {problem.get('detail', '')}"
        except (ValueError, OSError):
            pass
        if 300 <= e.code < 400:
            where = e.headers.get("Location") if e.headers else None
            detail = f" (redirect to {where or 'an unnamed location'} not followed: use the registry's own URL)"
        raise RegistryError(f"{url}: HTTP {e.code}{detail}", e.code) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise RegistryError(f"{url}: {reason}") from None
    if len(raw) > MAX_RESPONSE:
        raise RegistryError(f"{url}: response larger than {MAX_RESPONSE} bytes")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise RegistryError(f"{url}: not JSON: {e}") from None
