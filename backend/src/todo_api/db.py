"""The database: the engine (pool) built at start-up, and `Connection`, the one way code reaches it.

Services write SQLAlchemy Core statements against the models and run them with
`Connection.execute`. A `Connection` runs them on the driver (asyncpg's `fetch`, aiosqlite's
`execute_fetchall`) with a connection from the engine's pool: SQLAlchemy compiles each statement
once per dialect and supplies its type conversions, and nothing else of its execution layer runs
(sessions and result objects cost more than the statement; bench/findings.md).

Lifetimes, so that nothing outside this module closes connections:

- outside `transaction()` each statement commits on its own, and the pooled connection goes back
  to the pool as soon as the statement has run;
- `async with db.transaction():` keeps the pooled connection, and the block's writes share one
  transaction, opened at the first write and committed when the block ends (rolled back if it
  raises). `commit()` inside the block commits what was written so far and gives the connection
  back until the next statement: a chat turn does that before waiting on an LLM provider.

A failed statement rolls back what its transaction wrote and gives the connection back. Driver
errors become SQLAlchemy's `IntegrityError`, `DataError` or `OperationalError` here, and only
here; main.py maps those to HTTP statuses.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InvalidatePoolError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import greenlet_spawn

from todo_api.core.config import Settings

# A pooled connection that went back to the pool less than this long ago, and that the driver
# has not seen closed, is handed out without a test query: pinging every checkout was three
# round trips in front of every request. A connection that breaks inside the window fails that
# request with 503, and the pool then drops every connection, as a failed ping does.
PING_IF_IDLE_SECONDS = 5.0


def create_engine(settings: Settings, statement_timeout: float | None = None) -> AsyncEngine:
    """`statement_timeout` defaults to DB_TIMEOUT_SECONDS (serving); migrations pass more."""
    kwargs: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_timeout_seconds,
        # `Connection` ends every transaction before it returns a connection (the pool cannot
        # see a BEGIN sent on the driver anyway), so the pool's reset would only cost a rollback
        # per request (on SQLite a hop to aiosqlite's thread).
        "pool_reset_on_return": None,
        # The same pool on both databases: SQLite's default also opened and closed
        # connections, each with its own thread, under steady load.
        "poolclass": AsyncAdaptedQueuePool,
    }
    if settings.is_sqlite:
        kwargs["connect_args"] = {"timeout": settings.db_timeout_seconds}
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
    # orjson reads and writes the JSON columns (tags on every task row, a chat turn's actions).
    engine = create_async_engine(
        settings.database_url,
        json_serializer=dump_json,
        json_deserializer=orjson.loads,
        **kwargs,
    )
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    _check_liveness_on_checkout(engine)
    return engine


def dump_json(value: Any) -> str:
    """JSON text for a JSON column: orjson, or the standard library for what orjson refuses
    (integers beyond 64 bits, non-string keys), which an LLM's tool arguments may hold."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


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
        is_closed = getattr(dbapi_conn.driver_connection, "is_closed", None)  # asyncpg
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


# --- statements ----------------------------------------------------------------------------

Processor = Callable[[Any], Any]
_named_tuple: Any = collections.namedtuple  # field names known only at run time


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    sql: str
    # Positional: (bind name, its converter, None), or (None, None, a constant's value).
    params: tuple[tuple[str | None, Processor | None, Any], ...]
    row: Callable[[Sequence[Any]], Any] | None  # None: the statement returns no rows
    converters: tuple[tuple[int, Processor], ...]  # result columns that need converting
    writes: bool


def compile_statement(stmt: Any, dialect: Dialect) -> CompiledStatement:
    compiled = stmt.compile(dialect=dialect)
    params: list[tuple[str | None, Processor | None, Any]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:  # a value the caller passes
            params.append((name, convert, None))
        else:  # a constant of the statement, such as a CASE's values: converted once, here
            value = bind.effective_value
            params.append((None, None, value if convert is None else convert(value)))
    columns = list(getattr(stmt, "selected_columns", None) or stmt.exported_columns)
    row = None
    converters: list[tuple[int, Processor]] = []
    if columns:
        keys = [getattr(c, "key", None) or f"column_{i}" for i, c in enumerate(columns)]
        row = _named_tuple("Row", keys, rename=True)._make  # attribute access, as SQLAlchemy rows
        for i, column in enumerate(columns):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                converters.append((i, convert))
    writes = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
    return CompiledStatement(compiled.string, tuple(params), row, tuple(converters), writes)


class Result:
    """The rows of one statement, already converted (or, without RETURNING, the row count)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


# --- the database and its connections ------------------------------------------------------


class Database:
    """One per process: the engine's pool, the compiled statements, and the SQLite writer queue."""

    def __init__(self, engine: AsyncEngine, *, connections: int, timeout: float) -> None:
        """`connections`: at most this many checked out at once (the pool's size and overflow);
        `timeout`: how long a request waits for one, or for the SQLite writer queue."""
        self.engine = engine
        self.dialect = engine.dialect
        self.is_sqlite = self.dialect.name == "sqlite"
        self.timeout = timeout
        # Requests wait for a pooled connection here, first come first served (the pool's own
        # queue let a newcomer take a connection a waiter was woken for; under sustained load
        # some requests lost that race until they timed out).
        self.slots = asyncio.Semaphore(connections)
        # SQLite lets one transaction write at a time. Left to SQLite, writers retry on its busy
        # handler in growing sleeps: under load some waited out the timeout while others
        # slipped in. Here they queue, in order; reads never wait for it (WAL).
        self.write_lock = asyncio.Lock() if self.is_sqlite else None
        self.dbapi_error: type[Exception] = self.dialect.loaded_dbapi.Error
        # Keyed by id(): SQLAlchemy statements overload ==. The statement is kept alive with
        # its entry, so an id is never reused for another one while cached. Statements are
        # module constants or lru_cached by shape: this stays small.
        self._compiled: dict[int, tuple[ClauseElement, CompiledStatement]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            create_engine(settings),
            connections=settings.db_pool_size + settings.db_max_overflow,
            timeout=settings.db_timeout_seconds,
        )

    def compiled(self, stmt: ClauseElement) -> CompiledStatement:
        hit = self._compiled.get(id(stmt))
        if hit is None:
            hit = self._compiled[id(stmt)] = (stmt, compile_statement(stmt, self.dialect))
        return hit[1]

    def connection(self) -> Connection:
        return Connection(self)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.engine.dispose()


class Connection:
    """What services take to reach the database (module docstring: lifetimes, errors)."""

    __slots__ = ("_db", "_in_block", "_proxy", "_writing")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._proxy: PoolProxiedConnection | None = None
        self._in_block = False  # inside `transaction()`
        self._writing = False  # holds the SQLite writer queue

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    async def execute(self, stmt: ClauseElement, values: dict[str, Any] | None = None) -> Result:
        db = self._db
        c = db.compiled(stmt)
        values = values or {}
        args = [
            constant if name is None else values[name] if convert is None else convert(values[name])
            for name, convert, constant in c.params
        ]
        proxy = self._proxy or await self._checkout()
        driver: Any = proxy.driver_connection
        try:
            if db.is_sqlite:
                if c.writes and not self._writing:
                    await self._queue_for_writing()
                records, rowcount = await _run_sqlite(driver, c, args)
            else:
                if c.writes and self._in_block and not driver.is_in_transaction():
                    await driver.execute("BEGIN")
                records, rowcount = await _run_asyncpg(driver, c, args)
            # Outside a block the connection goes straight back (as asyncpg's pool.fetch
            # does): held while the route builds its response, it kept other requests waiting
            # while the CPU was free.
            if not self._in_block:
                await self._end("COMMIT")
        except Exception as exc:
            raise await self._fail(exc, c.sql) from exc
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            await self._invalidate()
            raise
        rows: list[Any] = []  # a statement without RETURNING: no rows, only the count
        if c.row is not None:
            make = c.row
            if c.converters:
                for record in records:
                    converted = list(record)
                    for i, convert in c.converters:
                        converted[i] = convert(converted[i])
                    rows.append(make(converted))
            else:
                rows = [make(record) for record in records]
        return Result(rows, rowcount)

    async def execute_and_commit(self, stmt: ClauseElement, values: dict[str, Any]) -> Result:
        """Run a block's last statement and commit. With nothing written before it, it runs on
        its own (one statement is atomic): no BEGIN and COMMIT round trips."""
        if self._in_block and self._proxy is not None and self._proxy_in_transaction():
            result = await self.execute(stmt, values)
            await self.commit()
            return result
        in_block, self._in_block = self._in_block, False
        try:
            return await self.execute(stmt, values)
        finally:
            self._in_block = in_block

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The block's writes in one transaction, committed when it ends, rolled back if it
        raises; the pooled connection is kept between its statements. Blocks do not nest."""
        if self._in_block:
            raise RuntimeError("transaction() blocks do not nest")
        self._in_block = True
        try:
            yield self
        except BaseException:
            await self._end_quietly()
            raise
        finally:
            self._in_block = False
        await self.commit()

    async def commit(self) -> None:
        """Commit what was written so far, and give the pooled connection back."""
        try:
            await self._end("COMMIT")
        except Exception as exc:
            raise await self._fail(exc, "COMMIT") from exc

    async def rollback(self) -> None:
        try:
            await self._end("ROLLBACK")
        except Exception as exc:
            raise await self._fail(exc, "ROLLBACK") from exc

    def _proxy_in_transaction(self) -> bool:
        driver: Any = self._proxy.driver_connection if self._proxy is not None else None
        if driver is None:
            return False
        return bool(driver.in_transaction if self._db.is_sqlite else driver.is_in_transaction())

    async def _checkout(self) -> PoolProxiedConnection:
        slots = self._db.slots
        if slots.locked():
            await _wait(slots.acquire(), self._db.timeout)
        else:
            await slots.acquire()  # free: returns without yielding to the event loop
        try:
            self._proxy = await self._db.engine.raw_connection()
        except self._db.dbapi_error as exc:  # the pool raises the driver adapter's own errors
            slots.release()
            raise DBAPIError.instance(None, None, exc, self._db.dbapi_error) from exc
        except BaseException:
            slots.release()
            raise
        return self._proxy

    async def _queue_for_writing(self) -> None:
        lock = self._db.write_lock
        assert lock is not None
        await _wait(lock.acquire(), self._db.timeout)
        self._writing = True

    async def _end(self, how: str) -> None:
        """COMMIT or ROLLBACK the open transaction, if any, and give the connection back."""
        proxy = self._proxy
        if proxy is None:
            return
        driver: Any = proxy.driver_connection
        if self._db.is_sqlite:
            if driver.in_transaction:
                await (driver.commit() if how == "COMMIT" else driver.rollback())
        elif driver.is_in_transaction():
            await driver.execute(how)
        await self._release()

    async def _end_quietly(self) -> None:
        """Roll back after a failure; a connection that cannot roll back is dropped."""
        try:
            await self._end("ROLLBACK")
        except Exception:
            await self._invalidate()

    async def _release(self) -> None:
        proxy, self._proxy = self._proxy, None
        self._stop_writing()
        if proxy is not None:
            try:
                await greenlet_spawn(proxy.close)
            finally:
                self._db.slots.release()

    async def _invalidate(self, exc: BaseException | None = None) -> None:
        proxy, self._proxy = self._proxy, None
        self._stop_writing()
        if proxy is not None:
            try:
                await greenlet_spawn(proxy.invalidate, exc)
            finally:
                self._db.slots.release()

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            assert self._db.write_lock is not None
            self._db.write_lock.release()

    async def _fail(self, exc: Exception, sql: str) -> Exception:
        """The one translation of driver errors: the SQLAlchemy exception to raise (parameters
        left out: they may hold user data, and these reach logs). The transaction is rolled
        back; a connection-level failure drops the connection."""
        error, broken = translate_error(exc, sql)
        if broken:
            await self._invalidate(exc)
        else:
            await self._end_quietly()
        return error


def translate_error(exc: Exception, sql: str) -> tuple[Exception, bool]:
    """(the exception to raise, whether the connection is broken) for a driver error."""
    if isinstance(exc, WaitTimeout):
        return exc, False
    if isinstance(exc, TimeoutError):  # asyncpg's command_timeout: it may still run on it
        return exc, True
    if isinstance(exc, DBAPIError):  # already translated (the pool's own errors)
        return exc, False
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if isinstance(exc, sqlite3.IntegrityError) or sqlstate.startswith("23"):
        return IntegrityError(sql, None, exc), False
    if isinstance(exc, sqlite3.DataError) or sqlstate.startswith("22"):
        return DataError(sql, None, exc), False
    # No SQLSTATE: the driver lost the connection; 08: connection exception; 57P: the server
    # is shutting down or restarting. The connection is no use to the next request.
    broken = not sqlstate and not isinstance(exc, sqlite3.Error)
    return OperationalError(sql, None, exc), broken or sqlstate.startswith(("08", "57P"))


class WaitTimeout(TimeoutError):
    """Waited DB_TIMEOUT_SECONDS for a pooled connection or the SQLite writer queue (503)."""


async def _wait(acquire: Any, seconds: float) -> None:
    # asyncio.timeout, not wait_for: wait_for runs the acquire in a task of its own, two more
    # event-loop turns.
    try:
        async with asyncio.timeout(seconds):
            await acquire
    except TimeoutError:
        raise WaitTimeout(f"waited {seconds} s for the database") from None


async def _run_asyncpg(
    conn: Any, c: CompiledStatement, args: list[Any]
) -> tuple[Sequence[Any], int]:
    if c.row is not None:
        records = await conn.fetch(c.sql, *args)
        return records, len(records)
    status: str = await conn.execute(c.sql, *args)  # e.g. "DELETE 3"
    count = status.rsplit(" ", 1)[-1]
    return [], int(count) if count.isdigit() else -1


async def _run_sqlite(
    conn: Any, c: CompiledStatement, args: list[Any]
) -> tuple[Sequence[Any], int]:
    if c.row is not None:
        records = await conn.execute_fetchall(c.sql, args)
        return records, len(records)
    cursor = await conn.execute(c.sql, args)
    count = cursor.rowcount
    await cursor.close()
    return [], count
