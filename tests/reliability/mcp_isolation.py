"""MCP half of item 2: every MCP tool, called by user B over /mcp (JSON-RPC over streamable HTTP),
treats user A's tasks exactly like tasks that do not exist and never changes them."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from .conftest import User

NONEXISTENT = 2_000_000_000
_ids = itertools.count(1)


def mcp_call(client: httpx.Client, user: User, method: str, params: dict[str, Any]) -> Any:
    resp = client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params},
        headers={
            **user.headers,
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
    )
    assert resp.status_code == 200, f"{method}: {resp.status_code} {resp.text}"
    body = resp.json()
    assert "result" in body, body
    return body["result"]


def tool(client: httpx.Client, user: User, name: str, **arguments: Any) -> dict[str, Any]:
    result: dict[str, Any] = mcp_call(
        client, user, "tools/call", {"name": name, "arguments": arguments}
    )
    return result


def _text(result: dict[str, Any], ref: str) -> str:
    """The tool's answer with the caller's own reference masked (it is echoed back)."""
    content = json.dumps(
        {"content": result.get("content"), "isError": result.get("isError")}, sort_keys=True
    )
    return content.replace(ref, "<ref>")


def _a_state(client: httpx.Client, a: User) -> Any:
    return client.get("/api/tasks", params={"limit": 200}, headers=a.headers).json()


def check_mcp_isolation(client: httpx.Client, a: User, b: User) -> int:
    """Returns the number of requests sent; raises AssertionError on any leak."""
    sent = 0
    tools = {t["name"] for t in mcp_call(client, b, "tools/list", {})["tools"]}
    sent += 1
    expected = {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"}
    assert expected <= tools, tools
    secret = client.post(
        "/api/tasks", json={"title": "zebra quartz secret"}, headers=a.headers
    ).json()
    done = client.post(
        "/api/tasks", json={"title": "zebra quartz done", "completed": True}, headers=a.headers
    ).json()
    sent += 2
    before = _a_state(client, a)

    problems = []
    ref_tools = sorted(
        t for t in tools if t in {"complete_task", "reopen_task", "delete_task", "update_task"}
    )
    for name in ref_tools:
        extra = {"title": "hijacked"} if name == "update_task" else {}
        pairs = [
            (str(secret["id"]), str(NONEXISTENT)),  # by id
            (str(done["id"]), str(NONEXISTENT - 1)),
            ("zebra quartz secret", "yak vellum unknown"),  # by title words
        ]
        for foreign_ref, missing_ref in pairs:
            foreign = tool(client, b, name, task=foreign_ref, **extra)
            missing = tool(client, b, name, task=missing_ref, **extra)
            sent += 2
            if not foreign.get("isError"):
                problems.append(f"{name}({foreign_ref!r}) succeeded for another user: {foreign}")
            if _text(foreign, foreign_ref) != _text(missing, missing_ref):
                problems.append(
                    f"{name}: foreign {_text(foreign, foreign_ref)} != "
                    f"missing {_text(missing, missing_ref)}"
                )
    listed = tool(client, b, "list_tasks", query="zebra quartz")
    sent += 1
    if "zebra" in json.dumps(listed):
        problems.append(f"list_tasks shows A's tasks to B: {listed}")
    for name in sorted(tools & {"count_tasks", "clear_completed"}):
        result = tool(client, b, name)
        sent += 1
        if "zebra" in json.dumps(result):
            problems.append(f"{name} leaks A's tasks: {result}")
    count = tool(client, b, "count_tasks") if "count_tasks" in tools else None
    sent += 1
    if count is not None:
        structured = count.get("structuredContent") or {}
        if structured.get("total", 0) != 0:
            problems.append(f"count_tasks counts A's tasks for B: {structured}")
    after = _a_state(client, a)
    sent += 2
    assert not problems, "\n".join(problems)
    assert after == before, "MCP calls by user B changed user A's tasks"
    return sent
