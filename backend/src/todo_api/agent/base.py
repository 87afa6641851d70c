"""What every agent shares: the turn's input (history), its output, and the action log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from todo_api.agent.tools import ToolBox, ToolResult


@dataclass
class HistoryMessage:
    role: str  # "user" | "assistant"
    content: str
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AgentResult:
    reply: str
    actions: list[dict[str, Any]]
    # 200 normally; 502/503 when the LLM provider failed (the reply says so).
    status_code: int = 200


class ActionLog:
    """Runs tools and records each call as an action: {tool, arguments, result, ok}."""

    def __init__(self, tools: ToolBox) -> None:
        self.tools = tools
        self.actions: list[dict[str, Any]] = []

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        result = await self.tools.call(name, arguments)
        action: dict[str, Any] = {
            "tool": name,
            "arguments": arguments,
            "result": result.message,
            "ok": result.ok,
        }
        listed = result.data.get("tasks")
        if name == "list_tasks" and isinstance(listed, list):
            action["listed"] = [t["id"] for t in listed if isinstance(t, dict) and "id" in t]
        task = result.data.get("task")
        if isinstance(task, dict) and "id" in task:
            action["task_id"] = task["id"]  # what "it" refers to in the next message
        if result.data.get("error") == "ambiguous":
            # Kept with the message (not in the API's ActionOut) so a follow-up "the first one" works.  # noqa: E501
            candidates = result.data.get("candidates", [])
            action["candidates"] = [c["id"] for c in candidates]
            # ...and only while those tasks are as the question showed them.
            action["seen"] = {str(c["id"]): c.get("updated_at") for c in candidates}
        if result.ok and result.undo:
            # "undo" reverts this; `change` names it so a second "undo" goes further back.
            action["undo"] = result.undo
            action["change"] = uuid.uuid4().hex[:16]
        self.actions.append(action)
        return result

    def note(self, action: dict[str, Any]) -> None:
        """Record something the agent did without a tool (a question it asked, an undo)."""
        self.actions.append(action)


class Agent(Protocol):
    name: str
    # Whether the agent reads the task details in tool results (an LLM does; the local agent
    # reads only the ids of listed tasks, and a listing's details cost more than its query).
    reads_task_details: bool

    async def run(
        self, tools: ToolBox, history: list[HistoryMessage], message: str
    ) -> AgentResult: ...
