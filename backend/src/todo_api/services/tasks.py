"""Task logic: the only code that reads or writes tasks. Routers, agent tools and MCP call it.

Every function takes the owner's user id and scopes each statement to it, so another user's task
is indistinguishable from a task that does not exist (NotFound).

Statements are SQLAlchemy Core, built once with bind parameters and returning plain rows (on
this hot path, building a select and loading ORM entities cost more than the query itself).
They run on the caller's `db.Connection`: on their own (a one-statement REST request), or
inside the caller's `transaction()` (several statements: deletes with their tombstones,
restores, an MCP tool call, a whole chat turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
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
from todo_api.models import DeletedTask, Task, utcnow
from todo_api.schemas import (
    DUE_TIME_NEEDS_DUE_DATE,
    DueFilter,
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


def _due_conditions(table: FromClause, due: DueFilter) -> list[ColumnElement[bool]]:
    """Open tasks due on the day `today` (bind parameter), or before it; nothing for `any`."""
    if due is DueFilter.any:
        return []
    day = bindparam("today", type_=table.c.due_date.type)
    compare = table.c.due_date == day if due is DueFilter.today else table.c.due_date < day
    return [table.c.completed.is_(False), compare]


@lru_cache(maxsize=512)  # 3 statuses x 2 x 2 x 4 sorts x 2 orders x 3 due: every shape fits
def _page_statement(
    status: StatusFilter,
    by_priority: bool,
    by_text: bool,
    sort: SortField,
    order: SortOrder,
    due: DueFilter = DueFilter.any,
) -> tuple[Select[Any], Select[Any]]:
    """The page query (with the total as a window count) and the plain count, for one shape
    of filters; the values are bind parameters."""
    completed = {StatusFilter.pending: False, StatusFilter.completed: True}.get(status)
    conds = _users_tasks(_TABLE, completed, by_priority) + _due_conditions(_TABLE, due)
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
    if completed is None:  # the board groups done tasks below open ones, whatever the sort
        keys = [_T.completed.asc(), *keys]
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
        query.status, query.priority is not None, bool(text), query.sort, query.order, query.due
    )
    params: dict[str, Any] = {"user_id": user_id, "limit": query.limit, "offset": query.offset}
    if query.due is not DueFilter.any:
        params["today"] = query.today or date.today()
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


@dataclass(frozen=True, slots=True)
class Summary:
    """The whole account's task counts and a signature that changes with any write to its
    tasks (added: count and ids; deleted: count and ids; edited: updated_at)."""

    counts: dict[str, int]
    signature: tuple[Any, ...]


def _number_of(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_DUE = bindparam("today", type_=_T.due_date.type)
_OPEN = _T.completed.is_(False)
_SUMMARY = select(
    func.count().label("all"),
    _number_of(_T.completed.is_(True)).label("completed"),
    _number_of(_OPEN & (_T.due_date == _DUE)).label("today"),
    _number_of(_OPEN & (_T.due_date < _DUE)).label("overdue"),
    func.max(_T.id).label("max_id"),
    func.sum(_T.id).label("id_sum"),
    func.max(_T.updated_at).label("last_update"),
).where(_T.user_id == bindparam("user_id"))


async def summary(db: Connection, user_id: int, today: date) -> Summary:
    """Counts for the board's views and the signature of all the user's tasks: one aggregate
    statement over the user's rows. The signature lets a poll answer "not modified" without
    reading a page. Edits are seen through updated_at, which every write sets to its clock:
    replicas whose clocks differ by more than the time between two edits could miss one."""
    row = (await db.execute(_SUMMARY, {"user_id": user_id, "today": today})).one()
    done = int(row.completed)
    counts = {
        "all": int(row.all),
        "open": int(row.all) - done,
        "completed": done,
        "today": int(row.today),
        "overdue": int(row.overdue),
    }
    return Summary(counts, (row.all, row.max_id, row.id_sum, str(row.last_update), done))


# --- deleting and restoring ---------------------------------------------------------------
# A deleted task is kept for a day as a tombstone (models.DeletedTask): undo puts it back with
# its id and creation time. Deletes run several statements: callers run them in a transaction.

TOMBSTONE_LIFETIME = timedelta(hours=24)
_PURGE_BATCH = 100  # old tombstones removed per delete: a bound on the work a delete does
_DELETED = cast(Table, DeletedTask.__table__)
_D = _DELETED.c
_NOW = bindparam("now", type_=_D.deleted_at.type)
_TASK_KEYS = [c.key for c in COLUMNS]
_PURGE = delete(_DELETED).where(
    _D.id.in_(
        select(_D.id)
        .where(_D.deleted_at < bindparam("cutoff", type_=_D.deleted_at.type))
        .order_by(_D.deleted_at)
        .limit(_PURGE_BATCH)
        .scalar_subquery()
    )
)


def _tombstones_of(*where: ColumnElement[bool]) -> Any:
    return insert(_DELETED).from_select(
        ["user_id", *_TASK_KEYS, "deleted_at"], select(_T.user_id, *COLUMNS, _NOW).where(*where)
    )


_TOMBSTONE = _tombstones_of(*_OWNED)
_COMPLETED_OF_USER = (_T.user_id == bindparam("user_id"), _T.completed.is_(True))
_TOMBSTONE_COMPLETED = _tombstones_of(*_COMPLETED_OF_USER)
# Only the tasks tombstoned just now: one completed since then stays (it has no tombstone).
_DELETE_COMPLETED = (
    delete(_TABLE)
    .where(
        *_COMPLETED_OF_USER,
        _T.id.in_(
            select(_D.id)
            .where(_D.user_id == bindparam("user_id"), _D.deleted_at == _NOW)
            .scalar_subquery()
        ),
    )
    .returning(_T.id)
)


async def _purge_old_tombstones(db: Connection, now: datetime) -> None:
    await db.execute(_PURGE, {"cutoff": now - TOMBSTONE_LIFETIME})


async def delete_task(db: Connection, user_id: int, task_id: int) -> TaskRow:
    """Delete the task, keeping a tombstone for restore_tasks (run in a transaction)."""
    now = utcnow()
    await _purge_old_tombstones(db, now)
    await db.execute(_TOMBSTONE, {**_owned(user_id, task_id), "now": now})
    row = (await db.execute(_DELETE, _owned(user_id, task_id))).first()
    if row is None:  # nothing was tombstoned either (same conditions)
        raise NotFound("Task not found")
    return cast(TaskRow, row)


async def delete_completed(db: Connection, user_id: int) -> list[int]:
    """Delete the user's completed tasks, each kept as a tombstone; their ids, ascending."""
    now = utcnow()
    await _purge_old_tombstones(db, now)
    params = {"user_id": user_id, "now": now}
    await db.execute(_TOMBSTONE_COMPLETED, params)
    return sorted(int(row.id) for row in (await db.execute(_DELETE_COMPLETED, params)).all())


# Ids go in fixed slots (unused ones hold 0, never an id): one compiled statement for every
# batch, on the driver path too (it has no expanding IN lists).
_RESTORE_SLOTS = 50
_SLOT_NAMES = [f"id{i}" for i in range(_RESTORE_SLOTS)]
_IDS = [bindparam(name, type_=Integer()) for name in _SLOT_NAMES]
_OWN_TOMBSTONES = (_D.user_id == bindparam("user_id"), _D.id.in_(_IDS))
_FIND_TOMBSTONES = select(_D.id).where(*_OWN_TOMBSTONES)
_FIND_LIVE = select(_T.id).where(_T.id.in_(_IDS))
_REVIVE = (
    insert(_TABLE)
    .from_select(
        ["id", "user_id", *_TASK_KEYS[1:]],
        select(_D.id, _D.user_id, *(_D[key] for key in _TASK_KEYS[1:])).where(
            *_OWN_TOMBSTONES, _TASKS_UP_TO_CAP + bindparam("n", type_=Integer()) <= bindparam("cap")
        ),
    )
    .returning(*COLUMNS)
)
_DROP_TOMBSTONES = delete(_DELETED).where(*_OWN_TOMBSTONES)


async def restore_tasks(
    db: Connection, user_id: int, ids: Sequence[int], *, cap: int
) -> list[TaskRow]:
    """Put deleted tasks back with their ids, creation times and every field, in the order
    given: NotFound unless each has a tombstone of this user (a day at most), Conflict if a
    task has that id, TaskLimitReached past the cap. All or nothing: run in a transaction."""
    wanted = list(dict.fromkeys(ids))
    restored: dict[int, TaskRow] = {}
    for start in range(0, len(wanted), _RESTORE_SLOTS):
        chunk = wanted[start : start + _RESTORE_SLOTS]
        slots = dict(zip(_SLOT_NAMES, chunk + [0] * (_RESTORE_SLOTS - len(chunk)), strict=True))
        params: dict[str, Any] = {"user_id": user_id, **slots}
        found = {int(row.id) for row in (await db.execute(_FIND_TOMBSTONES, params)).all()}
        if len(found) < len(chunk):
            # The same answer for another user's task as for none (tests/reliability).
            raise NotFound("Task not found")
        if (await db.execute(_FIND_LIVE, params)).first() is not None:
            raise Conflict("A task with this id exists already")
        params.update(n=len(chunk), cap=cap)
        rows = (await db.execute(_REVIVE, params)).all()
        if len(rows) < len(chunk):  # the cap check in the insert refused the chunk
            raise TaskLimitReached(
                f"You have reached the limit of {cap} tasks. "
                "Delete or clear completed tasks to restore these ones."
            )
        await db.execute(_DROP_TOMBSTONES, params)
        restored.update((int(row.id), cast(TaskRow, row)) for row in rows)
    return [restored[task_id] for task_id in wanted]


async def count_tasks(db: Connection, user_id: int) -> dict[str, int]:
    rows = await db.execute(_COUNT_BY_STATUS, {"user_id": user_id})
    counts = {bool(done): int(n) for done, n in rows.all()}
    pending, completed = counts.get(False, 0), counts.get(True, 0)
    return {"total": pending + completed, "pending": pending, "completed": completed}


# What the agent reads of every task: no tags (a JSON value to decode per row) nor created_at.
_BRIEF_COLUMNS = tuple(c for c in COLUMNS if c.key not in {"tags", "created_at"})
# What a listing's lines show. On SQLite each further column read costs a conversion per row,
# and updated_at's is a datetime parse: ~1 us per task, up to 50 per listing.
_LINE_COLUMNS = (_T.id, _T.title, _T.completed, _T.priority, _T.due_date, _T.due_time)


@lru_cache(maxsize=4)
def _all_statement(completed: bool | None) -> Select[Any]:
    stmt = select(*_BRIEF_COLUMNS).where(*_users_tasks(_TABLE, completed))
    return stmt.order_by(_T.created_at, _T.id).limit(bindparam("limit"))


@lru_cache(maxsize=16)
def _listing_statement(completed: bool | None, by_priority: bool, details: bool) -> Select[Any]:
    # The total is a subquery the database runs once, from the (user_id, completed) index. A
    # window count kept every matching row for the sort: with ~110 open tasks, SQLite took
    # 145 us for the statement that now takes 98 (bench/findings.md).
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
