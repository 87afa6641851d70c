"""Conversations and their messages: the chat's only state, kept in the database.

Every function is scoped to the owner's user id: another user's conversation is NotFound.
A chat turn reads with `check_conversation` and `recent_messages`, and writes everything it
adds with one `save_turn` in the caller's transaction (the caller commits); those use prebuilt
Core statements, like services/tasks.py, because they run on every chat message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.models import Conversation, Message, utcnow
from todo_api.services.users import not_found, require_account

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
_CREATE = insert(_CONVERSATIONS).returning(_C.id)
_TOUCH = (
    update(_CONVERSATIONS)
    .where(_C.id == bindparam("conversation_id"))
    .values(updated_at=bindparam("now"))
)
_ADD_MESSAGES = insert(_MESSAGES)


def title_for(first_message: str) -> str:
    title = " ".join(first_message.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return title


async def check_conversation(session: AsyncSession, user_id: int, conversation_id: int) -> None:
    """NotFound unless the user owns this conversation."""
    conn = await session.connection()
    params = {"conversation_id": conversation_id, "owner": user_id}
    if await conn.scalar(_OWNED, params) is None:
        await not_found(session, user_id, "Conversation not found")


async def recent_messages(
    session: AsyncSession, conversation_id: int, limit: int
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The last `limit` messages as (role, content, actions), oldest first: the agent's context
    for this turn."""
    if limit <= 0:
        return []
    conn = await session.connection()
    rows = await conn.execute(_RECENT, {"conversation_id": conversation_id, "limit": limit})
    return [(role, content, list(actions or [])) for role, content, actions in reversed(rows.all())]


async def save_turn(
    session: AsyncSession,
    user_id: int,
    conversation_id: int | None,
    message: str,
    reply: str,
    actions: list[dict[str, Any]],
) -> int:
    """Store a turn (the user's message and the reply with its tool calls), starting the
    conversation on its first turn. Returns the conversation id; the caller commits."""
    conn = await session.connection()
    now = utcnow()
    try:
        if conversation_id is None:
            values = {"user_id": user_id, "title": title_for(message)}
            conversation_id = int(
                (
                    await conn.execute(_CREATE, {**values, "created_at": now, "updated_at": now})
                ).scalar_one()
            )
        else:
            await conn.execute(_TOUCH, {"conversation_id": conversation_id, "now": now})
        base = {"conversation_id": conversation_id, "created_at": now}
        await conn.execute(
            _ADD_MESSAGES,
            [  # in this order: the history is read back by message id
                {**base, "role": "user", "content": message, "actions": []},
                {**base, "role": "assistant", "content": reply, "actions": actions},
            ],
        )
    except IntegrityError:  # the owner (and so the conversation) is gone
        await session.rollback()
        await require_account(session, user_id)
        raise
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
    if not rows:
        await require_account(session, user_id)  # a deleted account's token: 401, not []
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
