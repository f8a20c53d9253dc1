"""Text that can travel: the rules for strings that enter or leave ChatWait.

JSON may carry a lone UTF-16 surrogate (`"\\ud800"`) or a NUL (`"\\u0000"`), and Python
decodes both into a `str`. Neither can be encoded as UTF-8 (the surrogate) or kept by
every store and client (NUL), so:

- at the edge, request text with either is refused (`PlainText`, 422 naming the field);
- on the way out, text that slipped in anyway (a model's output, history stored before
  this rule) is made encodable with `well_formed()`, so no response path fails on it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
NOT_PLAIN_TEXT = "must not contain NUL characters or lone UTF-16 surrogates"


def is_plain_text(text: str) -> bool:
    """True when `text` has no NUL and no lone surrogate."""
    return "\x00" not in text and _LONE_SURROGATE.search(text) is None


def _check_plain_text(text: str) -> str:
    if not is_plain_text(text):
        raise ValueError(NOT_PLAIN_TEXT)
    return text


# A request string: strict (no coercion from numbers) and encodable.
PlainText = Annotated[StrictStr, AfterValidator(_check_plain_text)]


def well_formed(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, like a browser decoding bad
    UTF-8. A surrogate pair split over two joined strings becomes its character again."""
    if _LONE_SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def well_formed_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with `well_formed()` applied to every
    string, keys included; other values are returned as they are."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, dict):
        return {well_formed_json(key): well_formed_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [well_formed_json(item) for item in value]
    return value
