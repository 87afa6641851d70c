"""Request and response shapes, shared by the REST routers, the agent tools and the MCP server."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from todo_api.core.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from todo_api.core.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from todo_api.core.passwords import password_problem

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; without this check it surfaced as a 503 from the DB.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


NoNul = AfterValidator(_no_nul)

# Characters that let stored text pass for something else where it is shown (a chat reply's task
# list, the board, a terminal): bidi controls reorder what follows them, zero-width characters
# hide inside words, separators start new lines. Control characters (C0, DEL, C1) are checked
# by category. U+200C/U+200D stay allowed where scripts and emoji need them (see _joiner_ok).
_HIDDEN = {
    "\u061c": "an Arabic letter mark",
    "\u200b": "a zero-width space",
    "\u200c": "a zero-width non-joiner",
    "\u200d": "a zero-width joiner",
    "\u200e": "a left-to-right mark",
    "\u200f": "a right-to-left mark",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
    "\u2060": "a word joiner",
    "\ufeff": "a zero-width no-break space",
    **dict.fromkeys("\u202a\u202b\u202c\u202d\u202e", "a bidirectional override"),
    **dict.fromkeys("\u2066\u2067\u2068\u2069", "a bidirectional isolate"),
}


def _joiner_ok(text: str, i: int) -> bool:
    """ZWNJ/ZWJ between two non-ASCII letters (Persian, Indic scripts) or ZWJ inside an emoji
    sequence (after an emoji, skin tone or U+FE0F, before an emoji) are part of the writing."""
    before, after = text[i - 1 : i], text[i + 1 : i + 2]
    if not before or not after:
        return False
    if all(not c.isascii() and unicodedata.category(c)[0] in "LM" for c in (before, after)):
        return True
    return (
        text[i] == "\u200d"
        and (before == "\ufe0f" or unicodedata.category(before) in ("So", "Sk"))
        and unicodedata.category(after) == "So"
    )


def _refuse_hidden(allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        for i, char in enumerate(value):
            if char in allowed:
                continue
            what = _HIDDEN.get(char)
            if what is None and unicodedata.category(char) == "Cc":
                what = "a line break" if char in "\n\r\x0b\x0c\x85" else "a control character"
            if what is not None and not (char in "\u200c\u200d" and _joiner_ok(value, i)):
                raise PydanticCustomError(
                    "hidden_character", f"must not contain {what} (U+{ord(char):04X})"
                )
        return value

    return AfterValidator(check)


def _unix_newlines(value: str) -> str:
    return value.replace("\r\n", "\n")


# One line of visible text: titles, tags, names.
SingleLine = _refuse_hidden(allowed="")
# Descriptions may have line breaks and tabs (Windows line ends become \n), nothing else hidden.
MultiLine = _refuse_hidden(allowed="\n\t")
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NoNul,
    SingleLine,
]
Description = Annotated[
    str,
    BeforeValidator(lambda v: _unix_newlines(v) if isinstance(v, str) else v),
    StringConstraints(strip_whitespace=True, max_length=2000),
    NoNul,
    MultiLine,
]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    NoNul,
    SingleLine,
]


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class StatusFilter(StrEnum):
    all = "all"
    pending = "pending"
    completed = "completed"


class SortField(StrEnum):
    created = "created"
    due = "due"
    priority = "priority"
    title_ = "title"  # `title` would shadow str.title


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class DueFilter(StrEnum):
    any = "any"
    today = "today"  # open tasks due on `today`
    overdue = "overdue"  # open tasks due before `today`


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts -------------------------------------------------------------------------------


class SignupIn(StrictModel):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=100), NoNul, SingleLine
    ] = ""

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str, info: ValidationInfo) -> str:
        problem = password_problem(password, info.data.get("email"))
        if problem:
            raise PydanticCustomError("weak_password", problem)
        return password


class LoginIn(StrictModel):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=128)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    user: UserOut


# --- tasks ----------------------------------------------------------------------------------


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag, None)
    return list(seen)


_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:00)?")
DUE_TIME_NEEDS_DUE_DATE = "due_time needs due_date"


def _wall_clock_minute(value: Any) -> Any:
    """ "HH:MM" (24-hour; a trailing ":00" from a browser's time input is accepted) or a time
    with no seconds: due times have minute precision, like the board's time input."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise PydanticCustomError("due_time", "must be a time of day to the minute")
        return value
    if isinstance(value, str):
        match = _HH_MM.fullmatch(value.strip())
        if match:
            return time(int(match[1]), int(match[2]))
    raise PydanticCustomError("due_time", 'must be a time of day as "HH:MM" (00:00-23:59)')


# A naive local wall-clock time of day, like due_date: no time zone, written "HH:MM".
DueTime = Annotated[
    time,
    BeforeValidator(_wall_clock_minute),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
]


def format_due_time(value: time | None) -> str | None:
    """The JSON form of a due time (api/responses, agent tool results)."""
    return value.strftime("%H:%M") if value is not None else None


def _needs_due_date(value: time | None, info: ValidationInfo) -> time | None:
    # Fields validate in order: due_date (given or its default) is in info.data, unless it
    # failed on its own and is reported already.
    if value is not None and "due_date" in info.data and info.data["due_date"] is None:
        raise PydanticCustomError("due_time_needs_due_date", DUE_TIME_NEEDS_DUE_DATE)
    return value


class TaskCreate(StrictModel):
    title: Title
    description: Description = ""
    priority: Priority = Priority.medium
    due_date: date | None = None
    due_time: DueTime | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    completed: bool = False

    _tags = field_validator("tags")(classmethod(lambda cls, v: _unique_tags(v)))
    _due_time = field_validator("due_time")(classmethod(lambda cls, v, i: _needs_due_date(v, i)))


class TaskUpdate(StrictModel):
    """PATCH body: only the fields given change. `null` clears due_date (and with it the due
    time) or due_time; others cannot be null. A due_time needs a due date: given in the same
    body or already on the task (services.tasks.update_task checks the latter)."""

    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    due_date: date | None = None
    due_time: DueTime | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    completed: bool | None = None

    _tags = field_validator("tags")(classmethod(lambda cls, v: _unique_tags(v)))

    @field_validator("title", "description", "priority", "tags", "completed", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    description: str
    completed: bool
    priority: Priority
    due_date: date | None
    due_time: DueTime | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class TaskQuery(BaseModel):
    status: StatusFilter = StatusFilter.all
    priority: Priority | None = None
    q: Annotated[str, NoNul] | None = Field(default=None, max_length=200)
    sort: SortField = SortField.created
    order: SortOrder = SortOrder.desc
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    due: DueFilter = DueFilter.any
    # The client's local date, which "today" and "overdue" mean (due dates are local too);
    # the server's date when not given.
    today: date | None = None


class TaskCounts(BaseModel):
    """The whole account's tasks, whatever the page's filters: the board's view tabs."""

    all: int
    open: int
    completed: int
    today: int  # open and due today
    overdue: int  # open and due before today


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int
    counts: TaskCounts


class TaskDraft(BaseModel):
    """A task read from one line of text (quick add), not yet created: TaskCreate's fields."""

    title: str
    description: str
    priority: Priority
    due_date: date | None
    due_time: DueTime | None
    tags: list[str]


class ParseIn(StrictModel):
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        NoNul,
        SingleLine,
    ]
    today: date | None = None


class TaskIds(StrictModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=5000)


class RestoredTasks(BaseModel):
    restored: list[TaskOut]


class DeletedTasks(BaseModel):
    deleted: list[int]


# --- chat -----------------------------------------------------------------------------------


class ChatIn(StrictModel):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), NoNul]
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ActionOut(BaseModel):
    tool: str
    arguments: dict[str, Any]
    result: str
    ok: bool = True


class ChatOut(BaseModel):
    conversation_id: int
    reply: str
    actions: list[ActionOut]


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    created_at: datetime
    updated_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    role: str
    content: str
    actions: list[ActionOut]
    created_at: datetime
