"""Scenario probe: run the ordered steps of a scenario on its open sockets.

Each step runs on the socket it names; ``sockets`` opens one on first use (the caller
decides how: the main socket's plan, or a user's own claims), and a socket that does not
open ends the scenario there (``not_opened``). Messages a socket receives while steps run
on another wait in its queue, so a broadcast sent on one socket is read on the next step
of the other.

For each step it sends the step's message, then reads messages until every
expected item has arrived in order; a message matching nothing is recorded and
skipped (interleaving is allowed). When an item *later* than the next one
arrives first, the step goes on waiting: if the skipped item then arrives, the
events came out of order; if it never does, it is missing and the step times
out (the record keeps what jumped ahead).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection

from gate.config.scenario import Expected, Scenario, Step, describe
from gate.matching import json_subset, parse_json
from gate.probes.transcript import ProbeError, StepOutcome, StepRecord, WsClose, WsMessage
from gate.probes.ws import Seen, receive, send_text
from gate.redact import Redactor
from gate.text import EXCERPT
from gate.timing import Deadline, Stopwatch

_KEPT_MESSAGES = 30


def _matcher(expected: Expected) -> Callable[[str], bool]:
    if isinstance(expected, str):
        return lambda text: expected in text
    return lambda text: json_subset(expected, parse_json(text))


Sockets = Callable[[str], Awaitable[ClientConnection | None]]
"""The open socket of a name (opened on first use), or ``None`` if it did not open."""


async def run_steps(
    sockets: Sockets,
    scenario: Scenario,
    values: dict[str, str],
    deadline: Deadline,
    redactor: Redactor,
    send_timeout: float,
) -> tuple[StepRecord, ...]:
    """Run every step in order, each on its socket; stop at the first that does not complete."""
    records: list[StepRecord] = []
    for index, step in enumerate(scenario.steps):
        connection = await sockets(step.socket)
        if connection is None:
            expected = tuple(redactor.record(describe(item)) for item in step.expect)
            records.append(StepRecord(index, None, expected, 0, (), 0, "not_opened", 0.0,
                                      step.timeout, socket=step.socket))  # fmt: skip
            break
        record = await _step(connection, index, step, values, deadline, redactor, send_timeout)
        records.append(record)
        if record.outcome != "done":
            break
    return tuple(records)


async def _step(
    connection: ClientConnection,
    index: int,
    step: Step,
    values: dict[str, str],
    deadline: Deadline,
    redactor: Redactor,
    send_timeout: float,
) -> StepRecord:
    watch = Stopwatch()
    matchers = [_matcher(item) for item in step.expect]
    expected = tuple(redactor.record(describe(item)) for item in step.expect)
    matched = 0
    ahead: int | None = None
    reordered = False
    sent: str | None = None

    def record(
        outcome: StepOutcome,
        out_of_order: str | None = None,
        ahead: str | None = None,
        close: WsClose | None = None,
        error: ProbeError | None = None,
    ) -> StepRecord:
        return StepRecord(
            index, sent, expected, matched, messages, not_kept, outcome, watch.ms(),
            step.timeout, out_of_order, ahead, close, error, step.socket,
        )  # fmt: skip

    messages: tuple[WsMessage, ...] = ()
    not_kept = 0
    text = step.rendered(values)
    if text is not None:
        outcome = await send_text(connection, text, send_timeout, deadline)
        if isinstance(outcome, ProbeError):
            return record("deadline" if outcome.kind == "deadline" else "error", error=outcome)
        if outcome == "sent":
            sent = redactor.record(text, EXCERPT)
    if not matchers:
        return record("done")

    def look(body: str, _binary: bool) -> Seen:
        nonlocal matched, ahead, reordered
        hit = matchers[matched](body)
        later = next((j for j in range(matched + 1, len(matchers)) if matchers[j](body)), None)
        if hit and ahead is not None:
            reordered = True
            return Seen(True, stop=True)
        if hit:
            matched += 1
        elif later is not None and ahead is None:
            ahead = later
        return Seen(hit, notable=later is not None, stop=matched == len(matchers))

    got = await receive(
        connection, look, step.timeout, deadline, redactor, watch,
        phase="scenario", keep=_KEPT_MESSAGES,
    )  # fmt: skip
    messages, not_kept = got.messages, got.not_kept
    if got.ended == "stopped":
        if reordered and ahead is not None:
            return record("out_of_order", out_of_order=expected[ahead])
        return record("done")
    if got.ended in ("timeout", "deadline"):
        jumped = expected[ahead] if ahead is not None else None
        return record(got.ended, ahead=jumped)
    return record(got.ended, close=got.close, error=got.error)
