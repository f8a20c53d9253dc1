"""The ChatWait agent and its two ways to run: to completion, or streamed.

Both go through the Agents SDK `Runner`, with the conversation's history as the run's
input: a `Turn` (services/turn.py) reads the conversation's `Session` and writes the
question and answer back in one write; `services/history.py` picks which earlier turns
go upstream.
Before either, the principal's limits admit the run and the conversation's lease is
taken (`reserve`); both are given back when the run ends. `reply()` awaits `Runner.run`
(never `run_sync`, which would block the event loop); `reserve(…).start()` returns a
`StreamedRun` for the stream supervisor, which drives it in a task of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable

from agents import (
    Agent,
    ModelSettings,
    RunConfig,
    Runner,
    RunResult,
    RunResultStreaming,
    TResponseInputItem,
    Usage,
)
from openai.types.responses import ResponseTextDeltaEvent

from chatwait import log_context, metrics
from chatwait.cancellation import StopScope
from chatwait.config import Settings
from chatwait.exceptions import ChatWaitError, InternalError, UpstreamTimeout
from chatwait.models.chat import ChatReply, TokenUsage
from chatwait.models.ids import new_conversation_id
from chatwait.services.admission import Admission, Slot
from chatwait.services.conversations import ConversationLease, ConversationStore
from chatwait.services.history import HistoryTrimmer
from chatwait.services.limits import PrincipalLimits, RunTicket
from chatwait.services.llm_service import LanguageModel, translate_upstream_error
from chatwait.services.turn import Turn, answer_items

# Output tokens of a run whose model reports no usage: about four characters a token.
CHARS_PER_TOKEN = 4


class RunDeadline:
    """MAX_RUN_SECONDS for one run, counted from its start (None or 0: no deadline).

    LLM_TIMEOUT_SECONDS bounds each wait for the provider (in a stream, the gap between
    chunks); a provider that dribbles chunks slowly never trips it, so a whole run needs
    its own deadline.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds or None
        loop = asyncio.get_running_loop()
        self._when = loop.time() + self.seconds if self.seconds else None
        # For `next_of`: one timer for the whole run, and the wait in progress under it.
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: StopScope | None = None

    def _expired(self) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"The answer took longer than the server's limit of {self.seconds:g} s "
            "(MAX_RUN_SECONDS) and was stopped."
        )

    async def run[T](self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable`, cancelling it and raising `upstream_timeout` at the deadline."""
        timeout = asyncio.timeout_at(self._when)
        try:
            async with timeout:
                return await awaitable
        except TimeoutError as error:
            if not timeout.expired():
                raise
            raise self._expired() from error

    async def next_of[T](self, events: AsyncIterator[T]) -> T:
        """`anext(events)` under the deadline, as `run` does it, but with one timer for
        the whole run instead of a timeout context per event: a streamed run waits for
        dozens of events. The timer cancels only a wait for an event, never the task
        while it is elsewhere (at the caller's `yield`); a wait that starts after the
        deadline raises at once. Close the deadline with `close()`."""
        if self._when is None:
            return await anext(events)
        loop = asyncio.get_running_loop()
        if loop.time() >= self._when:
            raise self._expired()
        if self._timer is None:
            self._timer = loop.call_at(self._when, self._expire)
        self._waiting = StopScope()
        try:
            return await self._waiting.run(anext(events))
        finally:
            self._waiting = None

    def _expire(self) -> None:
        if self._waiting is not None:
            self._waiting.stop(self._expired())

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _token_usage(usage: Usage) -> TokenUsage:
    return TokenUsage(
        requests=usage.requests,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


def _run_failure(
    conversations: ConversationStore, error: Exception, observed: metrics.RunObservation
) -> ChatWaitError:
    """The ChatWait error for a failed run (store or upstream), recorded in the metrics."""
    store_failure = conversations.store_error(error)
    if store_failure is not None:
        metrics.STORE_ERRORS.inc()
    try:
        failure = store_failure or translate_upstream_error(error)
    except Exception:
        observed.failed(InternalError())  # a bug: re-raised for the caller to log
        raise
    observed.failed(failure)
    return failure


class AgentStreamedRun:
    """Adapts `Runner.run_streamed` to the supervisor's `StreamedRun` protocol: the run
    starts when `deltas()` has read the conversation's history."""

    def __init__(self, reservation: Reservation, turn: Turn, deadline: RunDeadline) -> None:
        self._reservation = reservation
        self._service = reservation.service
        self._turn = turn
        self._conversations = reservation.conversations
        self._deadline = deadline
        self._result: RunResultStreaming | None = None
        self._observed = metrics.RunObservation("stream")
        self._token_count = 0

    async def deltas(self) -> AsyncGenerator[str]:
        try:
            model_input = await self._deadline.run(self._service.model_input(self._turn))
            self._result = Runner.run_streamed(
                self._service.agent, model_input, run_config=self._service.run_config
            )
            events = self._result.stream_events()
            while True:
                # The deadline covers only the wait for the next event, never a suspension
                # at `yield`: a timeout firing while the producer writes to the store would
                # cancel the producer's await, not this one.
                try:
                    event = await self._deadline.next_of(events)
                except StopAsyncIteration:
                    await self._turn.save(answer_items(self._result))
                    self._observed.completed(self.usage())
                    return
                if (
                    event.type == "raw_response_event"
                    and isinstance(event.data, ResponseTextDeltaEvent)
                    and event.data.delta
                ):
                    self._observed.first_token()
                    self._token_count += 1
                    yield event.data.delta
        except Exception as error:
            raise _run_failure(self._conversations, error, self._observed) from error
        finally:
            self._deadline.close()
        # `events` is deliberately not closed here when the producer stops early: the
        # SDK's generator, closed before the run is cancelled, waits for the whole run
        # to finish. The producer calls `cancel()`, which stops the run and its events.

    def final_text(self) -> str | None:
        output = self._result.final_output if self._result is not None else None
        return output if isinstance(output, str) else None

    def usage(self) -> TokenUsage | None:
        return _token_usage(self._result.context_wrapper.usage) if self._result else None

    def cancel(self) -> None:
        if self._result is not None:
            self._result.cancel()

    async def aclose(self) -> None:
        self._observed.end()
        try:
            await self._conversations.end_turn(self._turn)
        finally:  # a cancel landing in the write must not keep the conversation
            await self._reservation.finish(self.usage(), self._token_count)


class Reservation:
    """A run's admission ticket and conversation lease, held until the run ends."""

    def __init__(
        self,
        service: ChatAgentService,
        slot: Slot,
        ticket: RunTicket,
        lease: ConversationLease,
        *,
        new: bool,
    ) -> None:
        self.service = service
        self.conversations = service.conversations
        self._slot = slot
        self._ticket = ticket
        self._lease = lease
        self._new = new

    def turn(self, message: str) -> Turn:
        """The turn the run answers; `conversations.end_turn` it when the run ends."""
        return self.conversations.turn(
            self._lease.owner, self._lease.conversation_id, message, new=self._new
        )

    def start(self, message: str) -> AgentStreamedRun:
        """Start the streamed run; it gives the reservation back when it ends."""
        log_context.bind(conversation_id=self._lease.conversation_id)
        deadline = RunDeadline(self.service.max_run_seconds)
        return AgentStreamedRun(self, self.turn(message), deadline)

    async def finish(self, usage: TokenUsage | None, estimated_output_tokens: int) -> None:
        self._slot.release()
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
        admission: Admission,
    ) -> None:
        self._model = model
        self.admission = admission
        self.conversations = conversations
        self._limits = limits
        self.max_run_seconds = settings.max_run_seconds
        self.max_message_chars = settings.max_message_chars
        self.agent = Agent(
            name="ChatWait",
            instructions=settings.agent_instructions,
            model=model.model,
            # Without include_usage, streamed runs report zero tokens.
            model_settings=ModelSettings(include_usage=True),
        )
        # Which history goes upstream with the new message; history keeps every item.
        self.trimmer = HistoryTrimmer(settings.history_max_tokens)
        # One RunConfig for every run: without one, the Runner builds a new one (and a
        # model provider) per run.
        self.run_config = RunConfig()

    @property
    def model_name(self) -> str:
        return self._model.name

    async def reserve(
        self,
        principal: str,
        conversation_id: str,
        stream_id: str | None = None,
        *,
        new: bool = False,
    ) -> Reservation:
        """Admit a run on this process (503s), for `principal` (429s), and take the
        conversation (409), in that order, so a refused run holds nothing. `new`: the
        server has just named the conversation, so it has no history yet."""
        slot = self.admission.admit_run()
        try:
            ticket = await self._limits.admit(principal)
        except BaseException:
            slot.release()
            raise
        try:
            lease = await self.conversations.acquire(principal, conversation_id, stream_id)
        except BaseException:
            slot.release()
            await ticket.finish(None)
            raise
        return Reservation(self, slot, ticket, lease, new=new)

    async def reply(self, principal: str, message: str, conversation_id: str | None) -> ChatReply:
        """The answer to `message` in `conversation_id` (None: a new conversation)."""
        new = conversation_id is None
        conversation_id = conversation_id or new_conversation_id()
        log_context.bind(conversation_id=conversation_id)
        reservation = await self.reserve(principal, conversation_id, new=new)
        turn = reservation.turn(message)
        observed = metrics.RunObservation("wait")
        usage: TokenUsage | None = None
        text = ""
        try:
            # Shutdown: a run still going when the grace period ends answers 503.
            result = await self.admission.unless_shutdown(
                RunDeadline(self.max_run_seconds).run(self._answer(turn))
            )
            text = str(result.final_output)
            usage = _token_usage(result.context_wrapper.usage)
            observed.completed(usage)
        except Exception as error:
            raise _run_failure(self.conversations, error, observed) from error
        finally:
            observed.end()  # a run cancelled by a disconnected client ends here too
            try:
                await self.conversations.end_turn(turn)
            finally:  # a cancel landing in the write must not keep the conversation
                await reservation.finish(usage, len(text) // CHARS_PER_TOKEN)
        return ChatReply(
            text=text, conversation_id=conversation_id, model=self._model.name, usage=usage
        )

    async def model_input(self, turn: Turn) -> list[TResponseInputItem]:
        """The run's input: the newest whole turns of history that fit HISTORY_MAX_TOKENS,
        then the new message."""
        return self.trimmer(await turn.history(), turn.question)

    async def _answer(self, turn: Turn) -> RunResult:
        result = await Runner.run(
            self.agent, await self.model_input(turn), run_config=self.run_config
        )
        await turn.save(answer_items(result))
        return result
