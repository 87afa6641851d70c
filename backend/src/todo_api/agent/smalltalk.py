"""Messages that are not requests: thanks, acknowledgements, goodbyes, chit-chat, off-topic.

An ordered table of named rules (the first that matches wins), each a whole-message pattern and
the short reply it gets. A new phrasing is a new alternative or row, plus a corpus case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE
_END = r"[\s!.,?:;)(]*$"


@dataclass(frozen=True)
class SmallTalkRule:
    name: str
    pattern: re.Pattern[str]
    reply: str


def _rule(name: str, body: str, reply: str, *, anchored: bool = True) -> SmallTalkRule:
    pattern = rf"^(?:{body}){_END}" if anchored else body
    return SmallTalkRule(name, re.compile(pattern, _I), reply)


RULES: tuple[SmallTalkRule, ...] = (
    _rule(
        "thanks",
        r"(?:(?:ok(?:ay)?|great|cool|awesome|perfect|nice|brilliant|lovely|amazing)[\s,!.]+)?"
        r"(?:thanks?(?:\s+you)?|thank\s+u|thx|tx|ty|tysm|cheers|much\s+appreciated|appreciate\s+it|"
        r"ta)(?:[\s,!.]+(?:so\s+much|a\s+lot|very\s+much|a\s+bunch|a\s+million|buddy|mate|man|"
        r"again|for\s+(?:that|the\s+help|your\s+help|helping)|!+))*",
        "You're welcome! Anything else for your list?",
    ),
    _rule(
        "acknowledgement",
        r"(?:ok(?:ay)?|k|kk|okie|alright|all\s+right|right|cool|great|awesome|perfect|nice|"
        r"sweet|good|fine|got\s+it|gotcha|understood|noted|sounds\s+good|sure|will\s+do|makes\s+sense|"
        r"good\s+to\s+know|excellent|wonderful|brilliant|neat|lovely|yay|woo+|nice\s+one|"
        r"that'?s\s+(?:great|perfect|fine|good)|all\s+good|all\s+set|that\s+works|"
        # not "yes"/"yep": after a question that expired, those get the honest "nothing changed"
        r"okie(?:\s+dokie)?|okey(?:\s+dokey)?|oki|roger(?:\s+that)?|copy(?:\s+that)?|sure\s+thing|"
        r"mhm+|(?:(?:ah+|oh)\s+)?i\s+see|fair\s+enough|np|no\s+(?:worries|problem|prob))"
        r"(?:[\s,!.]+(?:ok(?:ay)?|then|thanks|cool|great|good|nice))*",
        "Great. Anything else for your list?",
    ),
    _rule(
        # A message that is only a thumbs-up, OK hand, smile...: normalization drops emoji, so
        # this row reads the raw message.
        "acknowledgement_emoji",
        "[\\s\U0001f44d\U0001f44c\U0001f64f\U0001f642\U0001f60a\U0001f600\U0001f604\U0001f601"
        "\U0001f44f\U0001f4af\U0001f197\u270c\U0001f919\u2764\U0001f60e\U0001f389\U0001f64c"
        "\U0001f3fb-\U0001f3ff\ufe0f]+",
        "Great. Anything else for your list?",
    ),
    _rule(
        "goodbye",
        r"(?:ok(?:ay)?[\s,]+)?(?:bye|bye\s+bye|byee+|goodbye|good\s+bye|see\s+(?:you|ya|u)(?:\s+later|"
        r"\s+soon|\s+tomorrow)?|later|laters|cya|ttyl|talk\s+(?:to\s+you\s+)?later|good\s*night|"
        r"night|gn|have\s+a\s+good\s+(?:one|day|night|evening)|take\s+care|catch\s+you\s+later|"
        r"that'?s\s+all(?:\s+for\s+(?:now|today))?|i'?m\s+done(?:\s+for\s+(?:now|today))?|"
        r"signing\s+off|gotta\s+go|g2g)(?:[\s,!.]+(?:for\s+now|then|thanks|bye|!+))*",
        "Bye! Your tasks are saved.",
    ),
    _rule(
        # "scratch that" alone takes back what was just said, not a task: never a deletion.
        "never_mind",
        r"(?:(?:oh|ok(?:ay)?|actually|wait|no|sorry|oops)[\s,.!]+)*(?:scratch|forget|ignore|strike|cancel|disregard)\s+"
        r"(?:that|it|this)(?:\s+(?:then|please|last\s+(?:one|bit|part)))?|never\s*mind(?:\s+(?:that|it|then))?|"
        r"nvm|forget\s+about\s+it|don'?t\s+worry(?:\s+about\s+it)?",
        "OK — I've left your tasks as they are. Say 'undo' if you want my last change reverted.",
    ),
    _rule(
        # "how are you" is a question to the assistant: a short answer, not the task status that
        # a bare "hi" gets.
        "how_are_you",
        r"(?:(?:hi|hello|hey|heya|hiya|yo|morning|good\s+(?:morning|afternoon|evening))(?:\s+there)?"
        r"[\s,!.]+)?(?:so\s+)?(?:how\s+(?:are|r)\s+(?:you|u|ya)(?:\s+doing)?(?:\s+today)?|how\s+(?:you|ya)\s+doin'?g?|"
        r"how'?s\s+it\s+going|how\s+is\s+it\s+going|how\s+goes\s+it|how\s+have\s+you\s+been|"
        r"how'?s\s+(?:your\s+day|things|life|everything)(?:\s+going)?|how\s+are\s+things|"
        r"what'?s\s+up|whats\s+up|wh?assup|wazzup|sup|what'?s\s+new|what'?s\s+good|you\s+(?:good|ok(?:ay)?))"
        r"(?:[\s,!.?]+(?:there|buddy|mate|bot|friend|with\s+you|doing|going))*",
        "Doing well, thanks for asking! What can I do for your list?",
    ),
    _rule(
        "chit_chat",
        r"(?:lol|lmao|haha+|hehe+|heh|rofl|:\)|:d|wow|oh\s+wow|omg|hmm+|huh|meh|ugh|yikes|oops|"
        r"you'?re\s+(?:awesome|great|the\s+best|cool|amazing|funny|smart|helpful)|good\s+(?:bot|job)|"
        r"well\s+done|love\s+(?:it|you|this)|i\s+love\s+you|nice\s+work|"
        r"are\s+you\s+there|you\s+there)",
        "I'm here and ready to help with your list — say 'help' for ideas.",
    ),
    _rule(
        "off_topic",
        r"\b(?:weather|forecast|temperature\s+(?:today|outside|tomorrow)|joke|poem|song|lyrics|"
        r"story|the\s+news|stock|bitcoin|crypto|recipe\s+for|capital\s+of|meaning\s+of\s+life|"
        r"who\s+(?:won|invented|wrote|is\s+the\s+president)|what\s+time\s+is\s+it|"
        r"what'?s\s+the\s+time|what\s+is\s+\d+\s*[-+*/x]|^(?:what\s+is\s+|what'?s\s+|calculate\s+)?\d+(?:\.\d+)?\s*[-+*/x]\s*"
        r"\d+(?:\.\d+)?\s*[=?]?\s*$|translate|"
        r"what'?s\s+your\s+name|are\s+you\s+(?:real|human|a\s+(?:bot|robot|person)|an?\s+ai|chatgpt)|"
        r"play\s+(?:some\s+)?music|sing|football|soccer|basketball|movie\s+recommendations?|"
        r"tell\s+me\s+about\s+(?:yourself|the\s+world)|how\s+old\s+are\s+you|where\s+are\s+you\s+from)\b",
        "Sorry, I only manage your tasks — I can't help with that.",
        anchored=False,
    ),
)


def small_talk(text: str) -> SmallTalkRule | None:
    """The first rule the message matches, if any."""
    stripped = text.strip()
    for rule in RULES:
        if rule.pattern.search(stripped):
            return rule
    return None
