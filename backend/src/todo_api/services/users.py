"""Accounts: sign up, credential check, lookup, deletion."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.core.passwords import normalize_email as normalize_email  # the routes use it too
from todo_api.core.security import hash_password, verify_password
from todo_api.db_direct import Db, execute
from todo_api.models import User
from todo_api.services.errors import Conflict, NotFound, Unauthorized

BAD_CREDENTIALS = "Incorrect email or password"
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105 - a message, not a secret


async def create_user(session: AsyncSession, email: str, password: str, name: str = "") -> User:
    email = normalize_email(email)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists")
    user = User(email=email, name=name, password_hash=await hash_password(password))
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        await session.rollback()
        raise Conflict("An account with this email already exists") from None
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    # Verify even for unknown emails so timing does not reveal which accounts exist.
    ok = await verify_password(password, user.password_hash if user else None)
    if user is None or not ok:
        raise Unauthorized(BAD_CREDENTIALS)
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def delete_user(session: AsyncSession, user_id: int) -> None:
    result = await session.execute(delete(User).where(User.id == user_id))
    await session.commit()
    if not getattr(result, "rowcount", 1):
        raise Unauthorized(INVALID_TOKEN)  # already deleted: its token is dead


# Built once: every authenticated request runs it, and building a select costs more than
# executing it. Core (not the ORM session path): nothing here needs an entity.
_USER_EXISTS = select(User.__table__.c.id).where(User.__table__.c.id == bindparam("user_id"))


async def user_exists(db: Db, user_id: int) -> bool:
    return (await execute(db, _USER_EXISTS, {"user_id": user_id})).scalar() is not None


async def require_account(db: Db, user_id: int) -> None:
    """Raise Unauthorized when the account behind a valid token has been deleted.

    Requests do not look the account up before they run (that was one query on every request):
    every statement is scoped to the token's user id, so a deleted account reads nothing and
    cannot insert (foreign key). The services call this where a deleted account and an empty
    result look alike (a miss, an empty list, a refused insert), so its token still gets 401.
    """
    if not await user_exists(db, user_id):
        raise Unauthorized(INVALID_TOKEN)


async def not_found(db: Db, user_id: int, detail: str) -> NoReturn:
    """A miss: NotFound, or Unauthorized when it is the account that is gone."""
    await require_account(db, user_id)
    raise NotFound(detail)
