"""Building the backend app for in-process tests: settings and a signed-up user's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert

from todo_api.core.config import Settings, load_settings
from todo_api.db import Database
from todo_api.models import User, utcnow

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: generous rate limits and no auto-migration unless a test asks."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "app_env": "test",
        "auth_secret": TEST_SECRET,
        "login_rate_limit": "1000/minute",
        "chat_rate_limit": "1000/minute",
        "migrate_on_start": False,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class UserCtx:
    email: str
    password: str
    token: str
    id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


_USERS: Table = User.__table__  # type: ignore[assignment]
_INSERT_USER = (
    insert(_USERS)
    .values(
        email=bindparam("email"),
        name="",
        password_hash="!unusable",
        created_at=bindparam("created_at"),
    )
    .returning(_USERS.c.id)
)


async def insert_user(db: Database, email: str) -> int:
    """A user inserted directly (no argon2 hashing, so it cannot log in): its id."""
    params = {"email": email, "created_at": utcnow()}
    return int((await db.connection().execute(_INSERT_USER, params)).scalar())
