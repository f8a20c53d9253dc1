"""The Prometheus metrics of ChatWait, and the small hooks that move them.

Services call the hooks below (one line each); `chatwait.api.metrics` serves the text
format at `GET /metrics`. Labels are bounded sets (mode, outcome, error code, status):
never a principal, conversation or stream id, which any reader of /metrics could see
and which would grow the series without bound.

With `chatwait-api --workers N` each worker is its own process. The CLI then sets
PROMETHEUS_MULTIPROC_DIR before the workers start, prometheus-client keeps every value
in a per-process file there, and /metrics sums the files of all workers, whichever
worker answers. Gauges use "livesum": the sum over live workers; a worker removes its
gauge files when it exits.
"""

from __future__ import annotations

import atexit
import functools
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Literal

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from chatwait.exceptions import ChatWaitError
from chatwait.models.chat import TokenUsage

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

RunMode = Literal["wait", "stream"]

RUNS_STARTED = Counter("chatwait_runs_started", "Model runs started.", ["mode"])
RUNS_FINISHED = Counter(
    "chatwait_runs_finished",
    "Model runs finished, by outcome (done, error, cancelled) and error code.",
    ["mode", "outcome", "code"],
)
RUNS_ACTIVE = Gauge(
    "chatwait_runs_active", "Model runs in progress.", ["mode"], multiprocess_mode="livesum"
)
STREAMS_OPEN = Gauge(
    "chatwait_streams_open",
    "Streams whose run this process is producing now.",
    multiprocess_mode="livesum",
)
STREAM_VIEWERS = Gauge(
    "chatwait_stream_viewers",
    "Open SSE connections following a stream (each viewer of each stream).",
    multiprocess_mode="livesum",
)
TOKENS = Counter(
    "chatwait_tokens", "Tokens the provider reported for completed runs, by kind.", ["kind"]
)
TIME_TO_FIRST_TOKEN = Histogram(
    "chatwait_time_to_first_token_seconds",
    "From the start of a streamed run to its first text delta.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60),
)
RUN_DURATION = Histogram(
    "chatwait_run_duration_seconds",
    "From the start of a run to its end, whatever the outcome.",
    ["mode"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
UPSTREAM_ERRORS = Counter(
    "chatwait_upstream_errors",
    "Failures of the model provider, by ChatWait error code.",
    ["kind"],
)
ERROR_RESPONSES = Counter(
    "chatwait_error_responses",
    "JSON error responses, by code and HTTP status (e.g. 429 and 503 by reason).",
    ["code", "status"],
)
STREAM_ERROR_EVENTS = Counter(
    "chatwait_stream_error_events",
    "`event: error` sent to stream viewers, by code.",
    ["code"],
)
SLOW_VIEWERS_DROPPED = Counter(
    "chatwait_slow_viewers_dropped",
    "SSE viewers dropped because their connection accepted nothing for SSE_SEND_TIMEOUT_SECONDS.",
)
STORE_ERRORS = Counter(
    "chatwait_store_errors", "Failed calls to a stream or conversation store (Redis, SQLite)."
)


# The children of the labels every run touches, made once: `labels()` costs a lock and
# a lookup per call, several per run. They also make both modes' series show from the
# start, at zero.
_MODES: tuple[RunMode, ...] = ("wait", "stream")
_STARTED = {mode: RUNS_STARTED.labels(mode=mode) for mode in _MODES}
_ACTIVE = {mode: RUNS_ACTIVE.labels(mode=mode) for mode in _MODES}
_DURATION = {mode: RUN_DURATION.labels(mode=mode) for mode in _MODES}
_INPUT_TOKENS = TOKENS.labels(kind="input")
_OUTPUT_TOKENS = TOKENS.labels(kind="output")


class RunObservation:
    """The metrics of one model run: started now, then a first token, an error, an end."""

    def __init__(self, mode: RunMode) -> None:
        self._mode = mode
        self._started = time.perf_counter()
        self._first_token_seen = False
        self._completed = False
        self._error: ChatWaitError | None = None
        self._ended = False
        _STARTED[mode].inc()
        _ACTIVE[mode].inc()
        if mode == "stream":
            STREAMS_OPEN.inc()

    def first_token(self) -> None:
        if not self._first_token_seen:
            self._first_token_seen = True
            TIME_TO_FIRST_TOKEN.observe(time.perf_counter() - self._started)

    def completed(self, usage: TokenUsage | None) -> None:
        self._completed = True
        if usage is not None:
            _INPUT_TOKENS.inc(usage.input_tokens)
            _OUTPUT_TOKENS.inc(usage.output_tokens)

    def failed(self, error: ChatWaitError) -> None:
        self._error = error
        if error.code.startswith("upstream_"):
            UPSTREAM_ERRORS.labels(kind=error.code).inc()

    def end(self) -> None:
        """Record the outcome; a run neither completed nor failed was cancelled."""
        if self._ended:
            return
        self._ended = True
        if self._error is not None:
            outcome, code = "error", self._error.code
        elif self._completed:
            outcome, code = "done", ""
        else:
            outcome, code = "cancelled", "cancelled"
        RUNS_FINISHED.labels(mode=self._mode, outcome=outcome, code=code).inc()
        _ACTIVE[self._mode].dec()
        if self._mode == "stream":
            STREAMS_OPEN.dec()
        _DURATION[self._mode].observe(time.perf_counter() - self._started)


def counts_stream_viewer[**P, T](
    events: Callable[P, AsyncIterator[T]],
) -> Callable[P, AsyncIterator[T]]:
    """Decorate an SSE event generator so it counts as a viewer while it is open."""

    @functools.wraps(events)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        STREAM_VIEWERS.inc()
        inner = events(*args, **kwargs)
        try:
            async for event in inner:
                yield event
        finally:
            STREAM_VIEWERS.dec()
            # A viewer that disconnects closes this wrapper; close what it wraps too.
            if isinstance(inner, AsyncGenerator):
                await inner.aclose()

    return counted


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """Every metric in the Prometheus text format, summed over workers when there are several."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    # prometheus-client ships no annotations for this constructor.
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


if multiprocess_dir() is not None:
    # Drop this worker's live gauges when it exits, or the sum would count its last
    # values for ever. A crashed worker's gauges stay until the directory is cleaned.
    atexit.register(multiprocess.mark_process_dead, os.getpid())
