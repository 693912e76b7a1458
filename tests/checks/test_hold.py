"""``gate.checks.hold``: ``ws.hold`` on hand-built held sockets: held, cut at the revision's
timeout, by a proxy at a round age, by the server's close, unanswered, or never opened."""

from __future__ import annotations

import pytest

from gate.checks.frontend import Platform
from gate.checks.hold import judge_hold
from gate.probes.transcript import (
    Handshake,
    HoldEnding,
    HoldRecord,
    WsAttempt,
    WsClose,
    WsSession,
)

OPENED = WsSession("hold", "wss://api/ws", ("chat.v1",), None,
                   (WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(101, {}, "")),), 5.0, "chat.v1", 0)  # fmt: skip
DROPPED = WsClose(1006, "", "none")


def _held(ended: HoldEnding, age: float, close: WsClose | None = None, pings: int = 2,
          answered: int = 2) -> HoldRecord:  # fmt: skip
    return HoldRecord(OPENED, 40.0, 10.0, age, pings, answered, ended, close)


def test_no_hold_no_check_and_a_full_hold_passes() -> None:
    assert judge_hold(None, Platform()) is None
    check = judge_hold(_held("held", 40.0, pings=4, answered=4), Platform())
    assert check is not None
    assert (check.status, check.summary) == ("pass", "held 40.0 s of 40 s; 4 of 4 pings answered")


@pytest.mark.parametrize(
    ("record", "platform", "words"),
    [
        (_held("cut", 30.2, DROPPED), Platform(timeout_s=30.0),
         "the revision's request timeout (30 s) ended it"),
        (_held("cut", 60.4, DROPPED), Platform(timeout_s=300.0),
         "dropped without a close frame at about 60 s, a proxy's or load balancer's"),
        (_held("cut", 12.0, WsClose(1001, "going away", "server")), Platform(),
         'the server closed it (1001 (going away) "going away")'),
        (_held("cut", 17.0, DROPPED), Platform(),
         "it was dropped without a close frame: the network, a proxy"),
    ],
    ids=["revision-timeout", "proxy-round-age", "server-close", "dropped"],
)  # fmt: skip
def test_a_cut_names_its_likely_cause(record: HoldRecord, platform: Platform, words: str) -> None:
    check = judge_hold(record, platform)
    assert check is not None
    assert (check.status, check.diagnosis) == ("fail", "session_cut")
    assert check.hint is not None
    assert words in check.hint


def test_the_summary_tells_a_dropped_socket_from_a_closed_one() -> None:
    dropped = judge_hold(_held("cut", 30.0, DROPPED), Platform())
    closed = judge_hold(_held("cut", 30.0, WsClose(1000, "bye", "server")), Platform())
    assert dropped is not None
    assert closed is not None
    assert "(without a close frame, 1006)" in dropped.summary
    assert '(the server closed it with 1000 (OK) "bye")' in closed.summary


def test_an_unanswered_ping_a_deadline_and_a_socket_that_never_opened() -> None:
    unanswered = judge_hold(_held("unanswered", 20.0, pings=3, answered=2), Platform())
    assert unanswered is not None
    assert unanswered.diagnosis == "first_message_timeout"
    assert unanswered.summary.startswith("ping 3 got no matching answer")
    late = judge_hold(_held("deadline", 20.0), Platform())
    assert late is not None
    assert late.diagnosis == "deadline_exceeded"
    never = judge_hold(_held("not_opened", 0.0), Platform())
    assert never is not None
    assert never.status == "skip"
    gate_closed = judge_hold(_held("cut", 5.0, WsClose(1009, "", "client")), Platform())
    assert gate_closed is not None
    assert "the gate closed it with 1009" in gate_closed.summary
