"""Task logic: the only code that reads or writes tasks. Routers, agent tools and MCP call it.

Every function takes the owner's user id and scopes each statement to it, so another user's task
is indistinguishable from a task that does not exist (NotFound).

Statements are SQLAlchemy Core, built once with bind parameters and returning plain rows (on
this hot path, building a select and loading ORM entities cost more than the query itself).
They run on the caller's `db.Connection`: on their own (a REST request: each statement commits),
or inside the caller's `transaction()` (an MCP tool call, a whole chat turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from todo_api.db import Connection
from todo_api.models import Task, utcnow
from todo_api.schemas import (
    DUE_TIME_NEEDS_DUE_DATE,
    SortField,
    SortOrder,
    StatusFilter,
    TaskCreate,
    TaskQuery,
    TaskUpdate,
)
from todo_api.services.errors import Conflict, InvalidField, NotFound, Unauthorized
from todo_api.services.users import INVALID_TOKEN


class TaskLine(Protocol):
    """What one line of a listing shows of a task (agent/tools.describe)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def completed(self) -> bool: ...
    @property
    def priority(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def due_time(self) -> time | None: ...


class TaskBrief(TaskLine, Protocol):
    """A task as the agent reads it: a read-only row without tags and created_at."""

    @property
    def description(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...


class TaskRow(TaskBrief, Protocol):
    """A task as the services return it: a read-only row with the Task columns."""

    @property
    def tags(self) -> list[str]: ...
    @property
    def created_at(self) -> datetime: ...


_TABLE = cast(Table, Task.__table__)
_T = _TABLE.c
COLUMNS = (
    _T.id,
    _T.title,
    _T.description,
    _T.completed,
    _T.priority,
    _T.due_date,
    _T.due_time,
    _T.tags,
    _T.created_at,
    _T.updated_at,
)
_PRIORITY_RANK = case({"low": 0, "medium": 1, "high": 2}, value=_T.priority, else_=1)
# Not named after columns: UPDATE reserves those names for its SET values.
_OWNED = (_T.id == bindparam("task_id"), _T.user_id == bindparam("owner_id"))

_GET = select(*COLUMNS).where(*_OWNED)
_INSERT_NAMES = ("user_id", *(c.key for c in COLUMNS[1:]))
# The cap on tasks per user is checked in the insert itself (no extra round trip): the row is
# inserted only while the owner has fewer than `cap` tasks. Counting stops at the cap, on the
# (user_id, ...) index. Two inserts racing at the cap may both pass: a bound, not a quota.
_TASKS_UP_TO_CAP = (
    select(func.count())
    .select_from(
        select(_T.id).where(_T.user_id == bindparam("user_id")).limit(bindparam("cap")).subquery()
    )
    .scalar_subquery()
)
_INSERT = (
    insert(_TABLE)
    .from_select(
        _INSERT_NAMES,
        select(*(bindparam(name, type_=_TABLE.c[name].type) for name in _INSERT_NAMES)).where(
            _TASKS_UP_TO_CAP < bindparam("cap")
        ),
    )
    .returning(*COLUMNS)
)
_SET_COMPLETED = (
    update(_TABLE)
    .where(*_OWNED)
    .values(completed=bindparam("completed"), updated_at=bindparam("now"))
    .returning(*COLUMNS)
)
_TOGGLE = (
    update(_TABLE)
    .where(*_OWNED)
    .values(completed=not_(_T.completed), updated_at=bindparam("now"))
    .returning(*COLUMNS)
)
_DELETE = delete(_TABLE).where(*_OWNED).returning(*COLUMNS)
_DELETE_COMPLETED = delete(_TABLE).where(_T.user_id == bindparam("user_id"), _T.completed.is_(True))
_COUNT_BY_STATUS = (
    select(_T.completed, func.count())
    .where(_T.user_id == bindparam("user_id"))
    .group_by(_T.completed)
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _users_tasks(
    table: FromClause, completed: bool | None, by_priority: bool = False
) -> list[ColumnElement[bool]]:
    """The conditions selecting one user's tasks (bind parameter `user_id`), optionally only
    open or done ones, and only of one priority (bind parameter `priority`)."""
    conds: list[ColumnElement[bool]] = [table.c.user_id == bindparam("user_id")]
    if completed is not None:
        conds.append(table.c.completed.is_(completed))
    if by_priority:
        conds.append(table.c.priority == bindparam("priority"))
    return conds


@lru_cache(maxsize=128)  # 3 statuses x 2 x 2 x 4 sorts x 2 orders: every shape fits
def _page_statement(
    status: StatusFilter, by_priority: bool, by_text: bool, sort: SortField, order: SortOrder
) -> tuple[Select[Any], Select[Any]]:
    """The page query (with the total as a window count) and the plain count, for one shape
    of filters; the values are bind parameters."""
    completed = {StatusFilter.pending: False, StatusFilter.completed: True}.get(status)
    conds = _users_tasks(_TABLE, completed, by_priority)
    if by_text:
        pattern = bindparam("pattern", type_=String)
        conds.append(
            or_(
                func.lower(_T.title).like(pattern, escape="\\"),
                func.lower(_T.description).like(pattern, escape="\\"),
            )
        )
    column: Any = {
        SortField.created: _T.created_at,
        SortField.due: _T.due_date,
        SortField.priority: _PRIORITY_RANK,
        SortField.title_: func.lower(_T.title),
    }[sort]
    desc = order is SortOrder.desc
    primary = column.desc() if desc else column.asc()
    keys = [primary]
    if sort is SortField.due:
        # Tasks without a due date go last either way; within a day, by time, untimed last.
        keys = [
            primary.nulls_last(),
            (_T.due_time.desc() if desc else _T.due_time.asc()).nulls_last(),
        ]
    page = (
        select(*COLUMNS, func.count().over().label("total_count"))
        .where(*conds)
        .order_by(*keys, _T.id.desc() if desc else _T.id.asc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return page, select(func.count()).select_from(_TABLE).where(*conds)


async def list_tasks(
    db: Connection, user_id: int, query: TaskQuery | None = None
) -> tuple[Sequence[TaskRow], int]:
    """One page of the user's tasks and the total matching count, in one statement."""
    query = query or TaskQuery()
    text = query.q.strip() if query.q else ""
    page, count = _page_statement(
        query.status, query.priority is not None, bool(text), query.sort, query.order
    )
    params: dict[str, Any] = {"user_id": user_id, "limit": query.limit, "offset": query.offset}
    if query.priority is not None:
        params["priority"] = query.priority.value
    if text:
        params["pattern"] = f"%{_escape_like(text.lower())}%"
    rows = (await db.execute(page, params)).all()
    if rows:
        return cast(Sequence[TaskRow], rows), int(rows[0].total_count)
    total = 0 if query.offset == 0 else int((await db.execute(count, params)).scalar() or 0)
    return [], total


async def get_task(db: Connection, user_id: int, task_id: int) -> TaskRow:
    row = (await db.execute(_GET, _owned(user_id, task_id))).first()
    if row is None:
        raise NotFound("Task not found")
    return cast(TaskRow, row)


class TaskLimitReached(Conflict, ValueError):
    """409 on REST; a ValueError too, so the agent's and MCP's tool layer reports it to the
    caller as a failed tool call (its message) rather than an internal error."""


async def create_task(db: Connection, user_id: int, data: TaskCreate, *, cap: int) -> TaskRow:
    """Add a task (every door: REST, chat, MCP); Conflict once the owner has `cap` tasks
    (MAX_TASKS_PER_USER)."""
    now = utcnow()
    values = {
        "user_id": user_id,
        **data.model_dump(),
        "created_at": now,
        "updated_at": now,
        "cap": cap,
    }
    try:
        row = (await db.execute(_INSERT, values)).first()
    except IntegrityError:  # the only constraint an insert can break: the owner is gone
        # (deleted after this request's authentication)
        raise Unauthorized(INVALID_TOKEN) from None
    if row is None:  # the insert's own count check found the owner at the cap
        raise TaskLimitReached(
            f"You have reached the limit of {cap} tasks. "
            "Delete or clear completed tasks to add new ones."
        )
    return cast(TaskRow, row)


async def update_task(db: Connection, user_id: int, task_id: int, data: TaskUpdate) -> TaskRow:
    """Change the given fields. Clearing the due date clears the due time too; a due time
    needs a due date, in the same change or already on the task (422 InvalidField)."""
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return await get_task(db, user_id, task_id)
    if "due_date" in changes and changes["due_date"] is None:
        if changes.get("due_time") is not None:
            raise _due_time_needs_due_date()
        changes["due_time"] = None
    elif changes.get("due_time") is not None and "due_date" not in changes:
        # The one change that depends on the stored row: read it (a rare extra round trip).
        if (await get_task(db, user_id, task_id)).due_date is None:
            raise _due_time_needs_due_date()
    params = {**_owned(user_id, task_id), "now": utcnow()}
    params.update({f"new_{field}": value for field, value in changes.items()})
    stmt = _update_statement(tuple(sorted(changes)))
    row = (await db.execute(stmt, params)).first()
    if row is None:
        raise NotFound("Task not found")
    return cast(TaskRow, row)


def _due_time_needs_due_date() -> InvalidField:
    return InvalidField("due_time", "due_time_needs_due_date", DUE_TIME_NEEDS_DUE_DATE)


@lru_cache(maxsize=128)  # one per set of changed fields
def _update_statement(fields: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {field: bindparam(f"new_{field}") for field in fields}
    return (
        update(_TABLE)
        .where(*_OWNED)
        .values(**values, updated_at=bindparam("now"))
        .returning(*COLUMNS)
    )


async def set_completed(
    db: Connection, user_id: int, task_id: int, completed: bool | None = None
) -> TaskRow:
    """Mark done / not done; `None` toggles."""
    params = {**_owned(user_id, task_id), "now": utcnow()}
    if completed is None:
        stmt = _TOGGLE
    else:
        stmt, params["completed"] = _SET_COMPLETED, completed
    row = (await db.execute(stmt, params)).first()
    if row is None:
        raise NotFound("Task not found")
    return cast(TaskRow, row)


async def delete_task(db: Connection, user_id: int, task_id: int) -> TaskRow:
    row = (await db.execute(_DELETE, _owned(user_id, task_id))).first()
    if row is None:
        raise NotFound("Task not found")
    return cast(TaskRow, row)


async def delete_completed(db: Connection, user_id: int) -> int:
    return (await db.execute(_DELETE_COMPLETED, {"user_id": user_id})).rowcount


async def count_tasks(db: Connection, user_id: int) -> dict[str, int]:
    rows = await db.execute(_COUNT_BY_STATUS, {"user_id": user_id})
    counts = {bool(done): int(n) for done, n in rows.all()}
    pending, completed = counts.get(False, 0), counts.get(True, 0)
    return {"total": pending + completed, "pending": pending, "completed": completed}


# What the agent reads of every task: no tags (a JSON value to decode per row) nor created_at.
_BRIEF_COLUMNS = tuple(c for c in COLUMNS if c.key not in {"tags", "created_at"})
# What a listing's lines show. On SQLite each further column read costs a conversion per row,
# and updated_at's is a datetime parse, for up to 50 tasks per listing.
_LINE_COLUMNS = (_T.id, _T.title, _T.completed, _T.priority, _T.due_date, _T.due_time)


@lru_cache(maxsize=4)
def _all_statement(completed: bool | None) -> Select[Any]:
    stmt = select(*_BRIEF_COLUMNS).where(*_users_tasks(_TABLE, completed))
    return stmt.order_by(_T.created_at, _T.id).limit(bindparam("limit"))


@lru_cache(maxsize=16)
def _listing_statement(completed: bool | None, by_priority: bool, details: bool) -> Select[Any]:
    # The total is a subquery the database runs once, from the (user_id, completed) index. A
    # window count kept every matching row for the sort (bench/findings.md).
    counted = _TABLE.alias("counted")
    total = (
        select(func.count())
        .select_from(counted)
        .where(*_users_tasks(counted, completed, by_priority))
    )
    columns = _BRIEF_COLUMNS if details else _LINE_COLUMNS
    due_first = (_T.due_date.asc().nulls_last(), _T.due_time.asc().nulls_last())
    return (
        select(*columns, total.scalar_subquery().label("total_count"))
        .where(*_users_tasks(_TABLE, completed, by_priority))
        .order_by(_T.completed, *due_first, _T.id)
        .limit(bindparam("limit"))
    )


async def first_tasks(
    db: Connection,
    user_id: int,
    *,
    completed: bool | None,
    priority: str | None,
    limit: int,
    details: bool = True,
) -> tuple[Sequence[TaskLine], int]:
    """The first `limit` of the user's tasks in the agent's listing order (open ones first,
    then by due date and time, undated and untimed last, then oldest first) and how many match
    in all: one statement, however many tasks the user has. The rows are TaskBriefs with
    `details`, else only what a listing line shows."""
    params: dict[str, Any] = {"user_id": user_id, "limit": limit}
    if priority is not None:
        params["priority"] = priority
    stmt = _listing_statement(completed, priority is not None, details)
    rows = (await db.execute(stmt, params)).all()
    return cast(Sequence[TaskLine], rows), int(rows[0].total_count) if rows else 0


async def all_tasks(
    db: Connection, user_id: int, *, completed: bool | None = None, limit: int = 2000
) -> Sequence[TaskBrief]:
    """Every task of the user (oldest first, bounded), e.g. to resolve "the milk one" to a task."""
    params = {"user_id": user_id, "limit": limit}
    rows = await db.execute(_all_statement(completed), params)
    return cast(Sequence[TaskBrief], rows.all())


def _owned(user_id: int, task_id: int) -> dict[str, int]:
    return {"owner_id": user_id, "task_id": task_id}
