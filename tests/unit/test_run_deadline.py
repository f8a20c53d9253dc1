"""RunDeadline.next_of: MAX_RUN_SECONDS over a stream's waits with one timer per run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatwait.exceptions import UpstreamTimeout
from chatwait.services.chat_agent import RunDeadline


async def _events(gaps: list[float]) -> AsyncIterator[int]:
    for number, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        yield number


async def test_a_wait_past_the_deadline_is_upstream_timeout() -> None:
    deadline = RunDeadline(0.05)
    events = _events([0, 10])

    assert await deadline.next_of(events) == 0
    with pytest.raises(UpstreamTimeout, match="MAX_RUN_SECONDS"):
        await deadline.next_of(events)
    deadline.close()


async def test_the_deadline_never_cancels_the_task_outside_a_wait() -> None:
    """The producer writes to the store between waits: that await must not be cut."""
    deadline = RunDeadline(0.05)
    events = _events([0, 0])
    assert await deadline.next_of(events) == 0

    await asyncio.sleep(0.1)  # past the deadline, outside any wait: not cancelled

    with pytest.raises(UpstreamTimeout):  # the next wait raises at once
        await deadline.next_of(events)
    deadline.close()


async def test_another_cancel_during_a_wait_stays_a_cancel() -> None:
    deadline = RunDeadline(60)
    waiting = asyncio.create_task(deadline.next_of(_events([10])))
    await asyncio.sleep(0.01)

    waiting.cancel()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    deadline.close()


async def test_no_deadline_waits_as_long_as_it_takes() -> None:
    deadline = RunDeadline(0)
    assert await deadline.next_of(_events([0.05])) == 0
    deadline.close()
