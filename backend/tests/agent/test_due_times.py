"""Due times in chat: read with their date, a time alone by the wall clock, written as the board
writes dates. (End to end through POST /api/chat: chat-cases.times.jsonl.)"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from todo_api.agent.dates import TimeAlone, find_due, friendly_due, wall_clock
from todo_api.agent.nlu import understand
from todo_api.agent.slots import take_due
from todo_api.agent.tools import parse_due_moment, parse_time_arg

FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "due", "rest"),
    [
        ("dentist tomorrow 2:30pm", datetime(2026, 12, 5, 14, 30), "dentist"),
        ("gym saturday 9am", datetime(2026, 12, 5, 9, 0), "gym"),
        ("standup at 9:15am on monday", datetime(2026, 12, 7, 9, 15), "standup"),
        ("team call friday 17:00", datetime(2026, 12, 11, 17, 0), "team call"),
        ("lunch tomorrow at noon", datetime(2026, 12, 5, 12, 0), "lunch"),
        ("yoga tomorrow morning", date(2026, 12, 5), "yoga"),
        ("read john 3:16 tomorrow", date(2026, 12, 5), "read john 3:16"),
    ],
)
def test_a_time_goes_with_its_date(text: str, due: date, rest: str) -> None:
    assert take_due(text, FRIDAY) == (due, rest)


def test_a_time_alone_is_today_while_ahead_else_tomorrow() -> None:
    with wall_clock(time(16, 59, 30)):
        assert take_due("call at 17:00", FRIDAY)[0] == datetime(2026, 12, 4, 17, 0)
    with wall_clock(time(17, 0)):
        assert take_due("call at 17:00", FRIDAY)[0] == datetime(2026, 12, 5, 17, 0)
        # A date given with the time is kept even when that time has passed today.
        assert take_due("call today at 9am", FRIDAY)[0] == datetime(2026, 12, 4, 9, 0)
        assert parse_due_moment(None, "08:00", FRIDAY) == (date(2026, 12, 5), time(8, 0))
    found = find_due("call at 5pm", FRIDAY)  # no clock set: today
    assert found is not None and found.value == FRIDAY and found.at == time(17, 0)
    # Marked as said without a date: an edit then keeps the task's own day.
    assert isinstance(take_due("call at 5pm", FRIDAY)[0], TimeAlone)
    assert not isinstance(take_due("call friday 5pm", FRIDAY)[0], TimeAlone)


def test_a_bare_time_as_the_new_value_is_a_time_not_a_title() -> None:
    intent = understand("change the dentist to 15:00", FRIDAY)
    assert intent.new_title is None and isinstance(intent.new_due, TimeAlone)
    assert intent.new_due.time() == time(15, 0)


def test_replies_write_dates_as_the_board_does() -> None:
    assert friendly_due(FRIDAY, time(15, 0), FRIDAY) == "today, 15:00"
    assert friendly_due(date(2026, 12, 5), None, FRIDAY) == "tomorrow"
    assert friendly_due(date(2026, 12, 11), time(9, 5), FRIDAY) == "Fri 11 Dec, 09:05"
    assert friendly_due(date(2027, 1, 15), None, FRIDAY) == "Fri 15 Jan 2027"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [("15:00", time(15, 0)), ("3pm", time(15, 0)), ("at 2:30 p.m.", time(14, 30)), ("none", None)],
)
def test_tool_time_arguments(arg: str, expected: time | None) -> None:
    assert parse_time_arg(arg) == expected


@pytest.mark.parametrize("arg", ["25:00", "later", "5"])
def test_tool_time_arguments_refuse_what_is_not_a_time(arg: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        parse_time_arg(arg)


def test_a_date_phrase_argument_carries_its_time() -> None:
    """An LLM may pass due_date "tomorrow 2:30pm": the time is kept unless due_time says else."""
    assert parse_due_moment("tomorrow 2:30pm", None, FRIDAY) == (date(2026, 12, 5), time(14, 30))
    assert parse_due_moment("tomorrow 2:30pm", "16:00", FRIDAY) == (date(2026, 12, 5), time(16))
    assert parse_due_moment("2026-12-24", None, FRIDAY) == (date(2026, 12, 24), None)
