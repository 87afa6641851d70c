"""FastAPI dependencies: settings, database session, the authenticated user, rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo_api.api.middleware import REQUEST_SESSIONS
from todo_api.core.config import Settings
from todo_api.core.ratelimit import RateLimiter
from todo_api.core.security import InvalidToken, TokenVerifier, token_fits_account
from todo_api.db_direct import Db, DirectConnection
from todo_api.services import users
from todo_api.services.errors import Unauthorized

# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in a worker thread, and that hand-off cost more than the rest of a /health call.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def _request_session(request: Request, maker: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session that RequestContextMiddleware closes as the response starts.

    Plain (not `yield`) dependencies: FastAPI's generator dependencies cost ~0.1 ms per request
    (an exit stack and context-manager wrappers), as much as a database round trip."""
    session = maker()
    request.scope["state"].setdefault(REQUEST_SESSIONS, []).append(session)
    return session


async def get_session(request: Request) -> AsyncSession:
    """A session whose statements share a transaction until the route commits (reads: none)."""
    state = request.app.state
    maker = state.autocommit_sessionmaker if request.method == "GET" else state.sessionmaker
    return _request_session(request, maker)


def _request_direct_connection(request: Request, *, transactional: bool) -> DirectConnection:
    conn: DirectConnection = request.app.state.direct_db.connection(transactional=transactional)
    request.scope["state"].setdefault(REQUEST_SESSIONS, []).append(conn)
    return conn


async def get_direct_connection(request: Request) -> DirectConnection:
    """For routes that read or write with a single statement (the task routes): it runs on the
    driver, without a session or a transaction around it (see db_direct)."""
    return _request_direct_connection(request, transactional=False)


async def get_direct_transaction(request: Request) -> DirectConnection:
    """For a unit of work of several statements on the driver, its writes in one transaction
    until it commits (a chat turn: `conversations.save_turn` commits it)."""
    return _request_direct_connection(request, transactional=True)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
DirectConnectionDep = Annotated[DirectConnection, Depends(get_direct_connection)]
DirectTransactionDep = Annotated[DirectConnection, Depends(get_direct_transaction)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


async def authenticate_token(db: Db, verifier: TokenVerifier, token: str) -> int:
    """The user id behind a bearer token; Unauthorized unless the token is validly signed,
    unexpired, and was issued to the account that now holds its id.

    The one check for REST, chat and MCP alike: the services trust the id they are given.
    One indexed read per request: it is what keeps a deleted account's token, or a token from
    before the database was recreated, from acting for whoever holds that id now."""
    try:
        claims = verifier.claims(token)
    except InvalidToken:
        raise Unauthorized(users.INVALID_TOKEN) from None
    created_at = await users.account_created_at(db, claims.user_id)
    if created_at is None or not token_fits_account(claims, created_at):
        raise Unauthorized(users.INVALID_TOKEN)
    return claims.user_id


class BearerUserId(HTTPBearer):
    """The user id of a valid bearer token whose account exists (`authenticate_token`); 401
    otherwise.

    A security scheme itself, so OpenAPI documents it as before ("HTTPBearer") while FastAPI
    solves one dependency per request, not a user dependency plus an HTTPBearer one under it
    (each costs ~10-15 us, bench/findings.md).
    """

    def __init__(self) -> None:
        super().__init__(
            scheme_name="HTTPBearer", description="JWT from /api/auth/login", auto_error=False
        )

    async def __call__(self, request: Request) -> int:  # type: ignore[override]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Not authenticated")
        db = _request_direct_connection(request, transactional=False)
        return await authenticate_token(db, request.app.state.tokens, token)


get_current_user_id = BearerUserId()
CurrentUserId = Annotated[int, Depends(get_current_user_id)]


async def bearer_refusal(request: Request) -> Unauthorized | None:
    """Why the request's bearer token is refused, when its route needs a user. Asked only
    when a request fails validation, which FastAPI may report before the auth dependency ran:
    authentication answers first (401, not 422)."""
    if not _needs_user(request.scope.get("route")):
        return None
    try:
        await get_current_user_id(request)
    except Unauthorized as refusal:
        return refusal
    return None


def _needs_user(route: Any) -> bool:
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        if isinstance(dependant.call, BearerUserId):
            return True
        pending.extend(dependant.dependencies)
    return False


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


QueryModel = TypeVar("QueryModel", bound=BaseModel)


def query_model(model: type[QueryModel]) -> Callable[[Request], Awaitable[QueryModel]]:
    """A dependency parsing the query string into `model` with one validation call.

    FastAPI's `Annotated[Model, Query()]` inspects every field's annotation again on each
    request, which cost ~10 % of a task-list request. Errors keep FastAPI's shape (422, `loc`
    starting with "query"); pair it with `openapi_extra=query_parameters(model)` for the docs.
    """

    async def parse(request: Request) -> QueryModel:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
            ) from None

    return parse


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI `parameters` for the fields of a query model (see `query_model`)."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:  # enums are $refs into $defs, which OpenAPI would not resolve
        if isinstance(node, dict):
            fields = {key: inline(value) for key, value in node.items() if key != "$ref"}
            if "$ref" in node:  # keep what sits beside the $ref, such as its default
                return {**inline(defs[node["$ref"].rsplit("/", 1)[-1]]), **fields}
            return fields
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    required = set(schema.get("required", []))
    return {
        "parameters": [
            {"name": name, "in": "query", "required": name in required, "schema": inline(prop)}
            for name, prop in schema["properties"].items()
        ]
    }
