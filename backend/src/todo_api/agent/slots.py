"""Slot extraction for the local agent: priority, description and due-date phrases in a sentence.

Each finder returns the value and the span it occupied, so the caller can cut it out and keep
what remains as the task's title (or the reference to an existing task).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from todo_api.agent.dates import find_due

_I = re.IGNORECASE

_LEVEL = {
    "very high": "high",
    "highest": "high",
    "high": "high",
    "hi": "high",
    "top": "high",
    "urgent": "high",
    "important": "high",
    "critical": "high",
    "max": "high",
    "maximum": "high",
    "medium": "medium",
    "med": "medium",
    "mid": "medium",
    "normal": "medium",
    "standard": "medium",
    "regular": "medium",
    "default": "medium",
    "average": "medium",
    "low": "low",
    "lowest": "low",
    "very low": "low",
    "minor": "low",
    "min": "low",
}
_LEVELS = "very high|highest|high|hi|top|urgent|important|critical|maximum|max|medium|med|mid|normal|standard|regular|default|average|very low|lowest|low|minor|min"  # noqa: E501
_PRIO_WORD = r"(?:priority|prio|pri|importance|urgency)"
_JOIN = r"(?:[,;]?\s*(?:and\s+|with\s+|at\s+|as\s+|in\s+|of\s+|it'?s\s+|it\s+is\s+|is\s+|set\s+to\s+|make\s+it\s+|mark(?:ed)?\s+(?:it\s+)?(?:as\s+)?){0,3}(?:a|an)?\s*)"  # noqa: E501


def _priority_rule(
    phrase: str, fixed: str | None
) -> tuple[re.Pattern[str], re.Pattern[str], str | None]:
    """(the rule: joining words, then the phrase; the phrase alone; its fixed level). The rule
    can only match where the phrase does, and searching for the phrase alone skips trying the
    optional joining words at every position (most messages name no priority at all)."""
    return re.compile(_JOIN + phrase, _I), re.compile(phrase, _I), fixed


_PRIORITY_PATTERNS = [
    # negations first: "not urgent" is low, not high
    _priority_rule(
        r"\b(?:(?:not|isn'?t|is\s+not)\s+(?:very\s+|that\s+|so\s+)?(?:urgent|important)|"
        r"less\s+(?:urgent|important)|lower\s+priority|no\s+rush|no\s+hurry|whenever|someday|"
        r"some\s+day|eventually|if\s+i\s+(?:have|get)\s+(?:the\s+)?time|low[- ]key|not\s+a\s+priority)\b",  # noqa: E501
        "low",
    ),
    _priority_rule(
        r"\b(?:more\s+(?:urgent|important)|higher\s+priority|top\s+of\s+the\s+list)\b", "high"
    ),
    _priority_rule(rf"\b({_LEVELS})[- ]?{_PRIO_WORD}\b", None),
    _priority_rule(rf"\b{_PRIO_WORD}\s*(?:level\s*)?(?:is|of|to|=|:|-)?\s*({_LEVELS})\b", None),
    _priority_rule(r"\bp([123])\b", "p"),
    _priority_rule(
        r"\b(urgent(?:ly)?|asap|a\.s\.a\.p\.?|important|critical|top\s+priority)\b", None
    ),
    _priority_rule(r"\b(high|low|medium)\s*[.!]*\s*$", None),
]
# In edits ("set X to high", "mark X as urgent"), a bare level after to/as is a priority.
_UPDATE_LEVEL = re.compile(
    rf"\s*\b(?:to|as|=|is|at|into)\s+(?:a\s+)?({_LEVELS})(?:[- ]?{_PRIO_WORD})?\b", _I
)
# Its own phrase (it has no optional lead words), tried right after the negations.
_UPDATE_PRIORITY_PATTERNS = [
    _PRIORITY_PATTERNS[0],
    (_UPDATE_LEVEL, _UPDATE_LEVEL, None),
    *_PRIORITY_PATTERNS[1:],
]

MAX_TAGS = 20  # TaskCreate's limit
# Quick-add markers, as todo apps write them: "!high" (or !h, !1), "#shop".
_MARKED_LEVEL = {
    **dict.fromkeys(("high", "h", "1"), "high"),
    **dict.fromkeys(("medium", "med", "m", "2"), "medium"),
    **dict.fromkeys(("low", "l", "3"), "low"),
}
_PRIORITY_MARK = re.compile(r"(?<!\S)!(high|medium|med|low|h|m|l|[123])(?=[\s,;.]|$)", _I)
_TAG_MARK = re.compile(r"(?<![\w#&])#([^\W_][\w\-]{0,49})(?=[\s,;.!?]|$)")


def take_markers(text: str) -> tuple[str | None, list[str], str]:
    """The "!high" priority and "#tag"s written in the text, and the text without them
    ("#1" is not a tag: it reads as a number)."""
    priority: str | None = None
    tags: list[str] = []

    def level(m: re.Match[str]) -> str:
        nonlocal priority
        priority = priority or _MARKED_LEVEL[m.group(1).lower()]
        return " "

    def tag(m: re.Match[str]) -> str:
        if m.group(1).isdigit():
            return m.group(0)
        if m.group(1) not in tags:
            if len(tags) == MAX_TAGS:  # a task holds no more (TaskCreate): the rest stays text
                return m.group(0)
            tags.append(m.group(1))
        return " "

    rest = _TAG_MARK.sub(tag, _PRIORITY_MARK.sub(level, text))
    return priority, tags, _SPACES.sub(" ", rest).strip() if rest != text else text


_DESCRIPTION = re.compile(
    r"\s*(?:[,;.(]|\s-)?\s*(?:\b(?:with|and|plus|having|add(?:ing)?)\s+(?:a\s+|the\s+|some\s+)?"
    r"(?:description|desc|details?|notes?|comments?|info)\b(?:\s+(?:of|that\s+says|saying|reading))?"
    r"|\b(?:description|desc|details?|notes?|comments?|info)\s*(?::|=|-|\bis\b|\bsays\b|\bsaying\b)"
    r"|\b(?:description|desc)\b)\s*[:=\-]?\s*",
    _I,
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _cut(text: str, start: int, end: int) -> str:
    return (text[:start] + " " + text[end:]).strip()


@functools.lru_cache(maxsize=1024)  # parsing one message asks about the same text repeatedly
def find_priority(text: str, *, update: bool = False) -> tuple[str, Span] | None:
    patterns = _UPDATE_PRIORITY_PATTERNS if update else _PRIORITY_PATTERNS
    for pattern, phrase, fixed in patterns:
        if not phrase.search(text):
            continue
        m = pattern.search(text)
        if not m:
            continue
        if fixed == "p":
            value = {"1": "high", "2": "medium", "3": "low"}[m.group(1)]
        elif fixed is not None:
            value = fixed
        else:
            word = re.sub(r"\s+", " ", m.group(1).lower())
            word = {"urgently": "urgent", "top priority": "top"}.get(word, word)
            value = _LEVEL.get(word.rstrip("."), "high")
        return value, Span(m.start(), m.end())
    return None


def take_priority(text: str, *, update: bool = False) -> tuple[str | None, str]:
    found = find_priority(text, update=update)
    if found is None:
        return None, text
    value, span = found
    return value, _cut(text, span.start, span.end)


def take_due(text: str, today: date) -> tuple[date | None, str]:
    """The due day (a naive datetime when a time came with it) and the text without it."""
    found = find_due(text, today)
    if found is None:
        return None, text
    return found.due, _cut(text, found.start, found.end)


def take_description(text: str) -> tuple[str | None, str]:
    """Split "fix the sink with description the tap leaks" into description and the rest."""
    m = _DESCRIPTION.search(text)
    if not m or m.start() == 0:
        return None, text
    description = text[m.end() :].strip().strip("\"'").rstrip(")").strip()
    if not description:
        return None, text
    return description, text[: m.start()].strip()


_EDGE_WORDS = re.compile(
    r"^(?:(?:and|also|plus|with|to|that|which|then|so|:)\s+)+"
    r"|(?:\s+(?:and|also|plus|with|due|by|on|at|for|is|it'?s|its|priority|set|as|a|an|the|"
    r"please|pls|thanks|thank you|now|then|asap|okay|ok))+$",
    _I,
)
_PUNCT_EDGES = re.compile(r"^[\s,;:.\-\u2013\u2014!?\"'(\[]+|[\s,;:.\-\u2013\u2014!?\"')\]]+$")


_SPACES = re.compile(r"\s+")
_EMPTY_BRACKETS = re.compile(r"[(\[]\s*[,;]?\s*[)\]]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:])")


@functools.lru_cache(maxsize=1024)  # called on the same pieces several times per message
def tidy(text: str) -> str:
    """Strip connective words and punctuation left at the edges after cutting slots out."""
    previous = None
    text = _SPACES.sub(" ", _EMPTY_BRACKETS.sub(" ", text))
    while previous != text:
        previous = text
        text = _PUNCT_EDGES.sub("", text)
        text = _EDGE_WORDS.sub("", text)
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text).strip()
    return text
