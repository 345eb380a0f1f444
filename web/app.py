"""The web application: ``create_app(settings)`` builds it (nothing is built at import time)."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from config.settings import Settings
from lifecycle.clock import Clock, SystemClock
from lifecycle.db import current_revision, make_engine, make_session_factory, upgrade_database
from web import problems
from web.auth import CsrfCookieMiddleware

log = structlog.get_logger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _session_factory(settings: Settings):
    url = settings.db_url
    if settings.is_embedded and current_revision(url) is None:
        upgrade_database(url)  # the embedded default makes its own schema on first use, as the CLI does
    return make_session_factory(make_engine(url), reminder_days=settings.deadline_reminder_days)


class RequestLog:
    """One structlog event per request: method, path, status and duration."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def record(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            log.info("http_request", method=scope["method"], path=scope["path"], status=status["code"],
                     ms=round((time.perf_counter() - started) * 1000, 1))


def create_app(settings: Settings, *, session_factory=None, clock: Clock | None = None) -> FastAPI:
    """The API under ``/api``, the login forms, ``/metrics``, the HTML pages and ``/static``."""
    own_factory = session_factory is None
    factory = session_factory if session_factory is not None else _session_factory(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if own_factory:
            factory.kw["bind"].dispose()

    app = FastAPI(
        title="OGP Local lifecycle service",
        summary="Members and commitments as audited state machines; refusals name the rule (RULEBOOK.md).",
        version="1.0",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = factory
    app.state.clock = clock or SystemClock()
    problems.install(app)
    app.add_middleware(CsrfCookieMiddleware, secure=settings.environment == "production")
    app.add_middleware(RequestLog)

    from web import auth_routes, metrics
    from web.api import router as api_router
    from web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(auth_routes.router)
    app.include_router(metrics.router)
    app.include_router(pages_router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes,
                                 description="Every refusal is an RFC 9457 problem (application/problem+json) "
                                             "naming the rule and the field. Authenticate with "
                                             "`Authorization: Bearer <token>` (see `ogp-lifecycle account token "
                                             "create`) or the `ogp_session` cookie of `POST /api/session`.")
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "ogp_session"},
            }
            app.openapi_schema = problems.document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
