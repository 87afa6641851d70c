"""Domain errors raised by services; the API maps them to HTTP statuses in one place."""

from typing import Any


class ServiceError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail: Any = detail


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Unauthorized(ServiceError):
    status_code = 401


class InvalidField(ServiceError, ValueError):
    """422 naming the field, shaped like FastAPI's validation errors, for a rule that needs the
    stored row (e.g. a due time on a task without a due date). A ValueError too, so the agent's
    and MCP's tool layer reports it as a failed tool call."""

    status_code = 422

    def __init__(self, field: str, error_type: str, message: str) -> None:
        super().__init__(message)
        self.detail = [{"type": error_type, "loc": ["body", field], "msg": message}]

    def __str__(self) -> str:
        return str(self.args[0])
