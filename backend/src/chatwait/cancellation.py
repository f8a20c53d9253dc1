"""Work that stops when something else happens first: one race, used in two places.

    api/disconnect.py      a /chat/wait run stops when its client disconnects
    services/admission.py  a /chat/wait run stops when the shutdown grace period ends

(Streamed runs need neither: their producer task belongs to the stream supervisor.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable


class Stopped(Exception):
    """`stop` came first, and the work was cancelled."""


async def cancel_when[T](work: Awaitable[T], stop: Awaitable[object]) -> T:
    """The result of `work`; if `stop` completes first, `work` is cancelled and awaited
    (so its cleanup, e.g. releasing a conversation, is done) and Stopped is raised."""
    work_task = asyncio.ensure_future(work)
    stop_task = asyncio.ensure_future(stop)
    stopped = False
    try:
        await asyncio.wait({work_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
        if not work_task.done():
            stopped = True
            work_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work_task
    # Raised here, not in `finally`: a cancellation of the caller must stay one.
    if stopped:
        raise Stopped()
    return work_task.result()
