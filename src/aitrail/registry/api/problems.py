"""RFC 9457 problem details for every error the API returns (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

TYPE_BASE = "https://aitrail.dev/problems/"  # a name space for problem types, never fetched
COOKIE = "aitrail_session"  # the UI's read token (HttpOnly, SameSite=Strict; set by POST /ui/login)


class LoginRequired(Exception):
    """A UI page needs a read token and the browser has none (or a revoked one): to the login form."""

    def __init__(self, next_path: str, clear: bool = False) -> None:
        super().__init__(next_path)
        self.next_path, self.clear = next_path, clear


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str = "", kind: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.kind, self.extra = status, title, detail, kind, extra


def problem(request: Request, status: int, title: str, detail: str, kind: str = "", **extra: Any) -> JSONResponse:
    body = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {"Retry-After": "5"} if status in (429, 503) else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem(request, exc.status, exc.title, exc.detail, exc.kind, **exc.extra)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import urlencode

        response = RedirectResponse("/ui/login?" + urlencode({"next": exc.next_path}), status_code=303)
        if exc.clear:
            response.delete_cookie(COOKIE, path="/")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(request, exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()][:20]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem(request, 422, "invalid request", detail, "invalid-request", errors=errors)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        # the database is unreachable or busy: retry later; pool_pre_ping reconnects once it is back
        return problem(request, 503, "database unavailable", type(exc.orig).__name__, "database-unavailable")

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return problem(request, 503, "database unavailable", "connection lost", "database-unavailable")
        return problem(request, 500, "database error", type(exc.orig).__name__, "database-error")
