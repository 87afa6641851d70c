"""The ASGI application: `create_app()` wires settings, database, routers and error handling."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.routing import Route

from todo_api import __version__
from todo_api.agent import build_agent
from todo_api.api.deps import bearer_refusal
from todo_api.api.middleware import RequestContextMiddleware
from todo_api.api.routes import auth, chat, health, tasks
from todo_api.core.config import Settings, get_settings
from todo_api.core.logging import configure_logging
from todo_api.core.ratelimit import RateLimited, RateLimiter
from todo_api.core.security import HashingBusy, PasswordHashing, TokenVerifier
from todo_api.db import Database
from todo_api.mcp_server import McpApp
from todo_api.services.errors import ServiceError

log = logging.getLogger("todo_api")

DB_UNAVAILABLE = "Database unavailable, please retry shortly"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    settings = settings.with_auth_secret()
    db = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info(
            "starting todo-api",
            extra={
                "version": __version__,
                "env": settings.app_env,
                "database": db.dialect.name,
                "llm": settings.llm_provider,
            },
        )
        async with mcp_app.manager.run():  # the MCP transport's task group
            yield
        aclose = getattr(app.state.agent, "aclose", None)
        if aclose is not None:
            await aclose()
        await db.dispose()

    app = FastAPI(
        title="Todo Chatbot API",
        version=__version__,
        description="Tasks, an AI chat assistant that manages them, and an MCP server.",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry hooks look up three global providers on every request
        # (as much as the rest of /health, bench/findings.md); this app reports through Prometheus
        # (/metrics) and JSON logs, and ships no OpenTelemetry SDK to export to.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.limiter = RateLimiter()
    app.state.tokens = TokenVerifier(settings.auth_secret.get_secret_value())
    app.state.password_hashing = PasswordHashing(
        settings.password_hash_concurrency, settings.password_hash_wait_seconds
    )
    app.state.agent = build_agent(settings)
    mcp_app = McpApp(settings, db)

    # Routes are tried in order: the probes first (the cheapest requests, so the few us spent
    # trying routes ahead of them, such as /docs, are most of their cost), then the busiest.
    # Added flat: `include_router` nests each router, and FastAPI then walks the nesting on
    # every request (bench/findings.md).
    app.router.routes[:0] = health.router.routes
    for router in (tasks.router, chat.router, auth.router):
        app.router.routes.extend(router.routes)
    # MCP streamable HTTP (GET/POST/DELETE) at exactly /mcp, Bearer-authenticated.
    app.router.routes.append(Route("/mcp", endpoint=mcp_app))

    _install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        cors_options={
            "allow_origins": settings.allowed_origins,
            "allow_credentials": True,
            "allow_methods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            "allow_headers": ["Authorization", "Content-Type", "X-Request-ID"],
        },
    )
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(HashingBusy)
    async def hashing_busy(_: Request, exc: HashingBusy) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        refusal = await bearer_refusal(request)
        if refusal is not None:  # authentication answers before input
            return await service_error(request, refusal)
        # Drop the echoed input: it may hold a password, and it may not be JSON-serialisable.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    async def database_error(_: Request, exc: Exception) -> JSONResponse:
        # Input the validators let through but the database refuses is the client's problem;
        # everything else (connection refused, pool or statement timeout) is a short outage.
        # db.translate_error has sorted the driver's errors into these classes.
        if isinstance(exc, IntegrityError):
            return JSONResponse({"detail": "Conflicts with existing data"}, status_code=409)
        if isinstance(exc, DataError):
            return JSONResponse({"detail": "Value out of range"}, status_code=422)
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            {"detail": DB_UNAVAILABLE}, status_code=503, headers={"Retry-After": "2"}
        )

    for exc_type in (DBAPIError, OSError, TimeoutError):
        app.add_exception_handler(exc_type, database_error)


def create_served_app() -> FastAPI:
    """The app as `todo-api serve` runs it. Everything start-up built (modules, routes, models:
    ~150,000 objects) is moved out of the garbage collector's sight: a full collection walked
    them all, an ~80 ms pause for every request in flight (bench/findings.md)."""
    app = create_app()
    gc.freeze()
    return app
