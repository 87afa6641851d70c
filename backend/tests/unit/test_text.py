"""Text rules without HTTP: the stemmer and tokens the matcher compares, and the title and
description types that refuse hidden characters (api/test_text_rules.py checks every door)."""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from todo_api.agent.text import content_stems, normalize_title, parse_number, stem, tokens
from todo_api.schemas import Description, Title


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("called", "call"),
        ("calling", "call"),
        ("groceries", "grocery"),
        ("shopped", "shop"),
        ("planning", "plan"),
        ("baked", "bak"),
        ("bake", "bak"),
        ("boxes", "box"),
        ("bought", "buy"),
        ("bus", "bus"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_tokens_and_titles_ignore_case_punctuation_and_curly_apostrophes() -> None:
    assert tokens("Don\u2019t forget: MILK!") == ["don't", "forget", "milk"]
    assert normalize_title("  Buy   milk!! ") == "buy milk"
    assert content_stems("the milk and the eggs") == ["milk", "egg"]


@pytest.mark.parametrize(("text", "number"), [("3", 3), ("three", 3), ("twelve", 12), ("x", None)])
def test_parse_number(text: str, number: int | None) -> None:
    assert parse_number(text) == number


TITLE = TypeAdapter(Title)
DESCRIPTION = TypeAdapter(Description)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("buy\nmilk", "a line break (U+000A)"),
        ("buy\tmilk", "a control character (U+0009)"),
        ("invoice \u202egnp.exe", "a bidirectional override (U+202E)"),
        ("mi\u200blk", "a zero-width space (U+200B)"),
        ("mi\u200dlk", "a zero-width joiner (U+200D)"),
        ("buy\x00milk", "NUL"),
    ],
)
def test_a_title_refuses_hidden_characters_and_says_which(text: str, why: str) -> None:
    with pytest.raises(ValidationError, match="must not contain .*" + re.escape(why)):
        TITLE.validate_python(text)


@pytest.mark.parametrize(
    "text",
    [
        "  buy milk  ",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: ZWNJ between letters
        "\U0001f469\u200d\U0001f4bb fix the laptop",  # an emoji ZWJ sequence
    ],
)
def test_a_title_keeps_writing_that_needs_joiners(text: str) -> None:
    assert TITLE.validate_python(text) == text.strip()


def test_a_description_keeps_line_breaks_and_tabs_and_unifies_line_ends() -> None:
    assert DESCRIPTION.validate_python("step 1\r\n\tstep 2") == "step 1\n\tstep 2"
    with pytest.raises(ValidationError, match="a bidirectional isolate"):
        DESCRIPTION.validate_python("a\u2066b")
