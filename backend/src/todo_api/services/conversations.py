"""Conversations and their messages: the chat's only state, kept in the database.

Every function is scoped to the owner's user id: another user's conversation is NotFound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo_api.models import Conversation, Message, utcnow
from todo_api.services.users import not_found, require_account

TITLE_CHARS = 80


async def get_conversation(
    session: AsyncSession, user_id: int, conversation_id: int
) -> Conversation:
    conversation = await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )
    if conversation is None:
        await not_found(session, user_id, "Conversation not found")
    return conversation


async def create_conversation(
    session: AsyncSession, user_id: int, first_message: str
) -> Conversation:
    title = " ".join(first_message.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    conversation = Conversation(user_id=user_id, title=title)
    session.add(conversation)
    try:
        await session.commit()
    except IntegrityError:  # the owner is gone
        await session.rollback()
        await require_account(session, user_id)
        raise
    return conversation


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
    await get_conversation(session, user_id, conversation_id)
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def recent_messages(
    session: AsyncSession, conversation: Conversation, limit: int
) -> list[Message]:
    """The last `limit` messages, oldest first (the agent's context for this turn)."""
    if limit <= 0:
        return []
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list((await session.scalars(stmt)).all())
    rows.reverse()
    return rows


async def add_message(
    session: AsyncSession,
    conversation: Conversation,
    role: str,
    content: str,
    actions: list[dict[str, Any]] | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id, role=role, content=content, actions=actions or []
    )
    session.add(message)
    conversation.updated_at = utcnow()
    await session.commit()
    return message
