"""Date phrases, read directly (no server, no database): what `find_due` takes from a message
and how a day is written back. Times of day are in agent/test_due_times.py."""

from __future__ import annotations

from datetime import date

import pytest

from todo_api.agent.dates import add_months, find_due, friendly_day, next_weekday

TUESDAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("text", "phrase", "day"),
    [
        ("call mom tomorrow", "tomorrow", date(2026, 3, 11)),
        ("today", "today", TUESDAY),
        ("day after tomorrow", "day after tomorrow", date(2026, 3, 12)),
        ("pay rent on friday", "on friday", date(2026, 3, 13)),
        ("next monday dentist", "next monday", date(2026, 3, 16)),
        ("next week", "next week", date(2026, 3, 17)),
        ("this weekend", "this weekend", date(2026, 3, 14)),
        ("end of the month", "end of the month", date(2026, 3, 31)),
        ("in 3 days", "in 3 days", date(2026, 3, 13)),
        ("in a couple of weeks", "in a couple of weeks", date(2026, 3, 24)),
        ("in two months", "in two months", date(2026, 5, 10)),
        ("report by the 30th", "by the 30th", date(2026, 3, 30)),
        ("on the 5th", "on the 5th", date(2026, 4, 5)),  # passed this month: next month's
        ("by 12/25", "by 12/25", date(2026, 12, 25)),
        ("2027-01-15", "2027-01-15", date(2027, 1, 15)),
        ("on 15 march 2027", "on 15 march 2027", date(2027, 3, 15)),
        ("due march 3", "due march 3", date(2027, 3, 3)),  # passed this year: next year's
    ],
)
def test_a_date_phrase_is_found_with_its_day(text: str, phrase: str, day: date) -> None:
    found = find_due(text, TUESDAY)
    assert found is not None, text
    assert (text[found.start : found.end], found.value, found.at) == (phrase, day, None)


@pytest.mark.parametrize(
    "text",
    [
        "buy milk",
        "feb 29 2027",  # not a day of that year
        "in 10000000 days",  # past the calendar's end
    ],
)
def test_no_date_is_no_match(text: str) -> None:
    assert find_due(text, TUESDAY) is None


def test_next_weekday_is_strictly_after_today() -> None:
    assert next_weekday(TUESDAY, TUESDAY.weekday()) == date(2026, 3, 17)
    assert next_weekday(TUESDAY, 4) == date(2026, 3, 13)


def test_add_months_keeps_to_the_last_day_of_a_short_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_friendly_day_names_near_days_and_adds_the_year_only_when_it_differs() -> None:
    assert friendly_day(TUESDAY, TUESDAY) == "today"
    assert friendly_day(date(2026, 3, 11), TUESDAY) == "tomorrow"
    assert friendly_day(date(2026, 3, 20), TUESDAY) == "Fri 20 Mar"
    assert friendly_day(date(2027, 3, 20), TUESDAY) == "Sat 20 Mar 2027"
