"""The language model: which one runs, and what its failures mean to a client.

`build_model()` returns an Agents SDK `Model`: `OpenAIChatCompletionsModel` over an
`AsyncOpenAI` client for Gemini or any OpenAI-compatible endpoint, or the offline demo
model when nothing is configured. `translate_upstream_error()` is the one place that
maps openai / Agents SDK exceptions to ChatWait errors; it never copies the upstream
message, which can contain the API key (OpenAI's 401 does).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
from agents import (
    Model,
    ModelResponse,
    OpenAIChatCompletionsModel,
    TResponseInputItem,
    set_tracing_disabled,
    set_tracing_export_api_key,
)
from agents.exceptions import AgentsException
from openai import AsyncOpenAI, DefaultAsyncHttpxClient

from chatwait.config import Settings
from chatwait.exceptions import (
    ChatWaitError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from chatwait.schemas.text import well_formed_json
from chatwait.services.offline_model import OfflineDemoModel

logger = logging.getLogger(__name__)

# Statuses by which a provider refuses the request itself (context too long, a bad
# parameter): the same request fails again, so they are not retryable.
REJECTED_STATUSES = frozenset({400, 413, 422})


@dataclass
class LanguageModel:
    """The configured model and the client it owns (None for the offline model)."""

    model: Model
    name: str
    client: AsyncOpenAI | None = None

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.close()


class EncodableInputChatCompletionsModel(OpenAIChatCompletionsModel):
    """Chat Completions with every string of the input made encodable first.

    A conversation's history can hold a lone surrogate (a model's own output, or items
    stored before the input rules); sent as is, the request cannot be encoded and every
    later turn of that conversation would fail. Such text goes out as U+FFFD instead.
    """

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        *args: Any,
        **kwargs: Any,
    ) -> ModelResponse:
        return await super().get_response(
            system_instructions, well_formed_json(input), *args, **kwargs
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        *args: Any,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        async for event in super().stream_response(
            system_instructions, well_formed_json(input), *args, **kwargs
        ):
            yield event


def build_model(settings: Settings) -> LanguageModel:
    tracing_key = settings.openai_tracing_api_key
    if tracing_key is not None and tracing_key.get_secret_value():
        set_tracing_export_api_key(tracing_key.get_secret_value())
        set_tracing_disabled(False)
    else:
        # Tracing exports to OpenAI; with a Gemini key that is only 401 noise.
        set_tracing_disabled(True)
    if settings.provider == "offline":
        logger.info("no LLM key or LLM_BASE_URL configured: using the offline demo model")
        return LanguageModel(
            model=OfflineDemoModel(settings.offline_token_delay_seconds),
            name=settings.model_name,
        )
    client = AsyncOpenAI(
        # A local OpenAI-compatible server may need no key; the client insists on one.
        api_key=settings.api_key or "not-needed",
        base_url=settings.base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        http_client=DefaultAsyncHttpxClient(
            event_hooks={"response": [_refuse_wrong_kind_of_answer]}
        ),
    )
    return LanguageModel(
        model=EncodableInputChatCompletionsModel(model=settings.llm_model, openai_client=client),
        name=settings.model_name,
        client=client,
    )


class WrongKindOfAnswer(openai.APIResponseValidationError):
    """The provider answered a streaming request with something other than SSE, or a
    plain request with something other than JSON."""


async def _refuse_wrong_kind_of_answer(response: Any) -> None:
    """An httpx response hook on the model client: a 200 to a chat completion must be
    SSE when `"stream": true` was asked for, and JSON otherwise.

    The openai client would read a JSON completion as an SSE stream without events (the
    run ends in a silent, empty answer), or hand an SSE body to the Agents SDK as text
    (it fails with an AttributeError). An OpenAIError raised here reaches the caller as
    it is, without retries.
    """
    request = response.request
    if (
        response.status_code != 200
        or request.method != "POST"
        or not request.url.path.endswith("/chat/completions")
    ):
        return
    try:
        streaming = json.loads(request.content).get("stream") is True
    except (ValueError, AttributeError):
        return
    content_type = response.headers.get("content-type", "")
    expected = "text/event-stream" if streaming else "application/json"
    if not content_type.startswith(expected):
        raise WrongKindOfAnswer(
            response=response,
            body=None,
            message=f"expected {expected}, got {content_type or 'no content type'}",
        )


def translate_upstream_error(error: BaseException) -> ChatWaitError:
    """The ChatWait error for a failure raised by the Agents SDK or the openai client."""
    if isinstance(error, ChatWaitError):
        return error
    # APITimeoutError subclasses APIConnectionError: test it first.
    if isinstance(error, openai.APITimeoutError):
        return UpstreamTimeout()
    if isinstance(error, openai.RateLimitError):
        return UpstreamRateLimited(retry_after=error.response.headers.get("retry-after"))
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return UpstreamAuthFailed()
    if isinstance(error, openai.APIConnectionError):
        return UpstreamError(
            "The connection to the language model service failed or was cut; try again."
        )
    if isinstance(error, openai.APIStatusError) and error.status_code in REJECTED_STATUSES:
        logger.warning("upstream rejected the request with HTTP %s", error.status_code)
        return UpstreamRejected()
    if isinstance(error, WrongKindOfAnswer):
        logger.warning("upstream answer was of the wrong kind: %s", error.message)
        return UpstreamError(
            "The language model service answered in an unexpected format; try again."
        )
    if isinstance(error, json.JSONDecodeError | openai.APIResponseValidationError):
        # The openai client parses the provider's JSON and SSE `data:` as it reads them.
        logger.warning("upstream answer was malformed: %s", type(error).__name__)
        return UpstreamError("The language model service sent a malformed answer; try again.")
    if isinstance(error, openai.APIStatusError):
        logger.warning("upstream answered HTTP %s", error.status_code)
        return UpstreamError(
            f"The language model service answered with HTTP {error.status_code}; try again."
        )
    if isinstance(error, AgentsException | openai.OpenAIError):
        logger.warning("agent run failed: %s", type(error).__name__)
        return UpstreamError()
    raise error
