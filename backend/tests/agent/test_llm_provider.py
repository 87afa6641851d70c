"""The LLM provider path: real openai SDK + HTTP + tool loop against a scripted fake on 127.0.0.1.

Covers multi-step tool use, parallel calls, provider 500 / 429-then-success / timeout, actions
applied before a failure (reported, never repeated), malformed and invalid tool arguments, unknown
tools, the step limit, conversation history, and the settings (keys, defaults, start-up errors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from testsupport.app import UserCtx, make_settings
from testsupport.fake_llm import FakeLLM, Reply, error, text, tool_calls
from todo_api.agent.llm import OpenAIAgent
from todo_api.agent.tools import openai_tools
from todo_api.core.config import ConfigError, load_settings
from todo_api.main import create_app

MakeUser = Callable[[], Awaitable[UserCtx]]


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def fake(llm: FakeLLM) -> FakeLLM:
    llm.reset()
    return llm


@asynccontextmanager
async def llm_client(
    database_url: str, fake: FakeLLM, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {
        "llm_provider": "openai-compatible",
        "llm_base_url": fake.base_url,
        "llm_api_key": "test-llm-key",
        "llm_model": "fake-model",
        "llm_max_retries": 0,
        "llm_timeout_seconds": 5,
        "llm_max_steps": 4,
    }
    values.update(overrides)
    app: FastAPI = create_app(make_settings(database_url, **values))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.agent.aclose()
        await app.state.db.dispose()


async def chat(
    client: httpx.AsyncClient, user: UserCtx, message: str, **extra: Any
) -> httpx.Response:
    return await client.post("/api/chat", json={"message": message, **extra}, headers=user.headers)


async def tasks_of(client: httpx.AsyncClient, user: UserCtx) -> list[dict[str, Any]]:
    resp = await client.get("/api/tasks", headers=user.headers)
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


async def test_multi_step_tool_use(database_url: str, fake: FakeLLM, make_user: MakeUser) -> None:
    fake.push(
        tool_calls(
            ("add_task", {"title": "buy milk", "priority": "high", "due_date": "2030-01-02"})
        ),
        tool_calls(("list_tasks", {"status": "pending"})),
        text("Added buy milk; it is your only pending task."),
    )
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await chat(
            client, user, "add buy milk on 2030-01-02, high priority, then show my list"
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["reply"] == "Added buy milk; it is your only pending task."
        assert [(a["tool"], a["ok"]) for a in body["actions"]] == [
            ("add_task", True),
            ("list_tasks", True),
        ]
        [task] = await tasks_of(client, user)
        assert (task["title"], task["priority"], task["due_date"]) == (
            "buy milk",
            "high",
            "2030-01-02",
        )

    assert len(fake.requests) == 3
    first = fake.requests[0]
    assert first["model"] == "fake-model"
    assert first["tools"] == openai_tools()  # the schemas generated from the argument models
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "add_task",
        "list_tasks",
        "complete_task",
        "reopen_task",
        "delete_task",
        "update_task",
    }
    system = first["messages"][0]
    assert system["role"] == "system"
    assert datetime.now(UTC).date().isoformat() in system["content"]
    assert fake.headers[0]["authorization"] == "Bearer test-llm-key"
    # The tool results went back to the model, tied to the calls that asked for them.
    call_id = fake.requests[1]["messages"][-2]["tool_calls"][0]["id"]
    [result] = tool_messages(fake.requests[1])
    assert result["tool_call_id"] == call_id
    assert json.loads(result["content"])["ok"] is True
    listing = json.loads(tool_messages(fake.requests[2])[-1]["content"])
    assert [t["title"] for t in listing["tasks"]] == ["buy milk"]


async def test_parallel_tool_calls(database_url: str, fake: FakeLLM, make_user: MakeUser) -> None:
    fake.push(
        tool_calls(("add_task", {"title": "eggs"}), ("add_task", {"title": "bread"})),
        text("Added eggs and bread."),
    )
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await chat(client, user, "add eggs and bread")
        assert resp.status_code == 200
        assert sorted(t["title"] for t in await tasks_of(client, user)) == ["bread", "eggs"]
    assert len(tool_messages(fake.requests[1])) == 2


async def test_provider_500_is_a_502_and_messages_are_saved(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(*[error(500, retry_after_ms="10") for _ in range(3)])
    user = await make_user()
    async with llm_client(database_url, fake, llm_max_retries=1) as client:
        resp = await chat(client, user, "add buy milk")
        assert resp.status_code == 502
        body = resp.json()
        assert "provider" in body["reply"].lower() and body["actions"] == []
        assert len(fake.requests) == 2  # one try + one retry (LLM_MAX_RETRIES=1)
        messages = await client.get(
            f"/api/conversations/{body['conversation_id']}/messages", headers=user.headers
        )
        assert [(m["role"], m["content"]) for m in messages.json()] == [
            ("user", "add buy milk"),
            ("assistant", body["reply"]),
        ]
        assert await tasks_of(client, user) == []


async def test_429_then_success_is_retried(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(error(429, "slow down", retry_after_ms="20"), text("Hello!"))
    user = await make_user()
    async with llm_client(database_url, fake, llm_max_retries=2) as client:
        resp = await chat(client, user, "hi")
        assert resp.status_code == 200, resp.text
        assert resp.json()["reply"] == "Hello!"
    assert len(fake.requests) == 2


async def test_429_exhausted_is_a_503(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(
        error(429, "slow down", retry_after_ms="10"), error(429, "slow down", retry_after_ms="10")
    )
    user = await make_user()
    async with llm_client(database_url, fake, llm_max_retries=1) as client:
        resp = await chat(client, user, "hi")
        assert resp.status_code == 503
        assert "rate limit" in resp.json()["reply"].lower()


async def test_timeout_is_a_503(database_url: str, fake: FakeLLM, make_user: MakeUser) -> None:
    fake.push(Reply(text("too late").body, delay=3.0))
    user = await make_user()
    async with llm_client(database_url, fake, llm_timeout_seconds=0.3) as client:
        started = time.monotonic()
        resp = await chat(client, user, "hi")
        elapsed = time.monotonic() - started
    assert resp.status_code == 503
    assert "timed out" in resp.json()["reply"]
    assert elapsed < 2.5  # gave up well before the provider answered


async def test_failure_after_a_tool_reports_the_applied_action_once(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(
        tool_calls(("add_task", {"title": "pay rent"})),
        error(503, retry_after_ms="10"),
        error(503, retry_after_ms="10"),
    )
    user = await make_user()
    async with llm_client(database_url, fake, llm_max_retries=1) as client:
        resp = await chat(client, user, "add pay rent")
        assert resp.status_code == 502
        body = resp.json()
        assert [(a["tool"], a["ok"]) for a in body["actions"]] == [("add_task", True)]
        assert "pay rent" in body["reply"]  # nothing half-applied is hidden
        assert [t["title"] for t in await tasks_of(client, user)] == ["pay rent"]  # once
        history = await client.get(
            f"/api/conversations/{body['conversation_id']}/messages", headers=user.headers
        )
        assert history.json()[-1]["actions"][0]["tool"] == "add_task"
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("add_task", "{not json", "not valid JSON"),
        ("add_task", {"priority": "high"}, "Invalid arguments for add_task"),
        ("add_task", {"title": "x", "due_date": "someday maybe"}, "not a date"),
        ("launch_rockets", {}, "Unknown tool 'launch_rockets'"),
    ],
)
async def test_bad_tool_calls_go_back_to_the_model(
    database_url: str,
    fake: FakeLLM,
    make_user: MakeUser,
    name: str,
    arguments: dict[str, Any] | str,
    expected: str,
) -> None:
    fake.push(tool_calls((name, arguments)), text("Sorry, I could not do that."))
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await chat(client, user, "do something odd")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["reply"] == "Sorry, I could not do that."
        assert body["actions"][0]["ok"] is False and body["actions"][0]["tool"] == name
        assert await tasks_of(client, user) == []
    [result] = tool_messages(fake.requests[1])
    content = json.loads(result["content"])
    assert content["ok"] is False and expected in content["message"]


async def test_arguments_beyond_64_bit_integers_are_answered_and_stored(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    """orjson refuses integers over 64 bits; the reply and the stored turn fall back to the
    standard library (db.dump_json, api/responses.json_response) instead of failing."""
    arguments = {"count": 10**30}
    fake.push(tool_calls(("launch_rockets", arguments)), text("I can't launch rockets."))
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await chat(client, user, "launch a lot of rockets")
        assert resp.status_code == 200, resp.text
        assert resp.json()["actions"][0]["arguments"] == arguments
        cid = resp.json()["conversation_id"]
        path = f"/api/conversations/{cid}/messages"
        messages = (await client.get(path, headers=user.headers)).json()
        stored = messages[1]["actions"][0]
        assert stored["tool"] == "launch_rockets"
        # orjson reads such an integer back as the nearest float.
        assert stored["arguments"]["count"] == pytest.approx(10**30)


async def test_null_arguments_mean_no_arguments(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(tool_calls(("count_tasks", "null")), text("You have no tasks."))
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await chat(client, user, "how many tasks?")
        assert resp.status_code == 200
        assert resp.json()["actions"][0]["ok"] is True
    assert json.loads(tool_messages(fake.requests[1])[0]["content"])["total"] == 0


async def test_step_limit(database_url: str, fake: FakeLLM, make_user: MakeUser) -> None:
    fake.push(*[tool_calls(("list_tasks", {})) for _ in range(5)])
    user = await make_user()
    async with llm_client(database_url, fake, llm_max_steps=3) as client:
        resp = await chat(client, user, "loop forever")
        assert resp.status_code == 200
        body = resp.json()
        assert "stopped after 3 steps" in body["reply"]
        assert [a["tool"] for a in body["actions"]] == ["list_tasks"] * 3
    assert len(fake.requests) == 3


async def test_history_is_sent_and_tools_are_scoped_to_the_user(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    owner, other = await make_user(), await make_user()
    async with llm_client(database_url, fake) as client:
        created = await client.post(
            "/api/tasks", json={"title": "secret plan"}, headers=owner.headers
        )
        secret_id = created.json()["id"]
        fake.push(text("Hi there."))
        first = await chat(client, other, "hello")
        conversation_id = first.json()["conversation_id"]
        # The model tries to touch the owner's task by id: for this user it does not exist.
        fake.push(
            tool_calls(
                ("delete_task", {"task": str(secret_id)}), ("complete_task", {"task": "secret"})
            ),
            text("I could not find that task."),
        )
        second = await chat(
            client, other, f"delete task {secret_id}", conversation_id=conversation_id
        )
        assert second.status_code == 200
        assert [a["ok"] for a in second.json()["actions"]] == [False, False]
        [task] = await tasks_of(client, owner)
        assert task["title"] == "secret plan" and task["completed"] is False
    history = [(m["role"], m["content"]) for m in fake.requests[1]["messages"][1:]]
    assert history[:3] == [
        ("user", "hello"),
        ("assistant", "Hi there."),
        ("user", f"delete task {secret_id}"),
    ]


async def test_no_pooled_connection_is_held_while_the_provider_works(
    database_url: str, fake: FakeLLM, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat turn keeps its connection between statements, so the agent must give it back
    before each provider request: after the history read, and after tool calls."""
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        app: Any = client._transport.app  # type: ignore[attr-defined]
        agent: OpenAIAgent = app.state.agent
        pool = app.state.db.engine.sync_engine.pool
        held: list[int] = []
        complete = agent._complete

        async def observed(messages: list[dict[str, Any]]) -> Any:
            held.append(pool.checkedout())
            return await complete(messages)

        monkeypatch.setattr(agent, "_complete", observed)
        fake.push(text("Hi there."))
        first = await chat(client, user, "hello")
        fake.push(
            tool_calls(("add_task", {"title": "buy milk"})),
            tool_calls(("list_tasks", {"status": "pending"})),
            text("Done."),
        )
        second = await chat(
            client, user, "add buy milk", conversation_id=first.json()["conversation_id"]
        )
        assert second.status_code == 200, second.text
        assert [a["tool"] for a in second.json()["actions"]] == ["add_task", "list_tasks"]
    assert held == [0, 0, 0, 0]


def test_missing_keys_are_config_errors_naming_the_variable() -> None:
    base = {"database_url": "sqlite:///./x.db"}
    for provider, variable in (("groq", "GROQ_API_KEY"), ("openai", "OPENAI_API_KEY")):
        with pytest.raises(ConfigError) as info:
            load_settings(**base, llm_provider=provider)
        assert str(info.value).startswith(f"{variable}:")
    with pytest.raises(ConfigError) as info:
        load_settings(**base, llm_provider="openai-compatible")
    assert str(info.value).startswith("LLM_BASE_URL:")
    # Either the provider's key or LLM_API_KEY will do.
    load_settings(**base, llm_provider="groq", groq_api_key="gsk-test")
    load_settings(**base, llm_provider="openai", llm_api_key="sk-test")


def test_check_config_exits_2_with_one_line(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "GROQ_", "OPENAI_"))}
    env.update({"LLM_PROVIDER": "groq", "DATABASE_URL": "sqlite:///./x.db"})
    proc = subprocess.run(
        [sys.executable, "-m", "todo_api.cli", "check-config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("configuration error: GROQ_API_KEY:")


async def test_groq_and_openai_defaults() -> None:
    groq = OpenAIAgent(load_settings(llm_provider="groq", groq_api_key="gsk-test"))
    openai_agent = OpenAIAgent(load_settings(llm_provider="openai", openai_api_key="sk-test"))
    try:
        assert str(groq.client.base_url).rstrip("/") == "https://api.groq.com/openai/v1"
        assert groq.model == "llama-3.3-70b-versatile"
        assert groq.client.api_key == "gsk-test"
        assert str(openai_agent.client.base_url).rstrip("/") == "https://api.openai.com/v1"
        assert openai_agent.model == "gpt-4o-mini"
    finally:
        await groq.aclose()
        await openai_agent.aclose()


async def test_safety_rules_reach_the_model_and_undo_needs_no_model(
    database_url: str, fake: FakeLLM, make_user: MakeUser
) -> None:
    fake.push(tool_calls(("delete_task", {"task": "buy milk"})), text("Deleted buy milk."))
    user = await make_user()
    async with llm_client(database_url, fake) as client:
        resp = await client.post(
            "/api/tasks", json={"title": "buy milk", "tags": ["shop"]}, headers=user.headers
        )
        assert resp.status_code == 201
        first = await chat(client, user, "delete buy milk")
        assert await tasks_of(client, user) == []
        undone = await chat(
            client, user, "oops, undo that", conversation_id=first.json()["conversation_id"]
        )
        assert undone.status_code == 200 and "buy milk" in undone.json()["reply"]
        [restored] = await tasks_of(client, user)
        assert (restored["title"], restored["tags"]) == ("buy milk", ["shop"])
    assert len(fake.requests) == 2  # the undo was settled without asking the model
    system = fake.requests[0]["messages"][0]["content"]
    assert "confirm: true" in system and "never instructions" in system
    [result] = tool_messages(fake.requests[1])
    assert "not instructions" in json.loads(result["content"])["note"]
