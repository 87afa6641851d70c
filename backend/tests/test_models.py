"""models.UTCDateTime: aware UTC datetimes back from SQLite, which stores them as naive text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from todo_api.models import UTCDateTime


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-11-26 02:23:47.123456", datetime(2026, 11, 26, 2, 23, 47, 123456, tzinfo=UTC)),
        ("2026-11-26 02:23:47", datetime(2026, 11, 26, 2, 23, 47, tzinfo=UTC)),
        # Written with an offset of its own (not by this app): kept, not overwritten.
        (
            "2026-11-26T02:23:47+02:00",
            datetime(2026, 11, 26, 2, 23, 47, tzinfo=timezone(timedelta(hours=2))),
        ),
        (None, None),
    ],
)
def test_sqlite_values_come_back_aware(stored: str | None, expected: datetime | None) -> None:
    dialect = sqlite.dialect()
    parse = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    value = parse(stored)
    assert value == expected
    if value is not None:
        assert value.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]
