"""POST /api/chat and the conversation history. Stateless: every turn starts from the database.

A turn: check size and rate limit, load the conversation's last CHAT_HISTORY_MESSAGES messages (a
first message starts a new one), run the agent with the tool layer bound to this user, then save
the user's message and the reply with its tool calls, and commit: one transaction per turn (an
LLM agent commits before each provider request, so it holds none while it waits). A provider
failure still saves both messages and answers 502/503 with the same body shape (conversation_id,
reply, actions applied so far).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from todo_api.agent import Agent, HistoryMessage, ToolBox
from todo_api.api.deps import CurrentUserId, DbDep
from todo_api.api.responses import json_response
from todo_api.core.config import Settings
from todo_api.core.ratelimit import RateLimiter
from todo_api.schemas import MAX_ID, ActionOut, ChatIn, ChatOut, ConversationOut, MessageOut
from todo_api.services import conversations

log = logging.getLogger("todo_api.chat")

router = APIRouter(prefix="/api", tags=["chat"])

ConversationId = Annotated[int, Path(ge=1, le=MAX_ID, description="Conversation id")]


def _public_actions(actions: list[dict[str, Any]]) -> list[ActionOut]:
    """The API's view of the tool calls; the stored ones carry more for the agent (and the
    internal records of a question it asked, which changed nothing, are not tool calls)."""
    return [ActionOut.model_validate(a) for a in actions if not a.get("internal")]


def _public_action(action: dict[str, Any]) -> dict[str, Any]:
    """ActionOut's JSON for an action the agent just recorded (base.ActionLog), projected
    directly: a model round trip per action cost more than the rest of the response."""
    return {
        "tool": action["tool"],
        "arguments": action["arguments"],
        "result": action["result"],
        "ok": action.get("ok", True),
    }


@router.post(
    "/chat", response_model=ChatOut, responses={502: {"model": ChatOut}, 503: {"model": ChatOut}}
)
async def chat(
    body: ChatIn,
    request: Request,
    user_id: CurrentUserId,
    db: DbDep,
) -> Response:
    # Settings and the limiter straight from the app: as dependencies they cost FastAPI a
    # dependency solve each on the busiest write route (bench/findings.md).
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.limiter
    if len(body.message) > settings.chat_max_message_chars:
        return JSONResponse(
            {
                "detail": [
                    {
                        "loc": ["body", "message"],
                        "msg": f"message: at most {settings.chat_max_message_chars} characters",
                        "type": "string_too_long",
                    }
                ]
            },
            status_code=422,
        )
    await limiter.consume(limiter.parse(settings.chat_rate_limit), f"chat:{user_id}")

    # One transaction for the turn's writes, from the first to save_turn's commit. An LLM
    # agent commits before each provider request (ToolBox.release), holding no connection
    # while it waits.
    async with db.transaction():
        history: list[HistoryMessage] = []
        if body.conversation_id is not None:
            await conversations.check_conversation(db, user_id, body.conversation_id)
            history = [
                HistoryMessage(role, content, actions)
                for role, content, actions in await conversations.recent_messages(
                    db, body.conversation_id, settings.chat_history_messages
                )
            ]

        agent: Agent = request.app.state.agent
        moment = datetime.now(UTC)  # one clock for "today" and "at 5pm" (a time alone)
        tools = ToolBox(
            db,
            user_id,
            moment.date(),
            max_tasks=settings.max_tasks_per_user,
            now=moment.time(),
            task_details=agent.reads_task_details,
        )
        try:
            result = await agent.run(tools, history, body.message)
            reply, actions, status = result.reply, result.actions, result.status_code
        except (DBAPIError, OSError, TimeoutError):
            raise  # the app's handler answers 503 "database unavailable"
        except Exception:
            log.exception("chat agent failed", extra={"agent": agent.name})
            await db.rollback()
            reply, actions, status = (
                "Sorry, something went wrong on my side; please try again.",
                [],
                500,
            )

        # The messages are written once the reply is known, and the turn commits with them
        # (with the local agent, the tools' writes too: one commit per turn).
        conversation_id = await conversations.save_turn(
            db, user_id, body.conversation_id, body.message, reply, actions
        )
    public = [_public_action(action) for action in actions if not action.get("internal")]
    return json_response(
        {"conversation_id": conversation_id, "reply": reply, "actions": public}, status
    )


@router.get("/conversations", response_model=list[ConversationOut])
async def list_conversations(
    user_id: CurrentUserId,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ConversationOut]:
    rows = await conversations.list_conversations(db, user_id, limit, offset)
    return [ConversationOut.model_validate(c) for c in rows]


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
async def list_messages(
    conversation_id: ConversationId, user_id: CurrentUserId, db: DbDep
) -> list[MessageOut]:
    rows = await conversations.list_messages(db, user_id, conversation_id)
    return [
        MessageOut(
            id=m.id,
            role=m.role,
            content=m.content,
            actions=_public_actions(list(m.actions or [])),
            created_at=m.created_at,
        )
        for m in rows
    ]
