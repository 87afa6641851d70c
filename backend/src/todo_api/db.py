"""Async engine and sessions. One engine per process, built from settings at start-up."""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from todo_api.core.config import Settings

# A pooled connection that went back to the pool less than this long ago, and that the driver
# has not seen closed, is handed out without a test query. Older ones are pinged first, like
# `pool_pre_ping`, which pinged every checkout: on PostgreSQL that is BEGIN + ";" + ROLLBACK,
# three round trips in front of every request. A connection that breaks inside the window fails
# that request with 503 and SQLAlchemy then invalidates the whole pool, as pre-ping would.
PING_IF_IDLE_SECONDS = 5.0


def create_engine(settings: Settings, statement_timeout: float | None = None) -> AsyncEngine:
    """`statement_timeout` defaults to DB_TIMEOUT_SECONDS (serving); migrations pass more."""
    # The same pool on both databases (SQLite's default, 5 + 10 overflow, also opened and
    # closed connections, each with its own thread, under steady load).
    kwargs: dict[str, Any] = {
        "poolclass": FairAsyncQueuePool,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_timeout_seconds,
    }
    if settings.is_sqlite:
        kwargs["connect_args"] = {"timeout": settings.db_timeout_seconds}
        kwargs["pool_reset_on_return"] = None  # _rollback_if_in_transaction instead
    else:
        kwargs.update(
            pool_recycle=1800,
            connect_args={
                # Fail fast when the server is down (connect) or hangs (every statement: a
                # partitioned or frozen server) instead of holding the request: 503 after
                # DB_TIMEOUT_SECONDS. The app's queries take milliseconds.
                "timeout": settings.db_timeout_seconds,
                "command_timeout": statement_timeout or settings.db_timeout_seconds,
                "server_settings": {"application_name": "todo-api", "jit": "off"},
            },
        )
    # orjson reads and writes the JSON columns (tags on every task row, a chat turn's actions)
    # several times faster than json.
    engine = create_async_engine(
        settings.database_url,
        json_serializer=dump_json,
        json_deserializer=orjson.loads,
        **kwargs,
    )
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine.pool, "reset", _rollback_if_in_transaction)
        _one_sqlite_writer_at_a_time(engine, settings.db_timeout_seconds)
    _check_liveness_on_checkout(engine)
    return engine


def dump_json(value: Any) -> str:
    """JSON text for a JSON column: orjson, or the standard library for what orjson refuses
    (integers beyond 64 bits, non-string keys), which an LLM's tool arguments may hold."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


class _FairQueue(AsyncAdaptedQueue[Any]):
    """The pool's idle connections, handed out first come, first served.

    SQLAlchemy's asyncio queue lets a request that just arrived take a connection that was
    returned while others were waiting, and a waiter it wakes for nothing rejoins at the back.
    Under sustained load (more concurrent requests than connections) some requests then lose
    that race until DB_TIMEOUT_SECONDS and fail with 503 while the pool keeps serving others.
    Here a returned connection goes straight to the longest waiter.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # not timed out
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            # Idle connections only queue up while nobody waits, so taking one skips no one.
            return self.get_nowait()
        except Empty:
            if not block:
                raise
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiters.append(waiter)
        # A plain timer, not asyncio.wait_for (which wraps the wait in more futures and
        # callbacks): it fails the wait unless a connection was handed over first.
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            return await_(waiter)
        finally:
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = _FairQueue


def _check_liveness_on_checkout(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _mark_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None:  # connected just now
            return
        driver_conn = getattr(dbapi_conn, "_connection", None)
        is_closed = getattr(driver_conn, "is_closed", None)  # asyncpg: the server hung up
        fresh = time.monotonic() - checked_in_at < PING_IF_IDLE_SECONDS
        if fresh and not (callable(is_closed) and is_closed()):
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception:
            alive = False
        if not alive:
            # As pool_pre_ping does: drop every connection opened before now (the server
            # probably restarted) and check out a new one.
            raise InvalidatePoolError("pooled connection failed its liveness check")


class SqliteWriteLock:
    """This process's SQLite writers, queued on an asyncio lock, first come first served.

    SQLite lets one transaction write at a time. Left to SQLite, concurrent writers retry on
    its busy handler, which sleeps in growing steps: under load some waited out the timeout
    (503) while others slipped in. A transaction takes the lock before its first write and
    gives it back when its connection goes back to the pool; reads never wait for it (WAL).
    Sessions take it in a `before_cursor_execute` hook, db_direct before a write."""

    def __init__(self, timeout: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout
        self._holder: Any = None  # the DBAPI connection whose transaction holds the lock

    def held_by(self, dbapi_conn: Any) -> bool:
        return self._holder is dbapi_conn

    async def acquire(self, dbapi_conn: Any) -> None:
        if self._holder is not dbapi_conn:
            # asyncio.timeout, not wait_for: wait_for runs the acquire in a task of its own,
            # two more event-loop turns per write transaction even when the lock is free.
            async with asyncio.timeout(self._timeout):  # TimeoutError: 503
                await self._lock.acquire()
            self._holder = dbapi_conn

    def release(self, dbapi_conn: Any) -> None:
        if self._holder is not None and self._holder is dbapi_conn:
            self._holder = None
            self._lock.release()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriteLock] = weakref.WeakKeyDictionary()


def sqlite_write_lock(engine: AsyncEngine) -> SqliteWriteLock:
    """The writer queue of a SQLite engine from `create_engine` (one per engine and its pool)."""
    return _WRITE_LOCKS[engine.sync_engine]


def _one_sqlite_writer_at_a_time(engine: AsyncEngine, timeout: float) -> None:
    lock = _WRITE_LOCKS[engine.sync_engine] = SqliteWriteLock(timeout)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _acquire(conn: Any, _cur: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
        dbapi_conn = conn.connection.dbapi_connection
        if writes and not lock.held_by(dbapi_conn):
            await_(lock.acquire(dbapi_conn))

    # After the transaction, not at its commit event (which fires before SQLite commits): the
    # session returns its connection to the pool once its transaction is over.
    for name in ("checkin", "invalidate", "soft_invalidate", "close"):
        event.listen(engine.sync_engine.pool, name, lambda dbapi_conn, *_: lock.release(dbapi_conn))


def _rollback_if_in_transaction(dbapi_conn: Any, record: Any, reset_state: Any) -> None:
    """SQLite's reset on return to the pool: roll back only when a transaction is open. After
    a read there is none, and the unconditional rollback was one more aiosqlite thread hop
    (~0.09 ms) on every request."""
    if reset_state.terminate_only:  # the connection is being discarded, not reused
        return
    if record is None or record.driver_connection.in_transaction:
        dbapi_conn.rollback()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # SQLite's own lower() folds only ASCII; search and the title sort use lower() so that
    # "ünï" finds "Ünïcödé" as on PostgreSQL: the same SQL on both, Python's Unicode lower here.
    dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: Any) -> str | None:
    return None if value is None else str(value).lower()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_autocommit_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, or write with one statement (each statement is
    atomic on its own). On PostgreSQL they run in autocommit mode, which saves the BEGIN and
    COMMIT/ROLLBACK round trips around every request; a statement sees the committed data as of
    its start either way (READ COMMITTED). SQLite keeps normal sessions: switching its isolation
    level per checkout costs a PRAGMA, more than it saves."""
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine)
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
