"""Core statements run straight on the database driver: the hot paths' data access.

On these requests SQLAlchemy's execution layer (session and transaction bookkeeping, execution
context, result objects, the greenlet bridge) cost more than the statement itself: a task-list
read took ~0.55 ms through a session and ~0.25 ms this way on PostgreSQL, ~1.2 vs ~0.4 ms on
SQLite, where aiosqlite hops to its thread once per call (bench/findings.md). So:

- the statements stay SQLAlchemy Core, written once against the models (services/*.py);
  SQLAlchemy compiles each one once per dialect and supplies its type conversions;
- a `DirectConnection` runs them on the driver (asyncpg's `fetch`, aiosqlite's
  `execute_fetchall`) with a connection from the engine's own pool, so the pool's liveness check
  and the SQLite writer queue (db.py) apply as they do to sessions;
- driver errors become SQLAlchemy's (IntegrityError, DataError, OperationalError) so callers
  and the app's error handlers see one set of exceptions, whichever path ran the statement.

The services accept a `DirectConnection` or a session (`execute`): the REST routes and the
chat turn run direct, MCP tool calls and the less busy routes on sessions.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import greenlet_spawn

from todo_api.db import sqlite_write_lock

Processor = Callable[[Any], Any]
_named_tuple: Any = collections.namedtuple  # field names known only at run time


class Rows(Protocol):
    """What the services read from a statement's result; SQLAlchemy's `Result` has the same."""

    rowcount: int

    def all(self) -> Sequence[Any]: ...
    def first(self) -> Any | None: ...
    def one(self) -> Any: ...
    def scalar(self) -> Any: ...


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


class DirectResult:
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


class DirectDatabase:
    """Per engine: compiled statements and how to call its driver."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.is_sqlite = self.dialect.name == "sqlite"
        self.write_lock = sqlite_write_lock(engine) if self.is_sqlite else None
        self.dbapi_error: type[Exception] = self.dialect.loaded_dbapi.Error
        # Keyed by id(): SQLAlchemy statements overload ==. The statement is kept alive with
        # its entry, so an id is never reused for another one while cached. Statements here are
        # module constants or lru_cached by shape: this stays small.
        self._compiled: dict[int, tuple[ClauseElement, CompiledStatement]] = {}

    def compiled(self, stmt: ClauseElement) -> CompiledStatement:
        hit = self._compiled.get(id(stmt))
        if hit is None:
            hit = self._compiled[id(stmt)] = (stmt, compile_statement(stmt, self.dialect))
        return hit[1]

    def connection(self, *, transactional: bool = False) -> DirectConnection:
        return DirectConnection(self, transactional=transactional)


class DirectConnection:
    """A pooled connection used through its driver.

    `transactional=False` (single-statement routes): the connection is checked out for a
    statement and given back after it; on PostgreSQL each statement commits on its own.

    `transactional=True` (a chat turn): the connection is kept from the first statement until
    `commit()`, `rollback()` or `close()` (api/middleware.py closes a request's), and the writes
    share one transaction, opened before the first write; reads before it run on their own,
    which under READ COMMITTED sees what a read inside the transaction would. A unit of work
    that waits on something slow commits first (agent `ToolBox.release`), which gives the
    connection back. On SQLite the driver opens its implicit transaction at the first write
    either way, as it does under a session."""

    def __init__(self, db: DirectDatabase, *, transactional: bool = False) -> None:
        self._db = db
        self.dialect_name = db.dialect.name
        self._keep = transactional
        self._transactional = transactional and not db.is_sqlite
        self._proxy: PoolProxiedConnection | None = None

    async def execute(self, stmt: ClauseElement, values: dict[str, Any]) -> DirectResult:
        db = self._db
        c = db.compiled(stmt)
        args = [
            constant if name is None else values[name] if convert is None else convert(values[name])
            for name, convert, constant in c.params
        ]
        proxy = self._proxy or await self._checkout()
        driver: Any = proxy.driver_connection
        if db.write_lock is not None and c.writes:
            await db.write_lock.acquire(proxy.dbapi_connection)  # TimeoutError: 503
        try:
            if db.is_sqlite:
                records, rowcount = await _run_sqlite(driver, c, args)
            else:
                if self._transactional and c.writes and not driver.is_in_transaction():
                    await driver.execute("BEGIN")
                records, rowcount = await _run_asyncpg(driver, c, args)
        except Exception as exc:
            raise await self._translate(exc, c.sql) from exc
        rows: list[Any] = []  # a statement without RETURNING: no rows, only the count
        if c.row is not None:
            make = c.row
            if c.converters:
                for record in records:
                    values_ = list(record)
                    for i, convert in c.converters:
                        values_[i] = convert(values_[i])
                    rows.append(make(values_))
            else:
                rows = [make(record) for record in records]
        # Outside a transaction the connection goes straight back to the pool (as asyncpg's
        # pool.fetch does): held while a task route builds its response, it kept other
        # requests waiting for a connection while the CPU was free. A unit of work keeps it
        # (one checkout instead of one per statement; its last statement follows soon).
        if not self._keep and not (
            driver.in_transaction if db.is_sqlite else driver.is_in_transaction()
        ):
            await self._release()
        return DirectResult(rows, rowcount)

    async def _checkout(self) -> PoolProxiedConnection:
        try:
            self._proxy = await self._db.engine.raw_connection()
        except self._db.dbapi_error as exc:  # the pool raises the driver adapter's own errors
            raise DBAPIError.instance(None, None, exc, self._db.dbapi_error) from exc
        return self._proxy

    async def execute_and_commit(self, stmt: ClauseElement, values: dict[str, Any]) -> DirectResult:
        """Run the unit of work's last statement and commit. When nothing was written before
        it, it runs on its own (one statement is atomic): no BEGIN and COMMIT round trips."""
        transactional, self._transactional = self._transactional, False
        try:
            result = await self.execute(stmt, values)  # in the transaction if one is open
        finally:
            self._transactional = transactional
        await self.commit()
        return result

    async def commit(self) -> None:
        """Commit the open transaction, if any, and give the connection back to the pool."""
        await self._end("COMMIT")

    async def rollback(self) -> None:
        await self._end("ROLLBACK")

    async def close(self) -> None:
        """Roll back whatever is uncommitted and give the connection back to the pool."""
        await self._end("ROLLBACK")

    async def _end(self, how: str) -> None:
        proxy = self._proxy
        if proxy is None:
            return
        driver: Any = proxy.driver_connection
        try:
            if self._db.is_sqlite:
                if driver.in_transaction:
                    await (driver.commit() if how == "COMMIT" else driver.rollback())
            elif driver.is_in_transaction():  # the pool's reset cannot see a driver-level BEGIN
                await driver.execute(how)
        except Exception as exc:
            raise await self._translate(exc, how) from exc
        await self._release()

    async def _release(self) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            await greenlet_spawn(proxy.close)

    async def _translate(self, exc: Exception, sql: str) -> Exception:
        """The SQLAlchemy exception for a driver error (parameters left out: they may hold user
        data, and these reach logs). A connection-level failure also drops the connection."""
        if isinstance(exc, TimeoutError):  # asyncpg's command_timeout: 503 like the sessions'
            await self._invalidate(exc)  # the statement may still be running on it
            return exc
        sqlstate = str(getattr(exc, "sqlstate", "") or "")
        if isinstance(exc, sqlite3.IntegrityError) or sqlstate.startswith("23"):
            return IntegrityError(sql, None, exc)
        if isinstance(exc, sqlite3.DataError) or sqlstate.startswith("22"):
            return DataError(sql, None, exc)
        # No SQLSTATE: the driver lost the connection; 08: connection exception; 57P: the
        # server is shutting down or restarting. The connection is no use to the next request.
        broken = not sqlstate and not isinstance(exc, sqlite3.Error)
        if broken or sqlstate.startswith(("08", "57P")):
            await self._invalidate(exc)
        return OperationalError(sql, None, exc)

    async def _invalidate(self, exc: BaseException) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            await greenlet_spawn(proxy.invalidate, exc)


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


Db = AsyncSession | DirectConnection


def dialect_name(db: Db) -> str:
    if isinstance(db, DirectConnection):
        return db.dialect_name
    bind = db.bind
    assert bind is not None, "sessions here are bound to the app's engine"
    return bind.dialect.name


async def execute_and_commit(db: Db, stmt: Any, values: dict[str, Any]) -> Rows:
    """Run the last statement of a unit of work and commit the unit."""
    if isinstance(db, DirectConnection):
        return await db.execute_and_commit(stmt, values)
    result = await execute(db, stmt, values)
    await db.commit()
    return result


async def execute(db: Db, stmt: Any, values: dict[str, Any]) -> Rows:
    """Run a Core statement on either path: straight on the driver, or on the session's
    connection (in its transaction, if any)."""
    if isinstance(db, DirectConnection):
        return await db.execute(stmt, values)
    result: Rows = await (await db.connection()).execute(stmt, values)  # type: ignore[assignment]
    return result
