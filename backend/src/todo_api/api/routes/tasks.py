from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from todo_api.agent.nlu import draft_task
from todo_api.api.deps import (
    CurrentUserId,
    DirectConnectionDep,
    DirectTransactionDep,
    query_model,
    query_parameters,
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

# Each handler runs one statement (a miss adds a read), so none needs a transaction around it:
# they run straight on the driver (db_direct).
# Handlers return ready JSON (api/responses.py); `response_model` documents its schema.


_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    status.HTTP_304_NOT_MODIFIED: {"description": "The tasks and the query are as in If-None-Match"}
}


@router.get(
    "",
    response_model=TaskPage,
    openapi_extra=query_parameters(TaskQuery),
    responses=_NOT_MODIFIED,
)
async def list_tasks(
    request: Request,
    user_id: CurrentUserId,
    db: DirectConnectionDep,
    query: Annotated[TaskQuery, Depends(query_model(TaskQuery))],
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
async def delete_completed(user_id: CurrentUserId, db: DirectTransactionDep) -> Response:
    """Delete every completed task; each can be restored for a day (POST /api/tasks/restore)."""
    deleted = await tasks.delete_completed(db, user_id)
    await db.commit()
    return json_response({"deleted": deleted})


@router.post("/restore", response_model=RestoredTasks)
async def restore_tasks(
    body: TaskIds, user_id: CurrentUserId, db: DirectTransactionDep
) -> Response:
    """Put deleted tasks back with their ids and creation times (all or none)."""
    restored = await tasks.restore_tasks(db, user_id, body.ids)
    await db.commit()
    return json_response({"restored": task_list(restored)})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def create_task(
    body: TaskCreate, user_id: CurrentUserId, db: DirectConnectionDep
) -> Response:
    task = await tasks.create_task(db, user_id, body)
    await db.commit()
    return json_response(task_dict(task), status.HTTP_201_CREATED)


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: TaskId, user_id: CurrentUserId, db: DirectConnectionDep) -> Response:
    return json_response(task_dict(await tasks.get_task(db, user_id, task_id)))


@router.patch("/{task_id}", response_model=TaskOut)
async def update_task(
    task_id: TaskId, body: TaskUpdate, user_id: CurrentUserId, db: DirectConnectionDep
) -> Response:
    task = await tasks.update_task(db, user_id, task_id, body)
    await db.commit()
    return json_response(task_dict(task))


@router.post("/{task_id}/complete", response_model=TaskOut)
async def toggle_complete(
    task_id: TaskId, user_id: CurrentUserId, db: DirectConnectionDep
) -> Response:
    """Toggle the task between done and not done."""
    task = await tasks.set_completed(db, user_id, task_id)
    await db.commit()
    return json_response(task_dict(task))


@router.post("/{task_id}/restore", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def restore_task(
    task_id: TaskId, user_id: CurrentUserId, db: DirectTransactionDep
) -> Response:
    """Undo a delete: the task again, with its id, creation time and every field."""
    (task,) = await tasks.restore_tasks(db, user_id, [task_id])
    await db.commit()
    return json_response(task_dict(task), status.HTTP_201_CREATED)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(
    task_id: TaskId, user_id: CurrentUserId, db: DirectTransactionDep
) -> Response:
    """Delete the task; it can be restored for a day (POST /api/tasks/{task_id}/restore)."""
    await tasks.delete_task(db, user_id, task_id)
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
