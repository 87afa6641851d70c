"""The MCP server at /mcp through the official `mcp` client, against the app served by uvicorn.

The backend runs for real (uvicorn on 127.0.0.1, lifespan on, so the SDK's session manager runs);
the client speaks streamable HTTP with a Bearer token, in both the modern (discover) and the
legacy (initialize handshake) protocol eras. Wrong or missing tokens are refused, and one user's
token never reaches another user's tasks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from sqlalchemy.exc import DBAPIError

from testsupport.app import insert_user, make_settings
from testsupport.tools import free_port
from todo_api.agent import tools as agent_tools
from todo_api.core.security import create_access_token
from todo_api.main import create_app
from todo_api.mcp_server import TOOL_DATABASE_ERROR
from todo_api.schemas import TaskCreate
from todo_api.services import tasks as task_service

TOOLS = {
    "add_task",
    "list_tasks",
    "complete_task",
    "reopen_task",
    "delete_task",
    "update_task",
    "clear_completed",
    "count_tasks",
}


@dataclass
class Served:
    base: str
    http: httpx.AsyncClient
    app: FastAPI

    async def token(self) -> str:
        """A new user and its token (inserted directly: argon2 sign-ups would dominate the run)."""
        user_id = await insert_user(self.app.state.db, f"mcp-{uuid.uuid4().hex[:10]}@example.com")
        settings = self.app.state.settings
        return create_access_token(
            user_id, settings.auth_secret.get_secret_value(), settings.access_token_expire_minutes
        )


@pytest.fixture(scope="module")
async def served(database_url: str) -> AsyncIterator[Served]:
    app = create_app(make_settings(database_url))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield Served(base, http, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def mcp_client(
    served: Served, token: str | None, mode: str = "auto"
) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
        transport = streamable_http_client(f"{served.base}/mcp", http_client=http)
        async with Client(transport, mode=mode, read_timeout_seconds=10) as client:  # type: ignore[arg-type]
            yield client


def structured(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.structured_content
    return data


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_list_and_call_every_tool(served: Served, mode: str) -> None:
    token = await served.token()
    async with mcp_client(served, token, mode) as client:
        listed = await client.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        add_schema = next(t for t in listed.tools if t.name == "add_task").input_schema
        assert add_schema["required"] == ["title"]
        # What MCP clients read is the schema generated from the tool's argument model.
        assert {t.name: (t.description, t.input_schema) for t in listed.tools} == {
            tool.name: (tool.description, agent_tools.tool_parameters(tool.args))
            for tool in agent_tools.TOOLS
        }

        added = await client.call_tool(
            "add_task",
            {
                "title": "buy milk",
                "priority": "high",
                "due_date": "2030-05-01",
                "due_time": "09:30",
            },
        )
        assert not added.is_error and "buy milk" in added.content[0].text
        assert "Wed 1 May 2030, 09:30" in added.content[0].text  # the board's form, not ISO
        milk = structured(added)["task"]
        assert (milk["priority"], milk["due_date"], milk["due_time"]) == (
            "high",
            "2030-05-01",
            "09:30",
        )
        await client.call_tool("add_task", {"title": "call mom"})

        listing = structured(await client.call_tool("list_tasks", {"status": "pending"}))
        assert sorted(t["title"] for t in listing["tasks"]) == ["buy milk", "call mom"]

        done = await client.call_tool("complete_task", {"task": "the milk one"})
        assert not done.is_error and structured(done)["task"]["completed"] is True
        reopened = await client.call_tool("reopen_task", {"task": str(milk["id"])})
        assert structured(reopened)["task"]["completed"] is False

        updated = await client.call_tool(
            "update_task",
            {"task": "milk", "title": "buy oat milk", "priority": "low", "due_date": "none"},
        )
        task = structured(updated)["task"]
        assert (task["title"], task["priority"], task["due_date"]) == ("buy oat milk", "low", None)
        assert task["due_time"] is None  # the date went, and its time with it

        await client.call_tool("complete_task", {"task": "call mom"})
        counts = structured(await client.call_tool("count_tasks", {}))
        assert (counts["pending"], counts["completed"]) == (1, 1)
        cleared = structured(await client.call_tool("clear_completed", {}))
        assert cleared["count"] == 1

        deleted = await client.call_tool("delete_task", {"task": milk["id"]})
        assert not deleted.is_error
        assert structured(await client.call_tool("list_tasks", {}))["count"] == 0


async def test_tool_errors_are_reported_not_raised(served: Served) -> None:
    token = await served.token()
    async with mcp_client(served, token) as client:
        await client.call_tool("add_task", {"title": "buy milk"})
        await client.call_tool("add_task", {"title": "buy bread"})
        ambiguous = await client.call_tool("complete_task", {"task": "buy"})
        assert ambiguous.is_error
        assert "buy milk" in ambiguous.content[0].text and "buy bread" in ambiguous.content[0].text
        missing = await client.call_tool("delete_task", {"task": "dentist"})
        assert missing.is_error and structured(missing)["error"] == "not_found"
        try:
            unknown = await client.call_tool("launch_rockets", {})
        except MCPError:
            pass  # the SDK may refuse a tool it never listed before calling
        else:
            assert unknown.is_error


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_wrong_or_missing_token_is_401(served: Served, header: str | None) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if header is not None:
        headers["Authorization"] = header
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    resp = await served.http.post("/mcp", json=body, headers=headers)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_official_client_is_refused_without_valid_token(served: Served) -> None:
    for token in (None, "forged.token.value"):
        with pytest.raises(Exception) as info:
            async with mcp_client(served, token) as client:
                await client.list_tools()
        # The SDK reports the refused HTTP request as an MCPError (inside its task groups).
        assert "MCPError" in _flatten(info.value), _flatten(info.value)


def _flatten(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for inner in getattr(exc, "exceptions", ()):
        parts.append(_flatten(inner))
    if exc.__cause__ is not None:
        parts.append(_flatten(exc.__cause__))
    return " | ".join(parts)


async def test_deleted_user_token_is_refused(served: Served) -> None:
    token = await served.token()
    resp = await served.http.delete("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 204
    newcomer = await served.token()  # signs up after the deletion, with a task of their own
    async with mcp_client(served, newcomer) as client:
        assert not (await client.call_tool("add_task", {"title": "newcomer's"})).is_error
    raw = await served.http.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert raw.status_code == 401


async def test_isolation_between_users(served: Served) -> None:
    alice, bob = await served.token(), await served.token()
    async with mcp_client(served, alice) as client:
        secret = structured(await client.call_tool("add_task", {"title": "secret plan"}))["task"]
    async with mcp_client(served, bob) as client:
        assert structured(await client.call_tool("list_tasks", {}))["count"] == 0
        for tool, args in (
            ("complete_task", {"task": str(secret["id"])}),
            ("delete_task", {"task": "secret plan"}),
            ("update_task", {"task": str(secret["id"]), "title": "hacked"}),
        ):
            result = await client.call_tool(tool, args)
            assert result.is_error, (tool, result)
    resp = await served.http.get(
        f"/api/tasks/{secret['id']}", headers={"Authorization": f"Bearer {alice}"}
    )
    assert resp.json()["title"] == "secret plan" and resp.json()["completed"] is False


async def test_mcp_requests_have_their_own_metrics_label(served: Served) -> None:
    await served.http.post("/mcp", json={})
    metrics = await served.http.get("/metrics")
    assert 'route="/mcp"' in metrics.text


@pytest.mark.parametrize("tool", ["delete_task", "complete_task", "reopen_task", "update_task"])
async def test_out_of_range_task_ids_are_tool_errors_not_sql(served: Served, tool: str) -> None:
    """Numbers no id column holds (on PostgreSQL a driver error with the SQL and the caller's
    user id in it) are refused as arguments, or name no task; nothing else comes back."""
    token = await served.token()
    extra = {"title": "renamed"} if tool == "update_task" else {}
    async with mcp_client(served, token) as client:
        await client.call_tool("add_task", {"title": "keep me"})
        for ref in (0, -1, 2**31, 2**63, 10**30):
            result = await client.call_tool(tool, {"task": ref, **extra})
            text = result.content[0].text
            assert result.is_error and structured(result)["error"] == "invalid_arguments", text
            assert "2147483647" in text and "SELECT" not in text.upper()
        for ref in ("2147483648", "#9999999999", "task 99999999999", "#\u0661\u0662"):
            result = await client.call_tool(tool, {"task": ref, **extra})
            assert result.is_error and structured(result)["error"] == "not_found", ref
        assert structured(await client.call_tool("count_tasks", {}))["pending"] == 1


async def test_database_errors_are_a_generic_tool_error(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await served.token()

    async def failing_create(*_: Any, **__: Any) -> Any:
        raise DBAPIError(
            "INSERT INTO tasks (user_id, title) VALUES ($1, $2)",
            {"user_id": 424242, "title": "secret title"},
            Exception("driver: value out of range for type integer"),
        )

    monkeypatch.setattr(task_service, "create_task", failing_create)
    async with mcp_client(served, token) as client:
        result = await client.call_tool("add_task", {"title": "secret title"})
    text = result.content[0].text
    assert result.is_error and text == TOOL_DATABASE_ERROR
    for leak in ("INSERT", "424242", "secret title", "driver", "integer"):
        assert leak not in text


async def test_refused_text_is_a_one_line_argument_error(served: Served) -> None:
    """Titles and descriptions follow the REST rules (schemas.Title/Description) at the tool's
    argument check: a refusal is one line naming the field and the character, not a pydantic
    report of the task model, and the tool schema states the lengths."""
    token = await served.token()
    async with mcp_client(served, token) as client:
        listed = (await client.list_tools()).tools
        specs = {tool.name: tool.input_schema["properties"] for tool in listed}
        rest = TaskCreate.model_json_schema()["properties"]
        for tool in ("add_task", "update_task"):
            for field in ("title", "description"):
                for limit in ("minLength", "maxLength"):
                    assert specs[tool][field].get(limit) == rest[field].get(limit), (tool, field)
        await client.call_tool("add_task", {"title": "keep me"})
        refused = [
            ("add_task", {"title": "buy\nmilk"}, "title", "a line break (U+000A)"),
            ("add_task", {"title": "pay \u202erent"}, "title", "bidirectional override"),
            ("add_task", {"title": "x", "description": "bell\x07"}, "description", "U+0007"),
            ("add_task", {"title": "x" * 201}, "title", "at most 200 characters"),
            ("update_task", {"task": "keep", "title": "a\u200bb"}, "title", "zero-width space"),
            ("update_task", {"task": "keep", "description": "\x1b[2J"}, "description", "U+001B"),
        ]
        for tool, arguments, field, reason in refused:
            result = await client.call_tool(tool, arguments)
            text = result.content[0].text
            assert result.is_error and structured(result)["error"] == "invalid_arguments", text
            assert "\n" not in text and text.startswith(f"Invalid arguments for {tool}: {field}: ")
            assert reason in text, text
        kept = await client.call_tool("update_task", {"task": "keep", "description": "a\r\n\tb"})
        assert not kept.is_error
        assert structured(kept)["task"]["description"] == "a\n\tb"
        assert structured(await client.call_tool("count_tasks", {}))["pending"] == 1
