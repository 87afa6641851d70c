"""Small language helpers shared by the local agent and task matching: tokens, stems, numbers."""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Irregular past tenses / participles users type when reporting a task done ("I bought milk").
IRREGULAR_PAST = {
    "ate": "eat",
    "eaten": "eat",
    "bought": "buy",
    "brought": "bring",
    "built": "build",
    "caught": "catch",
    "chose": "choose",
    "came": "come",
    "cut": "cut",
    "did": "do",
    "done": "do",
    "drew": "draw",
    "drove": "drive",
    "driven": "drive",
    "fed": "feed",
    "felt": "feel",
    "found": "find",
    "fixed": "fix",
    "forgot": "forget",
    "gave": "give",
    "given": "give",
    "got": "get",
    "gotten": "get",
    "went": "go",
    "gone": "go",
    "grew": "grow",
    "had": "have",
    "heard": "hear",
    "held": "hold",
    "hung": "hang",
    "kept": "keep",
    "knew": "know",
    "laid": "lay",
    "led": "lead",
    "left": "leave",
    "lent": "lend",
    "made": "make",
    "met": "meet",
    "paid": "pay",
    "put": "put",
    "ran": "run",
    "read": "read",
    "rang": "ring",
    "rode": "ride",
    "sent": "send",
    "set": "set",
    "sold": "sell",
    "said": "say",
    "saw": "see",
    "seen": "see",
    "sang": "sing",
    "sat": "sit",
    "slept": "sleep",
    "spent": "spend",
    "spoke": "speak",
    "spoken": "speak",
    "stood": "stand",
    "swept": "sweep",
    "swam": "swim",
    "took": "take",
    "taken": "take",
    "taught": "teach",
    "told": "tell",
    "thought": "think",
    "threw": "throw",
    "understood": "understand",
    "woke": "wake",
    "wore": "wear",
    "won": "win",
    "wrote": "write",
    "written": "write",
    "mowed": "mow",
    "mown": "mow",
}

# Words that say nothing about which task is meant.
REF_STOPWORDS = frozenset(
    """a an the my our your his her their its this that these those to of for on in at with and
    or one ones task tasks todo todos to-do item items thing things entry entries reminder
    reminders i i've ive me just already finally now today please thing about called named
    titled list off from it as is was be been has have had do all""".split()
)


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A deliberately simple English stemmer: enough for "called" ~ "call", "groceries" ~ "grocery".

    Both sides of every comparison go through it, so it only has to be consistent, not correct.
    """
    w = word.lower().replace("'", "")
    if w in IRREGULAR_PAST:
        return IRREGULAR_PAST[w]
    if len(w) <= 3:
        return w
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("xes", "x"),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 2:
            return w[: -len(suffix)] + repl
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            # doubled consonant: "shopped" -> "shop", "planning" -> "plan"
            if len(w) >= 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]  # "baked" -> "bak" and "bake" -> "bak"
    return w


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords dropped, order kept, no duplicates)."""
    out: list[str] = []
    for tok in tokens(text):
        if tok in REF_STOPWORDS:
            continue
        s = stem(tok)
        if s and s not in out:
            out.append(s)
    return out


def normalize_title(text: str) -> str:
    """How titles are compared: lower case, single spaces, no surrounding punctuation."""
    return " ".join(tokens(text))


NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "couple": 2,
    "a couple": 2,
    "a couple of": 2,
    "couple of": 2,
    "few": 3,
    "a few": 3,
    "several": 3,
}

ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}


def parse_number(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    return NUMBER_WORDS.get(text)
