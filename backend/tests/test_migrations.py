"""Alembic owns the schema: empty → head on both databases, and the models match it; data
migrations keep existing rows usable."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from argon2 import PasswordHasher
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import todo_api.migrations
from testsupport.app import make_settings
from testsupport.pg import PostgresServer
from todo_api.core.passwords import normalize_email
from todo_api.db import create_engine
from todo_api.main import create_app
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


# -- 0003: stored emails normalised (NFKC + casefold) -------------------------------------------

PASSWORD = "correct horse battery"


def _full_width(text: str) -> str:
    """ASCII letters and digits as their full-width compatibility twins (U+FF21...)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _migration_0003() -> ModuleType:
    path = Path(todo_api.migrations.__file__).parent / "versions" / "0003_normalise_emails.py"
    spec = importlib.util.spec_from_file_location("migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "email",
    [
        _full_width("jane@example.com"),
        "straße@example.com",
        "ﬁona@example.com",
        " MiXeD@Example.COM ",
        "ǅemal@example.com",
        "İstanbul@example.com",
        "ὈΔΥΣΣΕΎΣ@example.com",
    ],
)
def test_the_frozen_normalisation_agrees_with_the_app(email: str) -> None:
    """The migration carries its own copy of the rule; while the app's rule is the same, the two
    give the same address (a change to the app's rule needs a new migration, not an edit)."""
    assert _migration_0003().normalise_email(email) == normalize_email(email)


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return make_settings(f"sqlite:///{tmp_path / 'emails.db'}").database_url
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"mig_{uuid.uuid4().hex[:8]}"
    request.addfinalizer(lambda: server.drop_database(name))
    return make_settings(server.create_database(name)).database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_at_0002(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = _database(request, tmp_path)
    upgrade(url, "0002")
    return url


def _sql(url: str, statement: str, rows: list[dict[str, Any]] | None = None) -> list[Any]:
    async def _run() -> list[Any]:
        engine = create_engine(make_settings(url))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), rows)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(_run())


class _Records(logging.Handler):
    """The records one logger emits (caplog's root handler goes when create_app configures
    logging)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture
def migration_log() -> Iterator[_Records]:
    logger = logging.getLogger("alembic.runtime.migration")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _login(url: str, *emails: str) -> list[int | None]:
    """For each email, the id of the account it signs in to with PASSWORD (None: refused)."""

    async def _run() -> list[int | None]:
        app = create_app(make_settings(url))
        ids: list[int | None] = []
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for email in emails:
                    resp = await client.post(
                        "/api/auth/login", json={"email": email, "password": PASSWORD}
                    )
                    assert resp.status_code in (200, 401), resp.text
                    ids.append(resp.json()["user"]["id"] if resp.status_code == 200 else None)
        finally:
            await app.state.db.dispose()
        return ids

    return asyncio.run(_run())


def test_stored_emails_are_normalised_and_sign_in(
    database_at_0002: str, migration_log: _Records
) -> None:
    """Rows stored with the old `.strip().lower()` rule: after 0003 each signs in under the
    normalised address (and under its old spelling, which normalises to it). Twins: the oldest
    takes the free address; an address already stored normalised stays with its account; the
    row left behind is untouched and logged by id, not by email. Rerunning changes nothing."""
    url = database_at_0002
    password_hash = PasswordHasher().hash(PASSWORD)
    created = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    old_form = {  # id -> the email as sign-up stored it before: strip().lower()
        1: _full_width("jane@example.com"),  # full-width
        2: "straße@example.com",
        3: _full_width("a") + "lice@example.com",  # two twins of a free address: the oldest gets it
        4: _full_width("al") + "ice@example.com",
        5: "ﬁona@example.com",  # a twin of an address already stored normalised (id 6)
        6: "fiona@example.com",
        7: "bob@example.com",
    }
    _sql(
        url,
        "INSERT INTO users (id, email, name, password_hash, created_at) "
        "VALUES (:id, :email, '', :hash, :created)",
        [
            {"id": i, "email": e, "hash": password_hash, "created": created}
            for i, e in old_form.items()
        ],
    )
    assert _login(url, "jane@example.com", "strasse@example.com") == [None, None]

    upgrade(url)

    expected = {
        1: "jane@example.com",
        2: "strasse@example.com",
        3: "alice@example.com",
        4: _full_width("al") + "ice@example.com",
        5: "ﬁona@example.com",
        6: "fiona@example.com",
        7: "bob@example.com",
    }
    assert dict(_sql(url, "SELECT id, email FROM users")) == expected
    warnings = migration_log.warnings()
    assert len(warnings) == 2, warnings
    assert "users.id=4" in warnings[0] and "users.id=3" in warnings[0]
    assert "users.id=5" in warnings[1] and "users.id=6" in warnings[1]
    assert not any("@" in message for message in warnings), "emails stay out of the logs"

    assert _login(
        url,
        "jane@example.com",
        _full_width("jane@example.com"),
        "JANE@EXAMPLE.COM",
        "strasse@example.com",
        "STRASSE@example.com",
        "straße@example.com",
        "alice@example.com",
        "fiona@example.com",
        "bob@example.com",
    ) == [1, 1, 1, 2, 2, 2, 3, 6, 7]

    downgrade(url, "0002")  # a no-op: the old spellings cannot be restored
    assert dict(_sql(url, "SELECT id, email FROM users")) == expected
    migration_log.records.clear()
    upgrade(url)  # runs 0003 again over normalised data: idempotent
    assert dict(_sql(url, "SELECT id, email FROM users")) == expected
    assert "normalised 0 stored email(s)" in [r.getMessage() for r in migration_log.records]


def test_a_normalised_email_too_long_for_the_column_is_left_as_stored(
    tmp_path: Path, migration_log: _Records
) -> None:
    """NFKC can lengthen an address (U+FDFA becomes 18 characters): a result longer than the
    VARCHAR(320) column is not written (PostgreSQL would refuse the whole migration)."""
    url = make_settings(f"sqlite:///{tmp_path / 'long.db'}").database_url
    upgrade(url, "0002")
    long_email = "\ufdfa" * 20 + "@example.com"  # 32 characters, 372 once normalised
    created = datetime(2026, 12, 1, tzinfo=UTC)
    _sql(
        url,
        "INSERT INTO users (id, email, name, password_hash, created_at) "
        "VALUES (1, :email, '', 'h', :created), (2, :twin, '', 'h', :created)",
        [{"email": long_email, "twin": _full_width("b") + "ob@example.com", "created": created}],
    )
    upgrade(url)
    assert dict(_sql(url, "SELECT id, email FROM users")) == {
        1: long_email,
        2: "bob@example.com",
    }
    assert migration_log.warnings() == [
        "users.id=1: normalised email too long to store; left unchanged"
    ]


# -- 0004: tasks get an optional due time ---------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = _database(request, tmp_path)
    upgrade(url, "0003")
    return url


def test_due_time_column_keeps_existing_tasks(database_at_0003: str) -> None:
    """0003 → 0004 on a database holding tasks: every row survives with its date and no time;
    a time can then be stored and read back; downgrading drops only the column."""
    url = database_at_0003
    created = datetime(2026, 12, 1, tzinfo=UTC)
    _sql(
        url,
        "INSERT INTO users (id, email, name, password_hash, created_at) "
        "VALUES (1, 'a@x.io', '', 'h', :created)",
        [{"created": created}],
    )
    _sql(
        url,
        "INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, "
        "tags, created_at, updated_at) VALUES "
        "(1, 1, 'dated', '', false, 'high', '2026-12-24', '[]', :created, :created), "
        "(2, 1, 'undated', 'd', true, 'low', NULL, '[\"x\"]', :created, :created)",
        [{"created": created}],
    )
    upgrade(url)
    rows = _sql(url, "SELECT id, title, due_date, due_time FROM tasks ORDER BY id")
    assert [(r[0], r[1], str(r[2]) if r[2] else None, r[3]) for r in rows] == [
        (1, "dated", "2026-12-24", None),
        (2, "undated", None, None),
    ]
    _sql(url, "UPDATE tasks SET due_time = '15:30:00' WHERE id = 1")
    assert str(_sql(url, "SELECT due_time FROM tasks WHERE id = 1")[0][0]).startswith("15:30")
    downgrade(url, "0003")
    assert [tuple(r) for r in _sql(url, "SELECT id, title FROM tasks ORDER BY id")] == [
        (1, "dated"),
        (2, "undated"),
    ]
    upgrade(url)
    if "sqlite" in url:  # the downgrade did not rebuild the table: ids are still never reused
        assert "AUTOINCREMENT" in str(
            _sql(url, "SELECT sql FROM sqlite_master WHERE name = 'tasks'")
        )
