"""Run Alembic migrations programmatically (the `todo-api migrate` command and start-up)."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "todo_api:migrations")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_and_head(database_url: str) -> tuple[set[str], set[str]]:
    """The revisions applied to the database and the revisions the code expects."""
    from todo_api.core.config import load_settings
    from todo_api.db import create_engine

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def _current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async def _read() -> set[str]:
        engine = create_engine(load_settings(database_url=database_url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_current)
        finally:
            await engine.dispose()

    return asyncio.run(_read()), heads
