"""The reference for `make bench`: a bare FastAPI app doing the minimal work for each job.

Each endpoint decodes the JWT (PyJWT, same secret and options as the API), runs one hand-written
SQL statement with the same driver the API uses (asyncpg or aiosqlite), and returns the same
JSON the API returns (the driver checks that before it measures). No ORM, no validation models,
no middleware, no logging: what is left is the framework, the driver and the database, so
`ours / reference` is the price of everything the API adds on top.

`GET /health` returns pre-encoded constant JSON: the framework's ceiling on this machine.

Configured from the environment: REF_DATABASE_URL (postgresql://… or sqlite:///path),
AUTH_SECRET, REF_POOL_SIZE. Run with `uvicorn reference_app:create_app --factory --app-dir bench`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import jwt
import orjson
from fastapi import FastAPI, Request, Response

JSON = "application/json"
HEALTH = orjson.dumps({"status": "healthy"})
TASK_COLUMNS = (
    "id, title, description, completed, priority, due_date, due_time, tags, created_at, updated_at"
)
UNAUTHORIZED = Response(b'{"detail":"Invalid or expired token"}', 401, media_type=JSON)
NOT_FOUND = Response(b'{"detail":"Task not found"}', 404, media_type=JSON)

Row = tuple[Any, ...]


def _dt(value: Any) -> Any:
    """SQLite keeps naive UTC strings; PostgreSQL returns aware datetimes."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _hhmm(value: Any) -> str | None:
    """A due time as the API shows it ("HH:MM"); SQLite keeps text, PostgreSQL a time."""
    if value is None or isinstance(value, str):
        return value[:5] if value else None
    return str(value.strftime("%H:%M"))


def _task(row: Row) -> dict[str, Any]:
    due = row[5]
    return {
        "id": row[0],
        "title": row[1],
        "description": row[2],
        "completed": bool(row[3]),
        "priority": row[4],
        "due_date": date.fromisoformat(due) if isinstance(due, str) else due,
        "due_time": _hhmm(row[6]),
        "tags": orjson.loads(row[7]),
        "created_at": _dt(row[8]),
        "updated_at": _dt(row[9]),
    }


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), status, media_type=JSON)


class Db:
    """The two statements shapes the endpoints need, over a pool of the driver's connections."""

    fetch: Callable[[str, tuple[Any, ...]], Awaitable[list[Row]]]
    write: Callable[[str, tuple[Any, ...]], Awaitable[Row | None]]
    close: Callable[[], Awaitable[None]]
    param: Callable[[int], str]
    now: Callable[[], Any]


async def open_postgres(url: str, size: int) -> Db:
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=1, max_size=size)
    db = Db()

    async def fetch(sql: str, args: tuple[Any, ...]) -> list[Row]:
        return [tuple(r) for r in await pool.fetch(sql, *args)]

    async def write(sql: str, args: tuple[Any, ...]) -> Row | None:
        row = await pool.fetchrow(sql, *args)
        return tuple(row) if row is not None else None

    db.fetch, db.write, db.close = fetch, write, pool.close
    db.param = lambda n: f"${n}"
    db.now = lambda: datetime.now(UTC)
    return db


async def open_sqlite(path: str, size: int) -> Db:
    import aiosqlite

    pool: asyncio.LifoQueue[aiosqlite.Connection] = asyncio.LifoQueue()
    conns = []
    for _ in range(size):
        conn = await aiosqlite.connect(path, timeout=2.0)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            await conn.execute(f"PRAGMA {pragma}")
        conns.append(conn)
        pool.put_nowait(conn)
    db = Db()

    @asynccontextmanager
    async def connection() -> AsyncIterator[aiosqlite.Connection]:
        conn = await pool.get()
        try:
            yield conn
        finally:
            pool.put_nowait(conn)

    async def fetch(sql: str, args: tuple[Any, ...]) -> list[Row]:
        async with connection() as conn:
            return [tuple(r) for r in await conn.execute_fetchall(sql, args)]

    # SQLite has one writer at a time: queue writers here rather than in SQLite's busy
    # handler, whose sleeps turned concurrent writes into "database is locked" errors.
    write_lock = asyncio.Lock()

    async def write(sql: str, args: tuple[Any, ...]) -> Row | None:
        async with write_lock, connection() as conn:
            cur = await conn.execute(sql, args)
            row = await cur.fetchone()
            await cur.close()
            await conn.commit()
            return tuple(row) if row is not None else None

    async def close() -> None:
        for conn in conns:
            await conn.close()

    db.fetch, db.write, db.close = fetch, write, close
    db.param = lambda _n: "?"
    db.now = lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return db


def create_app() -> FastAPI:
    url = os.environ["REF_DATABASE_URL"]
    secret = os.environ["AUTH_SECRET"]
    pool_size = int(os.environ.get("REF_POOL_SIZE", "20"))
    state: dict[str, Db] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if url.startswith("sqlite:///"):
            state["db"] = await open_sqlite(url.removeprefix("sqlite:///"), pool_size)
        else:
            state["db"] = await open_postgres(url, pool_size)
        yield
        await state["db"].close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    def user_id(request: Request) -> int | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        try:
            payload = jwt.decode(
                header[7:], secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
            return int(payload["sub"])
        except (jwt.PyJWTError, ValueError):
            return None

    @app.get("/health")
    async def health() -> Response:
        return Response(HEALTH, media_type=JSON)

    async def summary(uid: int) -> tuple[dict[str, int], str]:
        """The account's counts and a signature of its tasks: one aggregate statement."""
        db = state["db"]
        today = date.today()
        p1, p2 = db.param(1), db.param(2)
        # SQLite's "?" are positional: the day twice, then the user.
        args = (today.isoformat(), today.isoformat(), uid) if p1 == "?" else (uid, today)
        (row,) = await db.fetch(
            "SELECT count(*), "
            "coalesce(sum(CASE WHEN completed THEN 1 ELSE 0 END), 0), "
            f"coalesce(sum(CASE WHEN NOT completed AND due_date = {p2} THEN 1 ELSE 0 END), 0), "
            f"coalesce(sum(CASE WHEN NOT completed AND due_date < {p2} THEN 1 ELSE 0 END), 0), "
            f"max(id), sum(id), max(updated_at) FROM tasks WHERE user_id = {p1}",
            args,
        )
        total, done = int(row[0]), int(row[1])
        counts = {
            "all": total,
            "open": total - done,
            "completed": done,
            "today": int(row[2]),
            "overdue": int(row[3]),
        }
        return counts, f'W/"{hash((uid, row[0], row[4], row[5], str(row[6]), today)):x}"'

    @app.get("/api/tasks")
    async def list_tasks(request: Request) -> Response:
        uid = user_id(request)
        if uid is None:
            return UNAUTHORIZED
        db = state["db"]
        counts, etag = await summary(uid)
        if request.headers.get("if-none-match") in (etag, "*"):
            return Response(status_code=304, headers={"etag": etag})
        # One statement: the page (open tasks first) and, through the window count, the total.
        rows = await db.fetch(
            f"SELECT {TASK_COLUMNS}, count(*) OVER () FROM tasks WHERE user_id = {db.param(1)} "
            "ORDER BY completed, created_at DESC, id DESC LIMIT 50",
            (uid,),
        )
        response = _json(
            {
                "items": [_task(r) for r in rows],
                "total": rows[0][10] if rows else 0,
                "limit": 50,
                "offset": 0,
                "counts": counts,
            }
        )
        response.headers["etag"] = etag
        return response

    async def insert(uid: int, data: dict[str, Any]) -> Row | None:
        db = state["db"]
        now = db.now()
        due = data.get("due_date")
        p = db.param
        return await db.write(
            "INSERT INTO tasks (user_id, title, description, completed, priority, due_date, tags,"
            f" created_at, updated_at) VALUES ({p(1)}, {p(2)}, {p(3)}, {p(4)}, {p(5)}, {p(6)},"
            f" {p(7)}, {p(8)}, {p(9)}) RETURNING {TASK_COLUMNS}",
            (
                uid,
                data["title"],
                data.get("description", ""),
                data.get("completed", False),
                data.get("priority", "medium"),
                date.fromisoformat(due) if due and isinstance(now, datetime) else due,
                orjson.dumps(data.get("tags", [])).decode(),
                now,
                now,
            ),
        )

    @app.post("/api/tasks")
    async def create_task(request: Request) -> Response:
        uid = user_id(request)
        if uid is None:
            return UNAUTHORIZED
        row = await insert(uid, orjson.loads(await request.body()))
        assert row is not None
        return _json(_task(row), 201)

    @app.patch("/api/tasks/{task_id}")
    async def update_task(task_id: int, request: Request) -> Response:
        uid = user_id(request)
        if uid is None:
            return UNAUTHORIZED
        data = orjson.loads(await request.body())
        db = state["db"]
        p = db.param
        row = await db.write(
            f"UPDATE tasks SET completed = {p(1)}, updated_at = {p(2)} "
            f"WHERE id = {p(3)} AND user_id = {p(4)} RETURNING {TASK_COLUMNS}",
            (bool(data["completed"]), db.now(), task_id, uid),
        )
        return NOT_FOUND if row is None else _json(_task(row))

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        """The minimal insert behind "add …": take the words after "add", insert one task."""
        uid = user_id(request)
        if uid is None:
            return UNAUTHORIZED
        message: str = orjson.loads(await request.body())["message"]
        title = message.strip().removeprefix("add").strip() or message
        row = await insert(uid, {"title": title})
        assert row is not None
        task = _task(row)
        return _json(
            {
                "conversation_id": 0,
                "reply": f"Added \u201c{task['title']}\u201d.",
                "actions": [
                    {"tool": "add_task", "arguments": {"title": title}, "result": "ok", "ok": True}
                ],
            }
        )

    return app
