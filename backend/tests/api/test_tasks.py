"""Tasks API: CRUD, validation, filters, sorting, pagination and cross-user isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from testsupport.app import UserCtx, make_settings
from todo_api.main import create_app
from todo_api.schemas import TaskOut, TaskPage

MakeUser = Callable[[], Awaitable[UserCtx]]


async def _create(client: httpx.AsyncClient, user: UserCtx, **fields: Any) -> dict[str, Any]:
    resp = await client.post("/api/tasks", json=fields, headers=user.headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_create_defaults_and_trims(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="  buy milk  ")
    assert task["title"] == "buy milk"
    assert task["description"] == "" and task["completed"] is False
    assert task["priority"] == "medium" and task["due_date"] is None and task["tags"] == []
    assert task["created_at"].endswith("Z") or "+00:00" in task["created_at"]


async def test_create_with_every_field(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(
        client,
        user,
        title="pay rent",
        description="to landlord",
        priority="high",
        due_date="2026-12-01",
        tags=["home", "money", "home"],
    )
    assert task["priority"] == "high" and task["due_date"] == "2026-12-01"
    assert task["tags"] == ["home", "money"]
    fetched = await client.get(f"/api/tasks/{task['id']}", headers=user.headers)
    assert fetched.json() == task


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "d" * 2001}, "description"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "due_date": "next tuesday"}, "due_date"),
        ({"title": "ok", "due_time": "15:00"}, "due_time"),  # a time needs a date
        ({"title": "ok", "due_date": "2026-12-04", "due_time": "24:00"}, "due_time"),
        ({"title": "ok", "due_date": "2026-12-04", "due_time": "3pm"}, "due_time"),
        ({"title": "ok", "due_date": "2026-12-04", "due_time": "15:00:30"}, "due_time"),
        ({"title": "ok", "tags": ["t"] * 21}, "tags"),
        ({"title": "ok", "owner": 5}, "owner"),
        ({"title": 42}, "title"),
    ],
)
async def test_create_validation_names_the_field(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any], field: str
) -> None:
    resp = await client.post("/api/tasks", json=body, headers=user.headers)
    assert resp.status_code == 422, resp.text
    assert any(e["loc"][:2] == ["body", field] for e in resp.json()["detail"]), resp.text


async def test_due_time_round_trips_as_hh_mm(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="dentist", due_date="2026-12-04", due_time="09:05")
    assert task["due_time"] == "09:05"
    assert (await client.get(f"/api/tasks/{task['id']}", headers=user.headers)).json() == task
    # A browser's time input may add ":00" seconds; it is the same minute.
    moved = await client.patch(
        f"/api/tasks/{task['id']}", json={"due_time": "17:30:00"}, headers=user.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_time"] == "17:30" and moved.json()["due_date"] == "2026-12-04"
    untimed = await client.patch(
        f"/api/tasks/{task['id']}", json={"due_time": None}, headers=user.headers
    )
    assert untimed.json()["due_time"] is None and untimed.json()["due_date"] == "2026-12-04"
    assert TaskOut.model_validate(moved.json()).model_dump(mode="json") == moved.json()


async def test_due_time_needs_a_due_date(client: httpx.AsyncClient, user: UserCtx) -> None:
    """A time alone means nothing on the board: 422 naming due_time when the task has no date
    (stored or in the same change); clearing the date clears its time."""
    undated = await _create(client, user, title="someday")
    for body in [{"due_time": "10:00"}, {"due_date": None, "due_time": "10:00"}]:
        resp = await client.patch(f"/api/tasks/{undated['id']}", json=body, headers=user.headers)
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"][0]["loc"] == ["body", "due_time"]
        assert resp.json()["detail"][0]["msg"] == "due_time needs due_date"
    dated = await client.patch(
        f"/api/tasks/{undated['id']}",
        json={"due_date": "2026-12-05", "due_time": "10:00"},
        headers=user.headers,
    )
    assert dated.json()["due_time"] == "10:00"
    cleared = await client.patch(
        f"/api/tasks/{undated['id']}", json={"due_date": None}, headers=user.headers
    )
    assert cleared.json()["due_date"] is None and cleared.json()["due_time"] is None
    missing = await client.patch(
        "/api/tasks/999999", json={"due_time": "10:00"}, headers=user.headers
    )
    assert missing.status_code == 404


async def test_due_sort_orders_by_time_within_a_day(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    for title, due_time in [("untimed", None), ("late", "18:00"), ("early", "08:15")]:
        await _create(client, user, title=title, due_date="2026-12-10", due_time=due_time)
    await _create(client, user, title="day before", due_date="2026-12-09", due_time="23:00")

    async def titles(order: str) -> list[str]:
        resp = await client.get(
            "/api/tasks", params={"sort": "due", "order": order}, headers=user.headers
        )
        return [t["title"] for t in resp.json()["items"]]

    assert await titles("asc") == ["day before", "early", "late", "untimed"]
    assert await titles("desc") == ["late", "early", "untimed", "day before"]


async def test_malformed_json_is_422(client: httpx.AsyncClient, user: UserCtx) -> None:
    resp = await client.post(
        "/api/tasks",
        content=b'{"title": ',
        headers={**user.headers, "content-type": "application/json"},
    )
    assert resp.status_code == 422


async def test_patch_changes_only_given_fields(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="draft", description="keep me", due_date="2026-12-24")
    resp = await client.patch(
        f"/api/tasks/{task['id']}", json={"title": "final", "priority": "low"}, headers=user.headers
    )
    assert resp.status_code == 200
    updated = resp.json()
    assert updated["title"] == "final" and updated["priority"] == "low"
    assert updated["description"] == "keep me" and updated["due_date"] == "2026-12-24"
    assert updated["updated_at"] >= task["updated_at"]
    cleared = await client.patch(
        f"/api/tasks/{task['id']}", json={"due_date": None}, headers=user.headers
    )
    assert cleared.json()["due_date"] is None


async def test_patch_every_field_round_trips(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="plain", tags=["a"])
    change = {
        "title": "rich",
        "description": "now with words",
        "priority": "high",
        "due_date": "2027-01-31",
        "tags": ["x", "y", "x"],
        "completed": True,
    }
    resp = await client.patch(f"/api/tasks/{task['id']}", json=change, headers=user.headers)
    assert resp.status_code == 200, resp.text
    stored = (await client.get(f"/api/tasks/{task['id']}", headers=user.headers)).json()
    assert stored == resp.json()
    assert {k: stored[k] for k in change} == {**change, "tags": ["x", "y"]}
    assert stored["created_at"] == task["created_at"] and stored["updated_at"] > task["updated_at"]


async def test_bodies_match_the_documented_schemas(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    """The task routes encode their JSON themselves (orjson, api/responses.py); it must be what
    their `response_model` promises, exactly as pydantic would have written it."""
    task = await _create(client, user, title="typed", due_date="2026-12-01", tags=["t"])
    page = (await client.get("/api/tasks", headers=user.headers)).json()
    assert TaskPage.model_validate(page).model_dump(mode="json") == page
    for resp in [
        await client.get(f"/api/tasks/{task['id']}", headers=user.headers),
        await client.patch(
            f"/api/tasks/{task['id']}", json={"completed": True}, headers=user.headers
        ),
        await client.post(f"/api/tasks/{task['id']}/complete", headers=user.headers),
    ]:
        body = resp.json()
        assert TaskOut.model_validate(body).model_dump(mode="json") == body
        assert resp.headers["content-type"] == "application/json"


@pytest.mark.parametrize("body", [{"title": None}, {"completed": None}, {"title": ""}, {"x": 1}])
async def test_patch_rejects_bad_fields(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any]
) -> None:
    task = await _create(client, user, title="stable")
    resp = await client.patch(f"/api/tasks/{task['id']}", json=body, headers=user.headers)
    assert resp.status_code == 422
    again = await client.get(f"/api/tasks/{task['id']}", headers=user.headers)
    assert again.json()["title"] == "stable"


async def test_complete_toggles(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="toggle me")
    first = await client.post(f"/api/tasks/{task['id']}/complete", headers=user.headers)
    second = await client.post(f"/api/tasks/{task['id']}/complete", headers=user.headers)
    assert first.json()["completed"] is True and second.json()["completed"] is False


async def test_delete_then_404(client: httpx.AsyncClient, user: UserCtx) -> None:
    task = await _create(client, user, title="bye")
    assert (
        await client.delete(f"/api/tasks/{task['id']}", headers=user.headers)
    ).status_code == 204
    assert (await client.get(f"/api/tasks/{task['id']}", headers=user.headers)).status_code == 404
    assert (
        await client.delete(f"/api/tasks/{task['id']}", headers=user.headers)
    ).status_code == 404


@pytest.mark.parametrize("bad_id", ["0", "-1", "abc", "2147483648", "99999999999999999999"])
async def test_bad_ids_are_422(client: httpx.AsyncClient, user: UserCtx, bad_id: str) -> None:
    assert (await client.get(f"/api/tasks/{bad_id}", headers=user.headers)).status_code == 422


async def test_list_filters_search_sort_and_paginate(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user()
    await _create(client, user, title="Buy milk", priority="high", due_date="2026-12-03")
    await _create(client, user, title="call mom", priority="low", completed=True)
    await _create(
        client, user, title="fix 100% of bugs", description="the_sink", due_date="2026-12-01"
    )
    await _create(client, user, title="apples", priority="high")

    async def titles(**params: Any) -> list[str]:
        resp = await client.get("/api/tasks", params=params, headers=user.headers)
        assert resp.status_code == 200, resp.text
        return [t["title"] for t in resp.json()["items"]]

    # Completed tasks come after the open ones, whatever the sort.
    assert await titles() == ["apples", "fix 100% of bugs", "Buy milk", "call mom"]
    assert await titles(status="completed") == ["call mom"]
    assert sorted(await titles(status="pending")) == ["Buy milk", "apples", "fix 100% of bugs"]
    assert sorted(await titles(priority="high")) == ["Buy milk", "apples"]
    assert await titles(q="MILK") == ["Buy milk"]
    assert await titles(q="100%") == ["fix 100% of bugs"]  # % is literal, not a wildcard
    assert await titles(q="the_sink") == ["fix 100% of bugs"]
    assert await titles(q="_") == ["fix 100% of bugs"]
    assert await titles(sort="title", order="asc") == [
        "apples",
        "Buy milk",
        "fix 100% of bugs",
        "call mom",
    ]
    assert (await titles(sort="due", order="asc"))[:2] == ["fix 100% of bugs", "Buy milk"]
    assert (await titles(sort="due", order="desc"))[:2] == ["Buy milk", "fix 100% of bugs"]
    assert (await titles(sort="priority", order="desc"))[:2] == ["apples", "Buy milk"]

    page = (
        await client.get(
            "/api/tasks",
            params={"limit": 2, "offset": 1, "sort": "title", "order": "asc"},
            headers=user.headers,
        )
    ).json()
    assert [t["title"] for t in page["items"]] == ["Buy milk", "fix 100% of bugs"]
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"sort": "owner"},
        {"order": "sideways"},
        {"priority": "urgent"},
        {"q": "x" * 201},
    ],
)
async def test_list_rejects_bad_query(
    client: httpx.AsyncClient, user: UserCtx, params: dict[str, Any]
) -> None:
    resp = await client.get("/api/tasks", params=params, headers=user.headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"][0] == "query"


async def test_other_users_tasks_are_invisible(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    task = await _create(client, alice, title="alice's secret")
    tid = task["id"]
    missing_id = 2_000_000_000
    for method, path, body in [
        ("GET", f"/api/tasks/{tid}", None),
        ("PATCH", f"/api/tasks/{tid}", {"title": "pwned"}),
        ("POST", f"/api/tasks/{tid}/complete", None),
        ("DELETE", f"/api/tasks/{tid}", None),
    ]:
        theirs = await client.request(method, path, json=body, headers=bob.headers)
        nothing = await client.request(
            method, path.replace(str(tid), str(missing_id)), json=body, headers=bob.headers
        )
        assert theirs.status_code == 404, (method, path)
        assert theirs.json() == nothing.json()
    listing = (await client.get("/api/tasks", params={"q": "secret"}, headers=bob.headers)).json()
    assert listing["items"] == [] and listing["total"] == 0
    intact = (await client.get(f"/api/tasks/{tid}", headers=alice.headers)).json()
    assert intact["title"] == "alice's secret" and intact["completed"] is False


async def test_a_write_that_waits_out_the_sqlite_writer_queue_is_a_503(sqlite_url: str) -> None:
    """A writer waits for the one SQLite write transaction at a time for DB_TIMEOUT_SECONDS at
    most, then gets 503 with Retry-After (never a hang), and nothing is written."""
    app = create_app(make_settings(sqlite_url, db_timeout_seconds=0.3))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            signup = await client.post(
                "/api/auth/signup",
                json={
                    "email": f"queue-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "queue test password",
                },
            )
            headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
            lock = app.state.db.write_lock
            await lock.acquire()  # stands for a write transaction that does not finish
            try:
                async with asyncio.timeout(5):
                    created = await client.post(
                        "/api/tasks", json={"title": "queued"}, headers=headers
                    )
                    chat = await client.post(
                        "/api/chat", json={"message": "add queued too"}, headers=headers
                    )
            finally:
                lock.release()
            assert created.status_code == 503 and created.headers["retry-after"] == "2"
            assert chat.status_code == 503
            page = (await client.get("/api/tasks", headers=headers)).json()
            assert page["total"] == 0
            assert (await client.get("/api/conversations", headers=headers)).json() == []
            again = await client.post("/api/tasks", json={"title": "now"}, headers=headers)
            assert again.status_code == 201
    finally:
        await app.state.db.dispose()


async def test_concurrent_writes_all_succeed(client: httpx.AsyncClient, user: UserCtx) -> None:
    """A burst of writers all land (on SQLite they queue on db.Database.write_lock;
    the bench's c=32 write runs are the load test for that)."""
    created = await asyncio.gather(
        *[
            client.post("/api/tasks", json={"title": f"burst {i}"}, headers=user.headers)
            for i in range(60)
        ]
    )
    assert sorted(r.status_code for r in created) == [201] * 60
    toggled = await asyncio.gather(
        *[
            client.post(f"/api/tasks/{r.json()['id']}/complete", headers=user.headers)
            for r in created
        ]
    )
    assert [r.json()["completed"] for r in toggled] == [True] * 60
    page = (await client.get("/api/tasks", params={"q": "burst"}, headers=user.headers)).json()
    assert page["total"] == 60
