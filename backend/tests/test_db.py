"""db.Connection, the app's one way to the database, on SQLite and PostgreSQL: what a statement
commits, what a `transaction()` block commits or rolls back, when a pooled connection is held,
and which errors come out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import DataError, IntegrityError

from testsupport.app import make_settings
from todo_api.db import Connection, Database, WaitTimeout
from todo_api.models import User, utcnow

_USERS: Table = User.__table__  # type: ignore[assignment]
_ADD = (
    insert(_USERS)
    .values(
        email=bindparam("email"),
        name=bindparam("name"),
        password_hash="!unusable",
        created_at=bindparam("now"),
    )
    .returning(_USERS.c.id, _USERS.c.email)
)
_NAME = select(_USERS.c.name).where(_USERS.c.email == bindparam("email"))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.from_settings(make_settings(database_url, db_timeout_seconds=0.5))
    yield db
    await db.dispose()


def _held(database: Database) -> int:
    return int(database.engine.sync_engine.pool.checkedout())


def _email() -> str:
    return f"db-{uuid.uuid4().hex[:10]}@example.com"


async def _add(db: Connection, email: str, name: str = "") -> None:
    await db.execute(_ADD, {"email": email, "name": name, "now": utcnow()})


async def _name(database: Database, email: str) -> str | None:
    """What another connection sees: only committed data."""
    name: str | None = (await database.connection().execute(_NAME, {"email": email})).scalar()
    return name


async def test_a_statement_outside_a_block_commits_and_gives_the_connection_back(
    database: Database,
) -> None:
    db, email = database.connection(), _email()
    row = (await db.execute(_ADD, {"email": email, "name": "a", "now": utcnow()})).one()
    assert row.email == email and row.id > 0
    assert _held(database) == 0
    assert await _name(database, email) == "a"


async def test_a_block_commits_its_writes_together_when_it_ends(database: Database) -> None:
    db, first, second = database.connection(), _email(), _email()
    async with db.transaction():
        await _add(db, first, "one")
        await _add(db, second, "two")
        assert _held(database) == 1  # kept between the block's statements
        if not database.is_sqlite:  # SQLite's WAL readers also see only committed data,
            assert await _name(database, first) is None  # but its writer lock would wait
    assert _held(database) == 0
    assert (await _name(database, first), await _name(database, second)) == ("one", "two")


async def test_a_block_that_raises_rolls_back_everything_it_wrote(database: Database) -> None:
    db, email = database.connection(), _email()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await _add(db, email)
            raise RuntimeError("the caller failed")
    assert _held(database) == 0
    assert await _name(database, email) is None


async def test_commit_inside_a_block_keeps_what_was_written_and_frees_the_connection(
    database: Database,
) -> None:
    db, kept, lost = database.connection(), _email(), _email()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await _add(db, kept)
            await db.commit()  # as an LLM agent does before waiting on its provider
            assert _held(database) == 0
            await _add(db, lost)
            raise RuntimeError
    assert await _name(database, kept) == ""
    assert await _name(database, lost) is None


async def test_a_failed_statement_is_translated_rolled_back_and_released(
    database: Database,
) -> None:
    db, email, other = database.connection(), _email(), _email()
    await _add(db, email)
    async with db.transaction():
        await _add(db, other)
        with pytest.raises(IntegrityError):  # the same email again: the unique key
            await _add(db, email)
        assert _held(database) == 0
    assert await _name(database, other) is None  # the block's earlier write went with it
    if not database.is_sqlite:  # SQLite stores NUL in text
        with pytest.raises(DataError):
            await db.execute(_NAME, {"email": "a\x00b"})
        assert _held(database) == 0


async def test_waiting_for_a_connection_times_out(database_url: str) -> None:
    settings = make_settings(database_url, db_pool_size=1, db_timeout_seconds=0.2)
    database = Database.from_settings(settings)
    try:
        holder = database.connection()
        async with holder.transaction():
            await _add(holder, _email())
            with pytest.raises(WaitTimeout):
                await database.connection().execute(_NAME, {"email": "x"})
        await asyncio.wait_for(database.connection().execute(_NAME, {"email": "x"}), 2)
    finally:
        await database.dispose()


async def test_blocks_do_not_nest(database: Database) -> None:
    """A nested block would commit the outer one's writes early: refused, and the outer block
    is rolled back as for any error."""
    db, email = database.connection(), _email()
    with pytest.raises(RuntimeError, match="do not nest"):
        async with db.transaction():
            await _add(db, email)
            async with db.transaction():
                pass
    assert await _name(database, email) is None
