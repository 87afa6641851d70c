"""JSON responses encoded once, with orjson, from rows the services return.

Routes that return a model let FastAPI validate it again against the `response_model` and encode
it with `jsonable_encoder`: for a page of 50 tasks that was more CPU than the query. The hot routes
return these ready responses instead and keep `response_model` for the OpenAPI schema; the API
tests check the bodies against those schemas (pydantic's and orjson's JSON agree: ISO dates,
UTC datetimes with `Z`).
"""

from __future__ import annotations

import hashlib
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


def task_page(
    tasks: Sequence[TaskRow], total: int, limit: int, offset: int, counts: dict[str, int]
) -> Response:
    return json_response(
        {
            "items": task_list(tasks),
            "total": total,
            "limit": limit,
            "offset": offset,
            "counts": counts,
        }
    )


# A page may be kept by the browser but must be revalidated each time, by this user only.
PAGE_CACHE_CONTROL = "no-cache, private"


def page_etag(user_id: int, signature: tuple[Any, ...], query: str) -> str:
    """A weak validator for a listing: the same user, tasks (services.tasks.summary's
    signature) and query give the same tag, on any replica (nothing kept in the process)."""
    digest = hashlib.blake2b(repr((user_id, signature, query)).encode(), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match (RFC 9110 13.1.2) compares weakly: W/ prefixes do not count."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == opaque for candidate in if_none_match.split(",")
    )
