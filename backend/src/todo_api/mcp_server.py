"""The MCP server: the chat's tool layer over MCP streamable HTTP at /mcp, for any MCP client.

Built on the official `mcp` SDK's low-level `Server` and `StreamableHTTPSessionManager` in stateless
JSON mode: no session lives in one replica's memory, so any replica answers any request. Each HTTP
request must carry the same Bearer JWT as the REST API (checked with `authenticate_token`); the
tools then act on that user's tasks only.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Receive, Scope, Send

from todo_api import __version__
from todo_api.agent.tools import TOOL_NAMES, TOOL_SPECS, ToolBox
from todo_api.api.deps import authenticate_token
from todo_api.core.config import Settings
from todo_api.core.security import TokenVerifier
from todo_api.db import Database
from todo_api.services.errors import ServiceError, Unauthorized

USER_SCOPE_KEY = "todo_api.user_id"
TOOL_DATABASE_ERROR = "The task database could not complete this call; please retry shortly."

log = logging.getLogger("todo_api")


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _tools() -> list[types.Tool]:
    return [
        types.Tool(
            name=spec["name"], description=spec["description"], input_schema=spec["parameters"]
        )
        for spec in TOOL_SPECS
    ]


def create_mcp_server(database: Database, max_tasks: int) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=_tools())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        request = ctx.request
        user_id = request.scope.get(USER_SCOPE_KEY) if request is not None else None
        if not isinstance(user_id, int):  # only reachable if mounted without McpApp
            return _tool_error("Not authenticated")
        try:
            db = database.connection()
            async with db.transaction():  # one tool call, one unit of work
                moment = datetime.now(UTC)
                box = ToolBox(db, user_id, moment.date(), max_tasks=max_tasks, now=moment.time())
                result = await box.call(params.name, dict(params.arguments or {}))
        except ServiceError as exc:  # e.g. the account was deleted during the call
            return _tool_error(exc.detail)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            # The SDK would send str(exc): the SQL, its parameters (the caller's user id among
            # them) and the driver's message. Log the kind, answer a generic error.
            log.warning("mcp tool %s: database error %s", params.name, type(exc).__name__)
            return _tool_error(TOOL_DATABASE_ERROR)
        payload = {"ok": result.ok, "message": result.message, **result.data}
        return types.CallToolResult(
            content=[types.TextContent(text=result.message)],
            structured_content=json.loads(json.dumps(payload, default=str)),
            is_error=not result.ok,
        )

    return Server(
        "todo-chatbot",
        version=__version__,
        instructions=(
            "Manage the authenticated user's to-do list. Tools: "
            + ", ".join(sorted(TOOL_NAMES))
            + ". Refer to tasks by id or by words of their title."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


class McpApp:
    """ASGI endpoint for /mcp: Bearer authentication, then the SDK's streamable HTTP transport."""

    path = "/mcp"  # also the route template in access logs and metrics

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.tokens = TokenVerifier(settings.auth_secret.get_secret_value())
        self.database = database
        self.server = create_mcp_server(database, settings.max_tasks_per_user)
        self.manager = StreamableHTTPSessionManager(
            app=self.server, stateless=True, json_response=True
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        scope["route"] = self  # read by the access-log/metrics middleware (has `.path`)
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _unauthorized(send, "Not authenticated")
            return
        try:
            db = self.database.connection()  # the REST API's one check
            user_id = await authenticate_token(db, self.tokens, token.strip())
        except Unauthorized as exc:
            await _unauthorized(send, exc.detail)
            return
        await self.manager.handle_request({**scope, USER_SCOPE_KEY: user_id}, receive, send)


async def _unauthorized(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
