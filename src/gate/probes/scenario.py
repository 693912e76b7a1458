"""Scenario probe: run the ordered steps of a scenario on one open socket.

For each step it sends the step's message, then reads messages until every
expected item has arrived in order; a message matching nothing is recorded and
skipped (interleaving is allowed). When an item *later* than the next one
arrives first, the step goes on waiting: if the skipped item then arrives, the
events came out of order; if it never does, it is missing and the step times
out (the record keeps what jumped ahead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from gate.matching import json_subset, looks_like_error, parse_json
from gate.probes.errors import from_os
from gate.probes.transcript import ProbeError, WsClose, WsMessage
from gate.probes.ws import close_of, excerpt
from gate.redact import Redactor
from gate.scenario import Scenario, describe
from gate.timing import Deadline, Stopwatch

_KEPT_MESSAGES = 30
Outcome = Literal["done", "timeout", "out_of_order", "closed", "error", "deadline"]


@dataclass(frozen=True)
class StepRecord:
    """What happened in one step."""

    index: int
    sent: str | None
    expected: tuple[str, ...]
    matched: int
    messages: tuple[WsMessage, ...]
    messages_not_kept: int
    outcome: Outcome
    duration_ms: float
    timeout: float
    out_of_order: str | None = None
    ahead: str | None = None
    close: WsClose | None = None
    error: ProbeError | None = None


def _matcher(expected: Any) -> Callable[[str], bool]:
    if isinstance(expected, str):
        return lambda text: expected in text
    return lambda text: json_subset(expected, parse_json(text))


async def run_steps(
    connection: ClientConnection,
    scenario: Scenario,
    values: dict[str, str],
    deadline: Deadline,
    redactor: Redactor,
) -> tuple[StepRecord, ...]:
    """Run every step in order; stop at the first that does not complete."""
    records: list[StepRecord] = []
    for index, step in enumerate(scenario.steps):
        record = await _step(connection, index, step, values, deadline, redactor)
        records.append(record)
        if record.outcome != "done":
            break
    return tuple(records)


async def _step(
    connection: ClientConnection,
    index: int,
    step: Any,
    values: dict[str, str],
    deadline: Deadline,
    redactor: Redactor,
) -> StepRecord:
    watch = Stopwatch()
    matchers = [_matcher(item) for item in step.expect]
    expected = tuple(redactor.text(describe(item)) for item in step.expect)
    messages: list[WsMessage] = []
    not_kept = 0
    matched = 0
    ahead: int | None = None
    sent: str | None = None

    def done(outcome: Outcome, **extra: Any) -> StepRecord:
        return StepRecord(
            index, sent, expected, matched, tuple(messages), not_kept, outcome,
            watch.ms(), step.timeout, **extra,
        )  # fmt: skip

    binding = deadline.binds(step.timeout)
    try:
        text = step.rendered(values)
        if text is not None:
            await connection.send(text)
            sent = redactor.text(excerpt(text))
        async with asyncio.timeout(deadline.clip(step.timeout)):
            while matched < len(matchers):
                data = await connection.recv()
                body = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
                hit = matchers[matched](body)
                later = next(
                    (j for j in range(matched + 1, len(matchers)) if matchers[j](body)), None
                )
                message = WsMessage(
                    watch.ms(), redactor.text(excerpt(body)), len(data), isinstance(data, bytes),
                    hit, looks_like_error(body),
                )  # fmt: skip
                if len(messages) < _KEPT_MESSAGES or hit or later is not None:
                    messages.append(message)
                else:
                    not_kept += 1
                if hit and ahead is not None:
                    return done("out_of_order", out_of_order=expected[ahead])
                if hit:
                    matched += 1
                elif later is not None and ahead is None:
                    ahead = later
    except TimeoutError:
        jumped = expected[ahead] if ahead is not None else None
        return done("deadline" if binding else "timeout", ahead=jumped)
    except ConnectionClosed as exc:
        close, error = close_of(exc, redactor)
        return done("error" if error else "closed", close=close, error=error)
    except OSError as exc:
        return done("error", error=from_os(exc, "scenario", redactor))
    return done("done")
