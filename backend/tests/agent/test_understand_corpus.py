"""`understand()` on the whole corpus, directly (no HTTP, milliseconds): every message whose case
expects a change must be understood as some request, never "unknown"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from todo_api.agent.nlu import split_clauses, understand
from todo_api.agent.safety import is_undo, is_yes

HERE = Path(__file__).resolve().parent
CORPUS = sorted(HERE.glob("chat-cases.*.jsonl"))


def _messages_that_change_tasks() -> list[str]:
    """The message of each one-message case whose task list is expected to change (a
    conversation's later messages depend on what was said before: the HTTP cases cover them)."""
    found: list[str] = []
    for path in CORPUS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            says = case["say"] if isinstance(case["say"], list) else [case["say"]]
            expected = case.get("expect", {}).get("tasks")
            if expected is None or len(says) > 1 or "{id:" in says[-1]:
                continue
            before = sorted(json.dumps(t, sort_keys=True) for t in case.get("tasks", []))
            after = sorted(json.dumps(t, sort_keys=True) for t in expected)
            if before != after and not (is_yes(says[-1]) or is_undo(says[-1])):
                found.append(says[-1])
    return found


MESSAGES = _messages_that_change_tasks()


def test_the_corpus_is_found() -> None:
    assert len(CORPUS) >= 4 and len(MESSAGES) > 120


@pytest.mark.parametrize("message", MESSAGES)
def test_a_message_that_changes_tasks_is_understood(message: str) -> None:
    today = datetime.now(UTC).date()
    for clause in split_clauses(message):
        intent = understand(clause, today)
        assert intent.kind not in {"unknown", "small_talk", "help"}, (clause, intent)
