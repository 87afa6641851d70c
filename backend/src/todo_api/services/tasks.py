"""Task logic: the only code that reads or writes tasks. Routers, agent tools and MCP call it.

Every function takes the owner's user id and scopes each query to it, so another user's task
is indistinguishable from a task that does not exist (NotFound).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.models import Task, utcnow
from todo_api.schemas import (
    SortField,
    SortOrder,
    StatusFilter,
    TaskCreate,
    TaskQuery,
    TaskUpdate,
)
from todo_api.services.errors import NotFound

_PRIORITY_RANK = case({"low": 0, "medium": 1, "high": 2}, value=Task.priority, else_=1)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(user_id: int, query: TaskQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Task.user_id == user_id]
    if query.status is StatusFilter.pending:
        conds.append(Task.completed.is_(False))
    elif query.status is StatusFilter.completed:
        conds.append(Task.completed.is_(True))
    if query.priority is not None:
        conds.append(Task.priority == query.priority.value)
    if query.q and query.q.strip():
        pattern = f"%{_escape_like(query.q.strip().lower())}%"
        conds.append(
            or_(
                func.lower(Task.title).like(pattern, escape="\\"),
                func.lower(Task.description).like(pattern, escape="\\"),
            )
        )
    return conds


def _ordering(query: TaskQuery) -> list[Any]:
    desc = query.order is SortOrder.desc
    column: Any = {
        SortField.created: Task.created_at,
        SortField.due: Task.due_date,
        SortField.priority: _PRIORITY_RANK,
        SortField.title_: func.lower(Task.title),
    }[query.sort]
    primary = column.desc() if desc else column.asc()
    if query.sort is SortField.due:
        primary = primary.nulls_last()  # tasks without a due date go last either way
    tiebreak = Task.id.desc() if desc else Task.id.asc()
    return [primary, tiebreak]


# The board's page: plain rows of these columns (no ORM identity map or change tracking, which
# cost more than the query itself) plus the total from a window count, in one statement.
_T = Task.__table__.c
_PAGE_COLUMNS = (
    _T.id,
    _T.title,
    _T.description,
    _T.completed,
    _T.priority,
    _T.due_date,
    _T.tags,
    _T.created_at,
    _T.updated_at,
)


async def list_tasks(
    session: AsyncSession, user_id: int, query: TaskQuery | None = None
) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
    """One page of the user's tasks (read-only rows with the Task fields) and the total
    matching count."""
    query = query or TaskQuery()
    conds = _filters(user_id, query)
    conn = await session.connection()  # Core execution: rows, not entities
    rows = (
        await conn.execute(
            select(*_PAGE_COLUMNS, func.count().over().label("total_count"))
            .where(*conds)
            .order_by(*_ordering(query))
            .limit(query.limit)
            .offset(query.offset)
        )
    ).all()
    if rows:
        total = int(rows[0].total_count)
    elif query.offset == 0:
        total = 0
    else:  # past the last page: no row carries the window count
        total = await session.scalar(select(func.count()).select_from(Task).where(*conds)) or 0
    return rows, total


async def get_task(session: AsyncSession, user_id: int, task_id: int) -> Task:
    task = await session.scalar(select(Task).where(Task.id == task_id, Task.user_id == user_id))
    if task is None:
        raise NotFound("Task not found")
    return task


async def create_task(session: AsyncSession, user_id: int, data: TaskCreate) -> Task:
    task = Task(user_id=user_id, **data.model_dump())
    session.add(task)
    await session.commit()
    return task


async def update_task(session: AsyncSession, user_id: int, task_id: int, data: TaskUpdate) -> Task:
    task = await get_task(session, user_id, task_id)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(task, field, value)
    if changes:
        task.updated_at = utcnow()
        await session.commit()
    return task


async def set_completed(
    session: AsyncSession, user_id: int, task_id: int, completed: bool | None = None
) -> Task:
    """Mark done / not done; `None` toggles."""
    task = await get_task(session, user_id, task_id)
    task.completed = (not task.completed) if completed is None else completed
    task.updated_at = utcnow()
    await session.commit()
    return task


async def delete_task(session: AsyncSession, user_id: int, task_id: int) -> Task:
    task = await get_task(session, user_id, task_id)
    await session.delete(task)
    await session.commit()
    return task


async def delete_completed(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        delete(Task).where(Task.user_id == user_id, Task.completed.is_(True))
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def count_tasks(session: AsyncSession, user_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Task.completed, func.count()).where(Task.user_id == user_id).group_by(Task.completed)
    )
    counts = {bool(done): int(n) for done, n in rows.all()}
    pending, completed = counts.get(False, 0), counts.get(True, 0)
    return {"total": pending + completed, "pending": pending, "completed": completed}


async def all_tasks(
    session: AsyncSession, user_id: int, *, completed: bool | None = None, limit: int = 2000
) -> Sequence[Task]:
    """Every task of the user (oldest first, bounded), e.g. to resolve "the milk one" to a task."""
    conds: list[ColumnElement[bool]] = [Task.user_id == user_id]
    if completed is not None:
        conds.append(Task.completed.is_(completed))
    stmt = select(Task).where(*conds).order_by(Task.created_at, Task.id).limit(limit)
    return (await session.scalars(stmt)).all()
