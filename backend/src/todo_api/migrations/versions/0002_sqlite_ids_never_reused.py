"""Ids are never reused on SQLite: every table's key becomes INTEGER PRIMARY KEY AUTOINCREMENT.

Without AUTOINCREMENT SQLite hands the highest deleted rowid to the next insert: a deleted
account's id went to the next sign-up (whose data the old token then reached), a deleted task's
id to the next task. SQLite cannot alter a key in place, so each table is rebuilt under a new
name, its rows copied (ids kept; `sqlite_sequence` then starts after the highest), the old
tables dropped and the new ones renamed. Foreign keys stay on throughout: the new tables refer
to each other, so dropping an old parent cascades into nothing, and each rename updates the
references to it. PostgreSQL's sequences never reuse ids: nothing to do there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents before children (copy order); the reverse is the drop order.
TABLES = ("users", "tasks", "conversations", "messages")
INDEXES = {
    "tasks": ("ix_tasks_user_completed_created", ["user_id", "completed", "created_at"]),
    "conversations": ("ix_conversations_user_updated", ["user_id", "updated_at"]),
    "messages": ("ix_messages_conversation_id", ["conversation_id", "id"]),
}


def _new_tables(autoincrement: bool) -> list[sa.Table]:
    """The schema of 0001 under temporary names, referring to each other."""
    meta = sa.MetaData()
    opts = {"sqlite_autoincrement": autoincrement}

    def fk(table: str) -> sa.ForeignKey:
        return sa.ForeignKey(f"{table}_new.id", ondelete="CASCADE")

    return [
        sa.Table(
            "users_new",
            meta,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("email", sa.String(320), nullable=False, unique=True),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            **opts,
        ),
        sa.Table(
            "tasks_new",
            meta,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("user_id", sa.Integer(), fk("users"), nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            sa.Column("completed", sa.Boolean(), nullable=False),
            sa.Column("priority", sa.String(10), nullable=False),
            sa.Column("due_date", sa.Date(), nullable=True),
            sa.Column("tags", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            **opts,
        ),
        sa.Table(
            "conversations_new",
            meta,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("user_id", sa.Integer(), fk("users"), nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            **opts,
        ),
        sa.Table(
            "messages_new",
            meta,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("conversation_id", sa.Integer(), fk("conversations"), nullable=False),
            sa.Column("role", sa.String(20), nullable=False),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("actions", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            **opts,
        ),
    ]


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # The driver opens its transaction only before a data statement, not before DDL: open it
    # now, so the rebuild happens completely or not at all.
    bind.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
    new_tables = _new_tables(autoincrement)
    for table in new_tables:
        table.create(bind)
        names = [column.name for column in table.columns]
        source = sa.table(table.name.removesuffix("_new"), *(sa.column(n) for n in names))
        bind.execute(table.insert().from_select(names, sa.select(*source.columns)))
    for name in reversed(TABLES):
        op.drop_table(name)  # children first: nothing refers to an old table when it goes
    for name in TABLES:
        op.rename_table(f"{name}_new", name)  # also rewrites the references to it
    for table, (index, columns) in INDEXES.items():
        op.create_index(index, table, columns)


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
