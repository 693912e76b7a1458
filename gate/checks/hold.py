"""``ws.hold``: did one socket last as long as a session should (``--hold``)?

A socket cut early is ``session_cut``, with its age and its close, and the likely cause from
what the gate knows:

* the revision's request timeout (``gate verify`` read it): a cut within a couple of seconds
  of it is Cloud Run ending the request, as it ends every request at that age;
* a proxy or load balancer: a cut with no close frame at a round age (30 s, 60 s, 2 min,
  5 min, 10 min, ...), the idle or backend timeouts such boxes ship with (a Google Cloud
  external Application Load Balancer's backend service timeout is 30 s by default);
* the server's own close: a close frame from the server, its code and reason.

A ping that gets no matching answer in time is ``first_message_timeout`` on the held socket.
"""

from __future__ import annotations

from gate.checks.frontend import Platform
from gate.checks.websocket import close_text
from gate.model import CheckId, CheckResult, failure, skipped
from gate.probes.transcript import HoldRecord, WsClose

CHECK_ID: CheckId = "ws.hold"
_ROUND_AGES_S = (30.0, 60.0, 90.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
_NEAR_S = 2.0


def _evidence(record: HoldRecord) -> dict[str, object]:
    close = record.close
    return {
        "hold_s": record.hold_s, "interval_s": record.interval_s, "age_s": record.age_s,
        "pings": record.pings, "answered": record.answered, "ended": record.ended,
        "close": None if close is None else {"code": close.code, "reason": close.reason,
                                             "by": close.by},
    }  # fmt: skip


def likely_cause(age_s: float, close: WsClose | None, platform: Platform) -> str:
    """Why a socket was cut at ``age_s``, from its close and what the run knows."""
    timeout = platform.timeout_s
    if timeout is not None and abs(age_s - timeout) <= _NEAR_S:
        return (
            f"the revision's request timeout ({timeout:g} s) ended it: Cloud Run ends every "
            f"request, a WebSocket included, at that age; raise it with gcloud run deploy "
            f"--timeout (at most 3600), and make clients reconnect"
        )
    if close is not None and close.by == "server":
        return (
            f"the server closed it ({close_text(close.code, close.reason)}): its logs at that "
            "time say why"
        )
    near = next((r for r in _ROUND_AGES_S if abs(age_s - r) <= _NEAR_S), None)
    if near is not None:
        return (
            f"it was dropped without a close frame at about {near:g} s, a proxy's or load "
            "balancer's idle or backend timeout (a Google Cloud load balancer's backend "
            "service timeout is 30 s by default): raise that timeout, or ping more often than "
            "it"
        )
    return (
        "it was dropped without a close frame: the network, a proxy, or the server's process "
        "ended it; the service's logs at that time say which"
    )


def judge_hold(record: HoldRecord | None, platform: Platform) -> CheckResult | None:
    """The ``ws.hold`` check (``None`` without ``--hold``)."""
    if record is None:
        return None
    evidence = _evidence(record)
    duration = record.age_s * 1000
    held = f"{record.age_s:.1f} s of {record.hold_s:g} s"
    pinged = f"{record.answered} of {record.pings} pings answered"
    if record.ended == "not_opened":
        return skipped(CHECK_ID, "not run: the held socket did not open (see ws.upgrade)")
    if record.ended == "held":
        return CheckResult(CHECK_ID, "pass", f"held {held}; {pinged}", duration, evidence=evidence)
    if record.ended == "deadline":
        return failure(
            CHECK_ID, "deadline_exceeded", f"the run's deadline came after {held}; {pinged}",
            "raise --deadline above --hold: the held socket counts toward it", duration,
            evidence,
        )  # fmt: skip
    if record.ended == "unanswered":
        return failure(
            CHECK_ID, "first_message_timeout",
            f"ping {record.pings} got no matching answer within --message-timeout after "
            f"{held}; {pinged}",
            "the socket stayed open but stopped answering: a handler that serves only the "
            "first message, or an instance starved of CPU between requests (revision.config)",
            duration, evidence,
        )  # fmt: skip
    close = record.close
    dropped = close is None or close.by == "none"
    how = (
        "without a close frame, 1006"
        if dropped or close is None
        else (
            f"{'the gate' if close.by == 'client' else 'the server'} closed it with "
            f"{close_text(close.code, close.reason)}"
        )
    )
    return failure(
        CHECK_ID, "session_cut", f"cut after {held} ({how}); {pinged}",
        likely_cause(record.age_s, close, platform), duration, evidence,
    )  # fmt: skip
