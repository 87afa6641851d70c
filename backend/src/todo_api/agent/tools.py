"""The one tool layer: what the chat agent (local or LLM) and the MCP server can do to tasks.

Each tool validates its JSON arguments, calls `services.tasks` for the authenticated user only, and
returns a `ToolResult` (ok, a one-line human summary, structured data). Tasks are referenced by id
or by (fuzzy) title; an ambiguous reference fails with the candidates so the caller can ask.
The JSON schemas, generated from the argument models, serve both OpenAI-style tool calling and
MCP's tools/list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from todo_api.agent.dates import (
    find_due,
    friendly_due,
    parse_clock,
    time_alone_day,
    wall_clock,
)
from todo_api.agent.matching import Resolution, parse_id, resolve
from todo_api.core.metrics import CHAT_TOOL_CALLS
from todo_api.db import Connection
from todo_api.models import MAX_ID
from todo_api.schemas import (
    Description,
    Priority,
    TaskCreate,
    TaskUpdate,
    Title,
    format_due_time,
)
from todo_api.services import tasks as task_service
from todo_api.services.errors import Conflict, NotFound
from todo_api.services.tasks import TaskBrief, TaskLine, TaskRow

log = logging.getLogger("todo_api.agent")

MAX_LISTED = 50


# --- argument models ------------------------------------------------------------------------


def _ref(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_ID:  # no task has such an id, and the database cannot bind it
            raise ValueError(f"a task id is between 1 and {MAX_ID}")
        return str(value)
    return value


def _priority(value: Any) -> Any:
    if isinstance(value, str):
        v = value.strip().lower()
        aliases = {"urgent": "high", "important": "high", "normal": "medium", "med": "medium"}
        return aliases.get(v, v) or None
    return value


# The JSON schemas the LLM and MCP clients see are generated from these models (see `TOOLS`):
# a constraint or a `Field(description=...)` written here is what callers read, so a new argument
# is one line in its model.
TaskRef = Annotated[
    str,
    BeforeValidator(_ref),
    # Ids also arrive as JSON numbers (_ref turns them into strings); the schema, derived from
    # `str`, names the string form only: some providers refuse a type list or an anyOf here.
    Field(
        min_length=1,
        max_length=200,
        description='The task\'s id (e.g. "12") or words from its title (e.g. "milk").',
    ),
]
PriorityArg = Annotated[Priority | None, BeforeValidator(_priority)]
DueDateArg = Annotated[
    str | None,
    Field(
        max_length=60,
        description="Due date as YYYY-MM-DD (relative phrases such as 'tomorrow' are accepted).",
    ),
]
DueTimeArg = Annotated[
    str | None,
    Field(
        max_length=20,
        description=(
            "Optional time of day as HH:MM, 24-hour (e.g. '15:00'), beside due_date; given "
            "without a due date it means today if still ahead, else tomorrow."
        ),
    ),
]
ConfirmArg = Annotated[
    bool,
    Field(
        description=(
            "true only after the user explicitly confirmed this sweeping change in their last "
            "message (needed for more than 3 tasks in one turn)."
        )
    ),
]


class _Args(BaseModel):
    # Models sometimes add fields of their own; ignoring them beats failing the whole call.
    # (The generated schemas therefore do not say additionalProperties: false.)
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AddTaskArgs(_Args):
    # The REST rules (lengths, no line breaks or hidden characters): a refusal is then one
    # argument error here, not a task-model report from inside the tool.
    title: Annotated[Title, Field(description="Short title, e.g. 'buy milk'.")]
    description: Annotated[Description, Field(description="Optional longer notes.")] = ""
    priority: PriorityArg = None
    due_date: DueDateArg = None
    due_time: DueTimeArg = None
    # A string, as every tool argument (providers' schemas; test_tool_schemas).
    tags: str = Field(
        default="", max_length=1000, description="Optional labels, comma-separated: 'shop, home'."
    )


class ListTasksArgs(_Args):
    status: Literal["all", "pending", "completed"] = "all"
    priority: PriorityArg = None
    due: Literal["any", "today", "tomorrow", "overdue", "this_week", "none"] = "any"
    due_on: str | None = Field(
        default=None, max_length=60, description="Only tasks due on this day (YYYY-MM-DD)."
    )
    query: str | None = Field(
        default=None, max_length=200, description="Words the title must contain."
    )


class TaskRefArgs(_Args):
    task: TaskRef


class SweepingRefArgs(TaskRefArgs):
    # More than SWEEP_LIMIT deletions or completions in one turn need the user's explicit yes.
    confirm: ConfirmArg = False


class UpdateTaskArgs(_Args):
    task: TaskRef
    title: Annotated[Title | None, Field(description="The new title.")] = None
    description: Annotated[Description | None, Field(description="The new notes.")] = None
    priority: PriorityArg = None
    due_date: DueDateArg = None
    due_time: DueTimeArg = None


class NoArgs(_Args):
    pass


class ClearCompletedArgs(_Args):
    confirm: ConfirmArg = False


# Deleting or completing more than this many tasks at once needs an explicit confirmation.
SWEEP_LIMIT = 3
_SWEEPING = frozenset({"delete_task", "complete_task"})


@dataclass(frozen=True)
class Tool:
    """One tool: its name (also the name of the ToolBox method that runs it), what it does, and
    the model its arguments are validated with, from which its JSON schema is generated."""

    name: str
    description: str
    args: type[_Args]


TOOLS: tuple[Tool, ...] = (
    Tool("add_task", "Create a new task for the user.", AddTaskArgs),
    Tool("list_tasks", "List the user's tasks, optionally filtered.", ListTasksArgs),
    Tool(
        "complete_task",
        "Mark a task as done. After 3 deletions or completions in one turn further calls "
        "fail with needs_confirmation unless confirm is true.",
        SweepingRefArgs,
    ),
    Tool("reopen_task", "Mark a completed task as not done again.", TaskRefArgs),
    Tool(
        "delete_task",
        "Delete a task permanently. After 3 deletions or completions in one turn further "
        "calls fail with needs_confirmation unless confirm is true.",
        SweepingRefArgs,
    ),
    Tool(
        "update_task",
        "Change a task: new title, description, priority, due date or due time "
        '(due_date "none" removes the date and its time; due_time "none" only the time). '
        "Only the given fields change.",
        UpdateTaskArgs,
    ),
    Tool(
        "clear_completed",
        "Delete every completed task. With more than 3 completed tasks it fails with "
        "needs_confirmation (listing them) unless confirm is true: ask the user first.",
        ClearCompletedArgs,
    ),
    Tool("count_tasks", "Count the user's tasks: total, pending and completed.", NoArgs),
)
_TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
TOOL_NAMES = frozenset(_TOOLS_BY_NAME)


def tool_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as LLM providers take it: no $defs/$ref (inlined), no pydantic
    `title` keys, and an optional argument (`X | None`) stated as plain X — some providers (Groq)
    refuse `anyOf [X, null]`; leaving the argument out is how a caller says "none"."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})
    schema.pop("description", None)  # a model docstring; the tool's description says it

    def clean(node: dict[str, Any]) -> dict[str, Any]:
        branches = node.get("anyOf")
        if branches is not None:
            kept = [b for b in branches if b != {"type": "null"}]
            if len(kept) == 1:  # X | None: X, without the None default
                rest = {k: v for k, v in node.items() if k != "anyOf"}
                if "default" in rest and rest["default"] is None:
                    del rest["default"]
                node = {**kept[0], **rest}
        ref = node.get("$ref")
        if ref is not None:
            node = {
                **defs[ref.rsplit("/", 1)[-1]],
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        cleaned: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title":
                continue
            if key == "properties":  # names, not schema keywords: a property may be "title"
                cleaned[key] = {name: clean(sub) for name, sub in value.items()}
            elif isinstance(value, dict):
                cleaned[key] = clean(value)
            elif isinstance(value, list):
                cleaned[key] = [clean(v) if isinstance(v, dict) else v for v in value]
            else:
                cleaned[key] = value
        return cleaned

    return clean(schema)


TOOL_SPECS: list[dict[str, Any]] = [
    {"name": t.name, "description": t.description, "parameters": tool_parameters(t.args)}
    for t in TOOLS
]


def openai_tools() -> list[dict[str, Any]]:
    return [{"type": "function", "function": spec} for spec in TOOL_SPECS]


# --- results and formatting ----------------------------------------------------------------


@dataclass
class ToolResult:
    ok: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    # How to revert what the call changed (see ToolBox.revert); kept with the conversation's
    # stored actions for "undo", never shown to a model or an MCP client.
    undo: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps({"ok": self.ok, "message": self.message, **self.data}, default=str)


def task_json(task: TaskBrief) -> dict[str, Any]:
    """What a tool reports about a task: TaskOut's JSON without created_at and tags. Built by
    hand: a listing reports up to MAX_LISTED of them, and a model round trip each cost more
    than the query."""
    due, updated = task.due_date, task.updated_at
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "completed": bool(task.completed),
        "priority": str(task.priority),
        "due_date": due.isoformat() if due is not None else None,
        "due_time": format_due_time(task.due_time),
        "updated_at": updated.isoformat().replace("+00:00", "Z"),  # as pydantic writes UTC
    }


def describe(task: TaskLine, today: date | None = None) -> str:
    """One readable line: `#12 buy milk (high priority, due Thu 26 Nov, 15:00, done)`; with
    `today`, dates near it read "today", "tomorrow", "yesterday" as on the board."""
    details: list[str] = []
    if task.priority != "medium":
        details.append(f"{task.priority} priority")
    if task.due_date is not None:
        when = f"due {friendly_due(task.due_date, task.due_time, today)}"
        if today is not None and not task.completed and task.due_date < today:
            when += ", overdue"
        details.append(when)
    if task.completed:
        details.append("done")
    suffix = f" ({', '.join(details)})" if details else ""
    return f"#{task.id} {task.title}{suffix}"


def quoted(task: TaskBrief) -> str:
    return f"'{task.title}' (#{task.id})"


def _ambiguous(ref: str, res: Resolution, today: date) -> ToolResult:
    options = "; ".join(describe(t, today) for t in res.candidates)
    return ToolResult(
        False,
        f"Which task do you mean by '{ref}'? It could be: {options}.",
        {"error": "ambiguous", "candidates": [task_json(t) for t in res.candidates]},
    )


def _missing(ref: str) -> ToolResult:
    return ToolResult(False, f"I couldn't find a task matching '{ref}'.", {"error": "not_found"})


def parse_due_arg(value: str, today: date) -> date | None:
    """YYYY-MM-DD, or a phrase like 'tomorrow'. Raises ValueError when it is neither."""
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    found = find_due(text, today)
    if found is None:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return found.value


_NO_VALUE = {"", "none", "null", "no", "clear"}


def parse_time_arg(value: str) -> time | None:
    """HH:MM (24-hour) or '3pm', '2:30 p.m.', 'noon'; None for 'none'. ValueError otherwise."""
    text = value.strip().lower().removeprefix("at ").strip()
    if text in _NO_VALUE:
        return None
    at = parse_clock(text)
    if at is None:
        raise ValueError(f"not a time of day: {value!r} (use HH:MM, 24-hour)")
    return at


def parse_due_moment(
    due_arg: str | None, time_arg: str | None, today: date
) -> tuple[date | None, time | None]:
    """A tool's due_date and due_time arguments as (day, time). A time inside the date phrase
    ('tomorrow 2:30pm') counts when due_time is not given; a time without a date falls on
    today if still ahead, else tomorrow."""
    at = parse_time_arg(time_arg) if time_arg else None
    day: date | None = None
    if due_arg:
        text = due_arg.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            found = find_due(text, today)
            if found is None:
                raise ValueError(f"not a date: {due_arg!r} (use YYYY-MM-DD)") from None
            day, at = found.value, at or found.at
    elif at is not None:
        day = time_alone_day(at, today)
    return day, at


# --- the tool box --------------------------------------------------------------------------


class ToolBox:
    """The tools, bound to one database connection and one user. Their writes join the caller's
    transaction; they do not commit (see `release`). `max_tasks`: MAX_TASKS_PER_USER."""

    def __init__(
        self,
        db: Connection,
        user_id: int,
        today: date,
        *,
        max_tasks: int,
        now: time | None = None,
        task_details: bool = True,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.max_tasks = max_tasks
        self.today = today
        # The time of day with `today` (same clock): "at 5pm" alone is today only while ahead.
        self.now = now
        # False: listings report each task as {"id"} only (see Agent.reads_task_details).
        self.task_details = task_details
        # Deletions and completions done through this tool box (one chat turn, one MCP call).
        self.swept = 0

    async def call(self, name: str, arguments: Any) -> ToolResult:
        """Run a tool by name with JSON arguments; bad input becomes a failed result, not a crash."""  # noqa: E501
        tool = _TOOLS_BY_NAME.get(name)
        if tool is None:
            result = ToolResult(
                False,
                f"Unknown tool '{name}'. Available tools: {', '.join(sorted(TOOL_NAMES))}.",
                {"error": "unknown_tool"},
            )
        elif not isinstance(arguments, dict):
            result = ToolResult(
                False, "Arguments must be a JSON object.", {"error": "invalid_arguments"}
            )
        else:
            handler: Callable[[Any], Awaitable[ToolResult]] = getattr(self, tool.name)
            try:
                args = tool.args.model_validate(arguments)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                    for e in exc.errors()
                )
                result = ToolResult(
                    False,
                    f"Invalid arguments for {name}: {problems}",
                    {"error": "invalid_arguments"},
                )
            else:
                try:
                    with self.clock():
                        result = await handler(args)
                except ValueError as exc:
                    result = ToolResult(False, str(exc), {"error": "invalid_arguments"})
        CHAT_TOOL_CALLS.labels(
            tool=name if name in TOOL_NAMES else "unknown", ok=str(result.ok).lower()
        ).inc()
        return result

    def clock(self) -> AbstractContextManager[None]:
        """Dates read meanwhile see this box's time of day (dates.wall_clock), if it has one."""
        return wall_clock(self.now) if self.now is not None else nullcontext()

    async def release(self) -> None:
        """Commit what the tools did so far and give the pooled connection back. Agents call
        this before they wait on anything slow (an LLM provider); the rest is committed by
        whoever owns the unit of work (the chat turn, the MCP tool call)."""
        await self.db.commit()

    # -- lookups --

    async def tasks(self, completed: bool | None = None) -> Sequence[TaskBrief]:
        return await task_service.all_tasks(self.db, self.user_id, completed=completed)

    async def resolve(
        self, ref: str, prefer: Literal["pending", "completed"] | None = None
    ) -> Resolution:
        task_id = parse_id(ref)
        if task_id is not None:
            try:
                return Resolution(
                    "found", await task_service.get_task(self.db, self.user_id, task_id)
                )
            except NotFound:
                pass
        return resolve(ref, await self.tasks(), prefer)

    # -- tools --

    async def add_task(self, args: AddTaskArgs) -> ToolResult:
        due, at = parse_due_moment(args.due_date, args.due_time, self.today)
        task = await task_service.create_task(
            self.db,
            self.user_id,
            TaskCreate(
                title=args.title,
                description=args.description,
                priority=args.priority or Priority.medium,
                due_date=due,
                due_time=at,
                tags=[tag.strip() for tag in args.tags.split(",") if tag.strip()],
            ),
            cap=self.max_tasks,
        )
        undo = {"op": "remove", "id": task.id, "title": task.title}
        added = describe(task, self.today)
        return ToolResult(True, f"Added {added}.", {"task": task_json(task)}, [undo])

    async def list_tasks(self, args: ListTasksArgs) -> ToolResult:
        completed = {"all": None, "pending": False, "completed": True}[args.status]
        priority = args.priority.value if args.priority is not None else None
        shown: Sequence[TaskLine]
        due_on = parse_due_arg(args.due_on, self.today) if args.due_on else None
        if args.due == "any" and not args.query and due_on is None:  # the database sorts
            shown, total = await task_service.first_tasks(
                self.db,
                self.user_id,
                completed=completed,
                priority=priority,
                limit=MAX_LISTED,
                details=self.task_details,
            )
        else:
            rows = await self._filtered(args, completed, priority, due_on)
            shown, total = rows[:MAX_LISTED], len(rows)
        lines = "\n".join(f"- {describe(t, self.today)}" for t in shown)
        more = f"\n…and {total - len(shown)} more." if total > len(shown) else ""
        message = f"{total} task(s)" + (f":\n{lines}{more}" if total else ".")
        return ToolResult(
            True,
            message,
            {
                "count": total,
                # With task_details the rows are TaskBriefs (first_tasks' `details`).
                "tasks": [
                    task_json(cast(TaskBrief, t)) if self.task_details else {"id": t.id}
                    for t in shown
                ],
            },
        )

    async def _filtered(
        self, args: ListTasksArgs, completed: bool | None, priority: str | None, due_on: date | None
    ) -> list[TaskBrief]:
        """The listing filters the database query does not apply, in memory, sorted like
        first_tasks: pending first, then by due date (none last), then oldest first."""
        rows = list(await self.tasks(completed))
        if priority is not None:
            rows = [t for t in rows if t.priority == priority]
        if args.due != "any":
            rows = [t for t in rows if self._due_matches(t, args.due)]
        if due_on is not None:
            rows = [t for t in rows if t.due_date == due_on]
        if args.query:
            words = [w for w in args.query.lower().split() if w]
            rows = [
                t
                for t in rows
                if all(w in t.title.lower() or w in t.description.lower() for w in words)
            ]
        rows.sort(key=lambda t: (t.completed, t.due_date or date.max, t.id))
        return rows

    def _due_matches(self, task: TaskBrief, due: str) -> bool:
        if due == "any":
            return True
        if due == "none":
            return task.due_date is None
        if task.due_date is None:
            return False
        if due == "today":
            return task.due_date == self.today
        if due == "tomorrow":
            return task.due_date == self.today + timedelta(days=1)
        if due == "overdue":
            return task.due_date < self.today and not task.completed
        return self.today <= task.due_date <= self.today + timedelta(days=6 - self.today.weekday())

    async def _with_task(
        self,
        ref: str,
        prefer: Literal["pending", "completed"] | None,
        action: Callable[[TaskBrief], Awaitable[ToolResult]],
    ) -> ToolResult:
        res = await self.resolve(ref, prefer)
        if res.kind == "ambiguous":
            return _ambiguous(ref, res, self.today)
        if res.kind == "missing" or res.task is None:
            return _missing(ref)
        return await action(res.task)

    def _sweep_refused(self, tool: str, args: SweepingRefArgs) -> ToolResult | None:
        """The tool layer's own guard: a model cannot delete or complete a whole list one call
        at a time without the user's confirmation."""
        if args.confirm or self.swept < SWEEP_LIMIT:
            return None
        return ToolResult(
            False,
            f"Not done: more than {SWEEP_LIMIT} tasks changed in one turn need the user's "
            f"confirmation. List what would change, ask the user, and call {tool} with "
            "confirm: true only after they say yes.",
            {"error": "needs_confirmation"},
        )

    async def complete_task(self, args: SweepingRefArgs) -> ToolResult:
        refused = self._sweep_refused("complete_task", args)
        if refused is not None:
            return refused

        async def act(task: TaskBrief) -> ToolResult:
            if task.completed:
                return ToolResult(
                    True, f"{quoted(task)} was already done.", {"task": task_json(task)}
                )
            task = await task_service.set_completed(self.db, self.user_id, task.id, True)
            self.swept += 1
            return ToolResult(
                True,
                f"Marked {quoted(task)} as done.",
                {"task": task_json(task)},
                [_set_back(task, {"completed": False})],
            )

        return await self._with_task(args.task, "pending", act)

    async def reopen_task(self, args: TaskRefArgs) -> ToolResult:
        async def act(task: TaskBrief) -> ToolResult:
            if not task.completed:
                return ToolResult(
                    True, f"{quoted(task)} is already open.", {"task": task_json(task)}
                )
            task = await task_service.set_completed(self.db, self.user_id, task.id, False)
            return ToolResult(
                True,
                f"Reopened {quoted(task)}.",
                {"task": task_json(task)},
                [_set_back(task, {"completed": True})],
            )

        return await self._with_task(args.task, "completed", act)

    async def delete_task(self, args: SweepingRefArgs) -> ToolResult:
        refused = self._sweep_refused("delete_task", args)
        if refused is not None:
            return refused

        async def act(task: TaskBrief) -> ToolResult:
            data = task_json(task)
            row = await task_service.delete_task(self.db, self.user_id, task.id)
            self.swept += 1
            return ToolResult(
                True,
                f"Deleted '{data['title']}' (#{data['id']}).",
                {"task": data},
                [_restore(row)],
            )

        return await self._with_task(args.task, None, act)

    async def update_task(self, args: UpdateTaskArgs) -> ToolResult:
        fields = args.model_fields_set - {"task"}
        changes: dict[str, Any] = {}
        if "title" in fields and args.title:
            changes["title"] = args.title
        if "description" in fields and args.description is not None:
            changes["description"] = args.description
        if "priority" in fields and args.priority is not None:
            changes["priority"] = args.priority
        raw_date = (args.due_date or "").strip().lower() if "due_date" in fields else None
        raw_time = (args.due_time or "").strip().lower() if "due_time" in fields else None
        if raw_date in _NO_VALUE:
            changes["due_date"] = None  # and with it the time (services.tasks.update_task)
        elif raw_date is not None:
            changes["due_date"], at = parse_due_moment(raw_date, raw_time, self.today)
            if at is not None:
                changes["due_time"] = at
        if raw_time is not None and "due_date" not in changes:
            changes["due_time"] = parse_time_arg(raw_time)
        if not changes:
            return ToolResult(
                False,
                "Nothing to change: give a new title, description, priority, due date or time.",
                {"error": "invalid_arguments"},
            )

        async def act(task: TaskBrief) -> ToolResult:
            before = task.title
            previous = {
                "title": task.title,
                "description": task.description,
                "priority": str(task.priority),
                "due_date": task.due_date.isoformat() if task.due_date else None,
                "due_time": format_due_time(task.due_time),
            }
            change = dict(changes)
            if change.get("due_time") is not None and task.due_date is None:
                # "make it 3pm" on an undated task: a time alone, today or tomorrow.
                change.setdefault("due_date", time_alone_day(change["due_time"], self.today))
            # A date change may clear the time, and undo must put both back.
            restored = set(change) | ({"due_date", "due_time"} if "due_date" in change else set())
            task = await task_service.update_task(
                self.db, self.user_id, task.id, TaskUpdate(**change)
            )
            undo = _set_back(task, {name: previous[name] for name in sorted(restored)})
            parts = []
            if "title" in changes:
                parts.append(f"renamed '{before}' to '{task.title}'")
            if "priority" in changes:
                parts.append(f"priority {task.priority}")
            if "due_date" in change or "due_time" in change:
                parts.append(
                    f"due {friendly_due(task.due_date, task.due_time, self.today)}"
                    if task.due_date
                    else "no due date"
                )
            if "description" in changes:
                parts.append("description updated")
            return ToolResult(
                True,
                f"Updated {quoted(task)}: {', '.join(parts)}.",
                {"task": task_json(task)},
                [undo],
            )

        return await self._with_task(args.task, None, act)

    async def clear_completed(self, args: ClearCompletedArgs) -> ToolResult:
        done = list(await self.tasks(True))
        titles = [t.title for t in done]
        if not done:
            return ToolResult(True, "There were no completed tasks to clear.", {"count": 0})
        if len(done) > SWEEP_LIMIT and not args.confirm:
            return ToolResult(
                False,
                f"Not done: this would delete {len(done)} completed tasks "
                f"({preview(titles)}). Ask the user to confirm, then call clear_completed "
                "with confirm: true.",
                {"error": "needs_confirmation", "count": len(done), "titles": titles},
            )
        # One by one (not one DELETE) to keep each task's columns for "undo".
        rows = [await task_service.delete_task(self.db, self.user_id, t.id) for t in done]
        return ToolResult(
            True,
            f"Cleared {len(rows)} completed task(s): {', '.join(titles)}.",
            {"count": len(rows), "titles": titles},
            [_restore(row) for row in rows],
        )

    # -- undo (not a tool: the agents call it for "undo") --

    async def revert(self, step: dict[str, Any]) -> str | None:
        """Apply one undo step recorded by a tool; the phrase for the reply, or None when the
        task it concerns is gone."""
        if step.get("op") == "restore":
            try:
                task = await self._restore_deleted(step)
            except Conflict:  # restored already (the board's undo)
                return f"'{step['task']['title']}' was back already"
            return f"restored {quoted(task)}"
        if step.get("op") == "remove":  # an added task
            try:
                row = await task_service.delete_task(self.db, self.user_id, int(step["id"]))
            except NotFound:
                return None
            return f"removed {quoted(row)} again"
        try:
            task = await task_service.update_task(
                self.db, self.user_id, int(step["id"]), TaskUpdate.model_validate(step["fields"])
            )
        except NotFound:
            return None
        fields = step["fields"]
        if set(fields) == {"completed"}:
            state = "done" if fields["completed"] else "not done"
            return f"marked {quoted(task)} as {state} again"
        if "title" in fields and step.get("title") != task.title:
            return f"renamed '{step.get('title')}' back to '{task.title}'"
        return f"put {quoted(task)} back as it was"

    async def _restore_deleted(self, step: dict[str, Any]) -> TaskRow:
        """The deleted task back with its id (the REST restore), or, once its tombstone is
        gone (after a day, or a step recorded before tombstones), as a new task."""
        if "id" in step:
            try:
                (task,) = await task_service.restore_tasks(
                    self.db, self.user_id, [step["id"]], cap=self.max_tasks
                )
                return task
            except NotFound:
                pass
        snapshot = dict(step["task"])
        return await task_service.create_task(
            self.db, self.user_id, TaskCreate.model_validate(snapshot), cap=self.max_tasks
        )

    async def count_tasks(self, _: NoArgs) -> ToolResult:
        counts = await task_service.count_tasks(self.db, self.user_id)
        return ToolResult(
            True,
            f"{counts['pending']} pending, {counts['completed']} completed, "
            f"{counts['total']} in total.",
            dict(counts),
        )


def preview(titles: Sequence[str], shown: int = 3) -> str:
    """ "'a', 'b', 'c' and 2 more": what a sweeping change would touch, briefly."""
    quoted_titles = [f"'{t}'" for t in titles[:shown]]
    more = f" and {len(titles) - shown} more" if len(titles) > shown else ""
    return ", ".join(quoted_titles) + more


def _restore(row: task_service.TaskRow) -> dict[str, Any]:
    """Undo step for a deletion: its id (restored from its tombstone) and its columns (a new
    task once the tombstone is gone)."""
    return {
        "op": "restore",
        "id": row.id,
        "task": {
            "title": row.title,
            "description": row.description,
            "priority": str(row.priority),
            "due_date": row.due_date.isoformat() if row.due_date else None,
            "due_time": format_due_time(row.due_time),
            "tags": list(row.tags or []),
            "completed": bool(row.completed),
        },
    }


def _set_back(task: TaskBrief, fields: dict[str, Any]) -> dict[str, Any]:
    """Undo step for an edit: the fields' previous values; `title` is the title after the edit."""
    return {"op": "set", "id": task.id, "title": task.title, "fields": fields}
