"""Alembic owns the schema: empty → head on both databases, and the models match it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
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
