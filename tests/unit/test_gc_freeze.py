"""The app freezes what start-up built, so the collector's full passes skip it, and
collects young objects less often.

A full collection over the imported Agents SDK, openai and pydantic objects took
~150 ms on the benchmark machine, a stop of every stream's event loop each time it
ran (issue 10: the slow-stream gap and the CPU per stream).
"""

from __future__ import annotations

import gc
from pathlib import Path

from chatwait.app import GC_THRESHOLDS, create_app
from chatwait.config import Settings


async def test_start_up_objects_are_frozen_out_of_collections(tmp_path: Path) -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    app = create_app(
        Settings(_env_file=None, session_store_url=f"sqlite:///{tmp_path / 'sessions.db'}")
    )

    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 100_000
            assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
