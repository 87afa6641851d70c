"""Database tables. Alembic migrations (todo_api/migrations) own the schema; these must match."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name == "postgresql":
            return None  # timestamptz arrives aware already: skip a call per value and row
        if dialect.name == "sqlite":
            # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text: one C parse, instead of
            # SQLAlchemy's regex parse plus process_result_value (2 of 50 rows' 9 columns).
            return _parse_sqlite_utc
        return super().result_processor(dialect, coltype)


def _parse_sqlite_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:  # stored naive (UTC): parsed with the offset appended, cheaper than .replace()
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # a value stored with an offset of its own
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# The id columns are 32-bit INTEGER (PostgreSQL): an id from outside (a token's subject, a tool
# argument) beyond this names no row, and binding it would be a driver error, not a miss.
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


# SQLite reuses the highest deleted rowid unless the key is AUTOINCREMENT: a deleted account's
# id would go to the next sign-up, a deleted task's id to the next task (migration 0002).
# PostgreSQL's sequences never hand out an id twice; the option means nothing there.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # The board's main query: one user's tasks, filtered by status, newest first.
        Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    # Local wall-clock time of day like due_date (no zone), minute precision; only with a date.
    due_time: Mapped[time | None] = mapped_column(Time, default=None)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeletedTask(Base):
    """A deleted task, kept for a day so that undo restores it with its id and creation time
    (services.tasks.restore_tasks). Its id is the task's; the columns are the task's."""

    __tablename__ = "deleted_tasks"
    __table_args__ = (
        Index("ix_deleted_tasks_user_id", "user_id"),
        Index("ix_deleted_tasks_deleted_at", "deleted_at"),  # the purge of old tombstones
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[date | None] = mapped_column(Date)
    due_time: Mapped[time | None] = mapped_column(Time)
    tags: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    deleted_at: Mapped[datetime] = mapped_column()


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_user_updated", "user_id", "updated_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    # Tool calls the assistant made in this turn: [{tool, arguments, result}]
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
