"""Which executor for the services: the same Core statement (one user's 50-task page) run
through `db.Connection` (on the driver), SQLAlchemy's `AsyncConnection` and an `AsyncSession`.
Prints the app's CPU microseconds per call (time.process_time), median of 3 rounds.

`uv run --project backend --frozen python bench/executors.py sqlite|postgresql`
(PostgreSQL: a throwaway server from testsupport.pg, as the tests use.)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # testsupport

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from testsupport.app import make_settings
from testsupport.pg import PostgresServer, find_pg_bin
from todo_api.db import Database
from todo_api.migrate import upgrade
from todo_api.models import Task, User, utcnow
from todo_api.schemas import SortField, SortOrder, StatusFilter
from todo_api.services import tasks

CALLS = 400


async def measure(url: str) -> None:
    db = Database.from_settings(make_settings(url))
    now = utcnow()
    async with db.engine.begin() as c:
        user = insert(User).values(
            email=f"{uuid.uuid4().hex}@example.com", name="", password_hash="!", created_at=now
        )
        user_id = (await c.execute(user.returning(User.id))).scalar()
        rows = [
            {
                "user_id": user_id,
                "title": f"task {i}",
                "description": "",
                "completed": False,
                "priority": "medium",
                "tags": ["a"],
                "created_at": now,
                "updated_at": now,
            }
            for i in range(50)
        ]
        await c.execute(insert(Task), rows)
    page, _ = tasks._page_statement(
        StatusFilter.all, False, False, SortField.created, SortOrder.desc
    )
    params = {"user_id": user_id, "limit": 50, "offset": 0}
    sessions = async_sessionmaker(db.engine)
    conn = db.connection()

    async def direct() -> Any:
        return (await conn.execute(page, params)).all()

    async def core() -> Any:
        async with db.engine.connect() as c:
            return (await c.execute(page, params)).all()

    async def session() -> Any:
        async with sessions() as s:
            return (await s.execute(page, params)).all()

    ways: dict[str, Callable[[], Awaitable[Any]]] = {
        "db.Connection": direct,
        "AsyncConnection": core,
        "AsyncSession": session,
    }
    results: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(3):
        for name, run in ways.items():
            for _ in range(20):
                await run()
            started = time.process_time()
            for _ in range(CALLS):
                assert len(await run()) == 50
            results[name].append((time.process_time() - started) / CALLS * 1e6)
    for name, runs in results.items():
        print(f"{db.dialect.name:10} {name:16} CPU us/call {sorted(runs)[1]:7.0f}")
    await db.dispose()


def main() -> None:
    if sys.argv[1:] == ["sqlite"]:
        url = f"sqlite:///{tempfile.mkdtemp()}/executors.db"
        upgrade(make_settings(url).database_url)
        asyncio.run(measure(url))
        return
    bin_dir = find_pg_bin()
    assert bin_dir is not None, "PostgreSQL (initdb, pg_ctl) is not installed"
    with PostgresServer(bin_dir) as server:
        url = server.create_database("executors")
        upgrade(make_settings(url).database_url)
        asyncio.run(measure(url))


if __name__ == "__main__":
    main()
