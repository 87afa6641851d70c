"""Conversations and their messages: the chat's only state, kept in the database.

Every function is scoped to the owner's user id: another user's conversation is NotFound.
A chat turn reads with `check_conversation` and `recent_messages`, and writes everything it
adds with one `save_turn`, which commits the turn's unit of work. Statements are prebuilt
Core, like services/tasks.py, run on a `db.Connection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from todo_api.db import Connection
from todo_api.models import Conversation, Message, utcnow
from todo_api.services.errors import NotFound, Unauthorized
from todo_api.services.users import INVALID_TOKEN

TITLE_CHARS = 80

_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)
_C, _M = _CONVERSATIONS.c, _MESSAGES.c

_OWNED = select(_C.id).where(
    _C.id == bindparam("conversation_id"), _C.user_id == bindparam("owner")
)
_RECENT = (
    select(_M.role, _M.content, _M.actions)
    .where(_M.conversation_id == bindparam("conversation_id"))
    .order_by(_M.id.desc())
    .limit(bindparam("limit"))
)
_CREATE = (
    insert(_CONVERSATIONS)
    .values({name: bindparam(name) for name in ("user_id", "title", "created_at", "updated_at")})
    .returning(_C.id)
)
_TOUCH = (
    update(_CONVERSATIONS)
    .where(_C.id == bindparam("conversation_id"))
    .values(updated_at=bindparam("now"))
    .returning(_C.id)  # see _ADD_TURN
)


def _turn_messages(conversation_id: Any) -> Any:
    """INSERT of a turn's two messages in one statement, the user's first: the history is read
    back by id. `conversation_id`: a bind parameter, or the id a CTE returns."""
    return insert(_MESSAGES).values(
        [
            {
                "conversation_id": conversation_id,
                "created_at": bindparam("now"),
                "role": role,
                "content": bindparam(f"{role}_content"),
                "actions": bindparam(f"{role}_actions", type_=_M.actions.type),
            }
            for role in ("user", "assistant")
        ]
    )


# RETURNING although nothing reads it: on SQLite a statement returning rows is one aiosqlite
# call (a hop to its thread), one without is two (execute, then close the cursor).
_ADD_TURN = _turn_messages(bindparam("conversation_id")).returning(_M.id)


def _with_conversation(cte: Any) -> Any:
    return _turn_messages(select(cte.c.id).scalar_subquery()).returning(_M.conversation_id)


# PostgreSQL writes the conversation row and the messages in one statement (the row in a
# data-modifying CTE): one round trip, where a turn is otherwise BEGIN, two statements and
# COMMIT. SQLite has no INSERT or UPDATE inside WITH: it runs _CREATE or _TOUCH, then _ADD_TURN.
_NEW_TURN_ONE_STATEMENT = _with_conversation(
    insert(_CONVERSATIONS)
    .values(
        user_id=bindparam("user_id"),
        title=bindparam("title"),
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .returning(_C.id)
    .cte("conversation")
)
_NEXT_TURN_ONE_STATEMENT = _with_conversation(
    update(_CONVERSATIONS)
    .where(_C.id == bindparam("conversation_id"))
    .values(updated_at=bindparam("now"))
    .returning(_C.id)
    .cte("conversation")
)


def title_for(first_message: str) -> str:
    title = " ".join(first_message.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return title


async def check_conversation(db: Connection, user_id: int, conversation_id: int) -> None:
    """NotFound unless the user owns this conversation."""
    params = {"conversation_id": conversation_id, "owner": user_id}
    if (await db.execute(_OWNED, params)).scalar() is None:
        raise NotFound("Conversation not found")


async def recent_messages(
    db: Connection, conversation_id: int, limit: int
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The last `limit` messages as (role, content, actions), oldest first: the agent's context
    for this turn."""
    if limit <= 0:
        return []
    rows = await db.execute(_RECENT, {"conversation_id": conversation_id, "limit": limit})
    return [(role, content, list(actions or [])) for role, content, actions in reversed(rows.all())]


async def save_turn(
    db: Connection,
    user_id: int,
    conversation_id: int | None,
    message: str,
    reply: str,
    actions: list[dict[str, Any]],
) -> int:
    """Store a turn (the user's message and the reply with its tool calls), starting the
    conversation on its first turn, and commit: the turn's unit of work ends here (with the
    local agent, the tools' writes are in it too). Returns the conversation id."""
    now = utcnow()
    turn = {
        "now": now,
        "user_content": message,
        "user_actions": [],
        "assistant_content": reply,
        "assistant_actions": actions,
    }
    if conversation_id is None:
        turn.update(user_id=user_id, title=title_for(message))
    else:
        turn["conversation_id"] = conversation_id
    try:
        if not db.is_sqlite:
            one = _NEW_TURN_ONE_STATEMENT if conversation_id is None else _NEXT_TURN_ONE_STATEMENT
            return int((await db.execute_and_commit(one, turn)).all()[0][0])
        if conversation_id is None:
            created = await db.execute(_CREATE, {**turn, "created_at": now, "updated_at": now})
            conversation_id = turn["conversation_id"] = int(created.one()[0])
        else:
            await db.execute(_TOUCH, turn)
        await db.execute_and_commit(_ADD_TURN, turn)
    except IntegrityError:  # the owner (and so the conversation) is gone
        # (deleted after this request's authentication)
        raise Unauthorized(INVALID_TOKEN) from None
    return conversation_id


_CONVERSATION_LIST = (
    select(_C.id, _C.title, _C.created_at, _C.updated_at)
    .where(_C.user_id == bindparam("user_id"))
    .order_by(_C.updated_at.desc(), _C.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_MESSAGE_LIST = (
    select(_M.id, _M.role, _M.content, _M.actions, _M.created_at)
    .where(_M.conversation_id == bindparam("conversation_id"))
    .order_by(_M.id)
    .limit(bindparam("limit"))
)


async def list_conversations(
    db: Connection, user_id: int, limit: int = 100, offset: int = 0
) -> Sequence[Any]:
    """The user's conversations, last active first: rows with ConversationOut's fields."""
    params = {"user_id": user_id, "limit": limit, "offset": offset}
    return (await db.execute(_CONVERSATION_LIST, params)).all()


async def list_messages(
    db: Connection, user_id: int, conversation_id: int, limit: int = 500
) -> Sequence[Any]:
    """A conversation's messages, oldest first: rows with MessageOut's fields."""
    await check_conversation(db, user_id, conversation_id)
    params = {"conversation_id": conversation_id, "limit": limit}
    return (await db.execute(_MESSAGE_LIST, params)).all()
