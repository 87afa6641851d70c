from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from todo_api.api.deps import (
    CurrentUserId,
    DbDep,
    SettingsDep,
)
from todo_api.api.responses import json_response, task_dict, task_page
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

# Each handler runs one statement (a miss adds a read), which commits on its own: none needs a
# transaction. Handlers return ready JSON (api/responses.py); `response_model` documents it.


@router.get("", response_model=TaskPage)
async def list_tasks(
    user_id: CurrentUserId, db: DbDep, query: Annotated[TaskQuery, Query()]
) -> Response:
    rows, total = await tasks.list_tasks(db, user_id, query)
    return task_page(rows, total, query.limit, query.offset)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def create_task(
    body: TaskCreate, user_id: CurrentUserId, db: DbDep, settings: SettingsDep
) -> Response:
    task = await tasks.create_task(db, user_id, body, cap=settings.max_tasks_per_user)
    return json_response(task_dict(task), status.HTTP_201_CREATED)


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: TaskId, user_id: CurrentUserId, db: DbDep) -> Response:
    return json_response(task_dict(await tasks.get_task(db, user_id, task_id)))


@router.patch("/{task_id}", response_model=TaskOut)
async def update_task(
    task_id: TaskId, body: TaskUpdate, user_id: CurrentUserId, db: DbDep
) -> Response:
    task = await tasks.update_task(db, user_id, task_id, body)
    return json_response(task_dict(task))


@router.post("/{task_id}/complete", response_model=TaskOut)
async def toggle_complete(task_id: TaskId, user_id: CurrentUserId, db: DbDep) -> Response:
    """Toggle the task between done and not done."""
    task = await tasks.set_completed(db, user_id, task_id)
    return json_response(task_dict(task))


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: TaskId, user_id: CurrentUserId, db: DbDep) -> Response:
    await tasks.delete_task(db, user_id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
