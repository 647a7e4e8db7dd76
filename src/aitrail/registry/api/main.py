"""The registry's ASGI app: ``create_app(Settings(...))`` (``aitrail serve`` runs it under uvicorn)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aitrail import __version__

from ..core.config import Settings, knowledge_version
from ..core.db import Database
from . import problems
from .deps import State
from .routes import ingest, manage, models, tea, ui


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Serving starts: everything built so far (app, SQLAlchemy, policies: ~100 k objects) moves out of the
    cyclic collector's sight. A full collection walked them all (135 ms measured on a loaded machine),
    rarely, but with every waiting request delayed by it."""
    gc.freeze()
    yield


def create_app(settings: Settings | None = None, db: Database | None = None, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()
    db = db or Database(settings.db_url)
    if migrate:
        db.migrate()
    from aitrail import policy as policy_mod

    policy = policy_mod.load(settings.policy_path) if settings.policy_path else None
    env_policies = {env: policy_mod.load(path) for env, path in settings.env_policies}
    app = FastAPI(
        title="aitrail registry",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.registry = State(settings=settings, db=db, policy=policy, env_policies=env_policies)
    problems.install(app)
    for routes in (ingest, models, manage):
        app.include_router(routes.router)
    app.include_router(tea.router, prefix="/tea/v1")
    app.include_router(tea.router, prefix=f"/tea/v{tea.TEA_VERSION}", include_in_schema=False)
    app.include_router(tea.well_known)
    app.include_router(ui.router)

    @app.get("/api/v1/health", tags=["meta"])
    def health(request: Request) -> Any:
        from sqlalchemy import text

        try:
            with db.read() as s:
                s.execute(text("SELECT 1"))
        except Exception as e:  # noqa: BLE001 - any failure to reach the database is "unavailable"
            return JSONResponse({"status": "unavailable", "detail": type(e).__name__}, status_code=503)
        return {"status": "ok", "version": __version__, "knowledge_version": knowledge_version()}

    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds nosniff and no-referrer to every response that does not set them. Plain ASGI: Starlette's
    ``@app.middleware("http")`` runs each request through extra tasks and streams (most of a short
    query's cost)."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _v in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


SETTINGS_ENV = "AITRAIL_REGISTRY_SETTINGS"


def from_env() -> FastAPI:
    """The app of one worker process (``aitrail serve --workers N``): settings from the environment,
    schema already migrated by the parent (workers must not race to migrate)."""
    import json
    import os

    raw = json.loads(os.environ[SETTINGS_ENV])
    raw["env_policies"] = tuple(tuple(x) for x in raw.get("env_policies", ()))
    raw["webhooks"] = tuple(raw.get("webhooks", ()))
    return create_app(Settings(**raw), migrate=False)
