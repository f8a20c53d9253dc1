"""The SSE response of /chat/streaming: an open-stream slot, and a bounded send.

* It holds the viewer's MAX_OPEN_STREAMS slot (services/admission.py) until the
  response ends, however it ends (done, client gone, dropped, cancelled by shutdown),
  so the count of open streams cannot leak.
* Each send may wait at most SSE_SEND_TIMEOUT_SECONDS (a quarter more at worst: one
  watchdog per viewer checks, not a timer per send). uvicorn stops a send while the
  connection's write buffer is full (flow control), so a viewer that stops reading
  costs at most that buffer, never a growing queue, and never slows the producer (it
  writes to the stream store, not to viewers). After the timeout the viewer is dropped:
  its connection is closed without a final event, a resumable close — the client
  resumes with Last-Event-ID like after any other cut.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError
from starlette.types import Message, Receive, Scope, Send

from chatwait import metrics
from chatwait.cancellation import StopScope
from chatwait.services.admission import Slot

logger = logging.getLogger(__name__)


class BoundedSend:
    """A viewer's ASGI `send`, each call allowed `timeout` seconds (SendTimeoutError).

    One watchdog per viewer looks at the send in progress a few times per `timeout`,
    so a stuck send ends between 1 and 1.25 × `timeout`. sse-starlette's own
    `send_timeout` puts an anyio cancel scope around every send: ~4 µs of a token's
    ~110 µs of CPU.
    """

    def __init__(self, send: Send, timeout: float) -> None:
        self._send = send
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        # The send in progress: when it started, and the scope the watchdog stops.
        self._since: float | None = None
        self._sending: StopScope | None = None

    async def __call__(self, message: Message) -> None:
        self._sending = sending = StopScope()
        self._since = self._loop.time()
        try:
            await sending.run(self._send(message))
        finally:
            self._since = self._sending = None

    async def watch(self) -> None:
        """Stop a send that has waited `timeout` seconds; runs until cancelled."""
        while True:
            await asyncio.sleep(self.timeout / 4)
            since, sending = self._since, self._sending
            if (
                since is not None
                and sending is not None
                and self._loop.time() - since >= self.timeout
            ):
                sending.stop(SendTimeoutError())
                return


class ViewerResponse(EventSourceResponse):
    """An EventSourceResponse that releases `slot` when it ends and drops stuck viewers
    (a send that waits `send_timeout` seconds)."""

    def __init__(
        self, *args: Any, slot: Slot, stream_id: str, send_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._slot = slot
        self._stream_id = stream_id
        self._viewer_send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bounded = BoundedSend(send, self._viewer_send_timeout)
        watchdog = asyncio.create_task(bounded.watch())
        try:
            await super().__call__(scope, receive, bounded)
        except SendTimeoutError:
            # Returning without completing the response makes uvicorn close the
            # connection (it logs that it was not completed): the client resumes.
            metrics.SLOW_VIEWERS_DROPPED.inc()
            logger.warning(
                "stream %s: a viewer read nothing for %g s and was dropped (it can resume)",
                self._stream_id,
                self._viewer_send_timeout,
            )
        finally:
            watchdog.cancel()
            self._slot.release()
