"""The caller's conversations: list, read, rename, delete.

Every lookup is by (principal, conversation_id): another principal's conversation is
answered exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from chatwait.api.auth import PrincipalDep
from chatwait.api.errors import error_responses
from chatwait.api.validation import require_json_body
from chatwait.deps import ConversationStoreDep
from chatwait.exceptions import ConversationNotFound
from chatwait.schemas.chat import CONVERSATION_ID_PATTERN, ChatMessage, ConversationHistory
from chatwait.schemas.conversations import ConversationItem, ConversationList, RenameConversation

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationIdPath = Annotated[str, Path(pattern=CONVERSATION_ID_PATTERN)]
MAX_PAGE = 100


@router.get(
    "",
    response_model=ConversationList,
    summary="Your conversations, most recently updated first",
    responses=error_responses(401, 422, 503),
)
async def list_conversations(
    principal: PrincipalDep,
    conversations: ConversationStoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page."),
    ] = None,
) -> ConversationList:
    page = await conversations.list(principal.name, limit, cursor)
    return ConversationList(
        conversations=[ConversationItem.of(info) for info in page.conversations],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{conversation_id}",
    response_model=ConversationHistory,
    summary="A conversation's messages",
    responses=error_responses(401, 404, 422, 503),
)
async def get_conversation(
    principal: PrincipalDep,
    conversation_id: ConversationIdPath,
    conversations: ConversationStoreDep,
) -> ConversationHistory:
    """The user and assistant messages of the conversation, oldest first."""
    messages = await conversations.get_messages(principal.name, conversation_id)
    if messages is None:
        raise ConversationNotFound()
    return ConversationHistory(
        conversation_id=conversation_id,
        messages=[ChatMessage.model_validate(message) for message in messages],
    )


@router.patch(
    "/{conversation_id}",
    response_model=ConversationItem,
    summary="Rename a conversation",
    dependencies=[Depends(require_json_body)],
    responses=error_responses(400, 401, 404, 415, 422, 503),
)
async def rename_conversation(
    principal: PrincipalDep,
    conversation_id: ConversationIdPath,
    body: RenameConversation,
    conversations: ConversationStoreDep,
) -> ConversationItem:
    info = await conversations.rename(principal.name, conversation_id, body.title)
    if info is None:
        raise ConversationNotFound()
    return ConversationItem.of(info)


@router.delete(
    "/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation's history",
    responses=error_responses(401, 404, 409, 422, 503),
)
async def delete_conversation(
    principal: PrincipalDep,
    conversation_id: ConversationIdPath,
    conversations: ConversationStoreDep,
) -> Response:
    """Forgets the history; refused with 409 while a turn of it is running. A later turn
    with the same id starts a new conversation with no history."""
    if not await conversations.delete(principal.name, conversation_id):
        raise ConversationNotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
