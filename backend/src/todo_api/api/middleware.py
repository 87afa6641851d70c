"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): request id, access log, metrics,
a request-body size cap and CORS."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_api.core.logging import request_id_var
from todo_api.core.metrics import HTTP_METRICS, in_flight

log = logging.getLogger("todo_api.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNMATCHED = "<unmatched>"
_QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})  # probes and scrapes: no access log


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body outgrows the cap. An HTTPException, so that FastAPI's
    body parsing re-raises it (a plain exception became a 400 "error parsing the body")."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Request body too large")


class RequestContextMiddleware:
    """Request id, access log, metrics, the body size cap and CORS in one layer: each ASGI layer
    costs a call and a `send` wrapper per request.

    CORS: only browsers making cross-origin calls send Origin. Those requests go through
    Starlette's CORS middleware (`cors_options`); for the rest (probes, API clients, the
    frontend's server-side proxy) the whole CORS answer is `Vary: Origin`, added here without
    the header objects Starlette builds for every request.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, cors_options: dict[str, Any]) -> None:
        self.app = app
        self.cors_app = StarletteCORSMiddleware(app, **cors_options)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = declared = None
        chunked = cross_origin = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"origin":
                cross_origin = True
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else _new_id()
        token = request_id_var.set(request_id)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _send_json(send, 413, {"detail": "Request body too large"}, request_id)
            request_id_var.reset(token)
            return

        status = 500
        started = time.perf_counter()
        response_started = False
        extra_headers = [(b"x-request-id", request_id.encode())]
        if not cross_origin:
            extra_headers.append((b"vary", b"Origin"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        if chunked:  # a declared length is within the cap, and the server delivers no more
            receive = _capped(receive, self.max_body_bytes)
        in_flight[0] += 1
        try:
            await (self.cors_app if cross_origin else self.app)(scope, receive, send_wrapper)
        except BodyTooLarge:
            if not response_started:
                status = 413
                await _send_json(send, 413, {"detail": "Request body too large"}, request_id)
        finally:
            in_flight[0] -= 1
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            HTTP_METRICS.record(method, route, status, elapsed)
            if route not in _QUIET_ROUTES or status >= 400:
                log.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)


def _capped(receive: Receive, max_body_bytes: int) -> Receive:
    """`receive` that fails with 413 once a chunked body outgrows the cap."""
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_body_bytes:
                raise BodyTooLarge
        return message

    return capped_receive


# Request ids: unique (a random per-process prefix and a counter), not secret; cheaper than
# reading 16 random bytes from the kernel on every request.
_ID_PREFIX = os.urandom(6).hex()
_id_counter = itertools.count(1)


def _new_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):020x}"  # 32 hex digits, as uuid4().hex


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
