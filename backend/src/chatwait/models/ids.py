"""Ids the server makes when a client does not choose one."""

from __future__ import annotations

import secrets


def new_stream_id() -> str:
    # 128 random bits: a stream_id is the only key to someone's answer.
    return "str_" + secrets.token_urlsafe(16)


def new_conversation_id() -> str:
    return "conv_" + secrets.token_urlsafe(16)
