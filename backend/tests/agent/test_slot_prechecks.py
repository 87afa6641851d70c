"""The phrase pre-checks in `find_due` and `find_priority` are shortcuts only: over every chat
case's message (and each of its word suffixes, so phrases sit at every position), both finders
answer exactly what a scan of the full rules without the pre-check answers (for priorities: the
same span, from which the level is read)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from todo_api.agent import dates, slots

HERE = Path(__file__).resolve().parent
TODAY = date(2026, 11, 26)
EXTRA = [
    "pay rent by the 1st, not urgent",
    "call mom at 5pm tomorrow with high priority",
    "dentist on dec 5th 2027 p1",
    "renew passport in a couple of weeks, low-key",
    "file taxes 4/15 asap",
    "it's due next friday and make it a top priority",
    "water plants this weekend whenever",
    "priority: medium for the report due end of the month",
]


def _messages() -> list[str]:
    said = list(EXTRA)
    for name in ("chat-cases.own.jsonl", "chat-cases.sample.jsonl"):
        for line in (HERE / name).read_text().splitlines():
            if line.strip():
                said.append(json.loads(line)["say"])
    texts = set()
    for message in said:
        words = message.split()
        texts.update(" ".join(words[i:]) for i in range(len(words)))
    return sorted(texts)


TEXTS = _messages()


def _due_without_precheck(text: str) -> dates.DateMatch | None:
    for pattern, _phrase, kind in dates._rules():
        for m in pattern.finditer(text):
            value = dates._value(m, kind, TODAY)
            if value is not None:
                return dates._with_time(text, dates.DateMatch(m.start(), m.end(), value))
    return None


def _priority_span_without_precheck(text: str, update: bool) -> tuple[int, int] | None:
    rules = [full for full, _phrase, _fixed in slots._PRIORITY_PATTERNS]
    if update:
        rules.insert(1, slots._UPDATE_LEVEL)
    for rule in rules:
        m = rule.search(text)
        if m:
            return m.start(), m.end()
    return None


def test_the_corpus_has_dates_and_priorities() -> None:
    assert len(TEXTS) > 500
    assert sum(dates.find_due(t, TODAY) is not None for t in TEXTS) > 50
    assert sum(slots.find_priority(t) is not None for t in TEXTS) > 30


@pytest.mark.parametrize("update", [False, True])
def test_prechecks_change_no_answer(update: bool) -> None:
    for text in TEXTS:
        assert dates.find_due(text, TODAY) == _due_without_precheck(text), text
        found = slots.find_priority(text, update=update)
        span = None if found is None else (found[1].start, found[1].end)
        assert span == _priority_span_without_precheck(text, update), text
