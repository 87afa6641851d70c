"""agent.tools.task_json is hand-built for speed; it must equal what TaskOut would produce."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest

from todo_api.agent.tools import task_json
from todo_api.schemas import TaskOut


@pytest.mark.parametrize(
    ("due", "due_time", "updated"),
    [
        (None, None, datetime(2026, 11, 25, 22, 38, 42, 123456, tzinfo=UTC)),
        (date(2026, 12, 1), None, datetime(2026, 11, 25, 22, 38, 42, tzinfo=UTC)),
        (date(2026, 12, 1), time(9, 5), datetime(2026, 11, 25, 22, 38, 42, tzinfo=UTC)),
    ],
)
def test_task_json_matches_the_model(
    due: date | None, due_time: time | None, updated: datetime
) -> None:
    row = SimpleNamespace(
        id=7,
        title="buy milk",
        description="2 litres",
        completed=True,
        priority="high",
        due_date=due,
        due_time=due_time,
        tags=["home"],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=updated,
    )
    expected = TaskOut.model_validate(row).model_dump(mode="json", exclude={"created_at", "tags"})
    assert task_json(row) == expected  # type: ignore[arg-type]
