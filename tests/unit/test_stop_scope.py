"""StopScope: work in the caller's task, stopped with a reason, other cancels kept."""

from __future__ import annotations

import asyncio

import pytest

from chatwait.cancellation import StopScope


class Gone(Exception):
    pass


async def test_stop_cancels_the_work_runs_its_cleanup_and_raises_the_reason() -> None:
    cleaned = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.set()

    scope = StopScope()
    asyncio.get_running_loop().call_later(0.01, scope.stop, Gone())

    with pytest.raises(Gone):
        await scope.run(work())
    assert cleaned.is_set()
    # The task is not left cancelling: it goes on awaiting normally.
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await asyncio.sleep(0)


async def test_work_that_finishes_returns_and_a_later_stop_does_nothing() -> None:
    async def work() -> str:
        await asyncio.sleep(0)
        return "answer"

    scope = StopScope()
    assert await scope.run(work()) == "answer"

    scope.stop(Gone())
    await asyncio.sleep(0.01)  # no stray cancel reaches this task


async def test_a_cancel_from_elsewhere_stays_a_cancel_even_when_stopped_too() -> None:
    started = asyncio.Event()

    async def caller() -> None:
        scope = StopScope()

        async def work() -> None:
            started.set()
            await asyncio.sleep(10)

        asyncio.get_running_loop().call_soon(scope.stop, Gone())
        await scope.run(work())

    task = asyncio.create_task(caller())
    await started.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
