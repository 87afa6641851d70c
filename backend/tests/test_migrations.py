"""Alembic owns the schema: empty → head on both databases, and the models match it."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from testsupport.app import make_settings
from testsupport.pg import PostgresServer
from todo_api.db import create_engine
from todo_api.migrate import current_and_head, downgrade, upgrade
from todo_api.models import Base


def _diff_and_tables(database_url: str) -> tuple[list[Any], set[str]]:
    def _inspect(conn: Connection) -> tuple[list[Any], set[str]]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata), set(inspect(conn).get_table_names())

    async def _run() -> tuple[list[Any], set[str]]:
        engine = create_engine(make_settings(database_url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_inspect)
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def _check_roundtrip(url: str) -> None:
    url = make_settings(url).database_url
    current, head = current_and_head(url)
    assert current == set() and head
    upgrade(url)
    assert current_and_head(url)[0] == head
    diff, tables = _diff_and_tables(url)
    assert tables >= {"users", "tasks", "conversations", "messages", "alembic_version"}
    assert diff == [], f"models and migrations disagree: {diff}"
    downgrade(url)
    assert _diff_and_tables(url)[1] == {"alembic_version"}
    upgrade(url)  # and back up again
    assert current_and_head(url)[0] == head


def test_sqlite_empty_to_head(tmp_path: Any) -> None:
    _check_roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_empty_to_head(pg_server: PostgresServer) -> None:
    name = f"mig_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    try:
        _check_roundtrip(url)
    finally:
        pg_server.drop_database(name)


def _sqlite_schema(path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))


def test_sqlite_upgrade_keeps_data_and_stops_reusing_ids(tmp_path: Path) -> None:
    """0001 → 0002 on a file holding data: rows, references and cascades survive; every table's
    key becomes AUTOINCREMENT, so the highest id deleted before or after is never handed out."""
    path = tmp_path / "existing.db"
    url = make_settings(f"sqlite:///{path}").database_url
    upgrade(url, "0001")
    assert "AUTOINCREMENT" not in _sqlite_schema(path)["users"]
    now = "2026-12-01 10:00:00.123456"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA foreign_keys=ON")
        for user_id in (1, 2):
            db.execute(
                "INSERT INTO users VALUES (?, ?, '', 'hash', ?)", (user_id, f"u{user_id}@x.io", now)
            )
        db.executemany(
            "INSERT INTO tasks VALUES (?, ?, ?, '', 0, 'high', NULL, '[\"a\"]', ?, ?)",
            [(1, 1, "one", now, now), (2, 2, "two", now, now), (3, 2, "three", now, now)],
        )
        db.execute("INSERT INTO conversations VALUES (1, 2, 'chat', ?, ?)", (now, now))
        db.execute("INSERT INTO messages VALUES (1, 1, 'user', 'hi', '[]', ?)", (now,))

    upgrade(url)

    schema = _sqlite_schema(path)
    for table in ("users", "tasks", "conversations", "messages"):
        assert "AUTOINCREMENT" in schema[table], schema[table]
        assert "_new" not in schema[table], schema[table]  # references renamed with the tables
    assert not {name for name in schema if name.endswith("_new")}
    assert _diff_and_tables(url)[0] == []
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA foreign_keys=ON")
        assert db.execute("SELECT id, email, created_at FROM users ORDER BY id").fetchall() == [
            (1, "u1@x.io", now),
            (2, "u2@x.io", now),
        ]
        assert db.execute("SELECT id, user_id, title, tags FROM tasks ORDER BY id").fetchall() == [
            (1, 1, "one", '["a"]'),
            (2, 2, "two", '["a"]'),
            (3, 2, "three", '["a"]'),
        ]
        assert db.execute("SELECT content FROM messages").fetchall() == [("hi",)]
        assert dict(db.execute("SELECT name, seq FROM sqlite_sequence")) == {
            "users": 2,
            "tasks": 3,
            "conversations": 1,
            "messages": 1,
        }
        db.execute("DELETE FROM users WHERE id = 2")  # the cascades still reach the children
        assert db.execute("SELECT id FROM tasks").fetchall() == [(1,)]
        assert db.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM messages").fetchone() == (0,)
        new_user = db.execute(
            "INSERT INTO users (email, name, password_hash, created_at) "
            "VALUES ('new@x.io', '', 'h', ?) RETURNING id",
            (now,),
        ).fetchone()
        assert new_user == (3,)  # not 2, the deleted account's id
    downgrade(url, "0001")  # and back: the old schema, the data still there
    assert "AUTOINCREMENT" not in _sqlite_schema(path)["users"]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT id FROM users ORDER BY id").fetchall() == [(1,), (3,)]
    upgrade(url)
    assert "AUTOINCREMENT" in _sqlite_schema(path)["tasks"]


def test_sqlite_rebuild_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild that fails halfway (old tables already dropped) leaves the 0001 tables and
    their rows as they were, so rerunning the migration starts from a whole database."""
    path = tmp_path / "interrupted.db"
    url = make_settings(f"sqlite:///{path}").database_url
    upgrade(url, "0001")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO users VALUES (1, 'a@x.io', '', 'h', '2026-12-01 10:00:00')")

    def fail(*_: Any, **__: Any) -> None:
        raise RuntimeError("interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(Operations, "rename_table", fail)
        with pytest.raises(RuntimeError, match="interrupted"):
            upgrade(url)
    assert set(_sqlite_schema(path)) == {
        "alembic_version",
        "users",
        "tasks",
        "conversations",
        "messages",
    }
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT id, email FROM users").fetchall() == [(1, "a@x.io")]
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    upgrade(url)
    assert "AUTOINCREMENT" in _sqlite_schema(path)["users"]
