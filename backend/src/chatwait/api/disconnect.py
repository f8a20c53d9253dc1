"""Stop working for a client that has gone away.

`POST /chat/wait` holds its connection open for a whole model run. When the client
closes it (a stop button, a timeout, Ctrl-C), the run is cancelled: the upstream model
request is closed, and the conversation's lease is released, so the next message of
that conversation is not refused as busy for the rest of a run nobody will read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from starlette.requests import Request

from chatwait.cancellation import StopScope
from chatwait.exceptions import ClientDisconnected


async def _stop_on_disconnect(request: Request, scope: StopScope) -> None:
    # The body has been read, so the only message left to receive is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass
    scope.stop(ClientDisconnected())


async def unless_client_disconnects[T](request: Request, work: Awaitable[T]) -> T:
    """The result of `work`; `work` is cancelled (ClientDisconnected) if the client
    disconnects first."""
    scope = StopScope()
    watcher = asyncio.create_task(_stop_on_disconnect(request, scope))
    try:
        return await scope.run(work)
    finally:
        watcher.cancel()
