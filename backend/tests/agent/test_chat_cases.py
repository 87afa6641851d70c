"""Chat cases (../shared/chat-cases.md format) through POST /api/chat on SQLite and PostgreSQL.

Two files: the shared sample (read from ../shared beside the repository, falling back to the copy
kept next to this test) and this project's own cases, written independently of the sample's wording.
Each case: a fresh user, the starting tasks via the tasks API, one chat message, then the whole
task list and the reply are compared with the expectation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from testsupport.app import UserCtx

MakeUserLike = Callable[[], Awaitable[UserCtx]]

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
SHARED_SAMPLE = REPO_ROOT.parent / "shared" / "chat-cases.sample.jsonl"
SAMPLE_COPY = HERE / "chat-cases.sample.jsonl"
OWN_CASES = HERE / "chat-cases.own.jsonl"
SAFETY_CASES = HERE / "chat-cases.safety.jsonl"
UNDERSTANDING_CASES = HERE / "chat-cases.understanding.jsonl"
TIME_CASES = HERE / "chat-cases.times.jsonl"

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _sample_path() -> Path | None:
    for path in (SHARED_SAMPLE, SAMPLE_COPY):
        if path.is_file():
            return path
    return None


def _load(path: Path | None, label: str) -> list[Any]:
    if path is None:
        return [pytest.param(None, id=f"{label}-missing")]
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            cases.append(pytest.param(case, id=f"{label}-{number:02d}-{case['name']}"))
    return cases


def resolve_due(spec: str, today: date) -> date:
    if spec.startswith("alone:"):  # "alone:17:00": a time said without a date
        at = datetime.strptime(spec.removeprefix("alone:"), "%H:%M").time()
        now = datetime.now(UTC)
        return today if now.date() == today and now.time() < at else today + timedelta(days=1)
    if spec.startswith("+") and spec.endswith("d"):
        return today + timedelta(days=int(spec[1:-1]))
    if spec.startswith("next:"):
        weekday = WEEKDAYS.index(spec.split(":", 1)[1][:3].lower())
        days = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=days)
    if spec == "weekend":  # the coming Saturday, today on a Saturday
        return today + timedelta(days=(5 - today.weekday()) % 7)
    if spec.startswith("dom:"):  # "the 12th": this month's if not past, else next month's
        day = int(spec[4:])
        this_month = today.replace(day=day)
        if this_month >= today:
            return this_month
        return (this_month.replace(day=1) + timedelta(days=32)).replace(day=day)
    return date.fromisoformat(spec)


def norm_title(title: str) -> str:
    return re.sub(r"[\s.!?,;:]+$", "", title.strip().lower())


async def _run_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any]
) -> None:
    today = datetime.now(UTC).date()
    user = await make_user()
    ids: dict[str, int] = {}
    for task in case.get("tasks", []):
        body: dict[str, Any] = {"title": task["title"]}
        for field in ("completed", "priority", "description"):
            if field in task:
                body[field] = task[field]
        if "due" in task:
            body["due_date"] = resolve_due(task["due"], today).isoformat()
        if "time" in task:
            body["due_time"] = task["time"]
        resp = await client.post("/api/tasks", json=body, headers=user.headers)
        assert resp.status_code == 201, resp.text
        ids[task["title"]] = resp.json()["id"]
    before = await _tasks(client, user.headers)

    # "say": one message, or a conversation (a list of messages, one conversation, judged on
    # the task list after the last message and on the last reply).
    turns = case["say"] if isinstance(case["say"], list) else [case["say"]]
    conversation_id: int | None = None
    reply = say = ""
    for turn in turns:
        say = re.sub(r"\{id:([^}]+)\}", lambda m: str(ids[m.group(1)]), turn)
        body = {"message": say, "conversation_id": conversation_id}
        resp = await client.post("/api/chat", json=body, headers=user.headers)
        assert resp.status_code == 200, resp.text
        reply = resp.json()["reply"]
        conversation_id = resp.json()["conversation_id"]
    after = await _tasks(client, user.headers)
    context = f"say={say!r}\nreply={reply!r}\ntasks={_brief(after)}"

    expect = case.get("expect", {})
    if "tasks" in expect:
        _match_tasks(expect["tasks"], after, today, context)
    else:
        assert _brief(after) == _brief(before), f"task list changed\n{context}"
    for text in expect.get("reply_has", []):
        assert text.lower() in reply.lower(), f"reply lacks {text!r}\n{context}"
    for text in expect.get("reply_lacks", []):
        assert text.lower() not in reply.lower(), f"reply contains {text!r}\n{context}"


async def _tasks(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = await client.get("/api/tasks", params={"limit": 200}, headers=headers)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def _brief(tasks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (t["title"], t["completed"], t["priority"], t["description"], t["due_date"], t["due_time"])
        for t in tasks
    )


def _match_tasks(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], today: date, context: str
) -> None:
    assert len(actual) == len(expected), f"expected {len(expected)} tasks\n{context}"
    remaining = list(actual)
    for want in expected:
        found = None
        for task in remaining:
            if norm_title(task["title"]) != norm_title(want["title"]):
                continue
            if task["completed"] != want.get("completed", False):
                continue
            if "priority" in want and task["priority"] != want["priority"]:
                continue
            if "description" in want and task["description"].strip() != want["description"]:
                continue
            if "due" in want and task["due_date"] != resolve_due(want["due"], today).isoformat():
                continue
            if "time" in want and task["due_time"] != want["time"]:  # "time": null for none
                continue
            if "tags" in want and task["tags"] != want["tags"]:
                continue
            found = task
            break
        assert found is not None, f"no task matches {want}\n{context}"
        remaining.remove(found)


@pytest.mark.parametrize("case", _load(_sample_path(), "sample"))
async def test_sample_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any] | None
) -> None:
    if case is None:
        pytest.fail(f"chat cases not found: {SHARED_SAMPLE} (nor the copy {SAMPLE_COPY})")
    await _run_case(client, make_user, case)


@pytest.mark.parametrize("case", _load(OWN_CASES, "own"))
async def test_own_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any] | None
) -> None:
    assert case is not None, f"missing {OWN_CASES}"
    await _run_case(client, make_user, case)


@pytest.mark.parametrize("case", _load(SAFETY_CASES, "safety"))
async def test_safety_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any] | None
) -> None:
    assert case is not None, f"missing {SAFETY_CASES}"
    await _run_case(client, make_user, case)


@pytest.mark.parametrize("case", _load(UNDERSTANDING_CASES, "understanding"))
async def test_understanding_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any] | None
) -> None:
    assert case is not None, f"missing {UNDERSTANDING_CASES}"
    await _run_case(client, make_user, case)


@pytest.mark.parametrize("case", _load(TIME_CASES, "times"))
async def test_time_case(
    client: httpx.AsyncClient, make_user: MakeUserLike, case: dict[str, Any] | None
) -> None:
    assert case is not None, f"missing {TIME_CASES}"
    await _run_case(client, make_user, case)


def test_sample_copy_is_current() -> None:
    """The copy CI falls back on must match the shared file when both exist."""
    assert SAMPLE_COPY.is_file(), f"missing {SAMPLE_COPY}"
    if SHARED_SAMPLE.is_file():
        assert SAMPLE_COPY.read_text() == SHARED_SAMPLE.read_text(), (
            f"{SAMPLE_COPY} is stale: copy {SHARED_SAMPLE} over it"
        )


# The same requests wrapped the way people actually type them.
REPHRASINGS = {
    "could-you": lambda s: f"hey, could you {s}?",
    "thanks": lambda s: f"ok, can you {s}, thanks",
    "capitalised": lambda s: f"Please {s}.",
}


@pytest.mark.parametrize("style", list(REPHRASINGS))
async def test_sample_cases_survive_politeness_and_punctuation(
    client: httpx.AsyncClient, make_user: MakeUserLike, style: str
) -> None:
    path = _sample_path()
    assert path is not None, f"chat cases not found: {SHARED_SAMPLE}"
    transform = REPHRASINGS[style]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        if case["name"] in {"greeting", "help", "nonsense"}:
            continue  # small talk is not wrapped in requests
        await _run_case(client, make_user, {**case, "say": transform(case["say"])})
