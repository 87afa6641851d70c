"""How a reference ("the milk one", "#3", "call mum") picks a task: scores, ids, ties and the
stricter `clearly_meant` used before destructive changes. No server, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from todo_api.agent.matching import MIN_SCORE, clearly_meant, names, parse_id, resolve, score


@dataclass(frozen=True)
class Brief:
    id: int
    title: str
    completed: bool = False
    priority: str = "medium"
    due_date: date | None = None
    due_time: time | None = None
    description: str = ""
    updated_at: datetime = datetime(2026, 3, 10, tzinfo=UTC)


MILK = Brief(1, "Buy milk")
OAT_MILK = Brief(2, "Buy oat milk")
CALL_MOM = Brief(3, "Call mom")
DONE_CALL_MOM = Brief(4, "Call mom", completed=True)
TASKS = [MILK, OAT_MILK, CALL_MOM]


@pytest.mark.parametrize(
    ("ref", "task_id"),
    [("#12", 12), ("12", 12), ("task 12", 12), (" # 7 ", 7), ("0", None), ("2147483648", None)],
)
def test_parse_id(ref: str, task_id: int | None) -> None:
    assert parse_id(ref) == task_id


def test_score_is_exact_typo_tolerant_and_zero_without_shared_meaning() -> None:
    assert score("buy milk", "Buy milk!") == 100.0
    assert score("milk", "Buy milk") >= MIN_SCORE
    assert score("call mum", "Call mom") >= MIN_SCORE  # one-letter typo
    assert score("dentist", "Buy milk") == 0.0
    assert score("", "Buy milk") == 0.0


def test_resolve_by_id_title_and_words() -> None:
    assert resolve("#3", TASKS).task == CALL_MOM
    assert resolve("buy milk", TASKS).task == MILK  # exact beats the longer title
    assert resolve("oat", TASKS).task == OAT_MILK
    assert resolve("dentist", TASKS).kind == "missing"


def test_resolve_asks_when_two_titles_fit_equally() -> None:
    found = resolve("milk", TASKS)
    assert found.kind == "ambiguous"
    assert {t.id for t in found.candidates} == {MILK.id, OAT_MILK.id}


def test_resolve_prefers_the_wanted_state_between_equal_titles() -> None:
    pool = [CALL_MOM, DONE_CALL_MOM]
    assert resolve("call mom", pool).kind == "ambiguous"
    assert resolve("call mom", pool, prefer="completed").task == DONE_CALL_MOM
    assert resolve("call mom", pool, prefer="pending").task == CALL_MOM


def test_a_number_that_is_no_id_can_still_be_a_title() -> None:
    call_911 = Brief(5, "Call 911 about the noise")
    assert resolve("call 911", [call_911]).task == call_911


def test_clearly_meant_needs_every_word_in_this_title_and_no_other() -> None:
    assert clearly_meant("oat milk", OAT_MILK, TASKS)
    assert clearly_meant("#1", MILK, TASKS)
    assert not clearly_meant("milk", MILK, TASKS)  # also in "Buy oat milk"
    assert not clearly_meant("call mum", CALL_MOM, TASKS)  # a typo only earns a question


def test_names_compares_whole_word_stems() -> None:
    assert names("milk", "Buy oat milk")
    assert names("groceries", "grocery run")
    assert not names("mil", "Buy milk")
    assert not names("", "Buy milk")
