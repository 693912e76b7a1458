"""``gate.checks.auth``: negative-credential sessions refused or served, on hand-built sessions."""

from __future__ import annotations

import pytest

from gate.checks.auth import judge_auth
from gate.model import UNSIGNED
from gate.probes.transcript import (
    AuthProbe,
    Exchange,
    Handshake,
    ProbeError,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)

OPEN = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(101, {}, ""))
PONG = WsMessage(3.0, '{"type": "pong"}', 16, False, True, False)
ERROR_REPLY = WsMessage(3.0, '{"type": "error"}', 17, False, True, True)


def _session(label: str, attempt: WsAttempt = OPEN, exchange: Exchange | None = None) -> WsSession:
    return WsSession(label, "wss://api/ws", ("chat.v1",), None, (attempt,), 5.0, exchange=exchange)


def _exchange(*messages: WsMessage, close: WsClose | None = None) -> Exchange:
    return Exchange("ping", 5.0, messages, 0, any(m.matched for m in messages), close)


MAIN = _session("main", exchange=_exchange(PONG))
REFUSED_403 = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(403, {}, ""),
                        error=ProbeError("upgrade_status", "HTTP 403"))  # fmt: skip


@pytest.mark.parametrize(
    ("variants", "expect_given", "status", "words"),
    [
        ((_session("no credential", REFUSED_403),), False, "pass", "no credential: HTTP 403"),
        ((_session("expired token", exchange=_exchange(close=WsClose(1008, "expired", "server"))),),
         False, "pass", 'closed with 1008 (policy violation) "expired"'),
        ((_session("token signed by a wrong key", exchange=_exchange(ERROR_REPLY)),), False,
         "pass", "answered with an error"),
        ((_session("token signed by a wrong key", exchange=_exchange()),), False, "pass",
         "socket stayed open without a reply"),
        ((_session("token signed by a wrong key", exchange=_exchange(PONG)),), False, "fail",
         "without a valid credential (token signed by a wrong key: replied"),
        ((_session("no credential", REFUSED_403), _session(UNSIGNED, exchange=_exchange(PONG))),
         False, "fail", "accepted an UNSIGNED token (alg: none)"),
        ((_session("expired token", exchange=_exchange(ERROR_REPLY)),), True, "fail",
         "expired token: replied"),  # with --expect, an error-shaped match is still served
    ],
    ids=["403", "1008", "error-reply", "silent", "served", "unsigned-first", "expect-given"],
)  # fmt: skip
def test_refusals_and_forgeries(
    variants: tuple[WsSession, ...], expect_given: bool, status: str, words: str
) -> None:
    result = judge_auth(MAIN, AuthProbe(variants, 9.0), expect_given, None)
    assert result.status == status
    assert words in result.summary
    if status == "fail":
        assert result.diagnosis == "auth_not_enforced"
        assert result.hint is not None
        assert "never alg: none" in result.hint


def test_a_session_that_never_reached_the_server_proves_nothing() -> None:
    lost = WsAttempt(0.0, 5.0, None, error=ProbeError("connect_refused", "refused"))
    result = judge_auth(MAIN, AuthProbe((_session("no credential", lost),), 5.0), False, None)
    assert (result.status, result.diagnosis) == ("fail", "connect_refused")


def test_skips_say_why() -> None:
    assert (
        "--no-check-auth"
        in judge_auth(MAIN, None, False, "turned off with --no-check-auth").summary
    )
    failed = _session("main", REFUSED_403)
    assert "refusals prove nothing" in judge_auth(failed, AuthProbe(), False, None).summary


def test_a_refusal_without_an_answer_or_at_negotiation_counts_as_refused() -> None:
    garbage = WsAttempt(0.0, 5.0, 1.0, error=ProbeError("protocol_error", "garbage bytes"))
    negotiation = _session("token signed by a wrong key")  # upgraded, no exchange
    probe = AuthProbe((_session("no credential", garbage), negotiation), 9.0)
    result = judge_auth(MAIN, probe, False, None)
    assert result.status == "pass"
    assert "no credential: garbage bytes" in result.summary
    assert "handshake failed at subprotocol negotiation" in result.summary
