"""What the board needs of the tasks API: Today/Overdue views and counts with the page, a
conditional listing (ETag/304) for the live board, quick-add parsing, and delete/restore with
the original id (tombstones), one by one or for the completed tasks at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, insert, update

from testsupport.app import UserCtx
from todo_api.models import DeletedTask, Task, utcnow
from todo_api.schemas import TaskDraft, TaskOut, TaskPage

MakeUser = Callable[[], Awaitable[UserCtx]]
TODAY = date(2026, 12, 4)


async def _create(client: httpx.AsyncClient, user: UserCtx, **fields: Any) -> dict[str, Any]:
    resp = await client.post("/api/tasks", json=fields, headers=user.headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _page(client: httpx.AsyncClient, user: UserCtx, **params: Any) -> dict[str, Any]:
    resp = await client.get("/api/tasks", params=params, headers=user.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert TaskPage.model_validate(body).model_dump(mode="json") == body
    return body


# --- views and counts -------------------------------------------------------------------------


async def test_today_and_overdue_views_with_the_accounts_counts(
    client: httpx.AsyncClient, user: UserCtx, make_user: MakeUser
) -> None:
    yesterday, tomorrow = (TODAY - timedelta(days=1)).isoformat(), "2026-12-05"
    await _create(client, user, title="late", due_date=yesterday)
    await _create(client, user, title="late but done", due_date=yesterday, completed=True)
    await _create(client, user, title="now", due_date=TODAY.isoformat(), due_time="09:00")
    await _create(client, user, title="done today", due_date=TODAY.isoformat(), completed=True)
    await _create(client, user, title="later", due_date=tomorrow)
    await _create(client, user, title="someday")
    await _create(client, await make_user(), title="another user's", due_date=yesterday)

    def titles(page: dict[str, Any]) -> list[str]:
        return [t["title"] for t in page["items"]]

    today = await _page(client, user, due="today", today=TODAY.isoformat())
    assert titles(today) == ["now"] and today["total"] == 1
    overdue = await _page(client, user, due="overdue", today=TODAY.isoformat())
    assert titles(overdue) == ["late"]
    # The client's date decides: a day later, "later" is due today and "now" is overdue.
    next_day = await _page(client, user, due="overdue", today=tomorrow, sort="title", order="asc")
    assert titles(next_day) == ["late", "now"]
    # The views are of open tasks: nothing is both completed and due today in them.
    done_today = await _page(client, user, due="today", status="completed")
    assert done_today["items"] == [] and done_today["total"] == 0
    # The counts are the whole account's, whatever the filters of the page.
    expected = {"all": 6, "open": 4, "completed": 2, "today": 1, "overdue": 1}
    for params in ({}, {"due": "today"}, {"status": "completed", "q": "zzz"}):
        assert (await _page(client, user, today=TODAY.isoformat(), **params))["counts"] == expected
    assert (await _page(client, user, today=tomorrow))["counts"] == {
        **expected,
        "today": 1,
        "overdue": 2,
    }
    # Without `today`, the server's date.
    server_today = await _page(client, user, due="today")
    assert server_today["counts"]["today"] == server_today["total"]
    empty = await _page(client, await make_user())
    assert empty["counts"] == {"all": 0, "open": 0, "completed": 0, "today": 0, "overdue": 0}


async def test_completed_tasks_come_below_open_ones_in_every_sort(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    await _create(client, user, title="a done", priority="high", completed=True)
    await _create(client, user, title="b open", priority="low")
    await _create(client, user, title="c done", completed=True)
    await _create(client, user, title="d open", priority="high")
    for sort in ("created", "due", "priority", "title"):
        for order in ("asc", "desc"):
            page = await _page(client, user, sort=sort, order=order)
            done = [t["completed"] for t in page["items"]]
            assert done == [False, False, True, True], (sort, order)
    by_title = await _page(client, user, sort="title", order="asc")
    assert [t["title"] for t in by_title["items"]] == ["b open", "d open", "a done", "c done"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"due": "tomorrow"}, "due"),
        ({"today": "04/12/2026"}, "today"),
        ({"today": "2026-02-30"}, "today"),
        ({"due": "today", "today": "now"}, "today"),
    ],
)
async def test_bad_views_are_422(
    client: httpx.AsyncClient, user: UserCtx, params: dict[str, str], field: str
) -> None:
    resp = await client.get("/api/tasks", params=params, headers=user.headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["query", field]


# --- conditional listing (the live board's poll) ----------------------------------------------


async def test_a_poll_with_the_etag_is_304_until_a_task_changes(
    client: httpx.AsyncClient, user: UserCtx, make_user: MakeUser
) -> None:
    params = {"today": TODAY.isoformat()}
    first = await client.get("/api/tasks", params=params, headers=user.headers)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["cache-control"] == "no-cache, private"

    async def poll(tag: str, **query: Any) -> httpx.Response:
        headers = {**user.headers, "If-None-Match": tag}
        return await client.get("/api/tasks", params={**params, **query}, headers=headers)

    unchanged = await poll(etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert (await poll(f'"other", {etag.removeprefix("W/")}')).status_code == 304
    assert (await poll('"something else"')).status_code == 200

    # Another user's writes do not concern this board.
    other = await make_user()
    await _create(client, other, title="theirs")
    assert (await poll(etag)).status_code == 304

    # Each kind of write changes the tag.
    task = await _create(client, user, title="buy milk")
    writes: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: client.post("/api/tasks", json={"title": "eggs"}, headers=user.headers),
        lambda: client.patch(
            f"/api/tasks/{task['id']}", json={"priority": "high"}, headers=user.headers
        ),
        lambda: client.post(f"/api/tasks/{task['id']}/complete", headers=user.headers),
        lambda: client.delete(f"/api/tasks/{task['id']}", headers=user.headers),
        lambda: client.post(f"/api/tasks/{task['id']}/restore", headers=user.headers),
        lambda: client.delete("/api/tasks/completed", headers=user.headers),
    ]
    for write in writes:
        before = (await client.get("/api/tasks", params=params, headers=user.headers)).headers
        assert (await poll(before["etag"])).status_code == 304
        assert (await write()).status_code < 300
        changed = await poll(before["etag"])
        assert changed.status_code == 200, changed.request
        # (A restore may give back the tag from before the delete: the same tasks again.)
        assert changed.headers["etag"] != before["etag"]
        assert TaskPage.model_validate(changed.json())

    # The query is part of the tag: another view, page or day is not "not modified".
    current = (await client.get("/api/tasks", params=params, headers=user.headers)).headers
    for query in ({"status": "pending"}, {"offset": 1}, {"today": "2026-12-05"}, {"q": "egg"}):
        assert (await poll(current["etag"], **query)).status_code == 200, query


# --- quick add --------------------------------------------------------------------------------


async def _parse(client: httpx.AsyncClient, user: UserCtx, text: str) -> dict[str, Any]:
    resp = await client.post(
        "/api/tasks/parse", json={"text": text, "today": TODAY.isoformat()}, headers=user.headers
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert TaskDraft.model_validate(body).model_dump(mode="json") == body
    return body


@pytest.mark.parametrize(
    ("text", "draft"),
    [
        (
            "buy bread tomorrow 5pm !high #shop",
            {
                "title": "buy bread",
                "due_date": "2026-12-05",
                "due_time": "17:00",
                "priority": "high",
                "tags": ["shop"],
            },
        ),
        ("call mom !l", {"title": "call mom", "priority": "low"}),
        (
            "water plants !2 #home #garden #home",
            {"title": "water plants", "priority": "medium", "tags": ["home", "garden"]},
        ),
        (
            "pay rent on 2026-12-10 !1",
            {"title": "pay rent", "due_date": "2026-12-10", "priority": "high"},
        ),
        (
            "dentist friday 9:30am",
            {"title": "dentist", "due_date": "2026-12-11", "due_time": "09:30"},
        ),
        # No date or slot: the text as typed, however much it looks like a list.
        ("The Hobbit and the Silmarillion", {"title": "The Hobbit and the Silmarillion"}),
        ("issue #12 in the tracker", {"title": "issue #12 in the tracker"}),
        ("!high", {"title": "!high", "priority": "high"}),
    ],
)
async def test_parse_reads_a_draft_without_creating_it(
    client: httpx.AsyncClient, user: UserCtx, text: str, draft: dict[str, Any]
) -> None:
    defaults = {
        "description": "",
        "priority": "medium",
        "due_date": None,
        "due_time": None,
        "tags": [],
    }
    assert await _parse(client, user, text) == {**defaults, **draft}
    assert (await _page(client, user))["total"] == 0


async def test_a_parsed_draft_can_be_created_as_it_is(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    draft = await _parse(client, user, "file taxes next monday 10am !h #money - forms in drawer")
    task = await _create(client, user, **draft)
    assert {key: task[key] for key in draft} == draft
    assert draft["description"] == "forms in drawer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 501}, "text"),
        ({"text": "a\nb"}, "text"),
        ({"text": "ok", "today": "tomorrow"}, "today"),
        ({"text": "ok", "extra": 1}, "extra"),
        ({}, "text"),
    ],
)
async def test_parse_refuses_bad_text_with_422(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any], field: str
) -> None:
    resp = await client.post("/api/tasks/parse", json=body, headers=user.headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["body", field]


async def test_parse_needs_a_user(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/tasks/parse", json={"text": "x"})).status_code == 401


# --- delete and restore -----------------------------------------------------------------------


async def test_restore_brings_a_task_back_with_its_id_and_creation_time(
    client: httpx.AsyncClient, user: UserCtx, make_user: MakeUser
) -> None:
    task = await _create(
        client,
        user,
        title="file taxes",
        description="forms in the drawer",
        priority="high",
        due_date="2026-12-10",
        due_time="10:15",
        tags=["home", "money"],
        completed=True,
    )
    newer = await _create(client, user, title="newer")
    assert (
        await client.delete(f"/api/tasks/{task['id']}", headers=user.headers)
    ).status_code == 204
    other = await make_user()
    # Another user cannot restore it: the same answer as for an id never used.
    for who, task_id in ((other, task["id"]), (user, newer["id"] + 1000)):
        resp = await client.post(f"/api/tasks/{task_id}/restore", headers=who.headers)
        assert resp.status_code == 404, resp.text
    resp = await client.post(f"/api/tasks/{task['id']}/restore", headers=user.headers)
    assert resp.status_code == 201, resp.text
    assert resp.json() == task
    assert TaskOut.model_validate(resp.json()).model_dump(mode="json") == task
    assert (await client.get(f"/api/tasks/{task['id']}", headers=user.headers)).json() == task
    # Restored once, its tombstone is gone; a task never deleted has none.
    for task_id in (task["id"], newer["id"]):
        resp = await client.post(f"/api/tasks/{task_id}/restore", headers=user.headers)
        assert resp.status_code == 404, resp.text


async def test_restore_is_409_while_a_task_has_the_id(
    app: FastAPI, client: httpx.AsyncClient, user: UserCtx
) -> None:
    task = await _create(client, user, title="twice")
    await client.delete(f"/api/tasks/{task['id']}", headers=user.headers)
    # Only possible by hand: put a task with that id back beside its tombstone.
    row = TaskOut.model_validate(task).model_dump()
    async with app.state.db.engine.begin() as conn:
        await conn.execute(insert(cast(Table, Task.__table__)).values(**row, user_id=user.id))
    resp = await client.post(f"/api/tasks/{task['id']}/restore", headers=user.headers)
    assert resp.status_code == 409, resp.text


async def test_tombstones_older_than_a_day_are_purged_by_later_deletes(
    app: FastAPI, client: httpx.AsyncClient, user: UserCtx
) -> None:
    old, recent, trigger = [await _create(client, user, title=t) for t in ("old", "recent", "x")]
    for task in (old, recent):
        await client.delete(f"/api/tasks/{task['id']}", headers=user.headers)
    deleted = cast(Table, DeletedTask.__table__)
    async with app.state.db.engine.begin() as conn:
        await conn.execute(
            update(deleted)
            .where(deleted.c.id == old["id"])
            .values(deleted_at=utcnow() - timedelta(hours=25))
        )
    await client.delete(f"/api/tasks/{trigger['id']}", headers=user.headers)
    ids = [old["id"], recent["id"], trigger["id"]]
    assert [
        (await client.post(f"/api/tasks/{i}/restore", headers=user.headers)).status_code
        for i in ids
    ] == [404, 201, 201]


async def test_clear_completed_then_undo_restores_every_task(
    client: httpx.AsyncClient, user: UserCtx, make_user: MakeUser
) -> None:
    done = [await _create(client, user, title=f"done {i}", completed=True) for i in range(3)]
    kept = await _create(client, user, title="open")
    theirs = await _create(client, other := await make_user(), title="theirs", completed=True)
    resp = await client.delete("/api/tasks/completed", headers=user.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"deleted": [t["id"] for t in done]}
    assert [t["id"] for t in (await _page(client, user))["items"]] == [kept["id"]]
    assert (await _page(client, other))["total"] == 1
    # Nothing left to clear: an empty list, not an error.
    again = await client.delete("/api/tasks/completed", headers=user.headers)
    assert again.json() == {"deleted": []}
    # A single delete still routes to /{task_id}.
    assert (
        await client.delete(f"/api/tasks/{kept['id']}", headers=user.headers)
    ).status_code == 204

    ids = [t["id"] for t in reversed(done)]
    # All or nothing: another user's id (or one never deleted) fails the whole batch.
    for bad in (theirs["id"], 2**31 - 1):
        resp = await client.post(
            "/api/tasks/restore", json={"ids": [*ids, bad]}, headers=user.headers
        )
        assert resp.status_code == 404, resp.text
    assert (await _page(client, user))["total"] == 0
    resp = await client.post("/api/tasks/restore", json={"ids": ids}, headers=user.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"restored": list(reversed(done))}
    back = await client.post("/api/tasks/restore", json={"ids": [kept["id"]]}, headers=user.headers)
    assert back.json() == {"restored": [kept]}
    assert (await _page(client, user))["counts"]["completed"] == 3


async def test_a_batch_restore_spans_more_than_one_statement(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    for i in range(120):
        await _create(client, user, title=f"t{i}", completed=True)
    deleted = (await client.delete("/api/tasks/completed", headers=user.headers)).json()["deleted"]
    assert len(deleted) == 120
    resp = await client.post("/api/tasks/restore", json={"ids": deleted}, headers=user.headers)
    assert resp.status_code == 200, resp.text
    assert [t["id"] for t in resp.json()["restored"]] == deleted
    assert (await _page(client, user))["total"] == 120


@pytest.mark.parametrize(
    "body",
    [
        {"ids": []},
        {"ids": [0]},
        {"ids": ["x"]},
        {"ids": [2**31]},
        {},
        {"ids": list(range(1, 5002))},
    ],
)
async def test_batch_restore_refuses_bad_ids_with_422(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any]
) -> None:
    resp = await client.post("/api/tasks/restore", json=body, headers=user.headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"][:2] == ["body", "ids"]


async def test_a_draft_never_has_more_tags_than_a_task_may(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    tags = [f"t{i}" for i in range(21)]
    draft = await _parse(client, user, "sort photos " + " ".join(f"#{t}" for t in tags))
    assert draft["tags"] == tags[:20] and draft["title"] == "sort photos #t20"
    await _create(client, user, **draft)
