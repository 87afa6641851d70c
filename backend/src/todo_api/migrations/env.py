"""Alembic environment: runs migrations with the app's own async engine settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from todo_api.core.config import get_settings
from todo_api.db import create_engine
from todo_api.models import Base

target_metadata = Base.metadata
MIGRATION_STATEMENT_TIMEOUT_SECONDS = 600.0


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = context.config.attributes.get("database_url")
    # The app's DB_TIMEOUT_SECONDS also caps each statement (fail fast while serving requests);
    # schema changes on a big table legitimately take longer, so migrations get minutes.
    settings = get_settings()
    if url is not None:
        settings = settings.model_copy(update={"database_url": url})
    engine = create_engine(settings, statement_timeout=MIGRATION_STATEMENT_TIMEOUT_SECONDS)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `todo-api migrate`")

connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async())
