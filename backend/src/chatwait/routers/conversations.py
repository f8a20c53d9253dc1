"""Conversation history: read it, or delete it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from chatwait.api.errors import error_responses
from chatwait.deps import ConversationStoreDep
from chatwait.exceptions import ConversationNotFound
from chatwait.schemas.chat import CONVERSATION_ID_PATTERN, ChatMessage, ConversationHistory

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationIdPath = Annotated[str, Path(pattern=CONVERSATION_ID_PATTERN)]


@router.get(
    "/{conversation_id}",
    response_model=ConversationHistory,
    summary="A conversation's messages",
    responses=error_responses(404, 422, 503),
)
async def get_conversation(
    conversation_id: ConversationIdPath, conversations: ConversationStoreDep
) -> ConversationHistory:
    """The user and assistant messages of the conversation, oldest first."""
    messages = await conversations.get_messages(conversation_id)
    if messages is None:
        raise ConversationNotFound()
    return ConversationHistory(
        conversation_id=conversation_id,
        messages=[ChatMessage.model_validate(message) for message in messages],
    )


@router.delete(
    "/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation's history",
    responses=error_responses(404, 409, 422, 503),
)
async def delete_conversation(
    conversation_id: ConversationIdPath, conversations: ConversationStoreDep
) -> Response:
    """Forgets the history; refused with 409 while a turn of it is running."""
    if not await conversations.delete(conversation_id):
        raise ConversationNotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
