"""Which task does the user mean? Resolve "12", "#12", "buy milk", "the milk one", "I called mom".

Scores combine word overlap on simple stems (what the user said that the title contains, and how
much of the title that covers) with rapidfuzz similarity for typos. A clear winner resolves; close
runners-up make the reference ambiguous and the caller asks which one, never guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from todo_api.agent.text import content_stems, normalize_title, stem, tokens
from todo_api.models import MAX_ID
from todo_api.services.tasks import TaskBrief

_ID_REF = re.compile(
    r"^\s*(?:(?:the\s+)?(?:task|todo|to-do|item|number|no\.?|id)\s*(?:number|no\.?|id)?\s*[#:]?\s*|#\s*)"
    r"(\d{1,10})\s*$",
    re.IGNORECASE | re.ASCII,
)
_BARE_ID = re.compile(r"^\s*#?\s*(\d{1,10})\s*$", re.ASCII)

# How close a runner-up may score to the best match before the reference counts as ambiguous.
AMBIGUITY_MARGIN = 12.0
MIN_SCORE = 45.0


@dataclass
class Resolution:
    kind: Literal["found", "ambiguous", "missing"]
    task: TaskBrief | None = None
    candidates: list[TaskBrief] = field(default_factory=list)


def parse_id(ref: str) -> int | None:
    """The task id a reference names (ASCII digits, 1..MAX_ID: no row has another), or None."""
    m = _ID_REF.match(ref) or _BARE_ID.match(ref)
    task_id = int(m.group(1)) if m else 0
    return task_id if 1 <= task_id <= MAX_ID else None


def _word_match(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True
    return min(len(a), len(b)) >= 4 and fuzz.ratio(a, b) >= 80


def score(ref: str, title: str) -> float:
    """0..100: how well the words `ref` describe a task titled `title`."""
    ref_norm, title_norm = normalize_title(ref), normalize_title(title)
    if not ref_norm or not title_norm:
        return 0.0
    if ref_norm == title_norm:
        return 100.0
    ref_stems = content_stems(ref) or [stem(t) for t in tokens(ref)]
    title_stems = content_stems(title) or [stem(t) for t in tokens(title)]
    if not ref_stems or not title_stems:
        return 0.0
    matched_ref = sum(1 for r in ref_stems if any(_word_match(r, t) for t in title_stems))
    matched_title = sum(1 for t in title_stems if any(_word_match(r, t) for r in ref_stems))
    coverage = matched_ref / len(ref_stems)  # of what the user said
    precision = matched_title / len(title_stems)  # of the title
    similarity = fuzz.token_sort_ratio(" ".join(ref_stems), " ".join(title_stems)) / 100
    if matched_ref == 0:
        # No shared word: only a near-identical string (a typo) counts.
        return 60.0 * similarity if similarity >= 0.85 else 0.0
    if coverage < 0.5:
        return 0.0
    return 60.0 * coverage + 25.0 * precision + 15.0 * similarity


def rank(ref: str, tasks: Sequence[TaskBrief]) -> list[tuple[float, TaskBrief]]:
    scored = [(score(ref, t.title), t) for t in tasks]
    return sorted(
        ((s, t) for s, t in scored if s >= MIN_SCORE), key=lambda pair: (-pair[0], pair[1].id)
    )


def resolve(
    ref: str,
    tasks: Sequence[TaskBrief],
    prefer: Literal["pending", "completed"] | None = None,
) -> Resolution:
    """Resolve a reference among the user's tasks; `prefer` breaks ties between done and not done."""  # noqa: E501
    task_id = parse_id(ref)
    if task_id is not None:
        for task in tasks:
            if task.id == task_id:
                return Resolution("found", task)
        # A number that is not an id may still be part of a title ("call 911").
    ranked = rank(ref, tasks)
    if not ranked:
        return Resolution("missing")
    if prefer is not None:
        wanted = [(s, t) for s, t in ranked if t.completed == (prefer == "completed")]
        if wanted:
            ranked = wanted
    best_score, best = ranked[0]
    exact = [t for s, t in ranked if s >= 100.0]
    if len(exact) == 1:
        return Resolution("found", exact[0])
    close = [t for s, t in ranked if s >= best_score - AMBIGUITY_MARGIN]
    if len(close) == 1:
        return Resolution("found", best)
    return Resolution("ambiguous", candidates=close[:8])


def _stem_set(text: str) -> set[str]:
    return set(content_stems(text) or [stem(t) for t in tokens(text)])


def clearly_meant(ref: str, task: TaskBrief, pool: Sequence[TaskBrief]) -> bool:
    """Whether `ref` names `task` well enough to delete, complete or rename it without asking:
    its id, its exact title, or every word of the reference as a whole word of this title and
    of no other title in `pool`. A misspelling, one shared word out of several or a piece of a
    longer word only resolves to a "did you mean …?"."""
    if parse_id(ref) == task.id or normalize_title(ref) == normalize_title(task.title):
        return True
    wanted = _stem_set(ref)
    if not wanted or not wanted <= _stem_set(task.title):
        return False
    return not any(t.id != task.id and wanted <= _stem_set(t.title) for t in pool)


def names(ref: str, title: str) -> bool:
    """Every word of `ref` is a whole word of `title` (stems compared exactly, no typos): what
    a filter such as "delete all the milk tasks" may sweep up."""
    wanted = _stem_set(ref)
    return bool(wanted) and wanted <= _stem_set(title)
