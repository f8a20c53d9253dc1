"""Stop working for a client that has gone away.

`POST /chat/wait` holds its connection open for a whole model run. When the client
closes it (a stop button, a timeout, Ctrl-C), the run is cancelled: the upstream model
request is closed, and the conversation's lease is released, so the next message of
that conversation is not refused as busy for the rest of a run nobody will read.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from starlette.requests import Request

from chatwait.cancellation import Stopped, cancel_when
from chatwait.exceptions import ClientDisconnected


async def _client_disconnected(request: Request) -> None:
    # The body has been read, so the only message left to receive is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_disconnects[T](request: Request, work: Coroutine[Any, Any, T]) -> T:
    """The result of `work`; `work` is cancelled if the client disconnects first."""
    try:
        return await cancel_when(work, _client_disconnected(request))
    except Stopped:
        raise ClientDisconnected() from None
