from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from todo_api.api.deps import CurrentUserId, SessionDep
from todo_api.models import Task
from todo_api.schemas import (
    MAX_ID,
    TaskCreate,
    TaskOut,
    TaskPage,
    TaskQuery,
    TaskUpdate,
)
from todo_api.services import tasks

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id")]


@router.get("", response_model=TaskPage)
async def list_tasks(
    user_id: CurrentUserId, session: SessionDep, query: Annotated[TaskQuery, Query()]
) -> TaskPage:
    rows, total = await tasks.list_tasks(session, user_id, query)
    return TaskPage(
        items=[TaskOut.model_validate(t) for t in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def create_task(body: TaskCreate, user_id: CurrentUserId, session: SessionDep) -> Task:
    return await tasks.create_task(session, user_id, body)


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: TaskId, user_id: CurrentUserId, session: SessionDep) -> Task:
    return await tasks.get_task(session, user_id, task_id)


@router.patch("/{task_id}", response_model=TaskOut)
async def update_task(
    task_id: TaskId, body: TaskUpdate, user_id: CurrentUserId, session: SessionDep
) -> Task:
    return await tasks.update_task(session, user_id, task_id, body)


@router.post("/{task_id}/complete", response_model=TaskOut)
async def toggle_complete(task_id: TaskId, user_id: CurrentUserId, session: SessionDep) -> Task:
    """Toggle the task between done and not done."""
    return await tasks.set_completed(session, user_id, task_id)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: TaskId, user_id: CurrentUserId, session: SessionDep) -> Response:
    await tasks.delete_task(session, user_id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
