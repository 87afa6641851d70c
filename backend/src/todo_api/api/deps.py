"""FastAPI dependencies: settings, the database, the authenticated user, rate limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from todo_api.core.config import Settings
from todo_api.core.ratelimit import RateLimiter
from todo_api.core.security import InvalidToken, TokenVerifier, token_fits_account
from todo_api.db import Connection, Database
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


async def get_db(request: Request) -> Connection:
    """The request's way to the database. Nothing to close afterwards: a `Connection` holds a
    pooled connection only while a statement or a `transaction()` block runs (db.py), so
    neither a `yield` dependency nor middleware has anything to release."""
    db: Database = request.app.state.db
    return db.connection()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Connection, Depends(get_db)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


async def authenticate_token(db: Connection, verifier: TokenVerifier, token: str) -> int:
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
    (each solve has a cost, bench/findings.md).
    """

    def __init__(self) -> None:
        super().__init__(
            scheme_name="HTTPBearer", description="JWT from /api/auth/login", auto_error=False
        )

    async def __call__(self, request: Request) -> int:  # type: ignore[override]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Not authenticated")
        state = request.app.state
        return await authenticate_token(state.db.connection(), state.tokens, token)


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
