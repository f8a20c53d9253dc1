"""Schemathesis hooks for the fuzz test (loaded by the CLI through SCHEMATHESIS_HOOKS).

OpenAPI has no rule across parameters in different places: "a Last-Event-ID header
needs a stream_id in the query or body" is stated in the header's description, not in
a schema. Without this filter Schemathesis would send such requests as valid ones and
report the 422 as a schema-valid request rejected.

Likewise a `cursor` of GET /conversations is opaque: only a previous page makes one,
and no schema can say which strings those are, so made-up cursors are not sent.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def resumes_without_stream_id(case: Any) -> bool:
    """The case sends Last-Event-ID but names no stream."""
    if not (case.headers or {}).get("Last-Event-ID"):
        return False
    fields = case.body if isinstance(case.body, dict) else dict(case.query or {})
    # GET's query is one form-exploded object parameter named "query".
    if isinstance(fields.get("query"), dict):
        fields = fields["query"]
    return fields.get("stream_id") is None


def invents_a_cursor(case: Any) -> bool:
    return bool((case.query or {}).get("cursor"))


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: Any) -> bool:
    return not resumes_without_stream_id(case) and not invents_a_cursor(case)
