from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from todo_api.agent.nlu import draft_task
from todo_api.api.deps import (
    CurrentUserId,
    DbDep,
    SettingsDep,
)
from todo_api.api.responses import (
    PAGE_CACHE_CONTROL,
    etag_matches,
    json_response,
    page_etag,
    task_dict,
    task_list,
    task_page,
)
from todo_api.schemas import (
    MAX_ID,
    DeletedTasks,
    ParseIn,
    RestoredTasks,
    TaskCreate,
    TaskDraft,
    TaskIds,
    TaskOut,
    TaskPage,
    TaskQuery,
    TaskUpdate,
)
from todo_api.services import tasks

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id")]

# A handler that runs one statement (a miss adds a read) needs no transaction: the statement
# commits on its own. Deletes and restores run several, in `db.transaction()`. Handlers return
# ready JSON (api/responses.py); `response_model` documents it.


_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    status.HTTP_304_NOT_MODIFIED: {"description": "The tasks and the query are as in If-None-Match"}
}


@router.get(
    "",
    response_model=TaskPage,
    responses=_NOT_MODIFIED,
)
async def list_tasks(
    request: Request,
    user_id: CurrentUserId,
    db: DbDep,
    query: Annotated[TaskQuery, Query()],
) -> Response:
    """A page of tasks with the account's counts. Sends an ETag; a poll that sends it back in
    If-None-Match gets 304 without the page being read (one aggregate query)."""
    if query.today is None:
        query = query.model_copy(update={"today": date.today()})
    assert query.today is not None
    summary = await tasks.summary(db, user_id, query.today)
    etag = page_etag(user_id, summary.signature, query.model_dump_json())
    headers = {"ETag": etag, "Cache-Control": PAGE_CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    rows, total = await tasks.list_tasks(db, user_id, query)
    response = task_page(rows, total, query.limit, query.offset, summary.counts)
    response.headers.update(headers)
    return response


@router.post("/parse", response_model=TaskDraft)
async def parse_task(body: ParseIn, _: CurrentUserId) -> Response:
    """Read a task from one line ("buy bread tomorrow 5pm !high #shop"), creating nothing:
    the chat's parser, with quick-add markers (!high/!h/!1, #tag)."""
    draft = draft_task(body.text, body.today or date.today())
    return json_response(TaskDraft.model_validate(draft).model_dump(mode="json"))


@router.delete("/completed", response_model=DeletedTasks)
async def delete_completed(user_id: CurrentUserId, db: DbDep) -> Response:
    """Delete every completed task; each can be restored for a day (POST /api/tasks/restore)."""
    async with db.transaction():
        deleted = await tasks.delete_completed(db, user_id)
    return json_response({"deleted": deleted})


@router.post("/restore", response_model=RestoredTasks)
async def restore_tasks(
    body: TaskIds, user_id: CurrentUserId, db: DbDep, settings: SettingsDep
) -> Response:
    """Put deleted tasks back with their ids and creation times (all or none)."""
    async with db.transaction():
        restored = await tasks.restore_tasks(db, user_id, body.ids, cap=settings.max_tasks_per_user)
    return json_response({"restored": task_list(restored)})


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


@router.post("/{task_id}/restore", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def restore_task(
    task_id: TaskId, user_id: CurrentUserId, db: DbDep, settings: SettingsDep
) -> Response:
    """Undo a delete: the task again, with its id, creation time and every field."""
    async with db.transaction():
        (task,) = await tasks.restore_tasks(db, user_id, [task_id], cap=settings.max_tasks_per_user)
    return json_response(task_dict(task), status.HTTP_201_CREATED)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: TaskId, user_id: CurrentUserId, db: DbDep) -> Response:
    """Delete the task; it can be restored for a day (POST /api/tasks/{task_id}/restore)."""
    async with db.transaction():
        await tasks.delete_task(db, user_id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
