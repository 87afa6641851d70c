"""Language understanding for the offline `local` agent: a message becomes one intent with slots.

No model weights: verb and keyword lexicons with synonyms decide the intent (checked in an order
that resolves their overlaps, e.g. "I need to finish the report" adds a task, "I finished the
report" completes one), then slot finders pull out priority, due date, description, task
references and lists of several tasks. What is left after the slots is the title or reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from todo_api.agent.dates import TimeAlone, find_due, parse_clock, split_due
from todo_api.agent.slots import take_description, take_due, take_markers, take_priority, tidy
from todo_api.agent.smalltalk import small_talk
from todo_api.agent.text import IRREGULAR_PAST, tokens

_I = re.IGNORECASE

# --- intents -------------------------------------------------------------------------------


@dataclass
class NewTask:
    title: str
    priority: str | None = None
    due: date | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Intent:
    kind: Literal[
        "greeting",
        "thanks",
        "bye",
        "help",
        "unknown",
        "count",
        "list",
        "add",
        "complete",
        "reopen",
        "delete",
        "clear_completed",
        "update",
        "past_tense",
        "small_talk",
    ]
    # list / count filters
    status: Literal["all", "pending", "completed"] = "all"
    priority: str | None = None
    due_filter: str = "any"
    query: str | None = None
    # add
    items: list[NewTask] = field(default_factory=list)
    # complete / reopen / delete / update / past_tense
    ref: str = ""
    all_tasks: bool = False
    # update
    new_title: str | None = None
    new_priority: str | None = None
    new_due: date | None = None
    clear_due: bool = False
    shift_days: int | None = None
    new_description: str | None = None
    # an add without an add verb ("buy milk tomorrow"): an existing task of that title is edited
    implicit: bool = False
    # other (ref, new title) readings of an ambiguous rename
    alternatives: list[tuple[str, str]] = field(default_factory=list)
    # "delete a task", "complete it" with nothing named: the agent asks which
    which: bool = False
    # all_tasks: "everything except <keep>"
    keep: str = ""
    # list / count: tasks due on this day only
    due_on: date | None = None
    # small_talk: the short reply (smalltalk.RULES)
    reply: str = ""


# --- normalisation -------------------------------------------------------------------------

_INTENT_VERBS = (
    r"add|create|make|put|new|delete|remove|drop|erase|complete|finish|mark|tick|check|cross|"
    r"show|list|see|view|display|know|rename|change|update|edit|set|move|reopen|undo|clear|"
    r"get|give|tell|postpone|reschedule|push|delay|cancel|note|jot|write|schedule|remind|track|"
    r"record|log|save|store|insert|include|find|search|look|count|prioriti[sz]e|have|keep"
)
_LEADING_FILLERS = [
    re.compile(r"^(?:fix\s+(?:the|a)\s+typo|typo|correction|edit|update|change)\s*:\s*(?=\S)", _I),
    re.compile(
        r"^(?:no|nope|nah)(?:\s+(?:wait|no|sorry|actually|hold\s+on))*\s*[,!.]+\s*(?=\S)", _I
    ),
    # "wait, scratch that - add ...": the correction's lead-in, not a delete
    re.compile(
        r"^(?:(?:wait|no|oh|actually|sorry|oops|ok(?:ay)?)[\s,.!]+)*(?:scratch|strike|ignore|forget)\s+"
        r"that\s*[,.;:!\-]+\s*(?=\S)",
        _I,
    ),
    re.compile(
        r"^(?:hey|hi|hello|yo|hiya|ok|okay|k|so|um+|uh+|well|oh|alright|all right|right|please|pls|"
        r"plz|kindly|assistant|bot|buddy|mate|dear|now|and|also|then|great|thanks|thank you|cool|"
        r"actually|wait|sorry|oops|hmm+|in\s+fact|oh\s+and|basically|so\s+basically|like|honestly|anyway|"
        r"anyways|btw|by\s+the\s+way|quick(?:\s+one)?|real\s+quick|yo|heya|ah|ahh|erm|er|uhm|"
        r"good\s+(?:morning|afternoon|evening))\b(?:\s+there\b)?[\s,!.:;-]*(?=\S)",
        _I,
    ),
    # "how are you? add milk": the pleasantry before a request
    re.compile(
        r"^(?:how\s+(?:are|r)\s+(?:you|u)(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going)"
        r"\s*[,?!.;:-]+\s*(?=\S)",
        _I,
    ),
    re.compile(
        r"^(?:could|can|would|will|wouldja|could ya|can ya)\s+(?:you|u|ya)\s*(?:please|pls|kindly|"
        r"possibly|just|quickly|maybe)?\s*(?:be\s+so\s+kind\s+as\s+to\s+)?(?=\S)",
        _I,
    ),
    re.compile(
        r"^(?:i(?:\s+want|\s+need|\s+would\s+like|'d\s+like|\s+d\s+like)\s+you\s+to)\s+", _I
    ),
    re.compile(r"^(?:would\s+you\s+mind|do\s+you\s+mind)\s+", _I),
    re.compile(
        rf"^(?:i(?:\s+want|\s+would\s+like|'d\s+like|\s+d\s+like|\s+wanna|\s+wish)\s+to|"
        rf"let'?s|let\s+me|go\s+ahead\s+and|help\s+me|try\s+to|just|quickly|now|please)\s+"
        rf"(?=(?:{_INTENT_VERBS})\b)",
        _I,
    ),
    # "I need to add X" is about the list; "I need to finish the report" is a new task.
    re.compile(
        r"^(?:i\s+(?:need|have|got|gotta|must)(?:\s+to)?|i'?ve\s+got\s+to)\s+"
        r"(?=(?:add|create|put|see|view|show|list|display|know|rename|mark|tick|reopen|undo|count|"
        r"check\s+(?:off|my|what|how)|make\s+a\s+(?:task|note|todo)|(?:delete|remove|cancel|change|"
        r"update|move|complete)\b.*\b(?:task|todo|item|list)s?$)\b)",
        _I,
    ),
]
_TRAILING_FILLERS = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thank\s+you|thx|ty|for\s+me|now|right\s+now|for\s+me\s+please|"
    r"if\s+you\s+can|if\s+possible|thanks\s+a\s+lot|cheers|kthx|mate|buddy))+[\s.!?]*$"
    r"|[\s.?]+$",
    _I,
)


# Emoji are decoration; check marks (U+2611, U+2705, U+2713, U+2714) mean "done" and stay.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u2610\u2612-\u2704\u2706-\u2712\u2715-\u27bf\ufe0f\u200d\u2b50]+"
)


# Misspelt or apostrophe-less trigger words, fixed before any rule reads the message.
_TRIGGER_TYPOS = [
    (re.compile(p, _I), r)
    for p, r in (
        (r"\b(?:wat|wht|whta|waht)\b", "what"),
        (r"\bwhats\b", "what's"),
        (r"\b(?:wheres)\b", "where's"),
        (r"\b(?:hows)\b", "how's"),
        (r"\b(?:dont)\b", "don't"),
        (r"\b(?:didnt)\b", "didn't"),
        (r"\b(?:isnt)\b", "isn't"),
        (r"\b(?:ive)\b", "I've"),
        (r"\b(?:im)\b", "I'm"),
        (r"\bremind\s+me\s+(?:too|2)\b", "remind me to"),
        (r"\b(?:remmind|remid|remnd|reminde)\s+me\b", "remind me"),
        (r"\b(?:pls|plz|pleas|plese)\b", "please"),
        (r"^(?:ad|addd|aad)\b", "add"),
        (r"\btmrw?\b|\btmr\b|\btomorow\b|\btommorow\b|\btommorrow\b|\b2morrow\b", "tomorrow"),
        (r"\b2day\b|\btodya\b", "today"),
        (r"\b(?:u)\b(?=\s+(?:add|delete|remove|show|list|mark|tell|remind))", "you"),
    )
]


def normalize(message: str) -> tuple[str, bool]:
    """Trim fillers and politeness; report whether the message ended with '!' (high priority)."""
    text = message.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\u2014", " - ").replace("\u2013", " - ")
    text = _EMOJI.sub(" ", text)  # "done with the laundry 🎉": decoration, not words
    for typo, fixed in _TRIGGER_TYPOS:
        text = typo.sub(fixed, text)
    text = re.sub(r"\s+", " ", text).strip()
    bang = bool(re.search(r"!\s*$", text)) and not re.fullmatch(r"[\W\s]*\w+[!\s]*", text)
    for _ in range(6):
        before = text
        text = _TRAILING_FILLERS.sub("", text).strip()
        text = re.sub(r"[!]+$", "", text).strip()
        for pattern in _LEADING_FILLERS:
            text = pattern.sub("", text).strip()
        if text == before:
            break
    return text, bang


# --- lexicons ------------------------------------------------------------------------------

_GREETING = re.compile(
    r"^(?:hi|hello|hey|heya|hiya|howdy|yo|greetings|hola|good\s+(?:morning|afternoon|"
    r"evening|day)|morning|evening)"
    r"(?:\s+(?:there|you|again|assistant|bot|friend|buddy|all))*[\s!.,?]*$",
    _I,
)
_THANKS = re.compile(
    r"^(?:thanks?(?:\s+you)?(?:\s+(?:so\s+much|a\s+lot|very\s+much))?|thx|ty|cheers|great|awesome|"
    r"perfect|nice|cool|ok(?:ay)?|got\s+it|sounds\s+good|excellent|wonderful|brilliant|sweet|"
    r"much\s+appreciated|appreciate\s+it)[\s!.,]*$",
    _I,
)
_BYE = re.compile(r"^(?:bye|goodbye|good\s+bye|see\s+you|see\s+ya|later|good\s+night|cya)\b", _I)
_HELP = re.compile(
    r"^(?:help|\?+|h|commands|menu|options|usage|instructions|how\s+to|what\s+now)$"
    r"|\b(?:what\s+(?:can|do|could|should)\s+(?:you|i)\s+(?:do|say|ask|type)|what\s+are\s+you|"
    r"who\s+are\s+you|how\s+(?:do|does|can|should)\s+(?:i\s+)?(?:this|it|you|i)\s+(?:work|use)|"
    r"how\s+do\s+i\s+use|what\s+(?:are\s+)?(?:your|the)\s+(?:commands|features|abilities|capabilities)|"
    r"what\s+can\s+you\s+help|what\s+do\s+you\s+(?:understand|support|know)|show\s+(?:me\s+)?(?:the\s+)?help|"
    r"need\s+help|help\s+me|how\s+does\s+this\s+work|i'?m\s+(?:lost|confused)|what\s+is\s+this)\b",
    _I,
)

_COUNT = re.compile(
    r"\bhow\s+many\b|\bcount\b|\bnumber\s+of\b|\bhow\s+much\s+(?:is\s+)?(?:left|remaining|to\s+do)\b|"
    r"\btotal\s+(?:number|count)\b",
    _I,
)

_DONE_WORDS = (
    r"completed|complete|done|finished|checked(?:\s+off)?|ticked(?:\s+off)?|crossed\s+off|closed|"
    r"resolved|old|ticked|marked\s+(?:as\s+)?done"
)
_CLEAR_COMPLETED = re.compile(
    rf"^(?:clear|delete|remove|purge|clean(?:\s+up|\s+out)?|wipe(?:\s+out)?|archive|get\s+rid\s+of|drop|"
    rf"erase|trash|discard|bin|empty|hide|nuke|tidy(?:\s+up)?|flush)\b(?P<rest>.*)\b(?:{_DONE_WORDS})\b"
    rf"(?P<tail>.*)$",
    _I,
)
_CLEAR_FILLER = re.compile(
    r"\b(?:i'?ve|i\s+have|i'?d|we'?ve|that'?s|which'?s|what'?s|all|the|my|of|tasks?|todos?|to-?dos?|items?|ones?|everything|"
    r"anything|stuff|that|which|are|is|i|have|already|been|out|up|off|list|from|away|things?|entries|"
    r"every|those|these|them|now|was|were|marked|as)\b|[\s,.'!]",
    _I,
)

_ADD_START = re.compile(
    r"^(?:"
    r"(?:please\s+)?(?:add|create|insert|include|put(?=\s.*\b(?:on|onto|in|into|to)\s+(?:my|the)\s+(?:\w+\s+)?"
    r"(?:list|todos?|to-?do\s+list|tasks|agenda))|jot(?:\s+down)?|note(?:\s+down)?|write(?:\s+down)?|"
    r"log|record|save|store|track|schedule|enter|register|queue|book|"
    r"(?:make|set(?:\s+up)?)(?=\s+(?:me\s+)?(?:a|an|new|another)\s+(?:new\s+)?(?:task|todo|to-?do|item|entry|reminder|note)))"
    r"(?:\s*[:\-]\s*|\s+)(?:me\s+)?"
    r"(?:(?:a|an|the|another|one\s+more|new|my|both)\s+)*"
    r"(?:(?:\d+|two|three|four|five|few|a\s+few|some|these|those)\s+(?=(?:new\s+)?(?:todos?|to-?dos?|tasks?|"
    r"items?|things?|reminders?|entries|ones)\b))?"
    r"(?:(?:new|todos?|to-?dos?|tasks?|items?|entry|entries|reminders?|notes?|ones?|things?)\s*)*(?:(?:these|the\s+following|following|this)\s*:?\s*)?(?:for\s+me\s+)?(?:(?:called|named|titled|to|for|that\s+says|saying|about|"
    r"so\s+i|that\s+i)\s+|:\s*|-\s*)?"
    r"|(?:a\s+)?new\s+(?:task|todo|to-?do|item|reminder|entry)s?(?:\s+(?:called|named|titled|to|for))?\s*[:\-]?\s*"
    r"|(?:task|todo|to-?do|reminder)\s*[:\-]\s*"
    r"|remind\s+me\s+(?:to\s+|about\s+|of\s+|that\s+i\s+(?:need|have)\s+to\s+)?"
    r"|(?:please\s+)?(?:don'?t|do\s+not|dont)\s+(?:let\s+me\s+)?forget\s+(?:to\s+|about\s+)?"
    r"|(?:i|we)\s*(?:really\s+|still\s+|also\s+)?(?:(?:need|have|want|got|ought|'ve\s+got|have\s+got|"
    r"'ll\s+need|will\s+need|plan|intend|hope|'d\s+like|would\s+like)\s+to|gotta|wanna|must|should)\s+"
    r"(?:(?:probably|maybe|really|definitely|also|still|just|actually|finally|eventually)\s+)?"
    r"|(?:i|we)\s+(?:must|should|gotta|'ll|will|shall|might|may)\s+"
    r"|(?:need|have|got|gotta|must|should|plan)\s+to\s+|(?:i\s+)?(?:gotta|gonna\s+have\s+to|oughta)\s+"
    r"|remember\s+to\s+|(?:make\s+sure|be\s+sure)\s+(?:to|that\s+i)\s+"
    r"|note\s+to\s+self\s*[:\-]?\s*|(?:to\s+do|todo)\s*[:\-]\s*"
    r"|(?:can|could)\s+you\s+remind\s+me\s+to\s+"
    r")",
    _I,
)
_ADD_NOT_TASK = re.compile(
    r"^(?:know|see|view|check|look|find|list|show|delete|remove|complete|mark|change|rename|update|"
    r"edit|clear|count|cancel|reopen|undo|move|set\s+the|make\s+(?:it|this|that)|say|ask|tell)\b",
    _I,
)
_EXPLICIT_ADD = re.compile(
    r"^(?:please\s+)?(?:add|create|insert|jot(?:\s+down)?|remind\s+me|(?:don'?t|do\s+not|dont)\s+"
    r"(?:let\s+me\s+)?forget|(?:a\s+)?new\s+(?:task|todo|to-?do|item|reminder|entry)|"
    r"(?:task|todo|to-?do|reminder)\s*[:\-]|note\s+to\s+self|remember\s+to)\b",
    _I,
)
# Messages that command a task change: never answered as off-topic small talk.
_TASK_COMMAND = re.compile(
    r"^(?:add|create|delete|remove|complete|finish|mark|rename|move|change|update|set|put|"
    r"schedule|remind|done|cancel|tick|check\s+off|postpone|reschedule|jot|note)\b",
    _I,
)
_LIST_TAIL = re.compile(
    r"\s+(?:to|on|onto|in|into|for)\s+(?:my|the|our)\s+(?:\w+\s+)?(?:list|todos?|to-?do(?:\s+list)?|"
    r"tasks?|task\s+list|agenda|board|items|checklist)$",
    _I,
)

_REOPEN_START = re.compile(
    r"^(?:re-?open|un-?complete|un-?check|un-?tick|un-?mark|un-?do|undo|restore|reactivate|revive|"
    r"resurrect|bring\s+back|put\s+back|re-?activate|re-?add|uncross|un-?finish|take\s+back)\b\s*",
    _I,
)
_MARK_START = re.compile(r"^(?:mark|flag|set|tag|label|make)\s+(?P<rest>.+)$", _I)
_MARK_DONE = re.compile(
    r"^(?P<ref>.+?)\s+(?:as\s+|to\s+)?(?:done|complete|completed|finished|checked|ticked|resolved|closed|"
    r"off|sorted|handled)$",
    _I,
)
_MARK_UNDONE = re.compile(
    r"^(?P<ref>.+?)\s+(?:as\s+|to\s+)?(?:not\s+(?:yet\s+)?(?:done|complete|completed|finished)|undone|"
    r"incomplete|uncompleted|unfinished|pending|open|active|to\s*-?do|todo|not\s+started|outstanding|"
    r"in\s+progress|unchecked|unticked|unresolved|new)$",
    _I,
)
_COMPLETE_START = re.compile(
    r"^(?:"
    r"(?:i'?ve|i\s+have|we'?ve|we\s+have)?\s*(?:just\s+|already\s+|finally\s+)?"
    r"(?:completed|finished|done|did|ticked\s+off|checked\s+off|crossed\s+off|knocked\s+out|wrapped\s+up)\s+"
    r"(?:with\s+)?"
    r"|(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:all\s+)?(?:done|finished|through)\s+(?:with\s+)?"
    r"|(?:complete|finish|close|resolve|tick|accomplish|achieve)(?:\s+(?:off|out|up))?\s+"
    r"|(?:check|cross|strike|knock)\s+(?:off|out|through)\s+|wrap\s+up\s+"
    r"|(?:check|cross|strike|knock)\s+(?=.+\s+off(?:\s+(?:my|the)\s+\w+)?$)"
    r"|done\s*(?:with|[:\-])?\s*"
    r"|(?:i|we)\s+(?:just\s+|already\s+|finally\s+)?(?:completed|finished|did|done)\s+"
    r")",
    _I,
)
_COMPLETE_OFF_TAIL = re.compile(
    r"\s+(?:off(?:\s+(?:my|the)\s+(?:list|todos?|tasks?))?|as\s+(?:done|complete|completed|finished)|"
    r"(?:is|are)\s+(?:done|finished)|already|done|now|completed|finished|today)$",
    _I,
)
_DELETE_START = re.compile(
    r"^(?:delete|remove|drop|erase|trash|discard|scrap|scratch|cancel|get\s+rid\s+of|forget(?:\s+about)?|"
    r"kill|nuke|ditch|dump|eliminate|take\s+(?:off|out)|throw\s+(?:away|out)|clear|bin|axe|purge|"
    r"wipe|destroy)\b\s*",
    _I,
)
_DELETE_TAIL = re.compile(
    r"\s+(?:from|off|out\s+of)\s+(?:my|the)\s+(?:\w+\s+)?(?:list|todos?|to-?do\s+list|tasks?|task\s+list|"
    r"board|agenda)$|\s+(?:off|away|out|altogether|permanently|for\s+good|entirely|completely)$",
    _I,
)
_UPDATE_START = re.compile(
    r"^(?P<verb>rename|retitle|re-?name|change|update|edit|modify|set|make|mark|flag|move|postpone|push"
    r"(?:\s+back)?|reschedule|re-?schedule|delay|defer|bump|prioriti[sz]e|de-?prioriti[sz]e|shift|switch|"
    r"adjust|correct|fix\s+the\s+(?:title|name|typo)|replace|lower|raise|upgrade|"
    r"downgrade|escalate|push\s+out)\b\s*(?P<rest>.*)$",
    _I,
)
_RENAME = re.compile(
    r"^(?:rename|retitle|re-?name)\s+(?P<ref>.+?)\s+(?:to|as|into|->|=>)\s+(?P<new>.+)$"
    r"|^(?:change|update|edit|modify|set|switch|correct|fix)\s+(?:the\s+)?(?:title|name|text|wording|label)"
    r"\s+(?:of|for|on)\s+(?P<ref2>.+?)\s+(?:to|as|into|->|=>)\s+(?P<new2>.+)$"
    r"|^(?:change|update|edit|modify|set|switch|correct)\s+(?P<ref3>.+?)(?:'s)?\s+(?:title|name)\s+"
    r"(?:to|as|into)\s+(?P<new3>.+)$"
    r"|^(?:call|retitle)\s+(?P<ref4>.+?)\s+(?:instead|from\s+now\s+on)?\s*(?:to\s+)?\"(?P<new4>.+)\"$",
    _I,
)
_FIELD_WORDS = re.compile(
    r"\b(?:the\s+)?(?:priority|prio|importance|urgency|due\s*-?\s*date|deadline|due|date|description|"
    r"notes?|details?)(?:\s+(?:level|of|for|on|to))*\b|'s\b",
    _I,
)
_CLEAR_DUE = re.compile(
    r"\b(?:remove|clear|delete|drop|unset|take\s+off|get\s+rid\s+of|no|without)\s+(?:the\s+|a\s+|any\s+)?"
    r"(?:due\s*-?\s*date|deadline|date|due)\b(?:\s+(?:from|of|for|on))?",
    _I,
)
_SHIFT = re.compile(
    r"\s*\b(?:by|back|out|forward)\s+(?:by\s+)?(?P<n>a|an|one|two|three|four|five|six|seven|\d+)\s+"
    r"(?P<unit>days?|weeks?)\b",
    _I,
)
_SET_DESCRIPTION = re.compile(
    r"^(?:add|set|change|update|edit|put|attach|write)\s+(?:a\s+|the\s+|some\s+)?(?:description|desc|"
    r"notes?|details?|comments?)\s+(?:to|on|for|of)\s+(?P<ref>.+?)(?:\s*[:\-]\s*|\s+(?:to|saying|that\s+says)\s+|,\s*)"
    r"(?P<desc>.+)$"
    r"|^(?:describe)\s+(?P<ref2>.+?)\s*(?:as|:)\s*(?P<desc2>.+)$"
    r"|^(?:notes?|description|desc|details?)\s+(?:on|for|to|of)\s+(?P<ref4>.+?)\s*(?::|=|-)\s*(?P<desc4>.+)$"
    r"|^(?:change|update|edit|set)\s+(?P<ref3>.+?)(?:'s)?\s+(?:description|desc|notes?|details?)\s*"
    r"(?:to\b|as\b|:|=)\s*(?P<desc3>.+)$",
    _I,
)

_LIST_START = re.compile(
    r"^(?:show|list|display|view|see|print|give|get|tell|read|fetch|find|search|look|check|what|what'?s|"
    r"whats|which|do\s+i|have\s+i|did\s+i|any|anything|is\s+there|are\s+there|my|all|pending|completed|"
    r"open|remaining|overview|summary|summarize|recap|where|review|let\s+me|lemme|can\s+i\s+see|"
    r"tasks|todos?|to-?dos?|agenda|status|current|upcoming|outstanding|due|overdue|whats\s+left|what\s+else|"
    r"when)\b",
    _I,
)
_LIST_NOUNS = re.compile(
    r"\b(?:tasks?|todos?|to-?dos?|to\s+do'?s|list|items?|things|agenda|plate|schedule|stuff|errands|chores|left|"
    r"overview|status|summary|progress|focus|"
    r"remaining|pending|due|overdue|done|completed|finished|plan|plans|priorit(?:y|ies)|upcoming|"
    r"outstanding|everything|anything|open)\b",
    _I,
)
_PENDING = re.compile(
    r"\b(?:pending|left|remaining|remains?|open|incomplete|unfinished|outstanding|undone|active|"
    r"uncompleted|still|not\s+(?:yet\s+)?(?:done|completed|finished|complete)|to\s+do\s+next|"
    r"(?:need|have|got)\s+to\s+do|should\s+i\s+(?:do|work)|on\s+my\s+plate|upcoming|unchecked|"
    r"yet\s+to|haven'?t|ongoing|current|overdue|next|focus)\b",
    _I,
)
_COMPLETED = re.compile(
    r"\b(?:completed|complete|done|finished|checked\s+off|ticked\s+off|crossed\s+off|closed|"
    r"accomplished|achieved|did\s+i|have\s+i\s+(?:done|finished|completed)|resolved|ticked|checked)\b",
    _I,
)
_QUERY = re.compile(
    r"\b(?:about|related\s+to|regarding|containing|contain|mentioning|mention|matching|match|with\s+the\s+word|"
    r"that\s+(?:mention|contain|include|say)s?|including|named|called|titled)\s+(?P<q>.+)$",
    _I,
)

_SUFFIX_DONE = re.compile(
    r"^(?P<ref>.+?)\s+(?:is|are|was|were|'s|has\s+been|have\s+been|got|just\s+got|now)?\s*"
    r"(?:all\s+|now\s+|finally\s+|already\s+)?(?:done|finished|complete|completed|sorted(?:\s+out)?|"
    r"taken\s+care\s+of|handled|dealt\s+with|out\s+of\s+the\s+way|accomplished|ticked\s+off|"
    r"checked\s+off|over\s+with)$",
    _I,
)
_SUFFIX_UNDONE = re.compile(
    r"^(?P<ref>.+?)\s+(?:is|are|was|'s)?\s*(?:not|n't|isn'?t|aren'?t|wasn'?t|no\s+longer)\s+"
    r"(?:actually\s+|really\s+)?(?:yet\s+)?(?:done|finished|complete|completed)(?:\s+yet)?$"
    r"|^(?P<ref2>.+?)\s+(?:isn'?t|aren'?t|wasn'?t)\s+(?:actually\s+|really\s+)?(?:done|finished|complete|completed)(?:\s+yet)?$",
    _I,
)
_SUFFIX_DUE = re.compile(
    r"^(?P<ref>.+?)\s+(?:is|are|'s|should\s+be|needs\s+to\s+be)\s+(?:now\s+)?(?P<rest>(?:due|for|on|by)\b.+)$",
    _I,
)
_SUFFIX_PRIORITY = re.compile(
    r"^(?P<ref>.+?)\s+(?P<neg>isn'?t|is\s+not|aren'?t|is|are|'s|should\s+be|needs\s+to\s+be)\s+"
    r"(?:now\s+|really\s+|very\s+|super\s+|that\s+|so\s+)?"
    r"(?P<rest>(?:a\s+)?(?:high|low|medium|top|urgent|important|critical|not\s+urgent|not\s+important|"
    r"normal|less\s+urgent|less\s+important|more\s+urgent|more\s+important)(?:[- ]priority)?)$",
    _I,
)
_PAST_TENSE = re.compile(
    r"^(?:(?:i|we)\s+(?:just\s+|already\s+|finally\s+|have\s+|'ve\s+|did\s+)*|just\s+|finally\s+|already\s+)?"
    r"(?P<verb>[a-z]+)\b(?P<rest>.*)$",
    _I,
)
_NOT_PAST = frozenset(
    {"need", "needed", "wanted", "forgot", "wished", "hoped", "used", "planned", "decided"}
)

# Verbs that usually begin a task title: used to decide whether "X and Y" is one task or two.
TASK_VERBS = frozenset(
    """buy call email send write pay book clean wash fix pick drop water walk feed cook read
    finish submit prepare review schedule check visit meet go get take make order return
    renew cancel file do mow tidy vacuum text ring phone reply respond update plan
    organize organise pack print sign study practice practise learn exercise run bake grab
    collect deliver post mail contact register apply install charge repair paint shop wrap
    bring find sort sell donate fill iron fold hang move clear empty change replace
    research draft edit finalize finalise backup back set recycle throw dust mop sweep
    scrub polish groom bathe brush shave cut trim plant weed rake shovel defrost thaw
    marinate boil fry grill roast eat drink listen watch play attend join host invite
    thank congratulate apologize confirm arrange rsvp follow ask tell remind message dm
    ping test deploy merge push pull commit refactor debug document design sketch""".split()
)

_SPLIT = re.compile(
    r"\s*(?:,\s*(?:and|&|plus|also|then)?\s*|;\s*|\s+and\s+|\s+&\s+|\s+plus\s+|\s+as\s+well\s+as\s+|\s+then\s+)\s*",
    _I,
)
_ALL_REF = re.compile(
    r"^(?:all|everything|every\s+(?:single\s+)?(?:task|todo|item|one)|all\s+(?:of\s+)?(?:my\s+|the\s+)?"
    r"(?:tasks|todos|to-?dos|items|things|ones|of\s+them)|them\s+all|all\s+of\s+them|the\s+whole\s+list|"
    r"my\s+whole\s+list|all\s+(?:my\s+|the\s+)?(?:pending|open|remaining|outstanding)(?:\s+(?:tasks|ones|items))?|"
    r"(?:my|the)\s+(?:whole\s+|entire\s+)?(?:to-?do\s+|task\s+)?list|list|my\s+tasks|my\s+todos|"
    r"(?:all\s+)?(?:my|the)\s+(?:stuff|things)|all\s+(?:my\s+|the\s+|of\s+the\s+)?(?:stuff|things)|"
    r"it\s+all|all\s+of\s+it|(?:the|my)\s+whole\s+(?:thing|lot)|the\s+lot|everything\s+on\s+(?:it|my\s+list|"
    r"the\s+list))$",
    _I,
)


def split_items(text: str) -> list[str]:
    """ "eggs and bread" -> two tasks; "call mom and dad" -> one (only the first part has a verb)."""  # noqa: E501
    parts = [p for p in (tidy(x) for x in _SPLIT.split(text)) if p]
    if len(parts) <= 1:
        return parts or [text]

    def starts_with_verb(part: str) -> bool:
        words = tokens(part)
        return bool(words) and words[0] in TASK_VERBS

    verbs = [starts_with_verb(p) for p in parts]
    short = all(len(tokens(p)) <= 4 for p in parts)
    if all(verbs) or (not any(verbs) and short):
        return parts
    if verbs[0] and not any(verbs[1:]):
        return [text]  # "buy eggs and bread", "call mom and dad"
    return parts if short else [text]


def strip_ref(text: str) -> str:
    """Drop the words around a task reference: "the milk one", "task 3 from my list"."""
    text = _DELETE_TAIL.sub("", text.strip())
    text = _COMPLETE_OFF_TAIL.sub("", text)
    text = re.sub(
        r"^(?:(?:the|my|that|this|a|an|our|your)\s+)*(?:(?:task|todo|to-?do|item|entry|reminder|one)s?\s+"
        r"(?:(?:called|named|titled|about|for|to|that\s+says|saying)\s+)?)?",
        "",
        text,
        flags=_I,
    )
    text = re.sub(
        r"\s+(?:task|todo|to-?do|item|entry|reminder|one|thing)s?$|\s+(?:from|on|in)\s+(?:my|the)\s+list$",
        "",
        text,
        flags=_I,
    )
    return tidy(text.strip("\"'"))


# --- the parser -----------------------------------------------------------------------------


# Verbs a typo is corrected to when nothing else understood the message ("delte", "compelte").
_TYPO_VERBS = (
    "add",
    "create",
    "delete",
    "remove",
    "complete",
    "finish",
    "mark",
    "show",
    "list",
    "rename",
    "change",
    "reopen",
    "remind",
    "update",
    "postpone",
    "reschedule",
)

# Where one message holds two requests: "add milk and mark eggs as done".
_CLAUSE_VERBS = (
    r"(?:please\s+)?(?:mark|delete|remove|show|list|rename|reopen|tick\s+off|check\s+off|cross\s+off|"
    r"complete|add|create|remind\s+me|move|postpone|reschedule|clear|what|how\s+many)\b"
)
_CLAUSE_SPLIT = re.compile(
    rf"\s*[,;.]?\s+(?:and\s+(?:then\s+)?|then\s+|also\s+|plus\s+)(?={_CLAUSE_VERBS})"
    rf"|\s*[;.!?]\s+(?={_CLAUSE_VERBS})",
    _I,
)


_FILLER_CLAUSE = re.compile(
    r"^(?:oh|ok(?:ay)?|so|and|um+|uh+|hmm+|well|also|then|right|yeah|btw|oh\s+yeah|alright)[\s,.!]*$",
    _I,
)


def split_clauses(message: str) -> list[str]:
    """Split a message into separate requests; a single request comes back unchanged. A lone
    interjection ("oh" in "oh and add stamps") is no request of its own."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(message) if p and p.strip()]
    parts = [p for p in parts if not _FILLER_CLAUSE.match(p)] or [message]
    return parts if len(parts) > 1 else [parts[0]]


def understand(message: str, today: date) -> Intent:
    intent = _understand(message, today)
    if intent.kind != "unknown":
        return intent
    from rapidfuzz import fuzz, process

    words = normalize(message)[0].split(maxsplit=1)
    if words and words[0].lower() in {"ad", "dd", "addd", "aad"}:
        return _understand("add " + (words[1] if len(words) > 1 else ""), today)
    if words and len(words[0]) >= 3 and words[0].lower() not in _TYPO_VERBS:
        match = process.extractOne(
            words[0].lower(), _TYPO_VERBS, scorer=fuzz.ratio, score_cutoff=75
        )
        if match is not None:
            fixed = match[0] + (" " + words[1] if len(words) > 1 else "")
            return _understand(fixed, today)
    return intent


@dataclass
class _Message:
    """One message as the rules read it. `text` is normalized (fillers and politeness trimmed)
    and a few rules rewrite it for the rules after them ("urgent: X" reads as "add X, urgent")."""

    raw: str
    text: str
    bang: bool
    today: date

    @property
    def low(self) -> str:
        return self.text.lower()


def _understand(message: str, today: date) -> Intent:
    return deciding_rule(message, today)[1]


def deciding_rule(message: str, today: date) -> tuple[str | None, Intent]:
    """The first rule of RULES that reads the message decides its intent: its name and the intent
    (no name: no rule read it). The name lets the unit tests pin each rule to its examples."""
    raw = re.sub(r"\s+", " ", message).strip()
    text, bang = normalize(raw)
    msg = _Message(raw, text, bang, today)
    for name, rule in RULES:
        intent = rule(msg)
        if intent is not None:
            return name, intent
    return None, Intent("unknown")


def _rule_empty(msg: _Message) -> Intent | None:
    if msg.text:
        return None
    chat = small_talk(msg.raw)  # an emoji-only message: "👍"
    if chat is not None:
        return Intent("small_talk", reply=chat.reply)
    return Intent("greeting") if _GREETING.match(msg.raw.strip("!?. ")) else Intent("help")


def _rule_greeting(msg: _Message) -> Intent | None:
    return Intent("greeting") if _GREETING.match(msg.text) or _GREETING.match(msg.raw) else None


def _rule_small_talk(msg: _Message) -> Intent | None:
    chat = small_talk(msg.text) or small_talk(msg.raw)
    if chat is not None and (chat.name != "off_topic" or not _looks_like_a_task(msg.text)):
        return Intent("small_talk", reply=chat.reply)
    if _THANKS.match(msg.text) or _THANKS.match(msg.raw):
        return Intent("thanks")
    return Intent("bye") if _BYE.match(msg.text) else None


def _looks_like_a_task(text: str) -> bool:
    """ "buy tickets for the football game saturday" is a task, not an off-topic question."""
    if re.match(
        r"^(?:(?:tell|write|sing|give|read|play|recommend|find|show)\s+(?:me|us)|(?:play|sing)\s+(?:some|a))\b",
        text,
        _I,
    ):
        return False  # "tell me a joke", "write me a poem": a request to the assistant itself
    first = tokens(text)[:1]
    return bool(_TASK_COMMAND.match(text)) or bool(first and first[0] in TASK_VERBS)


def _rule_set_description(msg: _Message) -> Intent | None:
    desc = _SET_DESCRIPTION.match(msg.text)
    if not desc:
        return None
    ref = next((desc.group(g) for g in ("ref", "ref2", "ref3", "ref4") if desc.group(g)), "")
    value = next((desc.group(g) for g in ("desc", "desc2", "desc3", "desc4") if desc.group(g)), "")
    return Intent("update", ref=strip_ref(ref), new_description=value.strip().strip("\"'"))


_CLEAR_DUE_VERB = re.compile(
    r"^(?:remove|clear|delete|drop|unset|take|get|set|change|make|update)\b", _I
)


def _rule_clear_due(msg: _Message) -> Intent | None:
    clear_due = _CLEAR_DUE.search(msg.text)
    if not clear_due or not _CLEAR_DUE_VERB.match(msg.low):
        return None
    text = msg.text
    rest = (text[: clear_due.start()] + " " + text[clear_due.end() :]).strip()
    rest = _CLEAR_DUE_VERB.sub("", rest)
    rest = re.sub(r"\b(?:to\s+)?(?:none|nothing|no\s+date)$", "", rest, flags=_I)
    return Intent("update", ref=strip_ref(rest), clear_due=True)


def _rule_count_or_help(msg: _Message) -> Intent | None:
    if _ADD_START.match(msg.text):
        return None
    if _COUNT.search(msg.low):
        return _list_intent("count", msg.text, msg.today)
    if _HELP.search(msg.low) and len(tokens(msg.low)) <= 10:
        return Intent("help")
    return None


_EMPTY_LIST = re.compile(
    r"^(?:empty|reset|wipe|clean\s+out|clear\s+out|start\s+(?:over|fresh|again)(?:\s+with)?)"
    r"(?:\s+(?:my|the|our))?(?:\s+(?:whole|entire))?(?:\s+(?:to-?do\s+|task\s+)?(?:list|tasks|todos|board))?$",
    _I,
)


def _rule_empty_list(msg: _Message) -> Intent | None:
    """ "empty my list", "start fresh": delete everything (which always asks first)."""
    return Intent("delete", all_tasks=True) if _EMPTY_LIST.match(msg.text) else None


def _rule_clear_completed(msg: _Message) -> Intent | None:
    clear = _CLEAR_COMPLETED.match(msg.text)
    if clear and not _CLEAR_FILLER.sub("", clear.group("rest") + clear.group("tail")).strip():
        return Intent("clear_completed")
    return None


_PUT_BACK = re.compile(
    r"^(?:put|add|move|bring)\s+(?P<ref>.+?)\s+back(?:\s+(?:on|onto|to|in)\s+(?:my|the)\s+"
    r"(?:\w+\s+)?(?:list|todos?|tasks?))?$",
    _I,
)
_NOT_DONE = re.compile(
    r"^(?:i|we)\s+(?:didn'?t|did\s+not|haven'?t|have\s+not|never)\s+(?:actually\s+|really\s+|yet\s+)?"
    r"(?:finish(?:ed)?\s+|complete(?:d)?\s+|do(?:ne)?\s+)?(?P<ref>.+?)(?:\s+yet)?$",
    _I,
)


def _rule_put_back(msg: _Message) -> Intent | None:
    m = _PUT_BACK.match(msg.text) or _NOT_DONE.match(msg.text)
    return _ref_intent("reopen", m.group("ref")) if m else None


_PRIORITY_HEADER = re.compile(
    r"^(?P<p>urgent|important|asap|critical|"
    r"(?:very\s+)?(?:high|low|medium|top)[- ]?(?:priority|prio))\s*[:!\-]+\s*(?P<rest>\S.*)$",
    _I,
)


def _rewrite_headers(msg: _Message) -> Intent | None:
    """ "urgent: call the bank" reads as "add call the bank, urgent"; "monday: dentist" as
    "dentist monday" when what follows is an add. Rewrites only: never decides."""
    header = _PRIORITY_HEADER.match(msg.text)
    if header and not _ADD_START.match(header.group("rest")):
        msg.text = f"add {header.group('rest')}, {header.group('p')}"
    elif header:
        msg.text = f"{header.group('rest')}, {header.group('p')}"
    lead = find_due(msg.text, msg.today)
    if lead is not None and lead.start == 0:
        rest = msg.text[lead.end :].lstrip(" ,:;-")
        if rest and _ADD_START.match(rest):
            msg.text = f"{rest} {msg.text[: lead.end]}"
        else:
            _diary_entry(msg, lead.end)
    return None


_DIARY_SEPARATOR = re.compile(
    r"^\s*(?:(?:at\s+)?\d{1,2}(?::[0-5]\d)?\s*(?:am|pm)?)?\s*[:\-]\s*(?P<rest>\S.*)$", _I
)


def _diary_entry(msg: _Message, date_end: int) -> None:
    """ "next monday: dentist appointment", "saturday 9am - gym": a dated entry, as in a diary."""
    entry = _DIARY_SEPARATOR.match(msg.text[date_end:])
    if entry and not _TASK_COMMAND.match(entry.group("rest")):
        msg.text = f"add {entry.group('rest')} {msg.text[:date_end]}"


_CHECK_MARK = re.compile(
    r"^(?:\u2714\ufe0f?|\u2713|\u2705|\u2611\ufe0f?|\[x\]|x\s*:)\s*(?P<ref>.+)$", _I
)
_OPEN_AGAIN = re.compile(r"^(?:re-?)?open\s+(?P<ref>.+?)(?:\s+(?:again|back\s+up))$", _I)


def _rule_check_mark(msg: _Message) -> Intent | None:
    check = _CHECK_MARK.match(msg.text)
    if check:
        return _ref_intent("complete", check.group("ref"))
    again = _OPEN_AGAIN.match(msg.text)
    return _ref_intent("reopen", again.group("ref")) if again else None


_NO_DUE = re.compile(
    r"^(?P<ref>.+?)\s+(?:has|have|needs|has\s+got)\s+no\s+(?:due\s*-?\s*date|deadline)(?:\s+(?:anymore|any\s+more))?$"
    r"|^(?P<ref2>.+?)\s+(?:doesn'?t|does\s+not)\s+(?:have|need)\s+(?:a\s+)?(?:due\s*-?\s*date|deadline)"
    r"(?:\s+(?:anymore|any\s+more))?$",
    _I,
)
_GIVE_PRIORITY = re.compile(
    r"^give\s+(?!me\b|us\b)(?P<ref>.+?)\s+(?:a\s+|an\s+)?(?P<level>high|low|medium|normal|top|urgent)\s+"
    r"(?:priority|importance)$",
    _I,
)


def _rule_stated_edits(msg: _Message) -> Intent | None:
    no_due = _NO_DUE.match(msg.text)
    if no_due:
        ref = no_due.group("ref") or no_due.group("ref2")
        return Intent("update", ref=strip_ref(ref), clear_due=True)
    give = _GIVE_PRIORITY.match(msg.text)
    if give:
        level = give.group("level").lower()
        level = {"top": "high", "urgent": "high", "normal": "medium"}.get(level, level)
        return Intent("update", ref=strip_ref(give.group("ref")), new_priority=level)
    return None


_MOVED_TO = re.compile(
    r"^(?P<ref>.+?)\s+(?:has\s+been\s+|have\s+been\s+|was\s+|were\s+|got\s+|is\s+|are\s+)?"
    r"(?:moved|pushed(?:\s+back)?|rescheduled|postponed|changed|shifted|bumped|delayed)\s+"
    r"(?:to|till|until|for)\s+(?P<when>.+)$"
    r"|^(?P<ref2>.+?)\s+(?:is|are)\s+(?:now\s+)?(?:on|for)\s+(?P<when2>.+?)(?:\s+now)?$",
    _I,
)
_I_MEANT = re.compile(
    r"^(?:(?:no|sorry|oops|actually|wait)[\s,.!]+)*(?:i\s+meant|i\s+mean|make\s+(?:it|that)|"
    r"change\s+(?:it|that)\s+to|it'?s|it\s+is|should\s+be)?\s*(?P<when>.+?)"
    r"(?:,?\s+not\s+(?P<wrong>.+?))?(?:\s+instead)?$",
    _I,
)


def _date_only(text: str, today: date) -> date | None:
    """The date `text` is, when it is nothing but a date ("the 12th", "next wednesday")."""
    due, rest = take_due(text, today)
    return due if due is not None and not tidy(rest) else None


def _rule_stated_date(msg: _Message) -> Intent | None:
    """Updates stated as facts: "the dentist moved to the 12th", "I meant wednesday, not
    tuesday" (the last task), "no, friday" after an add."""
    moved = _MOVED_TO.match(msg.text)
    if moved:
        when = _date_only(moved.group("when") or moved.group("when2"), msg.today)
        ref = strip_ref(moved.group("ref") or moved.group("ref2"))
        if when is not None and ref:
            return Intent("update", ref=ref, new_due=when)
    meant = _I_MEANT.match(msg.text)
    if meant and (
        meant.group("wrong") or re.match(r"^(?:no|sorry|oops|actually|wait|i\s+mean)", msg.low)
    ):
        when = _date_only(meant.group("when"), msg.today)
        if when is not None:
            return Intent("update", ref="it", new_due=when)
    return None


_NOT_NEEDED = re.compile(
    r"^(?:i|we)\s+(?:don'?t|do\s+not|no\s+longer)\s+(?:really\s+)?(?:need|have|want)\s+(?:to\s+)?"
    r"(?P<ref>.+?)(?:\s+(?:anymore|any\s+more|after\s+all|now))?$"
    r"|^(?:no\s+need\s+(?:to|for)|never\s*mind(?:\s+about)?|forget\s+about)\s+"
    r"(?P<ref2>.+?)(?:\s+(?:anymore|any\s+more|after\s+all))?$"
    r"|^(?P<ref3>.+?)\s+(?:is|are)\s+(?:no\s+longer|not)\s+(?:needed|necessary|required|relevant)"
    r"(?:\s+(?:anymore|any\s+more))?$"
    r"|^(?P<ref4>.+?)\s+(?:isn'?t|aren'?t)\s+(?:needed|necessary|required|relevant)"
    r"(?:\s+(?:anymore|any\s+more))?$"
    r"|^take\s+(?P<ref5>.+?)\s+(?:off|out\s+of|from)\s+(?:my|the)\s+(?:\w+\s+)?(?:list|todos?|tasks?)$"
    r"|^(?P<ref6>.+?)\s+(?:can\s+go|can\s+be\s+(?:deleted|removed|dropped|cancell?ed)|(?:is|was|got|has\s+been)\s+"
    r"cancell?ed|(?:isn'?t|is\s+not)\s+happening(?:\s+anymore)?)$",
    _I,
)


def _rule_not_needed(msg: _Message) -> Intent | None:
    not_needed = _NOT_NEEDED.match(msg.text)
    if not not_needed:
        return None
    return _ref_intent("delete", next(g for g in not_needed.groups() if g))


_SHOULD_BE_CALLED = re.compile(
    r"^(?P<ref>.+?)\s+should\s+(?:be\s+)?(?:called|named|renamed(?:\s+to)?|titled|say)\s+(?P<new>.+)$"
    r"|^call\s+(?P<ref2>.+?)\s+[\"'](?P<new2>.+)[\"'](?:\s+instead)?$",
    _I,
)
_SHOULD_BE = re.compile(r"^(?P<ref>.+?)\s+should\s+(?:be|read|say)\s+(?P<new>.+)$", _I)
_A_STATE = re.compile(
    r"^(?:done|finished|complete[d]?|pending|open|deleted|removed|urgent|important|due\b|"
    r"(?:a\s+)?(?:high|low|medium)\b)",
    _I,
)


def _rule_should_be_called(msg: _Message) -> Intent | None:
    renamed = _SHOULD_BE_CALLED.match(msg.text)
    if renamed is None:
        generic = _SHOULD_BE.match(msg.text)
        if generic is not None:
            target = generic.group("new")
            slot_p, rest = take_priority(target, update=True)
            slot_d, rest = take_due(rest, msg.today)
            if slot_p is None and slot_d is None and not _A_STATE.match(target) and tidy(rest):
                renamed = generic
    if not renamed:
        return None
    ref = renamed.groupdict().get("ref") or renamed.groupdict().get("ref2") or ""
    new_title = renamed.groupdict().get("new") or renamed.groupdict().get("new2") or ""
    return Intent("update", ref=strip_ref(ref), new_title=tidy(new_title.strip("\"'")))


def _rule_add(msg: _Message) -> Intent | None:
    text = msg.text
    add = _ADD_START.match(text)
    if add is None or _UPDATE_LIKE_ADD(text):
        return None
    # "add remove the old shelf", "remind me to clear out the garage": an explicit add verb wins
    # over the verb the title starts with; "I need to delete X" stays a delete.
    if _EXPLICIT_ADD.match(text) is None and _ADD_NOT_TASK.match(text[add.end() :]):
        return None
    if _BOOK.match(text):  # "book flights" is the task itself, not "add flights"
        return _add_intent(text, msg.today, msg.bang)
    return _add_intent(text[add.end() :], msg.today, msg.bang)


_BOOK = re.compile(r"^book\s+(?!(?:a\s+|an\s+|new\s+)?(?:task|todo|to-?do|item|reminder)s?\b)", _I)


_MARK_FRONT = re.compile(
    r"^(?:as\s+)?(?:(?P<undone>not\s+done|undone|incomplete|unfinished|open)|done|complete|completed|"
    r"finished)\s*[:\-]?\s+(?P<ref>.+)$",
    _I,
)


def _rule_reopen_or_mark(msg: _Message) -> Intent | None:
    reopen = _REOPEN_START.match(msg.text)
    if reopen:
        return _ref_intent("reopen", msg.text[reopen.end() :])
    mark = _MARK_START.match(msg.text)
    if not mark:
        return None
    rest = re.sub(r"\s+(?:again|now|too|as\s+well)$", "", mark.group("rest"), flags=_I)
    front = _MARK_FRONT.match(rest)
    if front:
        return _ref_intent("reopen" if front.group("undone") else "complete", front.group("ref"))
    undone = _MARK_UNDONE.match(rest)
    if undone:
        return _ref_intent("reopen", undone.group("ref"))
    done = _MARK_DONE.match(rest)
    if done and re.match(r"^(?:mark|tick|check|set|flag)", msg.low):
        return _ref_intent("complete", done.group("ref"))
    return None


def _rule_complete(msg: _Message) -> Intent | None:
    text = msg.text
    complete = _COMPLETE_START.match(text)
    if not complete or not text[complete.end() :].strip():
        return None
    payload = text[complete.end() :]
    if re.match(r"^(?:complete|finish)\s", text, _I) and find_due(payload, msg.today) is not None:
        # "finish the report by friday" plans work; it does not report it done.
        probe = _add_intent(text, msg.today, msg.bang)
        if probe.kind == "add":
            probe.implicit = True
            return probe
    return _ref_intent("complete", payload)


def _rule_delete(msg: _Message) -> Intent | None:
    if not _DELETE_START.match(msg.text):
        return None
    return _ref_intent("delete", _DELETE_START.sub("", msg.text, count=1))


def _rule_update(msg: _Message) -> Intent | None:
    update = _UPDATE_START.match(msg.text)
    if not update:
        return None
    intent = _update_intent(msg.text, update.group("verb"), update.group("rest"), msg.today)
    if intent is not None:
        return intent
    if update.group("verb").lower() in {"mark", "flag"}:
        return _ref_intent("complete", update.group("rest"))
    return None


def _rule_due_edit(msg: _Message) -> Intent | None:
    return _due_edit_intent(msg.text, msg.today)


def _rule_suffix(msg: _Message) -> Intent | None:
    return _suffix_intent(msg.text, msg.today)


def _rule_list(msg: _Message) -> Intent | None:
    return _list_intent("list", msg.text, msg.today) if _is_list(msg.text, msg.low) else None


_PASSIVE = re.compile(
    r"^(?P<obj>.+?)\s+(?:has\s+been|have\s+been|was|were|is|are|got|been|all)?\s*(?:now\s+|finally\s+|already\s+)?"
    r"(?P<verb>[a-z]+)$",
    _I,
)


def _is_past(verb: str) -> bool:
    verb = verb.lower()
    return (verb in IRREGULAR_PAST or (verb.endswith("ed") and len(verb) > 4)) and (
        verb not in _NOT_PAST
    )


def _rule_passive(msg: _Message) -> Intent | None:
    """ "the milk is bought": past tense after the object."""
    passive = _PASSIVE.match(msg.text)
    if passive and len(tokens(passive.group("obj"))) <= 6 and _is_past(passive.group("verb")):
        verb = passive.group("verb").lower()
        return Intent("past_tense", ref=strip_ref(f"{verb} {passive.group('obj')}"))
    return None


def _rule_bare_imperative(msg: _Message) -> Intent | None:
    """A bare imperative with a date or priority reads as a new task: "buy milk tomorrow"."""
    first = tokens(msg.text)[:1]
    if not first or not (first[0] in TASK_VERBS or first[0] in {"put", "finish", "start"}):
        return None
    probe = _add_intent(msg.text, msg.today, msg.bang)
    if probe.kind == "add" and any(i.due or i.priority for i in probe.items):
        probe.implicit = True
        return probe
    return None


def _opens_with_day_and_time(msg: _Message) -> bool:
    """ "sat 10am farmers market": a short weekday that is also a past tense ("sat"), read as a
    date because a clock time follows it."""
    lead = find_due(msg.text, msg.today)
    return lead is not None and lead.start == 0 and lead.at is not None


def _rule_past_tense(msg: _Message) -> Intent | None:
    past = _PAST_TENSE.match(msg.text)
    if past and _is_past(past.group("verb")) and not _opens_with_day_and_time(msg):
        verb = past.group("verb").lower()
        return Intent("past_tense", ref=strip_ref(f"{verb}{past.group('rest')}"))
    return None


# What follows a leading date in a question or statement rather than a task title.
_NOT_A_TITLE_START = re.compile(
    r"^(?:what|whats|which|who|when|where|why|how|is|isn'?t|are|am|was|were|do|does|did|can|could|"
    r"will|would|should|any|anything|nothing|everything|all|i|i'?m|im|we|you|it|that|this|there|my|"
    r"show|list|tell|give|see|view|count|only|just|please|and|or|but)\b",
    _I,
)


_WHEN_IN_THE_DAY = re.compile(r"^(?:first\s+thing|early|later|sometime|some\s+time)\s+(?=\S)", _I)
_FINISH = re.compile(r"^finish\b", _I)


def _rule_date_prefix(msg: _Message) -> Intent | None:
    """ "in 3 days renew passport, high priority", "this weekend clean garage", "on the 12th pay
    rent": a date first, then the task, with no separator. A late row: only what nothing else
    understood, and never a question or a command on an existing task."""
    text = _WHEN_IN_THE_DAY.sub("", msg.text)
    lead = find_due(text, msg.today)
    if lead is None or lead.start != 0:
        return None
    rest = text[lead.end :].lstrip(" ,:;-")
    if not rest or "?" in rest or _NOT_A_TITLE_START.match(rest):
        return None
    if _TASK_COMMAND.match(rest) and not _FINISH.match(rest):  # "by monday finish the slides"
        return None
    when = text[: lead.end]
    # Moved after the title, "17:00 friday" needs its "at": a bare "3:16" there is the title's.
    when = f"at {when}" if when[0].isdigit() else when
    probe = _add_intent(f"{rest} {when}", msg.today, msg.bang)
    if probe.kind != "add" or not all(item.due for item in probe.items):
        return None
    probe.implicit = True  # "tomorrow call the bank" schedules the "call the bank" already listed
    return probe


# The rule table, in priority order: the first rule that returns an intent wins (earlier rows
# settle overlaps: "I need to finish X" adds, "I finished X" completes). A new phrasing is a new
# row or a new alternative in a row's pattern, plus a corpus case.
RULES: tuple[tuple[str, Callable[[_Message], Intent | None]], ...] = (
    ("empty", _rule_empty),
    ("greeting", _rule_greeting),
    ("small talk", _rule_small_talk),
    ("set description", _rule_set_description),
    ("clear due date", _rule_clear_due),
    ("count or help", _rule_count_or_help),
    ("clear completed", _rule_clear_completed),
    ("empty the list", _rule_empty_list),
    ("put back / not done", _rule_put_back),
    ("priority or date header (rewrites)", _rewrite_headers),
    ("check mark / open again", _rule_check_mark),
    ("stated edits", _rule_stated_edits),
    ("stated date", _rule_stated_date),
    ("not needed", _rule_not_needed),
    ("should be called", _rule_should_be_called),
    ("add", _rule_add),
    ("reopen or mark", _rule_reopen_or_mark),
    ("complete", _rule_complete),
    ("delete", _rule_delete),
    ("update", _rule_update),
    ("due edit", _rule_due_edit),
    ("suffix", _rule_suffix),
    ("list", _rule_list),
    ("passive past tense", _rule_passive),
    ("bare imperative with a date", _rule_bare_imperative),
    ("past tense", _rule_past_tense),
    ("date first, then the task", _rule_date_prefix),
)


def _UPDATE_LIKE_ADD(text: str) -> bool:
    """ "set X to high" or "make X urgent" start like adds ("set up", "make") but edit a task."""
    return bool(
        re.match(r"^(?:set|make|put|schedule|move)\b", text, _I)
        and re.search(
            r"\b(?:to|as)\s+(?:a\s+)?(?:high|low|medium|normal|urgent)\b|\bpriority\b|"
            r"\b(?:due\s*date|deadline)\b",
            text,
            _I,
        )
        and not re.match(r"^(?:set\s+up|make\s+(?:a|an|new)|set\s+(?:a|an)\s+reminder)\b", text, _I)
    )


def draft_task(text: str, today: date) -> dict[str, Any]:
    """One task read from one line, as TaskCreate's fields (quick add: POST /api/tasks/parse).
    The chat's reading of an added task, never split into several; with nothing but a title
    found, the title is the text as typed (less its markers)."""
    marked_priority, tags, unmarked = take_markers(text)
    intent = _add_intent(unmarked, today, bang=False, split=False)
    item = intent.items[0] if intent.items else NewTask(title="")
    read_slots = item.due is not None or item.description or item.priority is not None
    title = (item.title if read_slots else "") or unmarked or text
    day, at = split_due(item.due) if item.due else (None, None)
    return {
        "title": title[:200],
        "description": item.description or "",
        "priority": marked_priority or item.priority or "medium",
        "due_date": day,
        "due_time": at,
        "tags": tags,
    }


def _add_intent(payload: str, today: date, bang: bool, split: bool = True) -> Intent:
    # Quick-add markers ("!high", "#shop") first: they are not words of the title.
    marked_priority, tags, payload = take_markers(payload)
    # Quoted titles are taken verbatim: no dates or priorities are read inside 'the 5th wave'.
    quoted: list[str] = []

    def protect(m: re.Match[str]) -> str:
        quoted.append(m.group(2))
        return f" qx{len(quoted) - 1}xq "

    payload = re.sub(r"(?<!\w)([\"'])([^\"']{1,200}?)\1(?!\w)", protect, payload)
    intent = _add_intent_plain(payload, today, bang, split)

    def restore(text: str) -> str:
        return re.sub(r"\s*qx(\d+)xq\s*", lambda m: f" {quoted[int(m.group(1))]} ", text).strip()

    for item in intent.items:
        item.title = restore(item.title)[:200]
        if item.description:
            item.description = restore(item.description)
        item.priority = marked_priority or item.priority
        item.tags = list(tags)
    return intent


def _take_descriptions(payload: str, today: date) -> tuple[str | None, str]:
    """A description said with a keyword, in parentheses ("(tap leaks)"; a slot such as
    "(low)" or "(by friday)" stays for the slot finders) or after a dash."""
    description, payload = take_description(payload)
    for paren in list(re.finditer(r"\(([^()]*)\)", payload)):
        inner = paren.group(1).strip()
        if inner.lower() in {"high", "low", "medium"}:
            inner = f"{inner} priority"
        prio, rest = take_priority(inner)
        due, rest = take_due(rest, today)
        if not tidy(rest):  # only slots inside: let the finders below see them
            payload = payload.replace(paren.group(0), f" {inner} ")
        elif description is None and prio is None and due is None:
            description = inner
            payload = payload.replace(paren.group(0), " ")
    if description is None:
        dash = re.search(r"\s+(?:-|--|\u2013|\u2014)\s+(?P<desc>\S+(?:\s+\S+)+)$", payload)
        if dash:
            tail_prio, tail = take_priority(dash.group("desc"))
            tail_due, tail = take_due(tail, today)
            if tidy(tail) and tail_prio is None and tail_due is None:
                description = dash.group("desc").strip()
                payload = payload[: dash.start()]
    return description, payload


def _slots_after_description(description: str, today: date) -> tuple[str, str | None, date | None]:
    """Slots said after the description: "... with description tap leaks, high priority"."""
    priority: str | None = None
    due_date: date | None = None
    while True:
        m = re.search(r"[,;]\s*([^,;]+)$", description)
        if not m:
            break
        prio, rest = take_priority(m.group(1))
        due, rest = take_due(rest, today)
        if (prio is None and due is None) or tidy(rest):
            break
        priority = priority or prio
        due_date = due_date or due
        description = description[: m.start()].strip()
    return description, priority, due_date


def _add_intent_plain(payload: str, today: date, bang: bool, split: bool = True) -> Intent:
    # A time of day ("gym saturday 9am") is read with its date by take_due (dates.find_due).
    payload = _LIST_TAIL.sub("", payload.strip()).strip()
    # A header before a list: "these three things: a, b and c".
    payload = re.sub(
        r"^(?:(?:these|those|the\s+following|following|\d+|two|three|four|five|six|some|a\s+few|few|more|"
        r"new|other)\s+)*(?:tasks?|things?|items?|todos?|to-?dos?|reminders?|entries|ones)\s*:\s*",
        "",
        payload,
        flags=_I,
    )
    payload = re.sub(
        r"^(?:(?:a|an|the)\s+)?(?:task|todo|to-?do|item|reminder)\s*(?::|-|to|called|named|titled)\s*",
        "",
        payload,
        flags=_I,
    )
    description, payload = _take_descriptions(payload, today)
    shared_priority, payload = take_priority(payload)
    shared_due, payload = take_due(payload, today)
    if shared_priority is None:
        shared_priority, payload = take_priority(payload)
    # "add a low priority task to X": the "task to" only shows once the priority is cut out.
    payload = re.sub(
        r"^(?:(?:a|an|the|new)\s+)*(?:task|todo|to-?do|item|reminder)s?\s*(?::|-|to\b|called\b|named\b|"
        r"titled\b|for\b)\s*",
        "",
        tidy(payload),
        flags=_I,
    )
    if description:
        description, tail_priority, tail_due = _slots_after_description(description, today)
        shared_priority = shared_priority or tail_priority
        shared_due = shared_due or tail_due
    if shared_priority is None and bang:
        shared_priority = "high"
    items: list[NewTask] = []
    whole = tidy(_LIST_TAIL.sub("", payload))
    for part in split_items(whole) if split else [whole]:
        title = tidy(_LIST_TAIL.sub("", part))
        # Per-item slots: "milk tomorrow and eggs on friday".
        prio, title = take_priority(title)
        due, title = take_due(title, today)
        title = tidy(re.sub(r"^(?:the|my|a|an)\s+(?=\S)", "", tidy(title), flags=_I))
        if title:
            items.append(
                NewTask(
                    title=title[:200],
                    priority=prio or shared_priority,
                    due=due or shared_due,
                    description=description,
                )
            )
    if not items:
        return Intent("unknown")
    return Intent("add", items=items)


_EXCEPT = re.compile(
    r"^(?P<all>.*?)\s*,?\s+(?:except(?:\s+for)?|but(?:\s+not)?|other\s+than|apart\s+from|besides|"
    r"save\s+for|excluding|not\s+including)\s+(?P<keep>.+)$",
    _I,
)


def _ref_intent(kind: Literal["complete", "reopen", "delete"], payload: str) -> Intent:
    payload = re.sub(r"^(?:with|about|off|out|up)\s+", "", payload.strip(), flags=_I)
    but = _EXCEPT.match(payload)
    if but and _ALL_REF.match(strip_ref(but.group("all")) or "all"):
        # "delete everything except the milk": all tasks but those, always asked first.
        return Intent(kind, all_tasks=True, keep=strip_ref(but.group("keep")))
    ref = strip_ref(payload)
    if _ALL_REF.match(ref) or _ALL_REF.match(payload.strip()):
        return Intent(kind, all_tasks=True)
    m = re.match(r"^(?:all|every|each)\s+(?:of\s+)?(?:the\s+|my\s+)?(.+)$", ref, _I)
    if m:
        return Intent(kind, all_tasks=True, ref=strip_ref(m.group(1)))
    if not ref:
        return Intent(kind, which=True) if kind != "reopen" else Intent("unknown")
    if _NOT_A_REF.match(ref):
        # "completed tasks?" asks for a list; "delete tasks", "complete a task" name no task:
        # ask which.
        if kind == "delete" or (kind == "complete" and _ONE_TASK.match(ref)):
            return Intent(kind, which=True)
        return Intent("list", status="completed")
    return Intent(kind, ref=ref)


_SHIFT_VERBS = frozenset(
    {"postpone", "push", "push back", "delay", "defer", "move", "bump", "shift", "push out"}
)
_POSTPONE_VERBS = _SHIFT_VERBS - {"move", "shift"}
_RETITLE_VERBS = frozenset(
    {"change", "update", "edit", "modify", "switch", "correct", "replace", "turn", "set"}
)
_SMALL_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SMALL_NUMBERS |= {"six": 6, "seven": 7}


def _rename_intent(rename: re.Match[str]) -> Intent:
    groups = rename.groupdict()
    ref = next((groups[g] for g in ("ref", "ref2", "ref3", "ref4") if groups.get(g)), "")
    new = next((groups[g] for g in ("new", "new2", "new3", "new4") if groups.get(g)), "")
    intent = Intent("update", ref=strip_ref(ref or ""), new_title=tidy(new.strip("\"'")))
    # "rename go to gym to go to the gym": every " to " is a possible split; the agent keeps
    # the one whose left side names an existing task.
    whole = f"{ref} to {new}"
    for split in re.finditer(r"\s+(?:to|into|as)\s+", whole, _I):
        left, right = whole[: split.start()], whole[split.end() :]
        if left.strip() and right.strip():
            intent.alternatives.append((strip_ref(left), tidy(right.strip("\"'"))))
    return intent


def _take_shift(verb: str, body: str) -> tuple[int | None, str]:
    """ "push X back 2 days": the shift in days, and the text without it."""
    shift = _SHIFT.search(body)
    if not shift or verb not in _SHIFT_VERBS:
        return None, body
    n = shift.group("n").lower()
    amount = int(n) if n.isdigit() else _SMALL_NUMBERS[n]
    days = amount * (7 if shift.group("unit").lower().startswith("week") else 1)
    return days, (body[: shift.start()] + " " + body[shift.end() :]).strip()


def _retitle_intent(verb: str, rest: str) -> Intent | None:
    """ "change buy milk to buy oat milk": anything else after " to " is a new title."""
    m = re.match(r"^(?P<ref>.+?)\s+(?:to|into|->|=>|with)\s+(?P<new>.+)$", rest, _I)
    if not m or verb not in _RETITLE_VERBS:
        return None
    new = re.sub(r"^(?:say|read)\s+", "", m.group("new").strip(), flags=_I).strip("\"'")
    ref = strip_ref(_FIELD_WORDS.sub(" ", m.group("ref")))
    at = parse_clock(new)
    if at is not None:  # "change the dentist to 15:00": a new time, not a title "15:00"
        return Intent("update", ref=ref, new_due=TimeAlone.combine(date.min, at))
    return Intent("update", ref=ref, new_title=tidy(new))


def _update_intent(text: str, verb: str, rest: str, today: date) -> Intent | None:
    rename = _RENAME.match(text)
    if rename:
        return _rename_intent(rename)
    verb = verb.lower()
    priority: str | None = None
    if re.match(r"prioriti[sz]e|escalate|raise|upgrade", verb):
        priority = "high"
    elif re.match(r"de-?prioriti[sz]e|lower|downgrade", verb):
        priority = "low"
    shift_days, body = _take_shift(verb, rest)
    found_priority, body = take_priority(body, update=True)
    priority = priority or found_priority
    due, body = take_due(body, today)
    if due is None and shift_days is None and verb in _POSTPONE_VERBS and priority is None:
        shift_days = 1  # "postpone X" with no date: one day later
    if priority is None and due is None and shift_days is None:
        return _retitle_intent(verb, rest)
    ref = strip_ref(re.sub(r"^\s*(?:for|of|on)\s+", "", _FIELD_WORDS.sub(" ", body), flags=_I))
    ref = tidy(
        re.sub(r"\b(?:to|as|until|till|for|by|back|out|forward|up|down)\s*$", "", ref, flags=_I)
    )
    if not ref:
        return None
    return Intent("update", ref=ref, new_priority=priority, new_due=due, shift_days=shift_days)


_NOT_A_REF = re.compile(
    r"^(?:tasks?|todos?|to-?dos?|items?|what|anything|everything|something|stuff|all|which|any|my\s+tasks?|"
    r"things|nothing|list)$",
    _I,
)


_ONE_TASK = re.compile(r"^(?:task|todo|to-?do|item|something|one)$", _I)


def _due_edit_intent(text: str, today: date) -> Intent | None:
    """Due-date edits: "due date for the essay: monday", "the essay is due friday"."""
    if re.match(_QUESTION_OR_LIST, text, _I):
        return None
    patterns = [
        r"^(?:the\s+)?(?:due\s*-?\s*date|deadline)\s+(?:for|of|on)\s+(?P<ref>.+?)\s*(?::|\bis\b|\bto\b|=|-)\s*"
        r"(?P<when>.+)$",
        r"^(?P<ref>.+?)\s+(?:should|must|needs?\s+to|has\s+to|have\s+to|will|is\s+to|is\s+going\s+to)\s+"
        r"(?:be\s+(?:done|finished|completed|ready|submitted|sent|paid)|happen|get\s+done|be\s+sorted)\s+"
        r"(?P<when>.+)$",
        r"^(?P<ref>.+?)(?:'s)?\s+(?:is\s+)?(?:now\s+)?(?:due|deadline)\s*(?::|is|=)?\s*(?P<when>.+)$",
    ]
    for pattern in patterns:
        m = re.match(pattern, text, _I)
        if not m:
            continue
        due, leftover = take_due(m.group("when"), today)
        ref = strip_ref(m.group("ref"))
        if due is None or tidy(leftover) or not ref or _NOT_A_REF.match(ref):
            continue
        return Intent("update", ref=ref, new_due=due)
    return None


_QUESTION_OR_LIST = (
    r"^(?:what|which|how|is|are|show|list|display|view|see|print|give|tell|anything|any|do|did|have|"
    r"when|where|who|why|can|could|should)\b"
)


def _suffix_intent(text: str, today: date) -> Intent | None:
    m = _SUFFIX_UNDONE.match(text)
    if m and not re.match(_QUESTION_OR_LIST, text, _I):
        return _ref_intent("reopen", m.group("ref") or m.group("ref2"))
    m = _SUFFIX_DONE.match(text)
    if m and not re.match(_QUESTION_OR_LIST, text, _I):
        return _ref_intent("complete", m.group("ref"))
    m = re.match(
        r"^(?P<ref>.+?)(?:'s)?\s+(?:priority|prio|importance)\s*(?:is|to|=|:|-|should\s+be)?\s*"
        r"(?P<rest>very\s+high|highest|high|top|urgent|low|lowest|medium|normal)$",
        text,
        _I,
    )
    if (
        m
        and not re.match(_QUESTION_OR_LIST, text, _I)
        and not _NOT_A_REF.match(strip_ref(m.group("ref")))
    ):
        priority, _ = take_priority(f"priority {m.group('rest')}")
        if priority:
            return Intent("update", ref=strip_ref(m.group("ref")), new_priority=priority)
    m = _SUFFIX_PRIORITY.match(text)
    if m and not re.match(_QUESTION_OR_LIST, text, _I):
        negated = re.sub(r"\s+", "", m.group("neg").lower()) in {
            "isn't",
            "isnt",
            "isnot",
            "aren't",
            "arent",
        }
        rest = ("not " if negated else "") + m.group("rest")
        priority, _ = take_priority(rest, update=True)
        if priority is None:
            priority, _ = take_priority("is " + rest, update=True)
        if priority:
            return Intent("update", ref=strip_ref(m.group("ref")), new_priority=priority)
    m = _SUFFIX_DUE.match(text)
    if m and not re.match(_QUESTION_OR_LIST, text, _I):
        due, leftover = take_due(m.group("rest"), today)
        if due is not None and not tidy(re.sub(r"\bdue\b", "", leftover, flags=_I)):
            return Intent("update", ref=strip_ref(m.group("ref")), new_due=due)
    return None


_LIST_VERB_ONLY = re.compile(
    r"^(?:show|list|display|view|see|print|read|review|overview|summary|summari[sz]e|recap|status|agenda)"
    r"(?:\s+(?:me|it|them|all|everything|my\s+list|the\s+list|again|please))*$",
    _I,
)
_WHAT_DO_I_HAVE = re.compile(
    r"\bwhat\s+(?:do|did|have|should|must|can)\s+(?:i|we)\s+(?:still\s+)?(?:have|got|get|need|do|got\s+to)\b"
    r"|\bwhat(?:'?s|\s+is)\s+(?:next|up\s+next|on|left|remaining|due|planned|coming\s+up|outstanding|pending)\b"
    r"|\bwhat\s+(?:remains|is\s+left|else)\b"
    r"|\bwhere\s+(?:am\s+i|are\s+we|do\s+i\s+stand)\b|\bwhat\s+should\s+i\s+(?:focus|work)\s+on\b",
    _I,
)
_DUE_WORDS = re.compile(r"\b(?:today|tonight|tomorrow|this\s+week|overdue)\b", _I)


def _is_list(text: str, low: str) -> bool:
    if _LIST_VERB_ONLY.match(text) or _WHAT_DO_I_HAVE.search(low):
        return True
    if re.match(r"^(?:find|search|look\s+for|look\s+up|lookup)\b", low):
        return True
    if _LIST_START.match(text):
        return bool(
            _LIST_NOUNS.search(low)
            or re.search(r"\b(?:urgent|important|critical|high|low)\b", low)
            or _PENDING.search(low)
            or _COMPLETED.search(low)
            or _DUE_WORDS.search(low)
        )
    # A priority slot after a comma is the task's, not a question about priorities: "monday 8am
    # call mom, high priority".
    low = _PRIORITY_SLOT_AFTER_COMMA.sub("", low)
    return bool(_LIST_NOUNS.search(low)) and len(tokens(low)) <= 6


_PRIORITY_SLOT_AFTER_COMMA = re.compile(r",\s*(?:high|low|medium|normal|top)\s+priority\s*$")


# Listing filters as data: the first row whose pattern is in the question sets the filter.
_LIST_PRIORITIES = (
    (re.compile(r"\blow(?:est)?(?:[- ]priority)?\b|\bnot\s+(?:urgent|important)\b"), "low"),
    (re.compile(r"\b(?:medium|normal)(?:[- ]priority)?\b"), "medium"),
    (
        re.compile(
            r"\b(?:high(?:est)?|top|urgent|important|critical)(?:[- ]priority)?\b"
            r"|\bpriority\s+(?:tasks|ones|items)\b|\bprioritie?s\b"
        ),
        "high",
    ),
)
_LIST_DUES = (
    (re.compile(r"\b(?:overdue|late|past\s+due|missed|behind)\b"), "overdue"),
    (re.compile(r"\b(?:today|tonight)\b"), "today"),
    (re.compile(r"\btomorrow\b"), "tomorrow"),
    (re.compile(r"\bthis\s+week\b"), "this_week"),
    (re.compile(r"\b(?:no|without\s+(?:a\s+)?)\s*due\s*date\b|\bundated\b"), "none"),
)
_SEARCH = re.compile(r"^(?:find|search(?:\s+for)?|look\s+(?:for|up)|lookup)\s+(?P<q>.+)$", _I)
_SPAN = re.compile(r"\b(?:next|this|coming)\s+(?:week|month|year)\b")


def _first_value(rows: tuple[tuple[re.Pattern[str], str], ...], low: str) -> str | None:
    return next((value for pattern, value in rows if pattern.search(low)), None)


def _list_query(text: str) -> str | None:
    """ "find dentist", "tasks about the car": words the titles must contain."""
    m = _QUERY.search(text)
    if m:
        words = re.sub(r"\b(?:in\s+(?:it|them|the\s+title)|tasks?)\b", "", m.group("q"), flags=_I)
        return tidy(words) or None
    search = _SEARCH.match(text)
    if search:
        words = re.sub(
            r"\b(?:tasks?|todos?|items?|with|for|in\s+my\s+list)\b",
            " ",
            search.group("q"),
            flags=_I,
        )
        return strip_ref(words) or None
    return None


def _list_intent(kind: Literal["list", "count"], text: str, today: date | None = None) -> Intent:
    low = text.lower()
    status: Literal["all", "pending", "completed"] = "all"
    if _PENDING.search(low):
        status = "pending"
    elif _COMPLETED.search(low):
        status = "completed"
    priority = _first_value(_LIST_PRIORITIES, low)
    due = _first_value(_LIST_DUES, low) or "any"
    query = _list_query(text)
    # "what's on for monday", "anything due on the 12th?": that one day only ("next week" is a
    # span, not a day: listed unfiltered rather than cut to one day).
    day = find_due(text, today) if today is not None and due == "any" else None
    if day is not None and not _SPAN.search(low):
        query = None if query and find_due(query, day.value) else query
        return Intent(kind, status=status, priority=priority, due_on=day.value, query=query)
    return Intent(kind, status=status, priority=priority, due_filter=due, query=query)
