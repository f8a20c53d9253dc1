"""The ChatWait agent and its two ways to run: to completion, or streamed.

Both go through the Agents SDK `Runner` with the conversation's `Session`, so the SDK
loads and stores history; `services/history.py` picks which earlier turns go upstream.
`reply()` awaits `Runner.run` (never `run_sync`, which would block the event loop);
`start_streamed()` returns a `StreamedRun` for the stream supervisor, which drives it in
a task of its own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from agents import Agent, ModelSettings, RunConfig, Runner, RunResultStreaming, Usage
from agents.memory import Session
from openai.types.responses import ResponseTextDeltaEvent

from chatwait.config import Settings
from chatwait.models.chat import ChatReply, TokenUsage
from chatwait.services.conversations import ConversationLease, ConversationStore
from chatwait.services.history import HistoryTrimmer
from chatwait.services.llm_service import LanguageModel, translate_upstream_error


def _token_usage(usage: Usage) -> TokenUsage:
    return TokenUsage(
        requests=usage.requests,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


class AgentStreamedRun:
    """Adapts `RunResultStreaming` to the supervisor's `StreamedRun` protocol."""

    def __init__(
        self,
        result: RunResultStreaming,
        lease: ConversationLease,
        session: Session,
        conversations: ConversationStore,
    ) -> None:
        self._result = result
        self._lease = lease
        self._session = session
        self._conversations = conversations

    async def deltas(self) -> AsyncGenerator[str]:
        try:
            async for event in self._result.stream_events():
                if (
                    event.type == "raw_response_event"
                    and isinstance(event.data, ResponseTextDeltaEvent)
                    and event.data.delta
                ):
                    yield event.data.delta
        except Exception as error:
            raise self._conversations.store_error(error) or translate_upstream_error(
                error
            ) from error

    def final_text(self) -> str | None:
        output = self._result.final_output
        return output if isinstance(output, str) else None

    def usage(self) -> TokenUsage | None:
        return _token_usage(self._result.context_wrapper.usage)

    def cancel(self) -> None:
        self._result.cancel()

    async def aclose(self) -> None:
        self._conversations.close_session(self._session)
        await self._lease.release()


class ChatAgentService:
    """Runs the ChatWait agent for one message of one conversation."""

    def __init__(
        self, settings: Settings, model: LanguageModel, conversations: ConversationStore
    ) -> None:
        self._model = model
        self._conversations = conversations
        self._agent = Agent(
            name="ChatWait",
            instructions=settings.agent_instructions,
            model=model.model,
            # Without include_usage, streamed runs report zero tokens.
            model_settings=ModelSettings(include_usage=True),
        )
        # The SDK's own hook for "which history goes with the new input": the session
        # still stores every item, only the model input is trimmed.
        self._run_config = RunConfig(
            session_input_callback=HistoryTrimmer(settings.history_max_tokens)
        )

    @property
    def model_name(self) -> str:
        return self._model.name

    async def reply(self, message: str, conversation_id: str) -> ChatReply:
        lease = await self._conversations.acquire(conversation_id)
        session = self._conversations.session(conversation_id)
        try:
            result = await Runner.run(
                self._agent, message, session=session, run_config=self._run_config
            )
        except Exception as error:
            raise self._conversations.store_error(error) or translate_upstream_error(
                error
            ) from error
        finally:
            self._conversations.close_session(session)
            await lease.release()
        return ChatReply(
            text=str(result.final_output),
            conversation_id=conversation_id,
            model=self._model.name,
            usage=_token_usage(result.context_wrapper.usage),
        )

    def start_streamed(self, message: str, lease: ConversationLease) -> AgentStreamedRun:
        """Start a streamed run of the leased conversation; the run releases the lease.

        The caller takes the lease first, so that `conversation_busy` is answered before
        a stream_id is claimed.
        """
        session = self._conversations.session(lease.conversation_id)
        result = Runner.run_streamed(
            self._agent, message, session=session, run_config=self._run_config
        )
        return AgentStreamedRun(result, lease, session, self._conversations)
