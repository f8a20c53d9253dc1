"""Schemathesis hooks for the fuzz test (loaded by the CLI through SCHEMATHESIS_HOOKS).

OpenAPI has no rule across parameters in different places: "a Last-Event-ID header
that names no stream needs a stream_id in the query or body, and one that names a
stream must agree with it" is stated in the header's description, not in a schema.
Without this filter Schemathesis would send such requests as valid ones and report the
422 (or 400) as a schema-valid request rejected.

Likewise a `cursor` of GET /conversations is opaque: only a previous page makes one,
and no schema can say which strings those are, so made-up cursors are not sent.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def resumes_without_a_stream(case: Any) -> bool:
    """The case sends a Last-Event-ID that names no stream (`7`, `start`) and no
    stream_id, or names a stream other than its stream_id (the server refuses both)."""
    header = (case.headers or {}).get("Last-Event-ID")
    if not header:
        return False
    fields = case.body if isinstance(case.body, dict) else dict(case.query or {})
    # GET's query is one form-exploded object parameter named "query".
    if isinstance(fields.get("query"), dict):
        fields = fields["query"]
    named, _, _ = str(header).rpartition(":")
    stream_id = fields.get("stream_id")
    if named:
        return stream_id is not None and stream_id != named
    # A bare `done`/`error` needs no stream: 204 whatever the stream.
    return stream_id is None and not str(header).endswith(("done", "error"))


def invents_a_cursor(case: Any) -> bool:
    return bool((case.query or {}).get("cursor"))


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: Any) -> bool:
    return not resumes_without_a_stream(case) and not invents_a_cursor(case)
