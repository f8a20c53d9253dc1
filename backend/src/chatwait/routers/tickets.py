"""`POST /chat/tickets`: a stream ticket for a browser's EventSource (chatwait/tickets.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from chatwait.api.auth import PrincipalDep
from chatwait.api.errors import error_responses
from chatwait.api.origin import refuse_foreign_origin
from chatwait.api.validation import require_json_body
from chatwait.deps import SettingsDep
from chatwait.models.ids import new_stream_id
from chatwait.schemas.tickets import TicketRequest, TicketResponse
from chatwait.tickets import TicketSigner, expiry, ticket_lifetime_seconds

router = APIRouter(prefix="/chat", tags=["chat"])


@router.post(
    "/tickets",
    response_model=TicketResponse,
    summary="Mint a stream ticket, for an EventSource that cannot send the API key",
    dependencies=[Depends(refuse_foreign_origin), Depends(require_json_body)],
    responses=error_responses(400, 401, 403, 413, 415, 422),
)
async def mint_ticket(
    request: Request, principal: PrincipalDep, body: TicketRequest, settings: SettingsDep
) -> TicketResponse:
    """Authenticated with the key (`Authorization: Bearer`). The ticket lets
    `GET /chat/streaming?…&ticket=…` start and resume this one stream of this principal
    until `expires_at` (MAX_RUN_SECONDS + STREAM_TTL_SECONDS). Nothing is stored, and
    the key never goes in a URL."""
    stream_id = body.stream_id or new_stream_id()
    expires_at = expiry(time.time(), ticket_lifetime_seconds(settings))
    signer: TicketSigner = request.app.state.tickets
    ticket = signer.issue(principal.name, stream_id, principal.key_digest, expires_at)
    return TicketResponse(
        ticket=ticket,
        stream_id=stream_id,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )
