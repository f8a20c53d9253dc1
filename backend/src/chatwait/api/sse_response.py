"""The SSE response of /chat/streaming: an open-stream slot, and a bounded send.

* It holds the viewer's MAX_OPEN_STREAMS slot (services/admission.py) until the
  response ends, however it ends (done, client gone, dropped, cancelled by shutdown),
  so the count of open streams cannot leak.
* Each send may wait at most SSE_SEND_TIMEOUT_SECONDS. uvicorn stops a send while the
  connection's write buffer is full (flow control), so a viewer that stops reading
  costs at most that buffer, never a growing queue, and never slows the producer (it
  writes to the stream store, not to viewers). After the timeout the viewer is dropped:
  its connection is closed without a final event, a resumable close — the client
  resumes with Last-Event-ID like after any other cut.
"""

from __future__ import annotations

import logging
from typing import Any

from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from chatwait import metrics
from chatwait.services.admission import Slot

logger = logging.getLogger(__name__)


class ViewerResponse(EventSourceResponse):
    """An EventSourceResponse that releases `slot` when it ends and drops stuck viewers."""

    def __init__(self, *args: Any, slot: Slot, stream_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slot = slot
        self._stream_id = stream_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            # Returning without completing the response makes uvicorn close the
            # connection (it logs that it was not completed): the client resumes.
            metrics.SLOW_VIEWERS_DROPPED.inc()
            logger.warning(
                "stream %s: a viewer read nothing for %g s and was dropped (it can resume)",
                self._stream_id,
                self.send_timeout,
            )
        finally:
            self._slot.release()
