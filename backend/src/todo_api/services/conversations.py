"""Conversations and their messages: the chat's only state, kept in the database.

Every function is scoped to the owner's user id: another user's conversation is NotFound.
A chat turn reads with `check_conversation` and `recent_messages`, and writes everything it
adds with one `save_turn`, which commits the turn's unit of work; those use prebuilt
Core statements, like services/tasks.py, because they run on every chat message, and take a
session or a `db_direct.DirectConnection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.db_direct import Db, dialect_name, execute, execute_and_commit
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


async def check_conversation(db: Db, user_id: int, conversation_id: int) -> None:
    """NotFound unless the user owns this conversation."""
    params = {"conversation_id": conversation_id, "owner": user_id}
    if (await execute(db, _OWNED, params)).scalar() is None:
        raise NotFound("Conversation not found")


async def recent_messages(
    db: Db, conversation_id: int, limit: int
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The last `limit` messages as (role, content, actions), oldest first: the agent's context
    for this turn."""
    if limit <= 0:
        return []
    rows = await execute(db, _RECENT, {"conversation_id": conversation_id, "limit": limit})
    return [(role, content, list(actions or [])) for role, content, actions in reversed(rows.all())]


async def save_turn(
    db: Db,
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
        if dialect_name(db) == "postgresql":
            one = _NEW_TURN_ONE_STATEMENT if conversation_id is None else _NEXT_TURN_ONE_STATEMENT
            return int((await execute_and_commit(db, one, turn)).all()[0][0])
        if conversation_id is None:
            created = await execute(db, _CREATE, {**turn, "created_at": now, "updated_at": now})
            conversation_id = turn["conversation_id"] = int(created.one()[0])
        else:
            await execute(db, _TOUCH, turn)
        await execute_and_commit(db, _ADD_TURN, turn)
    except IntegrityError:  # the owner (and so the conversation) is gone
        await db.rollback()  # (deleted after this request's authentication)
        raise Unauthorized(INVALID_TOKEN) from None
    return conversation_id


async def list_conversations(
    session: AsyncSession, user_id: int, limit: int = 100, offset: int = 0
) -> Sequence[Conversation]:
    stmt = (
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.scalars(stmt)).all()
    return rows


async def list_messages(
    session: AsyncSession, user_id: int, conversation_id: int, limit: int = 500
) -> Sequence[Message]:
    await check_conversation(session, user_id, conversation_id)
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()
