"""Per-process admission control and the shutdown drain.

    request ──► Admission (this process)          ──► PrincipalLimits (services/limits.py)
                ├─ draining?  503 server_shutting_down     429s, per principal
                ├─ MAX_OPEN_STREAMS  503 server_busy        (SSE responses open here)
                └─ MAX_ACTIVE_RUNS   503 server_busy        (wait runs + stream producers)

Both limits protect the process, whoever asks: they are checked before the principal's
limits and before any model call, and answer a JSON 503 with Retry-After (uvicorn's own
`limit_concurrency` answers plain text without one, and counts health checks too).

On SIGTERM (chatwait/shutdown.py) the admission starts draining: new runs are refused
with `server_shutting_down`, running ones get up to SHUTDOWN_GRACE_SECONDS to finish
(`wait_idle`), and `end_grace()` then tells wait runs still going to stop
(`unless_shutdown`); the stream supervisor stops its producers itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chatwait.cancellation import StopScope
from chatwait.exceptions import ServerBusy, ServerShuttingDown

# When a slot frees is unknowable (when some run or stream ends): a short, honest hint.
BUSY_RETRY_SECONDS = 2
# A client refused during shutdown should come back once another instance (or this one,
# restarted) listens; a rolling restart replaces a process in seconds.
SHUTTING_DOWN_RETRY_SECONDS = 2


class Slot:
    """One admitted run or open stream; `release()` gives it back (idempotent)."""

    def __init__(self, admission: Admission, kind: str) -> None:
        self._admission = admission
        self._kind = kind
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(self._kind)


class Admission:
    """Counts this process's active runs and open streams, and refuses over the limits."""

    def __init__(self, max_active_runs: int | None, max_open_streams: int | None) -> None:
        self.max_active_runs = max_active_runs
        self.max_open_streams = max_open_streams
        self.active_runs = 0
        self.open_streams = 0
        self._draining = False
        self._grace_over = asyncio.Event()
        # The wait runs in progress, each stopped by end_grace().
        self._stoppable: set[StopScope] = set()
        self._changed = asyncio.Event()

    @property
    def draining(self) -> bool:
        return self._draining

    def admit_run(self) -> Slot:
        """A run slot; raises server_shutting_down while draining, server_busy when full."""
        if self._draining:
            raise ServerShuttingDown(retry_after_seconds=SHUTTING_DOWN_RETRY_SECONDS)
        if self.max_active_runs is not None and self.active_runs >= self.max_active_runs:
            raise ServerBusy(
                f"The server is answering its limit of {self.max_active_runs} messages at "
                "once (MAX_ACTIVE_RUNS); try again shortly.",
                retry_after_seconds=BUSY_RETRY_SECONDS,
            )
        self.active_runs += 1
        return Slot(self, "run")

    def admit_stream(self) -> Slot:
        """A slot for one open SSE response; raises server_busy when full."""
        if self.max_open_streams is not None and self.open_streams >= self.max_open_streams:
            raise ServerBusy(
                f"The server has its limit of {self.max_open_streams} streams open "
                "(MAX_OPEN_STREAMS); try again shortly.",
                retry_after_seconds=BUSY_RETRY_SECONDS,
            )
        self.open_streams += 1
        return Slot(self, "stream")

    def _release(self, kind: str) -> None:
        if kind == "run":
            self.active_runs -= 1
        else:
            self.open_streams -= 1
        self._changed.set()

    # --- shutdown ------------------------------------------------------------------
    def start_draining(self) -> None:
        """Refuse new runs from now on (`server_shutting_down`)."""
        self._draining = True

    async def wait_idle(self) -> None:
        """Return once no run is active (callers bound the wait with asyncio.timeout)."""
        await self._wait_until(lambda: self.active_runs == 0)

    async def wait_streams_closed(self) -> None:
        """Return once no SSE response is open."""
        await self._wait_until(lambda: self.open_streams == 0)

    async def _wait_until(self, done: Callable[[], bool]) -> None:
        while not done():
            self._changed.clear()
            await self._changed.wait()

    def end_grace(self) -> None:
        """The grace period is over: wait runs still going stop now."""
        self._draining = True
        self._grace_over.set()
        for scope in list(self._stoppable):
            scope.stop(
                ServerShuttingDown(
                    "The server stopped before this answer was ready; ask again.",
                    retry_after_seconds=SHUTTING_DOWN_RETRY_SECONDS,
                )
            )

    async def unless_shutdown[T](self, work: Awaitable[T]) -> T:
        """The result of `work`, or server_shutting_down when the grace period ends first."""
        if self._grace_over.is_set():
            raise ServerShuttingDown(retry_after_seconds=SHUTTING_DOWN_RETRY_SECONDS)
        scope = StopScope()
        self._stoppable.add(scope)
        try:
            return await scope.run(work)
        finally:
            self._stoppable.discard(scope)
