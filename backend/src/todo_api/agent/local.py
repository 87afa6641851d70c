"""The `local` provider: offline, deterministic, no model weights.

`nlu.understand` turns the message into an intent; this module runs the matching tools through the
shared tool layer and words the reply. A follow-up to "which task do you mean?" ("the first one",
"the bread one", "#12", "both") is answered from the conversation history stored in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from todo_api.agent.base import ActionLog, AgentResult, HistoryMessage
from todo_api.agent.corrections import correct_last_change
from todo_api.agent.dates import TimeAlone, friendly_day, split_due
from todo_api.agent.matching import MIN_SCORE, clearly_meant, names, parse_id, resolve, score
from todo_api.agent.nlu import Intent, split_clauses, understand
from todo_api.agent.safety import ask_first, before_agent, is_sweeping, sweep_question
from todo_api.agent.text import ORDINALS, normalize_title, tokens
from todo_api.agent.tools import SWEEP_LIMIT, ToolBox, ToolResult, describe
from todo_api.services.tasks import TaskBrief

# Examples use titles unlikely to be on anyone's list, so they never read as a task mention.
EXAMPLES = (
    "'add renew passport on friday, high priority', 'what do I have left?', "
    "'mark the passport one as done', 'move task 3 to next week', 'delete task 3'"
)
HELP = (
    "I manage your to-do list. You can ask me to:\n"
    "- add tasks: 'add renew passport tomorrow', 'remind me to book a haircut on friday, "
    "high priority', 'add stamps and envelopes'\n"
    "- list them: 'show my tasks', 'what's still pending?', 'list my high priority tasks', "
    "'what's due today?', 'how many tasks do I have left?'\n"
    "- complete or reopen: 'mark the passport one as done', 'I booked the haircut', "
    "'reopen task 3'\n"
    "- change them: 'rename task 3 to renew ID card', 'set the passport task to high priority', "
    "'move task 3 to tomorrow', 'add a note to task 3: bring two photos'\n"
    "- delete: 'delete the stamps task', 'remove task 3', 'clear all completed tasks'\n"
    "Refer to a task by its id (#3) or by a word of its title."
)
UNKNOWN = (
    "Sorry, I didn't understand that, and I haven't changed anything. Try something like "
    f"{EXAMPLES} — or say 'help'."
)

MAX_ITEMS = 20  # tasks added from one message

_PICK_ALL = re.compile(r"^(?:both|all|all of them|both of them|each|every one|them all)$", re.I)


_PRONOUN = re.compile(
    r"^(?:it|that|this|that\s+one|this\s+one|that\s+task|this\s+task|the\s+last\s+one|the\s+same\s+one|"
    r"the\s+one\s+i\s+just\s+added|the\s+new\s+one|the\s+last\s+task)$",
    re.I,
)


_ORDINAL_REF = re.compile(
    r"^(?:the\s+)?(?P<n>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)(?:\s+(?:one|task|item))?"
    r"(?:\s+(?:on|in|from)\s+(?:the|my)\s+list)?$",
    re.I,
)


def _last_listing(history: list[HistoryMessage]) -> list[int]:
    """Task ids in the order the previous reply listed them ("mark the first one done")."""
    for message in reversed(history):
        if message.role != "assistant":
            continue
        for action in reversed(message.actions):
            if action.get("tool") == "list_tasks" and action.get("listed"):
                return [int(i) for i in action["listed"]]
    return []


def _last_task_id(history: list[HistoryMessage]) -> int | None:
    """The task the last turn that used a tool acted on, when it acted on exactly one (a turn
    that was not understood, or small talk, does not make "it" forget)."""
    for message in reversed(history):
        if message.role != "assistant" or not message.actions:
            continue
        ids = {a["task_id"] for a in message.actions if a.get("ok") and "task_id" in a}
        return ids.pop() if len(ids) == 1 else None
    return None


def _due_args(due: date) -> dict[str, str]:
    """A parsed due day (a datetime when a time came with it) as add/update_task arguments."""
    day, at = split_due(due)
    args = {"due_date": day.isoformat()}
    if at is not None:
        args["due_time"] = at.strftime("%H:%M")
    return args


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class LocalAgent:
    name = "local"
    reads_task_details = False

    async def run(self, tools: ToolBox, history: list[HistoryMessage], message: str) -> AgentResult:
        with tools.clock():  # "at 5pm" alone: today or tomorrow by the tool box's time of day
            return await self._run(tools, history, message)

    async def _run(
        self, tools: ToolBox, history: list[HistoryMessage], message: str
    ) -> AgentResult:
        log = ActionLog(tools)
        settled = await before_agent(log, history, message)  # "yes" to a question, "undo"
        if settled is None:  # "nope, I meant the taxes" right after a change
            settled = await correct_last_change(log, history, message)
        if settled is not None:
            return AgentResult(reply=settled, actions=log.actions)
        clauses = split_clauses(message)
        if len(clauses) > SWEEP_LIMIT:
            asked = await self._sweeping_clauses(log, clauses)
            if asked is not None:
                return AgentResult(reply=asked, actions=log.actions)
        if len(clauses) > 1:
            # "add milk and mark eggs as done": each request in turn, one combined reply.
            replies: list[str] = []
            actions: list[dict[str, Any]] = []
            for clause in clauses[:5]:
                result = await self._turn(tools, history, clause)
                replies.append(result.reply)
                actions.extend(result.actions)
            return AgentResult(reply="\n".join(replies), actions=actions)
        return await self._turn(tools, history, message)

    async def _sweeping_clauses(self, log: ActionLog, clauses: list[str]) -> str | None:
        """ "delete a and delete b and delete c and delete d": more than SWEEP_LIMIT deletions
        or completions in one message ask first, as one request naming them all would."""
        intents = [understand(clause, log.tools.today) for clause in clauses]
        sweeping = [i for i in intents if i.kind in {"delete", "complete"}]
        if len(sweeping) <= SWEEP_LIMIT:
            return None
        kinds = {i.kind for i in sweeping}
        tasks: list[TaskBrief] = []
        pool = list(await log.tools.tasks())
        for intent in sweeping:
            res = await log.tools.resolve(
                intent.ref, "pending" if intent.kind == "complete" else None
            )
            if (
                res.kind != "found"
                or res.task is None
                or not clearly_meant(intent.ref, res.task, pool)
            ):
                break
            if res.task not in tasks:
                tasks.append(res.task)
        else:
            if len(kinds) == 1 and len(sweeping) == len(intents):
                tool = f"{kinds.pop()}_task"
                return ask_first(log, tool, tasks, sweep_question(_VERBS[tool], tasks, False))
        return (
            f"That's more than {SWEEP_LIMIT} tasks to delete or complete in one message, so I "
            "haven't changed anything. Name them in one request (e.g. 'delete a, b, c and d') "
            "and I'll ask you to confirm."
        )

    async def _turn(
        self, tools: ToolBox, history: list[HistoryMessage], message: str
    ) -> AgentResult:
        log = ActionLog(tools)
        intent = understand(message, tools.today)
        ordinal = _ORDINAL_REF.match(intent.ref) if intent.ref else None
        if ordinal is not None:
            listed = _last_listing(history)
            word = ordinal.group("n").lower()
            index = ORDINALS.get(word) or (int(word) if word.isdigit() else 0)
            if listed and index and abs(index) <= len(listed):
                intent.ref = str(listed[index - 1 if index > 0 else -1])
        if intent.ref and _PRONOUN.match(intent.ref):
            last = _last_task_id(history)
            if last is None:
                return AgentResult(
                    reply="Which task do you mean? Tell me its id or a word of its title.",
                    actions=[],
                )
            intent.ref = str(last)
        reply = await self._follow_up(log, history, message, intent)
        if reply is None:
            reply = await self._execute(log, intent, message)
        return AgentResult(reply=reply, actions=log.actions)

    # -- clarifications ------------------------------------------------------------------

    async def _follow_up(
        self, log: ActionLog, history: list[HistoryMessage], message: str, intent: Intent
    ) -> str | None:
        """Answer "which one?" when the last reply asked it and this message picks a candidate."""
        if intent.kind not in {"unknown", "past_tense", "list"} and not (
            intent.kind in {"complete", "delete", "reopen"} and len(tokens(message)) <= 3
        ):
            return None
        question = _last_question(history)
        if question is None:
            return None
        by_id = {t.id: t for t in await log.tools.tasks()}
        # Positions stay those the question showed: a task deleted since keeps its place.
        ids = [int(i) for i in question["candidates"]]
        candidates: list[TaskBrief] = [by_id.get(i) or _GoneTask(i) for i in ids]
        chosen = self._pick(message, candidates)
        if not chosen:
            return None
        seen: dict[str, Any] = question.get("seen") or {}
        if any(isinstance(t, _GoneTask) or not _unchanged(t, seen) for t in chosen):
            # "the second one" means the task the question showed, not what is there now.
            return (
                "That task has changed or gone since I asked, so I haven't touched it. "
                "Which task do you mean? Tell me its id or a word of its title."
            )
        tool = str(question["tool"])
        if tool in _DESTRUCTIVE and len(chosen) > SWEEP_LIMIT:  # "all of them" after "which?"
            return ask_first(log, tool, chosen, sweep_question(_VERBS[tool], chosen, False))
        replies = []
        for task in chosen:
            arguments = dict(question.get("arguments") or {})
            arguments["task"] = str(task.id)
            replies.append((await log.call(str(question["tool"]), arguments)).message)
        return " ".join(replies)

    @staticmethod
    def _pick(message: str, candidates: list[TaskBrief]) -> list[TaskBrief]:
        text = re.sub(r"[.!?]+$", "", message.strip().lower())
        text = re.sub(r"^(?:i\s+mean|i\s+meant|the|it'?s|it\s+is|number|no\.?|yes,?)\s+", "", text)
        text = re.sub(r"\s+(?:one|task|please)$", "", text).strip()
        if _PICK_ALL.match(text):
            return candidates
        if text in ORDINALS:
            index = ORDINALS[text]
            return [candidates[index - 1 if index > 0 else -1]] if index <= len(candidates) else []
        task_id = parse_id(text)
        if task_id is not None:
            match = [t for t in candidates if t.id == task_id]
            if match:
                return match
            return [candidates[task_id - 1]] if 1 <= task_id <= len(candidates) else []
        res = resolve(text, candidates)
        return [res.task] if res.kind == "found" and res.task is not None else []

    # -- intents -------------------------------------------------------------------------

    async def _execute(self, log: ActionLog, intent: Intent, message: str) -> str:
        kind = intent.kind
        if kind == "greeting":
            pending = len(await log.tools.tasks(False))
            status = (
                f"You have {_plural(pending, 'pending task')}."
                if pending
                else "Your list is empty."
            )
            return f"Hi! {status} I can add, list, complete, change and delete tasks — say 'help' for examples."  # noqa: E501
        if kind == "small_talk":
            return intent.reply
        if kind == "thanks":
            return "You're welcome! Anything else for your list?"
        if kind == "bye":
            return "Bye! Your tasks are saved."
        if kind == "help":
            return HELP
        if kind == "count":
            return await self._count(log, intent)
        if kind == "list":
            return await self._list(log, intent)
        if kind == "add":
            return await self._add(log, intent, message)
        if kind == "clear_completed":
            return await self._clear_completed(log)
        if kind in {"complete", "reopen", "delete"}:
            return await self._by_reference(log, intent)
        if kind == "update":
            return await self._update(log, intent)
        if kind == "past_tense":
            return await self._past_tense(log, intent)
        return await self._unknown(log, message)

    async def _unknown(self, log: ActionLog, message: str) -> str:
        """Nothing understood: if the words name a task, offer what can be done with it."""
        if len(tokens(message)) <= 8:
            tasks = list(await log.tools.tasks())
            named = [t for t in tasks if score(message, t.title) >= 80]
            if len(named) == 1:
                title = named[0].title
                return (
                    f"Did you mean '{title}' (#{named[0].id})? I haven't changed anything. "
                    f"Say 'done {title}', 'delete {title}' or 'move {title} to friday'."
                )
        return UNKNOWN

    async def _count(self, log: ActionLog, intent: Intent) -> str:
        if (
            intent.priority is None
            and intent.due_filter == "any"
            and intent.query is None
            and intent.due_on is None
        ):
            result = await log.call("count_tasks", {})
            pending, completed, total = (
                result.data["pending"],
                result.data["completed"],
                result.data["total"],
            )
            if intent.status == "pending":
                return f"You have {_plural(pending, 'task')} left."
            if intent.status == "completed":
                return f"You have completed {_plural(completed, 'task')} ({pending} still pending)."
            return (
                f"You have {_plural(total, 'task')}: {pending} pending and {completed} completed."
            )
        result = await log.call("list_tasks", self._list_args(intent))
        return f"You have {_plural(result.data['count'], self._label(intent) + ' task')}."

    @staticmethod
    def _list_args(intent: Intent) -> dict[str, Any]:
        args: dict[str, Any] = {"status": intent.status}
        if intent.priority:
            args["priority"] = intent.priority
        if intent.due_filter != "any":
            args["due"] = intent.due_filter
        if intent.due_on is not None:
            args["due_on"] = intent.due_on.isoformat()
        if intent.query:
            args["query"] = intent.query
        return args

    @staticmethod
    def _label(intent: Intent) -> str:
        words: list[str] = []
        if intent.status != "all":
            words.append(intent.status)
        if intent.priority:
            words.append(f"{intent.priority} priority")
        return " ".join(words) or ""

    async def _list(self, log: ActionLog, intent: Intent) -> str:
        result = await log.call("list_tasks", self._list_args(intent))
        label = self._label(intent)
        due_text = {
            "today": " due today",
            "tomorrow": " due tomorrow",
            "overdue": " that are overdue",
            "this_week": " due this week",
            "none": " without a due date",
        }.get(intent.due_filter, "")
        if intent.due_on is not None:
            due_text = f" due {friendly_day(intent.due_on, log.tools.today)}"
        about = f" matching '{intent.query}'" if intent.query else ""
        noun = f"{label} tasks".strip()
        count = result.data["count"]
        if count == 0:
            if label or due_text or about:
                return f"You have no {noun}{due_text}{about}."
            return "Your list is empty — tell me what to add."
        lines = result.message.split("\n", 1)[1] if "\n" in result.message else ""
        header = f"Your {noun}{due_text}{about} ({count}):"
        return f"{header}\n{lines}"

    async def _add(self, log: ActionLog, intent: Intent, message: str = "") -> str:
        added: list[str] = []
        failed: list[str] = []
        reopened: list[str] = []
        again = bool(re.search(r"\b(?:still|again|back|another\s+go)\b", message, re.I))
        done_by_title = (
            {normalize_title(t.title): t for t in await log.tools.tasks(True)} if again else {}
        )
        open_by_title = (
            {normalize_title(t.title): t for t in await log.tools.tasks(False)}
            if intent.implicit
            else {}
        )
        for item in intent.items[:MAX_ITEMS]:
            existing = open_by_title.get(normalize_title(item.title))
            if existing is not None:
                # "call mom tomorrow" while "call mom" is on the list: schedule it, no duplicate.
                changes: dict[str, Any] = {"task": str(existing.id)}
                if item.due:
                    changes.update(_due_args(item.due))
                if item.priority:
                    changes["priority"] = item.priority
                reopened.append((await log.call("update_task", changes)).message)
                continue
            previous = done_by_title.get(normalize_title(item.title))
            if previous is not None:
                # "I still need to buy milk": the finished "buy milk" comes back instead of a copy.
                reopened.append((await log.call("reopen_task", {"task": str(previous.id)})).message)
                continue
            args: dict[str, Any] = {"title": item.title}
            if item.priority:
                args["priority"] = item.priority
            if item.due:
                args.update(_due_args(item.due))
            if item.description:
                args["description"] = item.description
            if item.tags:
                args["tags"] = ", ".join(item.tags)
            result = await log.call("add_task", args)
            if result.ok:
                added.append(result.message.removeprefix("Added ").rstrip("."))
            else:
                failed.append(f"'{item.title}': {result.message}")
        reply = _added_reply(added, failed, reopened)
        if len(intent.items) > MAX_ITEMS:
            reply += f" (I add at most {MAX_ITEMS} tasks per message.)"
        return reply

    async def _clear_completed(self, log: ActionLog) -> str:
        done = list(await log.tools.tasks(True))
        if len(done) > SWEEP_LIMIT:
            question = sweep_question("delete", done, everything=False, which="completed ")
            return ask_first(log, "delete_task", done, question)
        return (await log.call("clear_completed", {})).message

    async def _by_reference(self, log: ActionLog, intent: Intent) -> str:
        tool = f"{intent.kind}_task"
        prefer: Literal["pending", "completed"] | None = {
            "complete": "pending",
            "reopen": "completed",
        }.get(intent.kind)  # type: ignore[assignment]
        if intent.all_tasks:
            return await self._all(log, intent, tool)
        if intent.which:
            return await self._ask_which(log, tool)
        res = await log.tools.resolve(intent.ref, prefer)
        if res.kind == "found" and res.task is not None:
            return await self._act_if_meant(log, tool, intent.ref, res.task)
        # "complete eggs and bread": several references, each of which must resolve.
        parts = [
            p
            for p in re.split(r"\s*(?:,|;|\band\b|&|\bplus\b)\s*", intent.ref, flags=re.I)
            if p.strip()
        ]
        if len(parts) > 1:
            found: list[TaskBrief] = []
            pool = list(await log.tools.tasks())
            for part in parts:
                part_res = await log.tools.resolve(part, prefer)
                if part_res.kind != "found" or part_res.task is None:
                    break
                if tool in _DESTRUCTIVE and not clearly_meant(part, part_res.task, pool):
                    break
                found.append(part_res.task)
            else:
                return await self._act_on_all(log, tool, found, everything=False)
        result = await log.call(tool, {"task": intent.ref})
        return self._explain(result)

    async def _ask_which(self, log: ActionLog, tool: str) -> str:
        """ "delete a task": nothing named. One task: offer it; several: list them to pick from."""
        completed = {"complete_task": False, "reopen_task": True}.get(tool)
        tasks = list(await log.tools.tasks(completed))
        verb = _VERBS.get(tool, "reopen")
        if not tasks:
            return "There's nothing on your list to " + verb + "."
        if len(tasks) == 1:
            only = tasks[0]
            question = f"Do you mean '{only.title}' (#{only.id})? Say yes to {verb} it."
            return ask_first(log, tool, tasks, question)
        shown = tasks[:8]
        log.note(
            {
                "tool": tool,
                "arguments": {},
                "result": "asked which task",
                "ok": False,
                "internal": True,
                "candidates": [t.id for t in shown],
                "seen": {str(t.id): t.updated_at.isoformat().replace("+00:00", "Z") for t in shown},
            }
        )
        options = "\n".join(f"- {describe(t, log.tools.today)}" for t in shown)
        return f"Which task should I {verb}? I haven't changed anything.\n{options}"

    async def _act_if_meant(self, log: ActionLog, tool: str, ref: str, task: TaskBrief) -> str:
        """Act on a task a reference resolved to, unless the match was loose: then ask."""
        # Completing looks among open tasks only: a finished namesake is no rival.
        pool = await log.tools.tasks(False if tool == "complete_task" else None)
        if tool in _DESTRUCTIVE and not clearly_meant(ref, task, pool):
            verb = _VERBS[tool]
            question = (
                f"Did you mean '{task.title}' (#{task.id})? I haven't changed anything — "
                f"say yes to {verb} it, or tell me which task you mean."
            )
            return ask_first(log, tool, [task], question)
        return (await log.call(tool, {"task": str(task.id)})).message

    async def _act_on_all(
        self, log: ActionLog, tool: str, tasks: list[TaskBrief], everything: bool, which: str = ""
    ) -> str:
        """Several tasks at once: up to SWEEP_LIMIT act now; more (or a whole list) ask first."""
        if tool in _DESTRUCTIVE and is_sweeping(len(tasks), everything):
            question = sweep_question(_VERBS[tool], tasks, everything, which)
            return ask_first(log, tool, tasks, question)
        results = [await log.call(tool, {"task": str(t.id)}) for t in tasks[:50]]
        return " ".join(r.message for r in results)

    @staticmethod
    def _explain(result: ToolResult) -> str:
        if result.data.get("error") == "not_found":
            return f"{result.message} Say 'show my tasks' to see what's on your list."
        return result.message

    async def _all(self, log: ActionLog, intent: Intent, tool: str) -> str:
        completed = {"complete_task": False, "reopen_task": True}.get(tool)
        tasks = list(await log.tools.tasks(completed))
        if intent.ref and tool in _DESTRUCTIVE:
            tasks = [t for t in tasks if names(intent.ref, t.title)]  # never a loose match
        elif intent.ref:
            tasks = [t for t in tasks if score(intent.ref, t.title) >= MIN_SCORE]
        if intent.keep:
            keep = resolve(intent.keep, tasks)
            kept = [keep.task] if keep.task is not None else keep.candidates
            if not kept:
                return (
                    f"I couldn't find a task matching '{intent.keep}' to keep, so I haven't "
                    "changed anything."
                )
            tasks = [t for t in tasks if t not in kept]
        if not tasks:
            which = f" matching '{intent.ref}'" if intent.ref else ""
            state = {"complete_task": "open ", "reopen_task": "completed "}.get(tool, "")
            return f"There are no {state}tasks{which}."
        which = {"complete_task": "open "}.get(tool, "")
        if intent.keep and tool in _DESTRUCTIVE:  # "all but X": always asked first
            question = sweep_question(_VERBS[tool], tasks, False, which)
            return ask_first(log, tool, tasks, question)
        return await self._act_on_all(log, tool, tasks, everything=not intent.ref, which=which)

    async def _update(self, log: ActionLog, intent: Intent) -> str:
        if intent.new_title and len(intent.alternatives) > 1:
            tasks = list(await log.tools.tasks())
            best = max(
                intent.alternatives,
                key=lambda alt: max((score(alt[0], t.title) for t in tasks), default=0.0),
            )
            if max((score(best[0], t.title) for t in tasks), default=0.0) > max(
                (score(intent.ref, t.title) for t in tasks), default=0.0
            ):
                intent.ref, intent.new_title = best
        args: dict[str, Any] = {"task": intent.ref}
        if intent.new_title:
            args["title"] = intent.new_title
        if intent.new_priority:
            args["priority"] = intent.new_priority
        if intent.new_description is not None:
            args["description"] = intent.new_description
        if intent.clear_due:
            args["due_date"] = "none"
        elif isinstance(intent.new_due, TimeAlone):  # "move it to 3pm": the task keeps its day
            args["due_time"] = intent.new_due.strftime("%H:%M")
        elif intent.new_due is not None:
            args.update(_due_args(intent.new_due))
        res = await log.tools.resolve(intent.ref)
        if res.kind == "found" and res.task is not None:
            if intent.new_title:
                asked = await self._ask_before_rename(log, intent.ref, res.task, intent.new_title)
                if asked is not None:
                    return asked
            args["task"] = str(res.task.id)
            if intent.shift_days is not None:
                base = res.task.due_date or log.tools.today
                try:
                    args["due_date"] = (base + timedelta(days=intent.shift_days)).isoformat()
                except OverflowError:  # past 31 Dec 9999 (or before year 1): no such date
                    return (
                        f"I can't move '{res.task.title}' (#{res.task.id}) that far: the "
                        "calendar ends on 31 Dec 9999. I haven't changed anything."
                    )
        return self._explain(await log.call("update_task", args))

    async def _ask_before_rename(
        self, log: ActionLog, ref: str, task: TaskBrief, new_title: str
    ) -> str | None:
        if clearly_meant(ref, task, await log.tools.tasks()):
            return None
        question = (
            f"Did you mean '{task.title}' (#{task.id})? I haven't changed anything — say yes "
            f"to rename it to '{new_title}', or tell me which task you mean."
        )
        return ask_first(log, "update_task", [task], question, {"title": new_title})

    async def _past_tense(self, log: ActionLog, intent: Intent) -> str:
        """ "I called mom": complete the task it describes, if one clearly matches."""
        pending = list(await log.tools.tasks(False))
        # "I got the milk" completes "buy milk": the object may carry the meaning, not the verb.
        words = intent.ref.split(maxsplit=1)
        obj = words[1] if len(words) > 1 else ""

        def fit(task: TaskBrief) -> float:
            return max(score(intent.ref, task.title), score(obj, task.title) - 5 if obj else 0.0)

        # "I called mom and bought milk": when every part clearly matches its own task, do each.
        chosen = _one_task_per_part(intent.ref, pending)
        if chosen:
            return await self._act_on_all(log, "complete_task", chosen, everything=False)
        strong = [t for t in pending if fit(t) >= 60]
        if not strong:
            return UNKNOWN
        best = max(fit(t) for t in strong)
        strong = [t for t in strong if fit(t) >= best - 12]
        if len(strong) == 1:
            return await self._act_if_meant_past(log, intent.ref, obj, strong[0], pending)
        res = resolve(intent.ref, strong, "pending")
        if res.kind == "found" and res.task is not None:
            return await self._act_if_meant_past(log, intent.ref, obj, res.task, pending)
        return (await log.call("complete_task", {"task": intent.ref})).message

    async def _act_if_meant_past(
        self, log: ActionLog, ref: str, obj: str, task: TaskBrief, pending: list[TaskBrief]
    ) -> str:
        """ "I called mom" completes "call mom"; "I got the milk" completes "buy milk" (the
        object alone names it); a looser fit asks first."""
        if clearly_meant(ref, task, pending) or (obj and clearly_meant(obj, task, pending)):
            return (await log.call("complete_task", {"task": str(task.id)})).message
        return await self._act_if_meant(log, "complete_task", ref, task)


_DESTRUCTIVE = frozenset({"delete_task", "complete_task"})
_VERBS = {"delete_task": "delete", "complete_task": "complete", "update_task": "change"}


def _one_task_per_part(ref: str, pending: list[TaskBrief]) -> list[TaskBrief]:
    """ "called mom and bought milk": one clear task per part, or nothing."""
    parts = [p for p in re.split(r"\s*(?:,|\band\b)\s*", ref, flags=re.I) if p.strip()]
    if len(parts) < 2:
        return []
    chosen: list[TaskBrief] = []
    for part in parts:
        hits = [t for t in pending if score(part, t.title) >= 60 and t not in chosen]
        if len(hits) != 1:
            return []
        chosen.append(hits[0])
    return chosen


def _added_reply(added: list[str], failed: list[str], reopened: list[str]) -> str:
    reply = ""
    if added:
        listed = added[0] if len(added) == 1 else ", ".join(added[:-1]) + " and " + added[-1]
        reply = f"Added {listed}."
    if failed:
        reply += (" " if reply else "") + "Couldn't add " + "; ".join(failed)
    if reopened:
        reply = " ".join([*reopened, reply]).strip()
    return reply


def _last_question(history: list[HistoryMessage]) -> dict[str, Any] | None:
    """The "which one?" the previous reply asked (a failed call or a question with candidates)."""
    last = next((m for m in reversed(history) if m.role == "assistant"), None)
    if last is None or not last.actions:
        return None
    action = last.actions[-1]
    return None if action.get("ok") or not action.get("candidates") else action


@dataclass(frozen=True)
class _GoneTask:
    """Stands in for a candidate deleted since the question, so positions keep their meaning."""

    id: int
    title: str = ""
    description: str = ""
    completed: bool = False
    priority: str = "medium"
    due_date: date | None = None
    due_time: time | None = None
    updated_at: datetime = datetime.min


def _unchanged(task: TaskBrief, seen: dict[str, Any]) -> bool:
    """Whether a task is as a question showed it (`seen`: id -> updated_at in task_json form)."""
    shown = seen.get(str(task.id))
    return shown is None or shown == task.updated_at.isoformat().replace("+00:00", "Z")


def describe_tasks(tasks: list[TaskBrief], today: date | None = None) -> str:
    return "\n".join(f"- {describe(t, today)}" for t in tasks)
