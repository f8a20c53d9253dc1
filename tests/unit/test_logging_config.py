"""configure_logging: the model client's per-request INFO lines stay out of the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from chatwait.config import Settings
from chatwait.middleware.logging import CHATTY_CLIENT_LOGGERS, configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in CHATTY_CLIENT_LOGGERS}
    yield
    root.handlers, root.level = saved[0], saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("name", ["httpx", "httpx2"])
def test_client_request_lines_are_off_at_info_and_on_at_debug(name: str) -> None:
    configure_logging(Settings(log_level="INFO"))
    client = logging.getLogger(name)
    assert not client.isEnabledFor(logging.INFO)
    assert client.isEnabledFor(logging.WARNING)
    assert logging.getLogger("chatwait.access").isEnabledFor(logging.INFO)

    configure_logging(Settings(log_level="DEBUG"))
    assert client.isEnabledFor(logging.INFO)
