"""FastAPI dependencies: settings, database session, the authenticated user, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.core.config import Settings
from todo_api.core.ratelimit import RateLimiter
from todo_api.core.security import InvalidToken, decode_access_token
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


async def authenticate_token(session: AsyncSession, settings: Settings, token: str) -> int:
    """The user id behind a bearer token, checked against the database (deleted users fail)."""
    try:
        user_id = decode_access_token(token, settings.auth_secret.get_secret_value())
    except InvalidToken:
        raise Unauthorized("Invalid or expired token") from None
    if not await users.user_exists(session, user_id):
        raise Unauthorized("Invalid or expired token")
    return user_id


async def get_current_user_id(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Not authenticated")
    return await authenticate_token(session, settings, credentials.credentials)


CurrentUserId = Annotated[int, Depends(get_current_user_id)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
