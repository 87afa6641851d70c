"""The chat's rule table (agent/nlu.RULES), one rule at a time: each rule decides its own
examples (no earlier rule takes them) with the intent it should, and each rule stays small.
No server, no database: the whole-corpus checks are in agent/test_understand_corpus.py."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from datetime import date

import pytest
from radon.complexity import cc_visit

from todo_api.agent.nlu import RULES, deciding_rule, understand

TUESDAY = date(2026, 3, 10)

# rule name -> (message, the intent kind it decides)
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "empty": [("👍", "small_talk"), ("  ", "help")],
    "greeting": [("hello!", "greeting"), ("good morning", "greeting")],
    "small talk": [("thanks!", "small_talk"), ("what's the weather like in Paris?", "small_talk")],
    "set description": [("note on fix sink: call plumber first", "update")],
    "clear due date": [("remove the due date from the dentist", "update")],
    "count or help": [("how many open tasks do I have?", "count"), ("how does this work?", "help")],
    "clear completed": [("clear completed tasks", "clear_completed")],
    "empty the list": [("empty my list", "delete")],
    "put back / not done": [("put buy bread back on my list", "reopen")],
    "check mark / open again": [("✅ buy milk", "complete")],
    "stated edits": [("give pay rent a low priority", "update")],
    "stated date": [("the dentist moved to next friday", "update")],
    "not needed": [("I don't need to buy bread anymore", "delete")],
    "should be called": [("buy milk should be called buy oat milk", "update")],
    "add": [
        ("add pick up the dry cleaning", "add"),
        ("put milk, eggs and butter on my list", "add"),
    ],
    "reopen or mark": [
        ("mark call mom as not done", "reopen"),
        ("mark as done: buy bread", "complete"),
    ],
    "complete": [("cross bread off my list", "complete")],
    "delete": [("cancel the dentist appointment", "delete")],
    "update": [
        ("change buy milk to buy almond milk", "update"),
        ("make pay rent high priority", "update"),
    ],
    "due edit": [("the report is due in 2 days", "update")],
    "suffix": [("the report is done", "complete"), ("buy milk isn't done yet", "reopen")],
    "list": [("what do I have left?", "list"), ("find tasks about milk", "list")],
    "passive past tense": [("Mom has been called", "past_tense")],
    "bare imperative with a date": [("call mom tomorrow", "add")],
    "past tense": [("I bought the milk", "past_tense")],
    "date first, then the task": [("fri 5pm drinks with sam", "add")],
}
# Rules that only rewrite the message for the rules after them: they decide nothing themselves.
REWRITERS = {"priority or date header (rewrites)"}
# "Small" is well under the whole code base's limit (test_complexity.py): a rule that grows past
# this should hand its parsing to a helper.
RULE_MAX_COMPLEXITY = 12

CASES = [(name, msg, kind) for name, examples in EXAMPLES.items() for msg, kind in examples]


def test_every_rule_has_examples_here() -> None:
    assert set(EXAMPLES) | REWRITERS == {name for name, _ in RULES}


@pytest.mark.parametrize(("rule", "message", "kind"), CASES, ids=[c[1] for c in CASES])
def test_the_rule_decides_its_examples(rule: str, message: str, kind: str) -> None:
    decided_by, intent = deciding_rule(message, TUESDAY)
    assert (decided_by, intent.kind) == (rule, kind)


def test_a_header_is_rewritten_for_the_add_rule() -> None:
    decided_by, intent = deciding_rule("urgent: call the bank", TUESDAY)
    assert decided_by == "add"
    assert [(item.title, item.priority) for item in intent.items] == [("call the bank", "high")]


def test_no_rule_reads_nonsense_and_typos_of_a_verb_are_read_again() -> None:
    assert deciding_rule("purple monkey dishwasher", TUESDAY) == (
        None,
        understand("purple monkey dishwasher", TUESDAY),
    )
    assert understand("delte the eggs", TUESDAY).kind == "delete"


@pytest.mark.parametrize(("name", "rule"), RULES, ids=[name for name, _ in RULES])
def test_each_rule_is_small(name: str, rule: Callable[..., object]) -> None:
    source = textwrap.dedent(inspect.getsource(rule))
    (function,) = [block for block in cc_visit(source) if block.name == rule.__name__]
    assert function.complexity <= RULE_MAX_COMPLEXITY, f"{name}: {function.complexity}"
