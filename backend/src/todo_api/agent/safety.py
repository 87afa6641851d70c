"""Safety rules every agent shares: confirm sweeping changes first, and undo.

State lives with the conversation, in the assistant messages' stored actions (the server keeps
nothing in memory):

- a question the agent asked before a sweeping or loosely matched change is an *internal* action
  record (`internal: true`, never shown by the API) carrying the `pending` change: the tool, the
  task ids with their `updated_at` when shown, and when the offer expires. Only the reply right
  before the user's next message counts, so any other message drops it.
- every change a tool made carries its undo steps (`ToolResult.undo`) and a `change` id; an undo
  turn records the ids it reverted (`undid`), so a second "undo" goes one change further back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from todo_api.agent.base import ActionLog, HistoryMessage
from todo_api.agent.tools import SWEEP_LIMIT, preview
from todo_api.services.tasks import TaskBrief

PENDING_TTL = timedelta(minutes=5)

_I = re.IGNORECASE
# Confirmations are short: every word from this vocabulary, at least one of them a yes.
_YES_WORDS = frozenset(
    "yes yeah yea yep yup ya y sure ok okay k confirm confirmed proceed absolutely definitely "
    "correct affirmative fine alright".split()
)
_YES_FILLER = frozenset(
    "go ahead do it please pls for that's thats right sure delete remove complete mark them all "
    "of as done it i'm im sure thanks thank you that one one yes great good just and certain is "
    "everything those these both fine totally really course yess yesss".split()
)
_YES_PHRASES = re.compile(
    r"^(?:do\s+it|go\s+ahead|go\s+for\s+it|please\s+do|that'?s\s+(?:right|correct|it)|"
    r"i'?m\s+sure|sounds\s+good|make\s+it\s+so|of\s+course)\b",
    _I,
)
_NEGATION = re.compile(
    r"^(?:(?:hmm+|well|uh+|um+|oh|ah|actually|wait|erm)[\s,.!]+)*(?:no|nope|nah|n|cancel|stop|don'?t|dont|do\s+not|never\s*mind|nevermind|forget\s+it|abort|"
    r"keep|leave|not|wait|hold\s+on|hang\s+on|actually\s+no|actually,?\s+(?:don'?t|keep|leave)|"
    r"no\s+thanks)\b",
    _I,
)
_THUMBS_UP = frozenset("👍 👌 ✅ ✔️ ✔ 🆗")
_UNDO_PHRASE = (
    r"(?:undo|undo\s+(?:that|this|it|the\s+last\s+(?:one|change|thing|action|step)|what\s+you\s+"
    r"(?:just\s+)?did|last|my\s+last\s+(?:one|change|request))|put\s+(?:it|that|them)\s+back|"
    r"revert(?:\s+(?:that|it|the\s+last\s+change))?|take\s+(?:that|it)\s+back|"
    r"bring\s+(?:it|that|them)\s+back|restore\s+(?:it|that|them)|reverse\s+(?:that|it)|"
    r"roll\s+(?:it\s+|that\s+)?back|change\s+it\s+back|ctrl\s*\+?\s*z)"
)
# "undo", "oops, put it back", "I didn't mean that, undo" - but "undo pay rent" reopens a task.
UNDO = re.compile(
    rf"(?:^|[,.;:!?\-]\s*|\b(?:please|pls|just|so|can\s+you|could\s+you|you\s+can|no|oops|whoops|wait|ugh|"
    r"sorry|oh|hmm+|actually|nope)\s+)"
    rf"{_UNDO_PHRASE}(?:[\s,]+(?:please|pls|thanks|now|thx))*[\s.!?]*$",
    _I,
)
_WORDS = re.compile(r"[a-z']+")


def is_yes(message: str) -> bool:
    text = message.strip().lower().replace("\u2019", "'")
    if (
        text
        and all(ch in _THUMBS_UP or not ch.isalnum() for ch in text)
        and any(ch in _THUMBS_UP for ch in text)
    ):
        return True
    if _NEGATION.match(text):
        return False
    words = _WORDS.findall(text)
    if not words or len(words) > 8:
        return False
    if _YES_PHRASES.match(text):
        return True
    return any(w in _YES_WORDS for w in words) and all(
        w in _YES_WORDS or w in _YES_FILLER for w in words
    )


def is_no(message: str) -> bool:
    return bool(_NEGATION.match(message.strip().replace("\u2019", "'")))


def is_undo(message: str) -> bool:
    text = message.strip().replace("\u2019", "'")
    return len(text.split()) <= 12 and bool(UNDO.search(text))


def _now() -> datetime:
    return datetime.now(UTC)


def pending_change(history: list[HistoryMessage]) -> dict[str, Any] | None:
    """The change the last reply offered and that has not expired, if any."""
    last = next((m for m in reversed(history) if m.role == "assistant"), None)
    if last is None:
        return None
    for action in reversed(last.actions):
        pending = action.get("pending")
        if action.get("internal") and isinstance(pending, dict):
            try:
                expires = datetime.fromisoformat(str(pending.get("expires_at")))
            except ValueError:
                return None
            return pending if expires > _now() else None
    return None


def ask_first(
    log: ActionLog,
    tool: str,
    tasks: Sequence[TaskBrief],
    question: str,
    arguments: dict[str, Any] | None = None,
) -> str:
    """Do not act: store the change as pending and ask. `tasks`: exactly what would change;
    `arguments`: the tool's other arguments (a new title)."""
    pending = {
        "tool": tool,
        "arguments": dict(arguments or {}),
        "tasks": [{"id": t.id, "updated_at": t.updated_at.isoformat()} for t in tasks],
        "expires_at": (_now() + PENDING_TTL).isoformat(),
    }
    log.note(
        {
            "tool": tool,
            "arguments": dict(arguments or {}),
            "result": question,
            "ok": False,
            "internal": True,
            "pending": pending,
            "candidates": [t.id for t in tasks],
            "seen": {str(t.id): _json_time(t.updated_at) for t in tasks},
        }
    )
    return question


def _json_time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")  # as task_json writes it


def sweep_question(verb: str, tasks: Sequence[TaskBrief], everything: bool, which: str = "") -> str:
    """ "This would delete all 5 of your tasks: 'a', 'b', 'c' and 2 more. Shall I go ahead?" """
    count = len(tasks)
    noun = "task" if count == 1 else "tasks"
    scope = f"all {count} of your {which}{noun}" if everything else f"{count} {which}{noun}"
    if everything and count == 1:
        scope = f"your only {which}task"
    titles = preview([t.title for t in tasks])
    return (
        f"That would {verb} {scope}: {titles}. I haven't changed anything yet — "
        "shall I go ahead? (yes / no)"
    )


def is_sweeping(count: int, everything: bool) -> bool:
    return count > SWEEP_LIMIT or (everything and count > 0)


async def carry_out(log: ActionLog, pending: dict[str, Any]) -> str:
    """The user said yes: act on the listed tasks only, and only those unchanged since."""
    tool = str(pending.get("tool"))
    current = {t.id: t for t in await log.tools.tasks()}
    done: list[str] = []
    skipped = 0
    for item in pending.get("tasks") or []:
        task = current.get(int(item["id"]))
        if task is None or task.updated_at.isoformat() != item.get("updated_at"):
            skipped += 1  # deleted or changed meanwhile: not touched blindly
            continue
        arguments = {**(pending.get("arguments") or {}), "task": str(task.id), "confirm": True}
        result = await log.call(tool, arguments)
        done.append(result.message)
    reply = " ".join(done) if done else "I haven't changed anything."
    if skipped:
        reply += (
            f" I left {skipped} task{'s' if skipped != 1 else ''} alone: "
            f"{'they' if skipped != 1 else 'it'} changed since I asked."
        )
    return reply


def decline() -> str:
    return "OK, I've left your tasks as they are."


async def undo(log: ActionLog, history: list[HistoryMessage]) -> str:
    """Revert the most recent change made in this conversation that is not undone yet."""
    undone: set[str] = set()
    for message in reversed(history):
        if message.role != "assistant":
            continue
        for action in message.actions:
            undone.update(str(c) for c in action.get("undid") or [])
        changes = [a for a in message.actions if a.get("change") and a["change"] not in undone]
        if changes:
            return await _revert(log, changes)
    if undone:
        return "There's nothing left to undo: I've already undone my changes in this conversation."
    return "There's nothing to undo: I don't see a recent change of mine in this conversation."


async def _revert(log: ActionLog, changes: list[dict[str, Any]]) -> str:
    steps = [step for action in changes for step in action.get("undo") or []]
    # Edits are unwound last first (a task renamed twice ends with its first title); deleted
    # tasks come back in their original order.
    ordered = [s for s in reversed(steps) if s.get("op") != "restore"]
    ordered += [s for s in steps if s.get("op") == "restore"]
    phrases: list[str] = []
    missing = 0
    for step in ordered:
        phrase = await log.tools.revert(step)
        if phrase is None:
            missing += 1
        else:
            phrases.append(phrase)
    reply = "Undone: " + "; ".join(phrases) + "." if phrases else "I couldn't undo that."
    if missing:
        reply += f" {missing} task{'s' if missing != 1 else ''} no longer exist, so I left that."
    log.note(
        {
            "tool": "undo",
            "arguments": {},
            "result": reply,
            "ok": bool(phrases),
            "undid": [a["change"] for a in changes],
        }
    )
    return reply


async def before_agent(log: ActionLog, history: list[HistoryMessage], message: str) -> str | None:
    """Confirmation answers and "undo", settled before any agent reads the message."""
    pending = pending_change(history)
    if pending is not None:
        if is_yes(message):
            return await carry_out(log, pending)
        if is_no(message):
            return decline()
    if is_undo(message):
        return await undo(log, history)
    return None
