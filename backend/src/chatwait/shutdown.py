"""Graceful shutdown on SIGTERM (and the first Ctrl-C): drain, then let uvicorn stop.

uvicorn on its own, at SIGTERM, stops listening, closes idle keep-alive connections,
waits for open responses and only then runs the lifespan shutdown; and sse-starlette
(which patches uvicorn's signal handler) cuts every SSE response at once, so clients saw
neither `done` nor an error. Instead, this module's handler sits in front of uvicorn's:

    SIGTERM ─► stop listening (new connections are refused)
            ─► refuse new runs: 503 server_shutting_down (keep-alive connections stay
               open during the grace, so their requests get this JSON answer)
            ─► wait up to SHUTDOWN_GRACE_SECONDS for running runs to finish
            ─► stop what is left: each stream records `server_shutting_down`
               (retryable; its tokens stay stored, replayable from any instance with
               Redis), a wait run still going answers 503 server_shutting_down
            ─► give viewers a moment to send that event, then hand the signal to
               uvicorn, which closes the remaining connections and runs the lifespan
               shutdown (stores close)

A second Ctrl-C ends the grace period at once; a third is uvicorn's force quit. A
repeated SIGTERM (uvicorn's --workers supervisor forwards one) changes nothing. Signals
reach only the main thread, so an app served from another thread (tests) keeps
uvicorn's plain behaviour; `producer_lost` stays the code of a process that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from types import FrameType
from typing import Any

from chatwait.deps import Services
from chatwait.exceptions import ServerShuttingDown

logger = logging.getLogger(__name__)

# After the producers stopped: how long their viewers get to send the final event.
FAREWELL_SECONDS = 2.0
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)

type SignalHandler = Any  # signal.getsignal's answer: a callable, SIG_DFL, SIG_IGN or None


class GracefulShutdown:
    """The drain of one app; `install()` it from the lifespan, `uninstall()` after."""

    def __init__(self, services: Services, grace_seconds: float) -> None:
        self._services = services
        self._grace_seconds = grace_seconds
        self._previous: dict[int, SignalHandler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for signum in HANDLED_SIGNALS:
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            # Only if still ours: uvicorn restores its own originals itself.
            if signal.getsignal(signum) == self._on_signal:
                signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # A signal handler runs between two bytecodes of the loop's thread: only hand
        # work to the loop, thread-safely.
        assert self._loop is not None
        if self._drain is None:
            self._loop.call_soon_threadsafe(self._start, signum)
        elif signum == signal.SIGINT:
            if self._hurry.is_set():
                self._forward(signum)  # third Ctrl-C: uvicorn's force quit
            self._loop.call_soon_threadsafe(self._hurry.set)

    def _start(self, signum: int) -> None:
        if self._drain is None:
            self._drain = asyncio.create_task(self.drain(signum), name="chatwait:shutdown")

    async def drain(self, signum: int | None = None) -> None:
        """Run the shutdown sequence, then pass `signum` on to uvicorn."""
        admission = self._services.admission
        admission.start_draining()
        self._stop_listening()
        logger.info(
            "shutting down: %d run(s) in progress, waiting up to %g s for them",
            admission.active_runs,
            self._grace_seconds,
        )
        hurry = asyncio.ensure_future(self._hurry.wait())
        idle = asyncio.ensure_future(admission.wait_idle())
        try:
            await asyncio.wait(
                {hurry, idle}, timeout=self._grace_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            hurry.cancel()
            idle.cancel()
        if admission.active_runs:
            logger.warning(
                "shutting down: stopping %d run(s) still in progress", admission.active_runs
            )
        admission.end_grace()
        await self._services.supervisor.stop_all(
            ServerShuttingDown("The server stopped before this answer was finished; ask again.")
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FAREWELL_SECONDS):
                await admission.wait_streams_closed()
        if signum is not None:
            self._forward(signum)

    def _uvicorn_server(self) -> Any:
        # uvicorn installs a bound method of its Server as the handler (sse-starlette
        # finds the server the same way).
        return getattr(self._previous.get(signal.SIGTERM), "__self__", None)

    def _stop_listening(self) -> None:
        """Close uvicorn's listening sockets now, as its own shutdown would do first."""
        for server in getattr(self._uvicorn_server(), "servers", None) or []:
            # asyncio's or uvloop's Server (which is no asyncio.AbstractServer).
            close = getattr(server, "close", None)
            if callable(close):
                close()

    def _forward(self, signum: int) -> None:
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, None)
        else:  # nothing of uvicorn's to hand it to: the default action
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
