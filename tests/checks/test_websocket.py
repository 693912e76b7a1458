"""``gate.checks.websocket``: the first-message exchange and closes, on hand-built sessions.

The field reports' patterns: a 1011 inside the session, a normal 1000 "main cleanup" close
0.15 s after the first message, a socket that stays open and answers nothing, a dropped
connection, a binary reply to a text protocol.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.checks.websocket import (
    close_text,
    judge_close,
    judge_first_message,
    judge_subprotocol,
    judge_upgrade,
)
from gate.probes.transcript import (
    Exchange,
    Handshake,
    ProbeError,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)

UPGRADED = WsAttempt(0.0, 150.0, 2.0, handshake=Handshake(101, {}, ""))


def _session(exchange: Exchange | None, attempt: WsAttempt = UPGRADED) -> WsSession:
    return WsSession("main", "wss://api/ws", ("jwt.x", "chat.v1"), 0, (attempt,), 300.0,
                     "chat.v1", 1, exchange=exchange)  # fmt: skip


def _exchange(*messages: WsMessage, close: WsClose | None = None, matched: bool = False,
              error: ProbeError | None = None) -> Exchange:  # fmt: skip
    return Exchange('{"type": "ping"}', 150.0, messages, 0, matched, close, error)


PONG = WsMessage(12.0, '{"type": "pong"}', 16, False, True, False)
BINARY_PONG = WsMessage(12.0, '{"type": "pong"}', 16, True, True, False)


@pytest.mark.parametrize(
    ("close", "diagnosis", "seen"),
    [
        (WsClose(1011, "", "server"), "server_error_close", "1011 (internal error)"),
        (WsClose(1000, "main cleanup", "server"), "closed_by_server",
         'normally with 1000 (OK) "main cleanup"'),
        (WsClose(1008, "bad token", "server"), "credential_rejected", "1008"),
        (WsClose(1006, "", "none"), "server_error_close", "without a close frame"),
        (WsClose(4000, "app", "server"), "server_error_close", "4000 (application-defined)"),
    ],
)  # fmt: skip
def test_closes(close: WsClose, diagnosis: str, seen: str) -> None:
    found, what, hint = judge_close(close)
    assert found == diagnosis
    assert seen in what
    assert hint


@pytest.mark.parametrize(
    ("exchange", "status", "diagnosis", "words"),
    [
        (_exchange(PONG, matched=True), "pass", None, "reply in 12.0 ms"),
        (_exchange(close=WsClose(1000, "main cleanup", "server")), "fail", "closed_by_server",
         "0.15 s after the first message, before a matching reply; nothing arrived"),
        (_exchange(close=WsClose(1011, "", "server")), "fail", "server_error_close", "1011"),
        (_exchange(error=ProbeError("message_timeout", "timeout")), "fail",
         "first_message_timeout", "no reply within 10 s after the first message"),
        (_exchange(BINARY_PONG), "fail", "message_wrong_type", "as a binary frame (16 bytes)"),
        (_exchange(error=ProbeError("message_too_large", "2 MiB frame")), "fail",
         "message_too_large", "2 MiB frame"),
    ],
    ids=["reply", "main-cleanup", "1011", "silent", "binary", "huge-frame"],
)  # fmt: skip
def test_first_message(exchange: Exchange, status: str, diagnosis: str | None, words: str) -> None:
    result = judge_first_message(_session(exchange), '{"type": "pong"}', 10.0)
    assert (result.status, result.diagnosis) == (status, diagnosis)
    assert words in result.summary
    if status == "fail":
        assert result.hint


def test_no_exchange_is_a_skip_saying_why() -> None:
    refused = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(403, {}, ""),
                        error=ProbeError("upgrade_status", "HTTP 403"))  # fmt: skip
    result = judge_first_message(_session(None, refused), None, 10.0)
    assert (result.status, result.summary) == ("skip", "not run: the upgrade failed")


def test_close_text_names_the_code() -> None:
    assert close_text(1000, "bye") == '1000 (OK) "bye"'
    assert close_text(1001, "") == "1001 (going away)"


def test_a_redirected_upgrade_names_where_it_goes() -> None:
    moved = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(302, {"Location": "https://api/login"}, ""),
                      error=ProbeError("upgrade_status", "HTTP 302"))  # fmt: skip
    result = judge_upgrade(_session(None, moved), credential=True)
    assert (result.status, result.diagnosis) == ("fail", "upgrade_not_supported")
    assert result.hint is not None
    assert result.hint.startswith("redirect to https://api/login: the gate does not follow it")


def test_a_credential_echoed_in_the_response_headers_is_a_warning() -> None:
    echoed = replace(_session(None), credential_echoed=True)
    result = judge_subprotocol(echoed, "chat.v1")
    assert result.status == "warn"
    assert [w.code for w in result.warnings] == ["credential_echoed"]
    assert "echoed a credential in the upgrade's response headers" in result.warnings[0].message


def test_selecting_the_token_subprotocol_against_expect_says_the_token_was_echoed_and_where() -> (
    None
):
    selected_token = replace(_session(None), selected="jwt.x", selected_index=0)
    result = judge_subprotocol(selected_token, "chat.v1")
    assert (result.status, result.diagnosis) == ("fail", "subprotocol_unexpected")
    assert "the subprotocol carrying the token" in result.summary
    assert result.hint is not None
    assert "echoed the token back in the upgrade response's Sec-WebSocket-Protocol" in result.hint
    plain = replace(_session(None), offered=("jwt.x", "chat.v2", "chat.v1"), selected="chat.v2")
    other = judge_subprotocol(plain, "chat.v1")
    assert other.hint is not None
    assert "token" not in other.hint
