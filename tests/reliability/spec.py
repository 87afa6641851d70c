"""Reading the backend's own OpenAPI spec, so the tests cover every operation that exists
(including the ones other features add later) instead of a hand-kept list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    secured: bool
    has_body: bool
    path_params: tuple[str, ...] = field(default=())


def operations(client: httpx.Client) -> list[Operation]:
    spec = client.get("/openapi.json").raise_for_status().json()
    ops = []
    for path, item in sorted(spec["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            ops.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    secured=bool(op.get("security")),
                    has_body="requestBody" in op,
                    path_params=tuple(re.findall(r"{(\w+)}", path)),
                )
            )
    return ops


def protected_operations(client: httpx.Client) -> list[Operation]:
    return [op for op in operations(client) if op.secured]


def fill_path(op: Operation, value: int | str) -> str:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", str(value))
    return path


def sample_request(op: Operation, path_value: int | str = 1) -> dict[str, Any]:
    """A syntactically plausible request for `op` (httpx.Client.request keyword arguments)."""
    kwargs: dict[str, Any] = {"method": op.method, "url": fill_path(op, path_value)}
    if op.has_body:
        kwargs["json"] = {}
    return kwargs
