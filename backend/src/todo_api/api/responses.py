"""JSON responses encoded once, with orjson, from rows the services return.

Routes that return a model let FastAPI validate it again against the `response_model` and encode
it with `jsonable_encoder`: for a page of 50 tasks that was more CPU than the query. The hot routes
return these ready responses instead and keep `response_model` for the OpenAPI schema; the API
tests check the bodies against those schemas (pydantic's and orjson's JSON agree: ISO dates,
UTC datetimes with `Z`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from fastapi import Response
from fastapi.encoders import jsonable_encoder

from todo_api.schemas import format_due_time
from todo_api.services.tasks import COLUMNS, TaskRow

TASK_FIELDS = tuple(column.key for column in COLUMNS)


def json_response(content: Any, status_code: int = 200) -> Response:
    try:
        body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    except TypeError:  # beyond orjson (an LLM's tool arguments: integers over 64 bits)
        body = json.dumps(jsonable_encoder(content)).encode()
    return Response(body, status_code=status_code, media_type="application/json")


def task_dict(task: TaskRow) -> dict[str, Any]:
    # Rows are tuples in COLUMNS order (page rows carry the window count after them).
    fields = dict(zip(TASK_FIELDS, task, strict=False))  # type: ignore[call-overload]
    # orjson writes a time as "HH:MM:SS"; the API's form is TaskOut's "HH:MM".
    fields["due_time"] = format_due_time(fields["due_time"])
    return fields


def task_list(tasks: Iterable[TaskRow]) -> list[dict[str, Any]]:
    return [task_dict(t) for t in tasks]


def task_page(tasks: Sequence[TaskRow], total: int, limit: int, offset: int) -> Response:
    return json_response(
        {"items": task_list(tasks), "total": total, "limit": limit, "offset": offset}
    )
