"""The ``--hold`` probe: one socket kept open for a session's length, pinged at an interval.

Cloud Run ends every request, a WebSocket included, at the revision's request timeout, and a
load balancer in front cuts idle sockets at its own backend timeout: a socket that answers
its first message may still die at 30 s, 60 s or 300 s. This probe opens one more socket
(the main socket's plan: URL, subprotocols, credential), then for ``hold_s`` seconds sends
the ping every ``interval_s`` and waits for an answer that matches, reading between pings so
that a cut is seen when it happens, with its age and its close (or the lack of one).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gate.probes.context import Probing
from gate.probes.transcript import HoldEnding, HoldRecord, ProbeError, WsClose
from gate.probes.ws import (
    Seen,
    WsPlan,
    close_socket,
    open_socket,
    receive,
    record_session,
    send_text,
)
from gate.timing import Stopwatch


async def probe_hold(
    plan: WsPlan,
    hold_s: float,
    interval_s: float,
    ping: str | None,
    matcher: Callable[[str], bool],
    probing: Probing,
) -> HoldRecord:
    """Hold a socket open ``hold_s`` seconds, pinging every ``interval_s`` (see the module)."""
    deadline, redactor = probing.deadline, probing.redactor
    watch = Stopwatch()
    connected = await open_socket(plan, probing)
    connection = connected.connection
    pings = answered = 0
    opened_at = time.monotonic()

    def age() -> float:
        return time.monotonic() - opened_at

    def ended(
        how: HoldEnding, close: WsClose | None = None, error: ProbeError | None = None
    ) -> HoldRecord:
        session = record_session(plan, connected, None, redactor, watch.ms())
        return HoldRecord(
            session, hold_s, interval_s, round(age(), 3), pings, answered, how, close, error
        )

    if connection is None:
        return ended("not_opened")
    try:
        while age() < hold_s:
            if deadline.expired():
                return ended("deadline")
            if ping is not None:
                sent = await send_text(connection, ping, plan.read_timeout, deadline)
                if isinstance(sent, ProbeError):
                    return ended("deadline" if sent.kind == "deadline" else "cut", error=sent)
                pings += 1
                wait = min(plan.message_timeout, max(0.0, hold_s - age()))
                got = await receive(
                    connection, lambda text, _binary: Seen(matcher(text), stop=matcher(text)),
                    wait, deadline, redactor, watch, phase="hold", keep=2,
                )  # fmt: skip
                if got.ended == "stopped":
                    answered += 1
                elif got.ended in ("closed", "error"):
                    return ended("cut", got.close, got.error)
                elif age() < hold_s:  # no answer in time, while the session should still run
                    return ended("deadline" if got.ended == "deadline" else "unanswered")
            # The next ping is due at a whole interval from the opening, not from the answer.
            pause = min(max(pings, 1) * interval_s, hold_s) - age()
            if pause > 0:
                between = await receive(
                    connection, lambda _text, _binary: Seen(False), pause, deadline,
                    redactor, watch, phase="hold", keep=0,
                )  # fmt: skip
                if between.ended in ("closed", "error"):
                    return ended("cut", between.close, between.error)
                if between.ended == "deadline":
                    return ended("deadline")
        return ended("held")
    finally:
        await close_socket(connected, deadline)
