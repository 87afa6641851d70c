"""Accounts: sign up, credential check, lookup, deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from todo_api.core.passwords import normalize_email as normalize_email  # the routes use it too
from todo_api.core.security import PasswordHashing
from todo_api.db import Connection
from todo_api.models import User, utcnow
from todo_api.services.errors import Conflict, Unauthorized

BAD_CREDENTIALS = "Incorrect email or password"
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105 - a message, not a secret
EMAIL_TAKEN = "An account with this email already exists"


class Account(Protocol):
    """An account as the services return it: a read-only row (UserOut's fields)."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


_USERS = cast(Table, User.__table__)
_U = _USERS.c
_ACCOUNT = (_U.id, _U.email, _U.name, _U.created_at)

_ID_BY_EMAIL = select(_U.id).where(_U.email == bindparam("email"))
_BY_EMAIL = select(*_ACCOUNT, _U.password_hash).where(_U.email == bindparam("email"))
_BY_ID = select(*_ACCOUNT).where(_U.id == bindparam("user_id"))
_CREATED_AT = select(_U.created_at).where(_U.id == bindparam("user_id"))
_INSERT = (
    insert(_USERS)
    .values({name: bindparam(name) for name in ("email", "name", "password_hash", "created_at")})
    .returning(*_ACCOUNT)
)
_DELETE = delete(_USERS).where(_U.id == bindparam("user_id"))


async def create_user(
    db: Connection, hashing: PasswordHashing, email: str, password: str, name: str = ""
) -> Account:
    email = normalize_email(email)
    # Checked before the (deliberately slow) hash; no connection is held while it runs.
    if (await db.execute(_ID_BY_EMAIL, {"email": email})).first() is not None:
        raise Conflict(EMAIL_TAKEN)
    values = {
        "email": email,
        "name": name,
        "password_hash": await hashing.hash(password),
        "created_at": utcnow(),
    }
    try:
        return cast(Account, (await db.execute(_INSERT, values)).one())
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        raise Conflict(EMAIL_TAKEN) from None


async def authenticate(
    db: Connection, hashing: PasswordHashing, email: str, password: str
) -> Account:
    row = (await db.execute(_BY_EMAIL, {"email": normalize_email(email)})).first()
    # Verify even for unknown emails so timing does not reveal which accounts exist.
    ok = await hashing.verify(password, row.password_hash if row else None)
    if row is None or not ok:
        raise Unauthorized(BAD_CREDENTIALS)
    return cast(Account, row)


async def get_user(db: Connection, user_id: int) -> Account | None:
    return cast(Account | None, (await db.execute(_BY_ID, {"user_id": user_id})).first())


async def delete_user(db: Connection, user_id: int) -> None:
    """Delete the account; its tasks and conversations go with it (ON DELETE CASCADE)."""
    if not (await db.execute(_DELETE, {"user_id": user_id})).rowcount:
        raise Unauthorized(INVALID_TOKEN)  # already deleted: its token is dead


async def account_created_at(db: Connection, user_id: int) -> datetime | None:
    """When the account was created, or None when there is no account with this id."""
    created_at: datetime | None = (await db.execute(_CREATED_AT, {"user_id": user_id})).scalar()
    return created_at
