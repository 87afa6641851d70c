"""Item 5: provider trouble, end to end. A real `todo-api serve` talks to a scripted
OpenAI-compatible server (testsupport/fake_llm.py) through the real openai SDK, with a short
timeout and one retry. For each fault the user gets a clear reply with the right status, the
conversation stays consistent (user/assistant pairs, the stored actions match the answer), tool
calls already applied are reported, and nothing is applied twice (not by the SDK's retries, not
when the user sends the message again).

In-process unit coverage of the same agent lives in backend/tests/agent/test_llm_provider.py
(500 -> 502, 429 retried/exhausted, timeout, failure after a tool, bad tool calls, step limit);
this suite adds the system-level view: a separate process, bounded wall-clock time including the
SDK's retries, truncated/empty/non-JSON bodies, and a user retry after a partial failure."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testsupport.pg import PostgresServer
from testsupport.server import BackendServer

from .conftest import Secrets, User, backend_env, db_url_with_password, signup
from .ledger import LEDGER

fake_llm = pytest.importorskip("testsupport.fake_llm", reason="testsupport/fake_llm.py not landed")
FakeLLM, Reply, error, text, tool_calls = (
    fake_llm.FakeLLM,
    fake_llm.Reply,
    fake_llm.error,
    fake_llm.text,
    fake_llm.tool_calls,
)

ITEM = 5
LLM_TIMEOUT = 1.5
RETRIES = 1
# Attempts x timeout, plus the SDK's backoff, plus margin: a turn never hangs past this.
TURN_BOUND = (RETRIES + 1) * LLM_TIMEOUT + 4.0
FAST_RETRY = {"retry-after-ms": "20"}


@pytest.fixture(scope="module")
def llm() -> Iterator[Any]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(scope="module")
def chat_backend(
    pg_server: PostgresServer, secret_values: Secrets, llm: Any
) -> Iterator[BackendServer]:
    url = db_url_with_password(pg_server, f"llm_{uuid.uuid4().hex[:8]}", secret_values.db_password)
    env = backend_env(
        url,
        secret_values,
        LLM_PROVIDER="openai-compatible",
        LLM_BASE_URL=llm.base_url,
        LLM_MODEL="fake-model",
        LLM_TIMEOUT_SECONDS=str(LLM_TIMEOUT),
        LLM_MAX_RETRIES=str(RETRIES),
    )
    with BackendServer(env) as server:
        yield server


@pytest.fixture
def c(chat_backend: BackendServer, llm: Any) -> Iterator[httpx.Client]:
    llm.reset()
    with httpx.Client(base_url=chat_backend.url, timeout=60) as client:
        yield client


def turn(c: httpx.Client, user: User, message: str, conversation_id: int | None = None) -> Any:
    body: dict[str, Any] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    start = time.monotonic()
    resp = c.post("/api/chat", json=body, headers=user.headers)
    elapsed = time.monotonic() - start
    LEDGER.add(ITEM, "requests")
    assert elapsed < TURN_BOUND, f"chat turn took {elapsed:.1f}s (bound {TURN_BOUND}s)"
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    data = resp.json()
    assert set(data) == {"conversation_id", "reply", "actions"}, data
    assert data["reply"].strip(), data
    return resp.status_code, data


def titles(c: httpx.Client, user: User) -> list[str]:
    items = c.get("/api/tasks", params={"limit": 200}, headers=user.headers).json()["items"]
    return sorted(t["title"] for t in items)


def assert_consistent(
    c: httpx.Client, user: User, conversation_id: int, answers: list[Any]
) -> None:
    """Each turn stored exactly one user and one assistant message, in order, and the stored
    actions are the ones the user was shown."""
    msgs = c.get(f"/api/conversations/{conversation_id}/messages", headers=user.headers).json()
    assert [m["role"] for m in msgs] == ["user", "assistant"] * len(answers), msgs
    for assistant, shown in zip(msgs[1::2], answers, strict=True):
        assert assistant["content"] == shown["reply"]
        assert assistant["actions"] == shown["actions"]


def fault(n: int = 1) -> None:
    LEDGER.add(ITEM, "faults injected", n)


def test_timeouts_are_a_bounded_503(c: httpx.Client, llm: Any) -> None:
    user = signup(c)
    llm.push(*[Reply(text("late").body, delay=LLM_TIMEOUT + 1.5)] * (RETRIES + 1))
    fault(RETRIES + 1)
    status, data = turn(c, user, "add a task to buy milk")
    assert status == 503 and "timed out" in data["reply"], data
    assert data["actions"] == [] and titles(c, user) == []
    assert len(llm.requests) == RETRIES + 1  # the SDK retried once, then gave up
    assert_consistent(c, user, data["conversation_id"], [data])


@pytest.mark.parametrize(
    ("replies", "status", "words"),
    [
        ([error(429, "slow down", **{"retry-after-ms": "20"})] * (RETRIES + 1), 503, "rate limit"),
        ([error(500)] * (RETRIES + 1), 502, "HTTP 500"),
        ([error(503)] * (RETRIES + 1), 502, "HTTP 503"),
        ([Reply('{"id": "chatcmpl-1", "object": "chat.completion", "choi')], 502, "invalid"),
        ([Reply("<html>Bad Gateway</html>")], 502, "invalid"),
        ([Reply({"id": "x", "object": "chat.completion", "choices": []})], 502, "empty"),
        ([Reply('"just a string"')], 502, "empty"),
        ([Reply({"id": "x", "object": "chat.completion", "choices": "nope"})], 502, "empty"),
        ([Reply({"id": "x", "choices": [{"index": 0, "message": None}]})], 502, "invalid"),
    ],
    ids=[
        "429",
        "500",
        "503",
        "truncated-json",
        "html",
        "no-choices",
        "json-string",
        "choices-not-a-list",
        "null-message",
    ],
)
def test_provider_errors_get_a_clear_reply(
    c: httpx.Client, llm: Any, replies: list[Any], status: int, words: str
) -> None:
    user = signup(c)
    llm.push(*replies)
    fault(len(replies))
    got, data = turn(c, user, "what is on my list?")
    assert got == status, data
    assert words.lower() in data["reply"].lower(), data
    assert "Traceback" not in data["reply"]
    assert_consistent(c, user, data["conversation_id"], [data])
    # The conversation goes on once the provider is healthy.
    llm.push(text("You have no tasks."))
    ok, again = turn(c, user, "what is on my list?", data["conversation_id"])
    assert ok == 200 and again["reply"] == "You have no tasks."
    assert_consistent(c, user, data["conversation_id"], [data, again])


def test_malformed_tool_calls_are_reported_not_applied(c: httpx.Client, llm: Any) -> None:
    user = signup(c)
    llm.push(
        tool_calls(
            ("add_task", '{"title": "half'),  # truncated JSON arguments
            ("add_task", '["not", "an", "object"]'),
            ("add_task", {"title": 12345678901234567890, "priority": {"x": 1}}),
            ("drop_database", {"really": True}),  # a tool that does not exist
            ("add_task", {"title": "the valid one"}),
        ),
        text("Added the valid one."),
    )
    fault(4)
    status, data = turn(c, user, "add some tasks")
    assert status == 200, data
    oks = [a["ok"] for a in data["actions"]]
    assert oks.count(True) == 1 and oks.count(False) >= 3, data["actions"]
    assert titles(c, user) == ["the valid one"]
    # Every tool call got an answer back to the model, so the conversation with it is valid.
    followup = llm.requests[1]["messages"]
    call_ids = (
        {tc["id"] for tc in followup[-6]["tool_calls"]} if followup[-6].get("tool_calls") else set()
    )
    answered = {m["tool_call_id"] for m in followup if m.get("role") == "tool"}
    assert call_ids <= answered, (call_ids, answered)
    assert_consistent(c, user, data["conversation_id"], [data])


def test_applied_tools_are_reported_once_and_never_repeated(c: httpx.Client, llm: Any) -> None:
    user = signup(c)
    # Step 1 adds a task; step 2 fails even after the SDK's retry.
    llm.push(tool_calls(("add_task", {"title": "buy oat milk"})), *[error(500)] * (RETRIES + 1))
    fault(RETRIES + 1)
    status, first = turn(c, user, "add buy oat milk and then list everything")
    assert status == 502, first
    assert [a["tool"] for a in first["actions"]] == ["add_task"] and first["actions"][0]["ok"]
    assert "already done" in first["reply"].lower(), first["reply"]
    assert titles(c, user) == ["buy oat milk"]
    assert len(llm.requests) == 1 + RETRIES + 1  # the failing step was retried, not step 1
    # The user sends the same message again: history tells the model what was done; the model
    # answers without a tool call and nothing is added twice.
    llm.push(text("Already added buy oat milk."))
    status, second = turn(
        c, user, "add buy oat milk and then list everything", first["conversation_id"]
    )
    assert status == 200 and second["actions"] == []
    assert titles(c, user) == ["buy oat milk"]
    history = llm.requests[-1]["messages"]
    assert any(
        "buy oat milk" in (m.get("content") or "") and m["role"] == "assistant" for m in history
    ), history
    assert_consistent(c, user, first["conversation_id"], [first, second])


def test_rate_limited_step_retried_applies_its_tool_once(c: httpx.Client, llm: Any) -> None:
    user = signup(c)
    llm.push(
        error(429, **FAST_RETRY),
        tool_calls(("add_task", {"title": "exactly once"})),
        error(502, **FAST_RETRY),
        text("Added exactly once."),
    )
    fault(2)
    status, data = turn(c, user, "add exactly once")
    assert status == 200, data
    assert titles(c, user) == ["exactly once"]
    assert [a["tool"] for a in data["actions"]] == ["add_task"]
    assert len(llm.requests) == 4
    assert_consistent(c, user, data["conversation_id"], [data])


def test_backend_log_has_no_tracebacks_for_provider_faults(chat_backend: BackendServer) -> None:
    """Provider faults are expected operating conditions: warnings, not crashes."""
    log = chat_backend.log_text()
    assert "Traceback" not in log, log[-3000:]
    LEDGER.set(ITEM, "provider requests timeout / retries", f"{LLM_TIMEOUT} s / {RETRIES}")
