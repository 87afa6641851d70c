"""MAX_TASKS_PER_USER: one account cannot grow the database without limit. Adding past the cap is
a 409 on REST and a failed tool call (with the same sentence) in the chat and over MCP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from testsupport.app import UserCtx, make_settings
from todo_api.agent.tools import ToolBox
from todo_api.core.config import Settings
from todo_api.main import create_app

CAP = 3
PASSWORD = "correct horse battery"


@pytest.fixture
async def capped_app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, max_tasks_per_user=CAP))
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def capped(capped_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=capped_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _user(client: httpx.AsyncClient) -> UserCtx:
    email = f"cap-{uuid.uuid4().hex[:8]}@example.com"
    resp = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return UserCtx(email, PASSWORD, body["access_token"], body["user"]["id"])


async def _titles(client: httpx.AsyncClient, user: UserCtx) -> list[str]:
    page = (await client.get("/api/tasks", headers=user.headers)).json()
    return sorted(t["title"] for t in page["items"])


def test_the_default_cap_is_in_the_thousands() -> None:
    assert Settings.model_fields["max_tasks_per_user"].default == 5000


async def test_rest_refuses_tasks_past_the_cap_with_409(capped: httpx.AsyncClient) -> None:
    user, other = await _user(capped), await _user(capped)
    ids = []
    for i in range(CAP):
        resp = await capped.post("/api/tasks", json={"title": f"t{i}"}, headers=user.headers)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    over = await capped.post("/api/tasks", json={"title": "one too many"}, headers=user.headers)
    assert over.status_code == 409, over.text
    assert f"limit of {CAP} tasks" in over.json()["detail"]
    assert await _titles(capped, user) == ["t0", "t1", "t2"]
    # The cap is per account, and deleting makes room again.
    assert (
        await capped.post("/api/tasks", json={"title": "mine"}, headers=other.headers)
    ).status_code == 201
    assert (await capped.delete(f"/api/tasks/{ids[0]}", headers=user.headers)).status_code == 204
    again = await capped.post("/api/tasks", json={"title": "fits now"}, headers=user.headers)
    assert again.status_code == 201, again.text


async def test_chat_and_mcp_tools_report_the_cap(
    capped: httpx.AsyncClient, capped_app: FastAPI
) -> None:
    user = await _user(capped)
    for i in range(CAP):
        await capped.post("/api/tasks", json={"title": f"t{i}"}, headers=user.headers)
    # The tool layer the chat and MCP share.
    db = capped_app.state.db.connection()
    async with db.transaction():
        box = ToolBox(db, user.id, date.today(), max_tasks=CAP)
        result = await box.call("add_task", {"title": "via a tool"})
    assert not result.ok and f"limit of {CAP} tasks" in result.message, result
    # The chat endpoint (offline local agent): a readable reply, not an error page.
    chat = await capped.post(
        "/api/chat", json={"message": "add a task called via chat"}, headers=user.headers
    )
    assert chat.status_code < 500, chat.text
    assert "limit" in chat.text
    assert await _titles(capped, user) == ["t0", "t1", "t2"]


async def test_restoring_past_the_cap_is_409_and_restores_nothing(
    capped: httpx.AsyncClient,
) -> None:
    user = await _user(capped)
    ids = [
        (await capped.post("/api/tasks", json={"title": f"t{i}"}, headers=user.headers)).json()[
            "id"
        ]
        for i in range(CAP)
    ]
    for task_id in ids[:2]:
        await capped.delete(f"/api/tasks/{task_id}", headers=user.headers)
    await capped.post("/api/tasks", json={"title": "new"}, headers=user.headers)  # CAP - 1 now
    resp = await capped.post("/api/tasks/restore", json={"ids": ids[:2]}, headers=user.headers)
    assert resp.status_code == 409, resp.text
    assert "limit of 3 tasks" in resp.json()["detail"]
    assert await _titles(capped, user) == ["new", "t2"]
    single = await capped.post(f"/api/tasks/{ids[0]}/restore", headers=user.headers)
    assert single.status_code == 201, single.text
    assert await _titles(capped, user) == ["new", "t0", "t2"]
