"""Due dates in plain English: find a date phrase in a sentence, return its span and value.

"today" is always the caller's `today` (the chat uses UTC). Weekday names ("friday", "by
friday", "next friday", "this friday") mean the first such day strictly after today; a short
name alone ("fri", "sat": "sat" and "wed" are words too) only right before a clock time. Calendar
dates without a year ("dec 5") mean the next time that date comes round. `dateparser` reads the
calendar-date phrases the regular expressions pick out (its many formats: "5 december 2026",
"december 5th").

A clock time next to a date ("tomorrow 2:30pm", "saturday at 9am", "9am on friday", "friday
17:00") belongs to the match (DateMatch.at). A time alone ("at 5pm", "at 17:00") means today if
still ahead of the `wall_clock` now, else tomorrow. Hours alone ("at 5") are not read: am or pm?
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from todo_api.agent.text import parse_number

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "weds": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}

_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_WD_FULL = "|".join(sorted((w for w in WEEKDAYS if len(w) > 4), key=len, reverse=True))
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM = r"\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|(?:a )?couple(?: of)?|(?:a )?few|several"  # noqa: E501
# Words that introduce a date and belong to it ("due by friday", "on 2026-12-01").
_LEAD = r"(?:(?:(?:which|that|it)\s+is\s+)?(?:due|by|on|for|before|until|till|til|at|from|starting|to|in|of|deadline)\b[:\s]*){0,3}"  # noqa: E501
_DAY_END = r"(?:\s+(?:morning|afternoon|evening|night|eod|at\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)?))?"


# A clock time: "2:30pm", "9 am", "17:00", "noon". Hours alone ("at 5") stay unread: am or pm?
_CLOCK = (
    r"(?:(?P<h12>1[0-2]|0?[1-9])(?::(?P<m12>[0-5]\d))?\s*(?P<ampm>[ap])\.?m\.?"
    r"|(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)|(?P<named>noon|midday|midnight))"
)
# A colon right after a time ends it ("tomorrow 2:30pm: call plumber"); "14:00:30" does not.
_CLOCK_END = r"(?!\w|:\d)"
_CLOCK_IN = re.compile(rf"(?<![\w:]){_CLOCK}{_CLOCK_END}", re.IGNORECASE)
_CLOCK_LEAD = r"(?:(?:at|by|around|from)\s+|@\s*)?"
_CLOCK_AFTER = re.compile(rf"(?:\s*[,:])?\s+{_CLOCK_LEAD}{_CLOCK}{_CLOCK_END}", re.IGNORECASE)
_CLOCK_BEFORE = re.compile(rf"(?<![\w:]){_CLOCK_LEAD}{_CLOCK}\s*,?\s+(?:on\s+)?$", re.IGNORECASE)

# The current wall-clock time for "a time alone": set by the chat around a turn (wall_clock).
_now: ContextVar[time | None] = ContextVar("due_now", default=None)


@contextmanager
def wall_clock(now: time) -> Iterator[None]:
    """Read "at 5pm" (no date) against this time of day: today if still ahead, else tomorrow."""
    token = _now.set(now.replace(second=0, microsecond=0))
    try:
        yield
    finally:
        _now.reset(token)


class TimeAlone(datetime):
    """A time said without a date ("at 5pm"): its day (today or tomorrow) is only a default, so
    a change to a task that has a date moves the time and keeps the day."""


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    value: date
    at: time | None = None  # the time of day given with the date, if any
    time_alone: bool = False  # no date was said: `value` is today or tomorrow by the clock

    @property
    def due(self) -> date:
        """The day, or the day and time as a naive datetime when a time was given."""
        if self.at is None:
            return self.value
        moment = TimeAlone if self.time_alone else datetime
        return moment(
            self.value.year, self.value.month, self.value.day, self.at.hour, self.at.minute
        )


def clock_time(m: re.Match[str]) -> time:
    named = (m.group("named") or "").lower()
    if named:
        return time(0, 0) if named == "midnight" else time(12, 0)
    if m.group("h24"):
        return time(int(m.group("h24")), int(m.group("m24")))
    hour = int(m.group("h12")) % 12 + (12 if m.group("ampm").lower() == "p" else 0)
    return time(hour, int(m.group("m12") or 0))


def _with_time(text: str, found: DateMatch) -> DateMatch:
    """The date phrase widened to a clock time inside it, right after it or right before it."""
    inside = _CLOCK_IN.search(text, found.start, found.end)
    if inside is not None:
        return DateMatch(found.start, found.end, found.value, clock_time(inside))
    after = _CLOCK_AFTER.match(text, found.end)
    if after is not None:
        return DateMatch(found.start, after.end(), found.value, clock_time(after))
    before = _CLOCK_BEFORE.search(text, 0, found.start)
    # Before a date, a bare "3:16" is more likely the title's ("read john 3:16 tomorrow"),
    # unless it opens the message ("17:00 friday team drinks").
    bare_24h = before is not None and before.group("h24") and before.group(0)[0].isdigit()
    if before is not None and not (bare_24h and before.start() > 0):
        return DateMatch(before.start(), found.end, found.value, clock_time(before))
    return found


def next_weekday(today: date, weekday: int) -> date:
    """The first `weekday` strictly after today."""
    days = (weekday - today.weekday()) % 7
    return today + timedelta(days=days or 7)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _calendar_date(phrase: str, today: date, has_year: bool) -> date | None:
    import dateparser  # imported lazily: loading its language data takes a moment

    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "MDY",
        },
    )
    if parsed is None:
        return None
    value = parsed.date()
    if not has_year and value < today:
        value = value.replace(year=value.year + 1)
    return value


def _relative(amount: int, unit: str, today: date) -> date | None:
    """`today` plus "N days/weeks/months/years"; None past the calendar's end (year 9999), so
    "in 10000000 days" is not a date at all rather than an error."""
    unit = unit.lower()
    try:
        if unit.startswith("day"):
            return today + timedelta(days=amount)
        if unit.startswith("fortnight"):
            return today + timedelta(weeks=2 * amount)
        if unit.startswith("week"):
            return today + timedelta(weeks=amount)
        if unit.startswith("month"):
            return add_months(today, amount)
        return date(
            today.year + amount, today.month, min(today.day, 28 if today.month == 2 else 30)
        )
    except (OverflowError, ValueError):
        return None


@functools.cache  # compiled once: find_due runs several times per chat message
def _rules() -> list[tuple[re.Pattern[str], re.Pattern[str], object]]:
    """(the rule, its bare phrase, what it means). A rule can only match where its bare phrase
    does, and searching for the phrase alone is several times cheaper than trying the optional
    lead words at every position: find_due looks for the phrase first (bench/findings.md)."""

    def rx(body: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
        rule = re.compile(rf"(?<![\w-]){_LEAD}(?:{body}){_DAY_END}(?![\w-])", re.IGNORECASE)
        return rule, re.compile(body, re.IGNORECASE)

    return [
        (*rx(r"(\d{4})-(\d{1,2})-(\d{1,2})"), "iso"),
        (*rx(r"(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr)"), 2),
        (*rx(r"tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow|2morrow"), 1),
        (
            *rx(
                r"today|tonight|tonite|this\s+(?:morning|afternoon|evening)|end\s+of\s+(?:the\s+)?day|eod"
            ),
            0,
        ),
        (*rx(rf"(?:in|within)\s+({_NUM})\s+(days?|weeks?|fortnights?|months?|years?)"), "in"),
        (*rx(rf"({_NUM})\s+(days?|weeks?|months?)\s+from\s+(?:now|today)"), "in"),
        (*rx(r"(?:(?:next|this|the\s+coming|the)\s+)?weekend"), "weekend"),
        (*rx(r"(?:the\s+)?(?:end\s+of\s+(?:the\s+)?|this\s+)week"), "week"),
        (*rx(r"next\s+week"), 7),
        (*rx(r"(?:the\s+)?end\s+of\s+(?:the\s+)?month"), "eom"),
        (*rx(r"next\s+month"), "next_month"),
        (*rx(r"next\s+year"), "next_year"),
        (*rx(rf"(?:(?:next|this|coming|the\s+coming|upcoming)\s+)?({_WD_FULL})"), "weekday"),
        (*rx(rf"(?:next|this|coming|by|due|until|before)\s+({_WD})\.?"), "weekday"),
        # A short name alone ("sat", "wed", "sun" are words too) only right before a clock time:
        # "fri 5pm drinks with sam", "call mom mon 8am".
        (*rx(rf"({_WD})\.?(?=,?\s+{_CLOCK_LEAD}{_CLOCK}{_CLOCK_END})"), "weekday"),
        (
            *rx(
                rf"(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MON})\.?(?:,?\s+(\d{{4}}))?"
                rf"|({_MON})\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?"
            ),
            "calendar",
        ),
        (*rx(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?"), "slash"),
        (*rx(r"the\s+(\d{1,2})(?:st|nd|rd|th)"), "day_of_month"),
        (
            *rx(
                r"(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|noon|midday|midnight"
                r"|at\s+(?:[01]?\d|2[0-3]):[0-5]\d)"  # "at 17:00"; a bare "3:16" may be a title's
            ),
            "time",
        ),
    ]


def find_due(text: str, today: date) -> DateMatch | None:
    """The first date phrase in `text` (the earliest rule that matches wins), with its time."""
    return _find_due(text, today, _now.get())


@functools.lru_cache(maxsize=1024)  # parsing one message asks about the same text repeatedly
def _find_due(text: str, today: date, now: time | None) -> DateMatch | None:
    for pattern, phrase, kind in _rules():
        if not phrase.search(text):
            continue
        for m in pattern.finditer(text):
            value = _value(m, kind, today)
            if value is None:
                continue
            found = _with_time(text, DateMatch(m.start(), m.end(), value))
            if kind == "time" and found.at is not None:
                day = today + timedelta(days=1) if now is not None and found.at <= now else today
                found = DateMatch(found.start, found.end, day, found.at, time_alone=True)
            return found
    return None


# Dates that depend on today only, by rule kind.
_FIXED: dict[str, Callable[[date], date]] = {
    "week": lambda today: today + timedelta(days=(4 - today.weekday()) % 7),
    "weekend": lambda today: today + timedelta(days=(5 - today.weekday()) % 7),
    "eom": lambda today: date(
        today.year, today.month, calendar.monthrange(today.year, today.month)[1]
    ),
    "next_month": lambda today: add_months(today, 1),
    "next_year": lambda today: add_months(today, 12),
}


def _in_amount(m: re.Match[str], today: date) -> date | None:
    groups = m.groups()
    amount = parse_number(re.sub(r"\s+of$", "", groups[0].lower()))
    return None if amount is None else _relative(amount, groups[1], today)


def _calendar(m: re.Match[str], today: date) -> date | None:
    groups = m.groups()
    has_year = bool(groups[2] or groups[5])
    phrase = re.sub(rf"^{_LEAD}", "", m.group(0), flags=re.IGNORECASE)
    phrase = re.sub(r"\bthe\b|\bof\b", " ", phrase, flags=re.IGNORECASE)
    return _calendar_date(phrase, today, has_year)


def _slash(m: re.Match[str], today: date) -> date | None:
    groups = m.groups()
    month, day = int(groups[0]), int(groups[1])
    year = int(groups[2]) if groups[2] else today.year
    if year < 100:
        year += 2000
    value = date(year, month, day)
    if not groups[2] and value < today:
        value = value.replace(year=year + 1)
    return value


def _day_of_month(m: re.Match[str], today: date) -> date | None:
    value = date(today.year, today.month, int(m.group(1)))
    return value if value >= today else add_months(value, 1)


# Dates read from the match, by rule kind.
_FROM_MATCH: dict[str, Callable[[re.Match[str], date], date | None]] = {
    "iso": lambda m, today: date(int(m.group(1)), int(m.group(2)), int(m.group(3))),
    "in": _in_amount,
    "weekday": lambda m, today: next_weekday(today, WEEKDAYS[m.group(1).lower()]),
    "calendar": _calendar,
    "slash": _slash,
    "day_of_month": _day_of_month,
}


def _value(m: re.Match[str], kind: object, today: date) -> date | None:
    if kind == "time":  # a time alone: today, or tomorrow once it has passed (_find_due)
        return today
    if isinstance(kind, int):
        return today + timedelta(days=kind)
    if not isinstance(kind, str):
        return None
    if kind in _FIXED:
        return _FIXED[kind](today)
    reader = _FROM_MATCH.get(kind)
    try:
        return reader(m, today) if reader is not None else None
    except ValueError:  # "the 31st" in a 30-day month, "13/45"
        return None


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def friendly_day(day: date, today: date | None = None) -> str:
    """The board's form (frontend/lib/format.ts describeDue): "today", "tomorrow", "yesterday",
    else "Fri 4 Dec", with the year when it is not this year's."""
    if today is not None:
        named = {0: "today", 1: "tomorrow", -1: "yesterday"}.get((day - today).days)
        if named is not None:
            return named
    text = f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"
    return text if today is not None and day.year == today.year else f"{text} {day.year}"


def friendly_due(day: date, at: time | None, today: date | None = None) -> str:
    """ "tomorrow, 15:00", "Fri 4 Dec": a due date as replies show it, with its time if any."""
    return friendly_day(day, today) + (f", {at.strftime('%H:%M')}" if at is not None else "")


def time_alone_day(at: time, today: date) -> date:
    """The day a time given without a date falls on: today while it is ahead, else tomorrow."""
    now = _now.get()
    return today + timedelta(days=1) if now is not None and at <= now else today


def parse_clock(text: str) -> time | None:
    """ "15:00", "3pm", "2:30 p.m.", "noon" as a time of day; None when it is not one."""
    m = _CLOCK_IN.fullmatch(text.strip())
    return clock_time(m) if m is not None else None


def split_due(value: date) -> tuple[date, time | None]:
    """A take_due value as (day, time of day or None)."""
    if isinstance(value, datetime):
        return value.date(), value.time()
    return value, None
