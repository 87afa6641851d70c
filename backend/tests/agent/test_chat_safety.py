"""Safety of the chat: sweeping changes wait for a yes, undo restores everything, the tool layer
guards LLM and MCP callers too. (Most behaviour is in chat-cases.safety.jsonl; these are the
cases a one-message-per-turn corpus cannot express.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from testsupport.app import UserCtx
from todo_api.agent import safety
from todo_api.agent.tools import ToolBox

FIVE = ["buy milk", "call the bank", "water the plants", "book dentist", "renew passport"]


async def say(
    client: httpx.AsyncClient, user: UserCtx, message: str, conversation_id: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "conversation_id": conversation_id}
    resp = await client.post("/api/chat", json=body, headers=user.headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def add(client: httpx.AsyncClient, user: UserCtx, **task: Any) -> dict[str, Any]:
    resp = await client.post("/api/tasks", json=task, headers=user.headers)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def tasks(client: httpx.AsyncClient, user: UserCtx) -> list[dict[str, Any]]:
    resp = await client.get("/api/tasks", params={"limit": 200}, headers=user.headers)
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_the_question_is_not_a_public_action(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    for title in FIVE:
        await add(client, user, title=title)
    asked = await say(client, user, "delete all my tasks")
    assert asked["actions"] == []  # nothing was done, and the API shows no tool call
    cid = asked["conversation_id"]
    messages = (await client.get(f"/api/conversations/{cid}/messages", headers=user.headers)).json()
    assert messages[1]["actions"] == []
    assert len(await tasks(client, user)) == 5


async def test_confirmation_skips_a_task_changed_since_the_question(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    ids = [(await add(client, user, title=title))["id"] for title in FIVE]
    asked = await say(client, user, "delete everything")
    patched = await client.patch(
        f"/api/tasks/{ids[0]}", json={"title": "buy milk and bread"}, headers=user.headers
    )
    assert patched.status_code == 200, patched.text
    added_meanwhile = await add(client, user, title="new errand")
    done = await say(client, user, "yes", asked["conversation_id"])
    left = {t["title"] for t in await tasks(client, user)}
    assert left == {"buy milk and bread", "new errand"}, done["reply"]
    assert "changed since" in done["reply"]
    assert added_meanwhile["id"] in {t["id"] for t in await tasks(client, user)}


async def test_an_expired_question_is_not_carried_out(
    client: httpx.AsyncClient, user: UserCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    for title in FIVE:
        await add(client, user, title=title)
    asked = await say(client, user, "delete all my tasks")
    later = datetime.now(UTC) + safety.PENDING_TTL + timedelta(seconds=1)
    monkeypatch.setattr(safety, "_now", lambda: later)
    await say(client, user, "yes", asked["conversation_id"])
    assert len(await tasks(client, user)) == 5


async def test_undo_restores_a_deleted_task_with_every_field(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    due = (date.today() + timedelta(days=4)).isoformat()
    original = await add(
        client,
        user,
        title="file taxes",
        description="forms in the drawer",
        priority="high",
        due_date=due,
        tags=["home", "money"],
        completed=True,
    )
    first = await say(client, user, f"delete task {original['id']}")
    assert await tasks(client, user) == []
    undone = await say(client, user, "undo", first["conversation_id"])
    assert "file taxes" in undone["reply"]
    [restored] = await tasks(client, user)
    # From its tombstone, as the board's undo: the same id and creation time too.
    assert restored == original


async def test_a_follow_up_does_not_act_on_a_candidate_changed_since(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    await add(client, user, title="buy milk")
    oat = await add(client, user, title="buy oat milk")
    asked = await say(client, user, "delete milk")
    assert "which task" in asked["reply"].lower()
    await client.patch(f"/api/tasks/{oat['id']}", json={"priority": "high"}, headers=user.headers)
    reply = await say(client, user, "the second one", asked["conversation_id"])
    assert len(await tasks(client, user)) == 2, reply["reply"]
    assert "changed" in reply["reply"]


# --- the tool layer, as an LLM or an MCP client calls it ------------------------------------


async def test_clear_completed_needs_confirm_for_more_than_three(
    app: FastAPI, client: httpx.AsyncClient, user: UserCtx
) -> None:
    for title in FIVE:
        await add(client, user, title=title, completed=title != FIVE[-1])
    db = app.state.db.connection()
    async with db.transaction():
        box = ToolBox(db, user.id, date.today(), max_tasks=app.state.settings.max_tasks_per_user)
        refused = await box.call("clear_completed", {})
        assert not refused.ok and refused.data["error"] == "needs_confirmation"
        assert refused.data["count"] == 4 and len(await box.tasks(True)) == 4
        cleared = await box.call("clear_completed", {"confirm": True})
        assert cleared.ok and cleared.data["count"] == 4 and len(cleared.undo) == 4


async def test_a_fourth_deletion_in_one_turn_needs_confirm(
    app: FastAPI, client: httpx.AsyncClient, user: UserCtx
) -> None:
    for title in FIVE:
        await add(client, user, title=title)
    db = app.state.db.connection()
    async with db.transaction():
        box = ToolBox(db, user.id, date.today(), max_tasks=app.state.settings.max_tasks_per_user)
        for title in FIVE[:3]:
            assert (await box.call("delete_task", {"task": title})).ok
        refused = await box.call("complete_task", {"task": FIVE[3]})
        assert refused.data.get("error") == "needs_confirmation"
        refused = await box.call("delete_task", {"task": FIVE[3]})
        assert refused.data.get("error") == "needs_confirmation"
        assert (await box.call("delete_task", {"task": FIVE[3], "confirm": True})).ok
        assert [t.title for t in await box.tasks()] == [FIVE[4]]


async def test_a_follow_up_does_not_shift_to_another_task_when_one_was_deleted(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    first = await add(client, user, title="buy milk")
    await add(client, user, title="buy oat milk")
    await add(client, user, title="buy milk powder")
    asked = await say(client, user, "delete milk")
    assert "which task" in asked["reply"].lower()
    deleted = await client.delete(f"/api/tasks/{first['id']}", headers=user.headers)
    assert deleted.status_code == 204
    # "the first one" was 'buy milk': gone, so nothing else takes its place.
    reply = await say(client, user, "the first one", asked["conversation_id"])
    assert {t["title"] for t in await tasks(client, user)} == {"buy oat milk", "buy milk powder"}
    assert "gone" in reply["reply"]


async def test_dates_past_the_calendar_get_a_reply_not_an_error(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    """Issue 17 item 6: shifting a task due 31 Dec 9999, or "in 10000000 days", is a clear
    reply (200), never a 500, and changes nothing it should not."""
    far = await add(client, user, title="far future", due_date="9999-12-31")
    for message in ("postpone far future by a week", "push far future back 3 days"):
        reply = (await say(client, user, message))["reply"]
        assert "31 Dec 9999" in reply and "haven't changed" in reply, reply
    assert (await tasks(client, user))[0]["due_date"] == far["due_date"]
    await say(client, user, "add x due in 10000000 days")
    added = [t for t in await tasks(client, user) if t["id"] != far["id"]]
    assert len(added) == 1 and added[0]["due_date"] is None  # not a date: kept as words
