"""Accounts: sign up, credential check, lookup, deletion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.core.passwords import normalize_email as normalize_email  # the routes use it too
from todo_api.core.security import PasswordHashing
from todo_api.db_direct import Db, execute
from todo_api.models import User
from todo_api.services.errors import Conflict, Unauthorized

BAD_CREDENTIALS = "Incorrect email or password"
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105 - a message, not a secret


async def create_user(
    session: AsyncSession, hashing: PasswordHashing, email: str, password: str, name: str = ""
) -> User:
    email = normalize_email(email)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists")
    await session.commit()  # give the connection back while waiting for and running the hash
    user = User(email=email, name=name, password_hash=await hashing.hash(password))
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        await session.rollback()
        raise Conflict("An account with this email already exists") from None
    return user


async def authenticate(
    session: AsyncSession, hashing: PasswordHashing, email: str, password: str
) -> User:
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    await session.commit()  # give the connection back while waiting for and running the hash
    # Verify even for unknown emails so timing does not reveal which accounts exist.
    ok = await hashing.verify(password, user.password_hash if user else None)
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


# Built once: every authenticated request runs it (api/deps.authenticate_token), and building a
# select costs more than executing it. Core (not the ORM session path): no entity needed.
_ACCOUNT_CREATED_AT = select(User.__table__.c.created_at).where(
    User.__table__.c.id == bindparam("user_id")
)


async def account_created_at(db: Db, user_id: int) -> datetime | None:
    """When the account was created, or None when there is no account with this id."""
    created_at: datetime | None = (
        await execute(db, _ACCOUNT_CREATED_AT, {"user_id": user_id})
    ).scalar()
    return created_at
