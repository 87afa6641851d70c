"""FastAPI dependencies: settings, database session, the authenticated user, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.core.config import Settings
from todo_api.core.ratelimit import RateLimiter
from todo_api.core.security import InvalidToken, TokenVerifier
from todo_api.services import users
from todo_api.services.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="JWT from /api/auth/login")


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in a worker thread, and that hand-off cost more than the rest of a /health call.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    maker = state.read_sessionmaker if request.method == "GET" else state.sessionmaker
    async with maker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def _token_user_id(verifier: TokenVerifier, token: str) -> int:
    try:
        return verifier.user_id(token)
    except InvalidToken:
        raise Unauthorized(users.INVALID_TOKEN) from None


async def authenticate_token(session: AsyncSession, verifier: TokenVerifier, token: str) -> int:
    """The user id behind a bearer token, with the account checked up front (MCP: a tool's
    answer, such as an empty list, would not show that the account is gone)."""
    user_id = _token_user_id(verifier, token)
    await users.require_account(session, user_id)
    return user_id


async def get_current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The user id in a valid token. The account is not looked up here (one query on every
    request): the services scope every statement to this id and answer 401 for a deleted
    account where its absence shows (`services.users.require_account`)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Not authenticated")
    return _token_user_id(request.app.state.tokens, credentials.credentials)


CurrentUserId = Annotated[int, Depends(get_current_user_id)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
