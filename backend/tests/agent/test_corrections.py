"""`read_correction()` directly: which messages correct the previous change, and what they name.
The conversations themselves (revert + apply to the task meant) are corpus cases."""

from __future__ import annotations

import pytest

from todo_api.agent.corrections import read_correction


@pytest.mark.parametrize(
    ("message", "target"),
    [
        ("nope I meant the taxes", "taxes"),
        ("wrong one, I meant taxes", "taxes"),
        ("not that one, the taxes one", "taxes"),
        ("no I meant the taxes, not the report", "taxes"),
        ("oops wrong task - pay rent", "pay rent"),
        ("sorry, I meant the gas bill", "gas bill"),
        ("no no, the dentist one", "dentist"),
        ("nope, the taxes", "taxes"),
        ("no, it was the taxes", "taxes"),
        ("no, the other one", ""),
        ("not that one", ""),
        ("that's the wrong one", ""),
        ("wrong one", ""),
    ],
)
def test_a_correction_names_the_task_meant(message: str, target: str | None) -> None:
    found = read_correction(message)
    assert (found.target if found else None) == target


@pytest.mark.parametrize(
    "message",
    [
        "no",
        "nope",
        "ok",
        "no thanks",
        "the other one",  # a pick after "which one?", not a correction
        "no wait, add milk",  # a new request
        "no, delete the taxes",
        "i meant wednesday, not tuesday",  # a date: the stated-date rule moves the task
        "no I meant friday",
    ],
)
def test_other_messages_are_not_corrections(message: str) -> None:
    assert read_correction(message) is None
