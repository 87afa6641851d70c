"""Tasks get an optional due time: a naive local time of day beside due_date (minute precision).

A plain nullable column: existing tasks keep their date and have no time. ADD COLUMN needs no
table rebuild on SQLite either.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("due_time", sa.Time(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35): batch mode would rebuild the table from reflection
    # and lose its AUTOINCREMENT (migration 0002).
    op.drop_column("tasks", "due_time")
