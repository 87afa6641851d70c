"""Corrections right after a change: "nope I meant the taxes", "no, the other one", "wrong one".

The previous reply changed one task; the user says it was the wrong one. The change is reverted
(the undo steps the tool recorded) and the same action is applied to the task meant — with the
usual safety: a loose match asks "did you mean …?", several matches ask which, and nothing is
done to a task that cannot be found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from todo_api.agent.base import ActionLog, HistoryMessage
from todo_api.agent.dates import find_due
from todo_api.agent.matching import MIN_SCORE, Resolution, clearly_meant, rank, resolve
from todo_api.agent.nlu import understand
from todo_api.agent.safety import ask_first, undo
from todo_api.agent.tools import describe
from todo_api.services.tasks import TaskBrief

_I = re.IGNORECASE
_ANY_DAY = date(2026, 1, 1)  # only whether a date is named matters, not which
# Changes to one task that a correction can move to another task.
_CORRECTABLE = {
    "complete_task": "mark as done",
    "reopen_task": "reopen",
    "delete_task": "delete",
    "update_task": "change",
}
_CORRECTION = re.compile(
    r"^(?P<lead>(?:(?:no+|nope|nah|oops|whoops|sorry|wait|ugh|oh|hmm+|argh|actually|err?m?)\b"
    r"[\s,.!:;-]*)*)"
    r"(?P<wrong>(?:(?:that'?s|that\s+was|you\s+(?:got|picked|did|marked|deleted|changed))\s+the\s+"
    r"wrong\s+(?:one|task|item)|wrong\s+(?:one|task|item)|not\s+(?:that|this|the\s+right)"
    r"(?:\s+(?:one|task|item))?)\b[\s,.!:;-]*)?"
    r"(?P<meant>(?:i\s+(?:meant|mean|wanted|was\s+talking\s+about)|meant|it\s+was|it\s+should\s+"
    r"(?:have\s+)?been)\s+)?"
    r"(?P<target>.*?)[\s.!]*$",
    _I,
)
_OTHER = re.compile(r"^(?:the\s+)?other(?:\s+(?:one|task|item))?$", _I)
# A target that is a new request, not a task's name: "no wait, add milk".
_COMMAND = re.compile(
    r"^(?:add|create|delete|remove|rename|move|mark|complete|finish|list|show|undo|change|set)\b",
    _I,
)


@dataclass(frozen=True)
class Correction:
    target: str  # words naming the task meant; "" = "the other one"
    # "wrong one" / "I meant": surely a correction. "no, the taxes" only when a task is named so.
    sure: bool = True


def read_correction(message: str) -> Correction | None:
    """The task a correction names, if the message is one."""
    found = _CORRECTION.match(message.strip().replace("\u2019", "'"))
    if found is None:
        return None
    target = _clean_target(found.group("target"))
    marked = bool(found.group("wrong")) or bool(found.group("meant"))
    named = re.match(r"^the\s+\S", found.group("target"), _I)  # "no, the taxes (one)"
    if not marked and not (found.group("lead") and (_OTHER.match(target) or named)):
        return None
    if _OTHER.match(target):
        return Correction("")
    if target and (_COMMAND.match(target) or find_due(target, _ANY_DAY) is not None):
        return None  # "no, add milk"; "I meant wednesday" (a date: the stated-date rule)
    if not target and not found.group("wrong"):
        return None
    return Correction(target, sure=marked)


def _clean_target(text: str) -> str:
    text = re.sub(r"\s*,?\s*(?:not|instead\s+of)\s+(?:the\s+)?[^,]+$", "", text.strip(), flags=_I)
    text = re.sub(r"^(?:the|my)\s+", "", text, flags=_I)
    text = re.sub(r"\s+(?:one|task|item|instead|please|pls)$", "", text, flags=_I)
    return text.strip(" ,.!")


def _last_change(history: list[HistoryMessage]) -> dict[str, Any] | None:
    """The single-task change the previous reply made, if that is what it did."""
    last = next((m for m in reversed(history) if m.role == "assistant"), None)
    if last is None:
        return None
    changes = [a for a in last.actions if a.get("change")]
    if len(changes) != 1 or changes[0].get("tool") not in _CORRECTABLE:
        return None
    return changes[0] if "task_id" in changes[0] else None


def _previous_reference(history: list[HistoryMessage], log: ActionLog) -> str:
    """The words the user named the wrongly changed task with ("finish the report")."""
    said = next((m.content for m in reversed(history) if m.role == "user"), "")
    return understand(said, log.tools.today).ref if said else ""


async def correct_last_change(
    log: ActionLog, history: list[HistoryMessage], message: str
) -> str | None:
    """Revert the last change and apply it to the task meant; None when this is no correction."""
    change = _last_change(history)
    if change is None:
        return None
    correction = read_correction(message)
    if correction is None:
        return None
    tool = str(change["tool"])
    prefer: Literal["pending", "completed"] | None = {
        "complete_task": "pending",
        "reopen_task": "completed",
    }.get(tool)  # type: ignore[assignment]
    wrong_id = int(change["task_id"])
    # Taken before the revert: a deleted task comes back with a new id.
    before = [t for t in await log.tools.tasks() if t.id != wrong_id]
    pool = [t for t in before if prefer is None or t.completed == (prefer == "completed")]
    if correction.target:
        res = resolve(correction.target, pool)
        if res.kind == "missing" and (tool == "update_task" or not correction.sure):
            # "rename X to Y" then "sorry, I meant Z": maybe the new title, not a task;
            # "no, the first one": not a task's name, so not this.
            return None
    else:
        res = _other_than_wrong(_previous_reference(history, log), pool, _offered(history))
    reverted = await undo(log, history)
    arguments = {k: v for k, v in (change.get("arguments") or {}).items() if k != "task"}
    meant = await _apply_to_meant(log, tool, correction.target, res, pool, arguments)
    return f"{reverted} {meant}"


def _offered(history: list[HistoryMessage]) -> list[int]:
    """The tasks a "which one?" offered right before the change, if the change was a pick."""
    replies = [m for m in history if m.role == "assistant"]
    asked = replies[-2].actions if len(replies) >= 2 else []
    return next((list(a["candidates"]) for a in asked if a.get("candidates")), [])


def _other_than_wrong(ref: str, pool: list[TaskBrief], offered: list[int]) -> Resolution:
    """ "the other one": the other tasks the question offered, or that the first request's words
    matched; one is clear."""
    if offered:
        others = [task for task in pool if task.id in offered]
    else:
        others = [task for points, task in rank(ref, pool) if points >= MIN_SCORE] if ref else []
    if len(others) == 1:
        return Resolution("found", others[0])
    return Resolution("ambiguous" if others else "missing", None, others)


async def _apply_to_meant(
    log: ActionLog,
    tool: str,
    ref: str,
    res: Resolution,
    pool: list[TaskBrief],
    arguments: dict[str, Any],
) -> str:
    verb = _CORRECTABLE[tool]
    if res.kind == "found" and res.task is not None:
        task = res.task
        if not ref or clearly_meant(ref, task, pool):  # "the other one" was picked by elimination
            return (await log.call(tool, {**arguments, "task": str(task.id)})).message
        question = (
            f"Did you mean '{task.title}' (#{task.id})? I haven't changed it yet — "
            f"say yes to {verb} it, or tell me which task you mean."
        )
        return ask_first(log, tool, [task], question, arguments)
    candidates = res.candidates if res.kind == "ambiguous" else []
    if not candidates:
        return "Which task did you mean? Tell me its id or a word of its title."
    shown = candidates[:8]
    log.note(
        {
            "tool": tool,
            "arguments": arguments,
            "result": "asked which task",
            "ok": False,
            "internal": True,
            "candidates": [t.id for t in shown],
            "seen": {str(t.id): t.updated_at.isoformat().replace("+00:00", "Z") for t in shown},
        }
    )
    options = "\n".join(f"- {describe(t)}" for t in shown)
    return f"Which task should I {verb}?\n{options}"
