"""Work that stops when something else happens first: one mechanism, used in four places.

    api/disconnect.py      a /chat/wait run stops when its client disconnects
    services/admission.py  a /chat/wait run stops when the shutdown grace period ends
    services/chat_agent.py a stream's wait for its next SDK event stops at MAX_RUN_SECONDS
    api/sse_response.py    a send to a viewer stops after SSE_SEND_TIMEOUT_SECONDS

The work runs in the caller's own task, and `StopScope.stop()` cancels that task, as
`asyncio.timeout` does: no task per piece of work and no `asyncio.wait`, which cost a
/chat/wait more than the checks themselves. While the scope is open the task can only
be suspended inside the work, so the cancel always lands there; the work's own cleanup
(releasing its conversation) runs as the cancellation unwinds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


class StopScope:
    """Runs one piece of work in the current task; `stop(error)` cancels it, and `run`
    then raises `error` instead of CancelledError. A cancellation from anywhere else
    stays a cancellation."""

    def __init__(self) -> None:
        task = asyncio.current_task()
        assert task is not None, "a StopScope belongs to a task"
        self._task = task
        self._open = False
        self._reason: Exception | None = None
        self._cancelling = 0

    def stop(self, reason: Exception) -> None:
        """Cancel the work with `reason` (once; nothing when it is not running)."""
        if self._open and self._reason is None:
            self._reason = reason
            self._task.cancel()

    async def run[T](self, work: Awaitable[T]) -> T:
        self._open, self._cancelling = True, self._task.cancelling()
        try:
            result = await work
        except asyncio.CancelledError:
            # Ours only when no other cancel is pending on the task (asyncio.timeout's rule).
            if self._reason is not None and self._task.uncancel() <= self._cancelling:
                raise self._reason from None
            raise
        finally:
            self._open = False
        if self._reason is not None:  # the work swallowed our cancel: take it back
            self._task.uncancel()
        return result
