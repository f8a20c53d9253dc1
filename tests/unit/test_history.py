"""HistoryTrimmer keeps whole turns: a tool call never travels without its result."""

from __future__ import annotations

from typing import Any

from chatwait.services.history import HistoryTrimmer, estimated_tokens, split_turns


def _turn(number: int) -> list[Any]:
    return [
        {"role": "user", "content": f"question {number}"},
        {"type": "function_call", "call_id": f"c{number}", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": f"c{number}", "output": "42"},
        {"role": "assistant", "type": "message", "content": [{"text": f"answer {number}"}]},
    ]


def test_split_turns_starts_a_turn_at_each_user_message() -> None:
    items = _turn(1) + _turn(2)

    assert split_turns(items) == [_turn(1), _turn(2)]


def test_trimmer_drops_oldest_whole_turns_over_budget() -> None:
    turn_size = sum(estimated_tokens(item) for item in _turn(1))
    trimmer = HistoryTrimmer(max_tokens=2 * turn_size + turn_size // 2)
    new: list[Any] = [{"role": "user", "content": "question 4"}]

    combined = trimmer(_turn(1) + _turn(2) + _turn(3), list(new))

    assert combined == _turn(2) + _turn(3) + new


def test_trimmer_stops_at_the_first_turn_that_does_not_fit() -> None:
    huge = [{"role": "user", "content": "x" * 10_000}]
    trimmer = HistoryTrimmer(max_tokens=1_000)

    assert trimmer(_turn(1) + huge + _turn(3), []) == _turn(3)
