"""POST /api/chat and the conversation history: persistence, follow-ups, limits and isolation."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from testsupport.app import UserCtx, make_settings
from todo_api.main import create_app
from todo_api.services import conversations

FastUser = Callable[[Any], Awaitable[UserCtx]]

MakeUser = Callable[[], Awaitable[UserCtx]]


async def say(
    client: httpx.AsyncClient, user: UserCtx, message: str, conversation_id: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    resp = await client.post("/api/chat", json=body, headers=user.headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def titles(client: httpx.AsyncClient, user: UserCtx) -> dict[str, bool]:
    resp = await client.get("/api/tasks", headers=user.headers)
    return {t["title"]: t["completed"] for t in resp.json()["items"]}


async def test_done_when_flow(client: httpx.AsyncClient, user: UserCtx) -> None:
    """The issue's acceptance flow, in one conversation."""
    first = await say(client, user, "add buy milk tomorrow, high priority")
    cid = first["conversation_id"]
    assert first["actions"][0]["tool"] == "add_task" and first["actions"][0]["ok"] is True
    assert "buy milk" in first["reply"]
    left = await say(client, user, "what do I have left?", cid)
    assert "buy milk" in left["reply"] and "high priority" in left["reply"]
    done = await say(client, user, "done with the milk", cid)
    assert "buy milk" in done["reply"]
    assert await titles(client, user) == {"buy milk": True}
    assert done["conversation_id"] == cid


async def test_history_endpoints(client: httpx.AsyncClient, user: UserCtx) -> None:
    first = await say(client, user, "add eggs and bread")
    cid = first["conversation_id"]
    await say(client, user, "show my tasks", cid)
    other = await say(client, user, "hello")
    convs = (await client.get("/api/conversations", headers=user.headers)).json()
    assert [c["id"] for c in convs] == [other["conversation_id"], cid]  # most recent first
    assert convs[1]["title"] == "add eggs and bread"
    messages = (await client.get(f"/api/conversations/{cid}/messages", headers=user.headers)).json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "add eggs and bread" and messages[0]["actions"] == []
    assert [a["tool"] for a in messages[1]["actions"]] == ["add_task", "add_task"]
    assert {a["arguments"]["title"] for a in messages[1]["actions"]} == {"eggs", "bread"}
    assert set(messages[1]["actions"][0]) == {"tool", "arguments", "result", "ok"}


async def test_ambiguity_then_follow_up(client: httpx.AsyncClient, user: UserCtx) -> None:
    for title in ("buy milk", "buy bread", "call mom"):
        await client.post("/api/tasks", json={"title": title}, headers=user.headers)
    ask = await say(client, user, "complete the buy task")
    assert "buy milk" in ask["reply"] and "buy bread" in ask["reply"]
    assert await titles(client, user) == {"buy milk": False, "buy bread": False, "call mom": False}
    answer = await say(client, user, "the bread one", ask["conversation_id"])
    assert "buy bread" in answer["reply"]
    assert await titles(client, user) == {"buy milk": False, "buy bread": True, "call mom": False}


async def test_ambiguity_follow_up_by_ordinal(client: httpx.AsyncClient, user: UserCtx) -> None:
    for title in ("pay rent", "pay phone bill"):
        await client.post("/api/tasks", json={"title": title}, headers=user.headers)
    ask = await say(client, user, "delete the pay one")
    assert "pay rent" in ask["reply"] and "pay phone bill" in ask["reply"]
    await say(client, user, "the second one", ask["conversation_id"])
    assert await titles(client, user) == {"pay rent": False}


async def test_message_too_long_is_422_naming_the_field(
    client: httpx.AsyncClient, user: UserCtx, app: Any
) -> None:
    limit = app.state.settings.chat_max_message_chars
    resp = await client.post("/api/chat", json={"message": "a" * (limit + 1)}, headers=user.headers)
    assert resp.status_code == 422
    [problem] = resp.json()["detail"]
    assert problem["loc"] == ["body", "message"] and str(limit) in problem["msg"]
    ok = await client.post("/api/chat", json={"message": "a" * limit}, headers=user.headers)
    assert ok.status_code == 200


@pytest.mark.parametrize("body", [{}, {"message": "   "}, {"message": "hi", "conversation_id": 0}])
async def test_invalid_bodies(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any]
) -> None:
    resp = await client.post("/api/chat", json=body, headers=user.headers)
    assert resp.status_code == 422


async def test_requires_auth(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 401
    assert (await client.get("/api/conversations")).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/api/chat", json={"message": "hi"}, headers=bad)).status_code == 401


async def test_isolation_between_users(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    created = await client.post("/api/tasks", json={"title": "buy milk"}, headers=alice.headers)
    milk_id = created.json()["id"]
    conv = await say(client, alice, "show my tasks")
    cid = conv["conversation_id"]

    # Bob can neither see, complete nor delete Alice's task, by title or by id.
    listing = await say(client, bob, "show my tasks")
    assert "buy milk" not in listing["reply"]
    for message in ("delete buy milk", f"complete task {milk_id}", f"remove #{milk_id}"):
        reply = await say(client, bob, message)
        assert all(not a["ok"] for a in reply["actions"])
    assert await titles(client, alice) == {"buy milk": False}

    # Alice's conversation is invisible to Bob: reading or continuing it is a 404.
    resp = await client.get(f"/api/conversations/{cid}/messages", headers=bob.headers)
    assert resp.status_code == 404
    resp = await client.post(
        "/api/chat", json={"message": "hi", "conversation_id": cid}, headers=bob.headers
    )
    assert resp.status_code == 404
    assert cid not in [
        c["id"] for c in (await client.get("/api/conversations", headers=bob.headers)).json()
    ]
    missing = await client.get("/api/conversations/2147483647/messages", headers=alice.headers)
    assert missing.status_code == 404


async def test_rate_limit_per_user(database_url: str, fast_user: FastUser) -> None:
    app = create_app(make_settings(database_url, chat_rate_limit="2/minute"))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            users = [(await fast_user(app)).headers for _ in range(2)]
            for _ in range(2):
                ok = await client.post("/api/chat", json={"message": "hi"}, headers=users[0])
                assert ok.status_code == 200
            limited = await client.post("/api/chat", json={"message": "hi"}, headers=users[0])
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            # Another user has an allowance of their own.
            other = await client.post("/api/chat", json={"message": "hi"}, headers=users[1])
            assert other.status_code == 200
    finally:
        await app.state.db.dispose()


async def test_unknown_message_changes_nothing(client: httpx.AsyncClient, user: UserCtx) -> None:
    await client.post("/api/tasks", json={"title": "buy milk"}, headers=user.headers)
    reply = await say(client, user, "blorf zzzt qwx")
    assert "didn't understand" in reply["reply"] and reply["actions"] == []
    assert await titles(client, user) == {"buy milk": False}


async def test_it_refers_to_the_task_of_the_previous_turn(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    first = await say(client, user, "remind me to call the plumber")
    cid = first["conversation_id"]
    await say(client, user, "make it high priority", cid)
    await say(client, user, "and move it to 2030-03-04", cid)
    resp = await client.get("/api/tasks", headers=user.headers)
    [task] = resp.json()["items"]
    assert (task["title"], task["priority"], task["due_date"]) == (
        "call the plumber",
        "high",
        "2030-03-04",
    )
    done = await say(client, user, "mark it done", cid)
    assert "call the plumber" in done["reply"]
    assert await titles(client, user) == {"call the plumber": True}
    # In a fresh conversation "it" means nothing: ask instead of guessing.
    fresh = await say(client, user, "delete it")
    assert fresh["actions"] == [] and "which task" in fresh["reply"].lower()
    assert await titles(client, user) == {"call the plumber": True}


async def test_ordinal_refers_to_the_last_listing(client: httpx.AsyncClient, user: UserCtx) -> None:
    for title in ("buy milk", "call mom", "pay rent"):
        await client.post("/api/tasks", json={"title": title}, headers=user.headers)
    listing = await say(client, user, "what's left?")
    cid = listing["conversation_id"]
    order = [line.split(" ", 2)[2] for line in listing["reply"].splitlines()[1:]]
    await say(client, user, "mark the second one done", cid)
    await say(client, user, "delete the last one", cid)
    assert await titles(client, user) == {order[0]: False, order[1]: True}


@pytest.mark.parametrize(
    "message",
    ["due " * 500, "and " * 500, "on by " * 333, "add x " + "and x " * 330, "(" * 2000],
    ids=["due", "and", "on-by", "many-items", "parens"],
)
async def test_pathological_messages_stay_fast(
    client: httpx.AsyncClient, user: UserCtx, message: str
) -> None:
    """Regular expressions must not backtrack for seconds on a 2000-character message."""
    started = time.monotonic()
    resp = await client.post("/api/chat", json={"message": message[:2000]}, headers=user.headers)
    assert resp.status_code == 200
    assert time.monotonic() - started < 3.0
    assert len((await client.get("/api/tasks", headers=user.headers)).json()["items"]) <= 20


@pytest.mark.parametrize("follow_up", [False, True])
async def test_a_turn_that_fails_before_its_save_leaves_nothing_behind(
    client: httpx.AsyncClient, user: UserCtx, monkeypatch: pytest.MonkeyPatch, follow_up: bool
) -> None:
    """A turn's tool writes commit with its messages: when the turn fails after its tool ran
    (here, as the messages are saved), neither the task nor any message is left."""
    first = await say(client, user, "add eggs")
    cid = first["conversation_id"] if follow_up else None

    def broken_clock() -> None:
        raise RuntimeError("saving the turn failed")

    monkeypatch.setattr(conversations, "utcnow", broken_clock)
    with pytest.raises(RuntimeError, match="saving the turn failed"):
        await client.post(
            "/api/chat",
            json={"message": "add buy milk", "conversation_id": cid},
            headers=user.headers,
        )
    monkeypatch.undo()
    assert await titles(client, user) == {"eggs": False}
    convs = (await client.get("/api/conversations", headers=user.headers)).json()
    assert [c["id"] for c in convs] == [first["conversation_id"]]
    path = f"/api/conversations/{first['conversation_id']}/messages"
    assert len((await client.get(path, headers=user.headers)).json()) == 2
    # The connection went back to the pool clean: the next turn works and commits.
    await say(client, user, "add bread", cid)
    assert await titles(client, user) == {"eggs": False, "bread": False}


async def test_listing_order_and_count_beyond_one_page(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    """ "What's left?" lists open tasks by due date (undated last), then oldest first, shows 50
    and counts them all: the database sorts, counts and cuts (services.tasks.first_tasks)."""
    due = {3: "2030-01-05", 7: "2030-01-02", 11: "2030-01-02", 20: "2029-12-31", 30: "2029-01-01"}
    done = {5, 6, 30}
    high = {i for i in range(56) if i % 4 == 0}
    for i in range(56):
        body: dict[str, Any] = {"title": f"task {i:02d}", "completed": i in done}
        if i in due:
            body["due_date"] = due[i]
        if i in high:
            body["priority"] = "high"
        resp = await client.post("/api/tasks", json=body, headers=user.headers)
        assert resp.status_code == 201, resp.text
    open_tasks = sorted(
        (i for i in range(56) if i not in done), key=lambda i: (due.get(i, "9999-12-31"), i)
    )
    reply = (await say(client, user, "what's left?"))["reply"]
    listed = [line.split(" ", 2)[2].split(" (")[0] for line in reply.splitlines()[1:-1]]
    assert reply.splitlines()[0] == "Your pending tasks (53):"
    assert listed == [f"task {i:02d}" for i in open_tasks[:50]]
    assert reply.splitlines()[-1] == "…and 3 more."
    # Filtered by priority: the count and the order only take the matching tasks.
    reply = (await say(client, user, "what high priority tasks are left?"))["reply"]
    open_high = [i for i in open_tasks if i in high]
    listed = [line.split(" ", 2)[2].split(" (")[0] for line in reply.splitlines()[1:]]
    assert reply.splitlines()[0] == f"Your pending high priority tasks ({len(open_high)}):"
    assert listed == [f"task {i:02d}" for i in open_high]
