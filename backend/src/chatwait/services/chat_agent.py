"""The ChatWait agent and its two ways to run: to completion, or streamed.

Both go through the Agents SDK `Runner` with the conversation's `Session`, so the SDK
loads and stores history. Before either, the principal's limits admit the run and the
conversation's lease is taken (`reserve`); both are given back when the run ends.
`reply()` awaits `Runner.run` (never `run_sync`, which would block the event loop);
`reserve(…).start()` returns a `StreamedRun` for the stream supervisor, which drives it
in a task of its own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from agents import Agent, ModelSettings, Runner, RunResultStreaming, Usage
from openai.types.responses import ResponseTextDeltaEvent

from chatwait.config import Settings
from chatwait.models.chat import ChatReply, TokenUsage
from chatwait.services.conversation_index import IndexedSession
from chatwait.services.conversations import ConversationLease, ConversationStore
from chatwait.services.limits import PrincipalLimits, RunTicket
from chatwait.services.llm_service import LanguageModel, translate_upstream_error

# Output tokens of a run whose model reports no usage: about four characters a token.
CHARS_PER_TOKEN = 4


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
        self, result: RunResultStreaming, reservation: Reservation, session: IndexedSession
    ) -> None:
        self._result = result
        self._reservation = reservation
        self._session = session
        self._conversations = reservation.conversations
        self._token_count = 0

    async def deltas(self) -> AsyncGenerator[str]:
        try:
            async for event in self._result.stream_events():
                if (
                    event.type == "raw_response_event"
                    and isinstance(event.data, ResponseTextDeltaEvent)
                    and event.data.delta
                ):
                    self._token_count += 1
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
        await self._reservation.finish(self.usage(), self._token_count)


class Reservation:
    """A run's admission ticket and conversation lease, held until the run ends."""

    def __init__(
        self,
        service: ChatAgentService,
        ticket: RunTicket,
        lease: ConversationLease,
    ) -> None:
        self._service = service
        self.conversations = service.conversations
        self._ticket = ticket
        self._lease = lease

    def start(self, message: str) -> AgentStreamedRun:
        session = self.conversations.session(self._lease.owner, self._lease.conversation_id)
        result = Runner.run_streamed(self._service.agent, message, session=session)
        return AgentStreamedRun(result, self, session)

    async def finish(self, usage: TokenUsage | None, estimated_output_tokens: int) -> None:
        await self._lease.release()
        await self._ticket.finish(usage, estimated_output_tokens)

    async def release(self) -> None:
        await self.finish(None, 0)


class ChatAgentService:
    """Runs the ChatWait agent for one message of one conversation."""

    def __init__(
        self,
        settings: Settings,
        model: LanguageModel,
        conversations: ConversationStore,
        limits: PrincipalLimits,
    ) -> None:
        self._model = model
        self.conversations = conversations
        self._limits = limits
        self.agent = Agent(
            name="ChatWait",
            instructions=settings.agent_instructions,
            model=model.model,
            # Without include_usage, streamed runs report zero tokens.
            model_settings=ModelSettings(include_usage=True),
        )

    @property
    def model_name(self) -> str:
        return self._model.name

    async def reserve(
        self, principal: str, conversation_id: str, stream_id: str | None = None
    ) -> Reservation:
        """Admit a run of `principal` (429s) and take the conversation (409), in that
        order, so a refused run holds nothing."""
        ticket = await self._limits.admit(principal)
        try:
            lease = await self.conversations.acquire(principal, conversation_id, stream_id)
        except BaseException:
            await ticket.finish(None)
            raise
        return Reservation(self, ticket, lease)

    async def reply(self, principal: str, message: str, conversation_id: str) -> ChatReply:
        reservation = await self.reserve(principal, conversation_id)
        session = self.conversations.session(principal, conversation_id)
        usage: TokenUsage | None = None
        text = ""
        try:
            result = await Runner.run(self.agent, message, session=session)
            text = str(result.final_output)
            usage = _token_usage(result.context_wrapper.usage)
        except Exception as error:
            raise self.conversations.store_error(error) or translate_upstream_error(
                error
            ) from error
        finally:
            self.conversations.close_session(session)
            await reservation.finish(usage, len(text) // CHARS_PER_TOKEN)
        return ChatReply(
            text=text, conversation_id=conversation_id, model=self._model.name, usage=usage
        )
