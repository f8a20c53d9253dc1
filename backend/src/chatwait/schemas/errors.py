"""The one error body every non-2xx response carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail
