"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): request id, access log, metrics,
a request-body size cap, and closing the request's database sessions."""

from __future__ import annotations

import logging
import os
import re
import time
from functools import lru_cache
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_api.core.logging import request_id_var
from todo_api.core.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("todo_api.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNMATCHED = "<unmatched>"
# scope["state"] key: the sessions api/deps.py opened for this request, closed after the response.
REQUEST_SESSIONS = "todo_api.db_sessions"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body outgrows the cap. An HTTPException, so that FastAPI's
    body parsing re-raises it (a plain exception became a 400 "error parsing the body")."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Request body too large")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()
        response_started = False

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _send_json(send, 413, {"detail": "Request body too large"}, request_id)
            request_id_var.reset(token)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        # Shared by every copy of the scope further down, so sessions opened there are seen here.
        state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
                # The route has produced its response: give its connections back to the pool
                # before the bytes go out (the routes do not stream from the database).
                await _close_sessions(state)
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, limited_receive, send_wrapper)
        except BodyTooLarge:
            if not response_started:
                status = 413
                await _send_json(send, 413, {"detail": "Request body too large"}, request_id)
        finally:
            await _close_sessions(state)  # when no response started (an error escaped)
            HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            requests, latency = _series(method, route, status)
            requests.inc()
            latency.observe(elapsed)
            if route not in {"/health", "/ready", "/metrics"} or status >= 400:
                log.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)


@lru_cache(maxsize=1024)  # route templates and statuses are few; `labels()` costs a lookup+lock
def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    return HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route)


async def _close_sessions(state: dict[str, Any]) -> None:
    """Roll back what the route left uncommitted and return its connections to the pool."""
    for session in state.pop(REQUEST_SESSIONS, ()):
        try:
            await session.close()
        except Exception:  # the response is decided; a broken connection is the pool's to discard
            log.warning("closing a database session failed", exc_info=True)


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS middleware, skipped for requests without an Origin header.

    Only browsers making cross-origin calls send Origin; probes, API clients and the frontend's
    server-side proxy do not, and for them the whole CORS answer is `Vary: Origin` (the response
    would differ for a request that had one). Starlette builds header objects for every request
    to work that out: a third of a /health request's CPU.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"vary", b"Origin")]
            await send(message)

        await self.app(scope, receive, send_vary)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else _UNMATCHED


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
