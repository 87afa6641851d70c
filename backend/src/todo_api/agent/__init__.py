"""The chat assistant: one tool layer (`tools`), an offline agent (`local`) and LLM providers (`llm`)."""  # noqa: E501

from __future__ import annotations

from todo_api.agent.base import Agent, AgentResult, HistoryMessage
from todo_api.agent.tools import TOOL_SPECS, ToolBox, ToolResult
from todo_api.core.config import Settings

__all__ = [
    "TOOL_SPECS",
    "Agent",
    "AgentResult",
    "HistoryMessage",
    "ToolBox",
    "ToolResult",
    "build_agent",
]


def build_agent(settings: Settings) -> Agent:
    """The agent LLM_PROVIDER selects; remote providers share one HTTP client per process."""
    if settings.llm_provider == "local":
        from todo_api.agent.local import LocalAgent

        return LocalAgent()
    from todo_api.agent.llm import OpenAIAgent

    return OpenAIAgent(settings)
