"""``ws.upgrade``, ``ws.subprotocol`` and ``ws.first_message``: judge one WebSocket session.

The three checks read the same transcript, in the order the protocol runs:
a check whose step was never reached reports ``skip`` with the reason, never
``pass``. Close codes are named as RFC 6455 names them, and each failure says
which side is at fault and where to look.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.checks.frontend import (
    IAM_RETRIES,
    UNKNOWN_PLATFORM,
    Platform,
    front_end_answer,
    front_end_failure,
    proxy_answer,
)
from gate.checks.network import network_failure
from gate.model import CheckId, CheckResult, Diagnosis, Finding, failure, skipped
from gate.probes.transcript import Exchange, WsClose, WsMessage, WsSession
from gate.text import excerpt

UPGRADE: CheckId = "ws.upgrade"
SUBPROTOCOL: CheckId = "ws.subprotocol"
FIRST_MESSAGE: CheckId = "ws.first_message"

CLOSE_NAMES = {
    1000: "OK",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status",
    1006: "abnormal closure",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake",
}
_NORMAL_CLOSES = (1000, 1001)
CREDENTIAL_CLOSES = (1008, 4001, 4003, 4401, 4403)
"""Policy violation, and the application codes services use to refuse a credential."""
_SHOWN_MESSAGES = 3


def judge_close(close: WsClose) -> tuple[Diagnosis, str, str]:
    """A close before the expected reply: its diagnosis, what was seen, and the hint."""
    if close.by == "none":
        return (
            "server_error_close",
            "the connection dropped without a close frame",
            "the server (or a proxy, or the platform's request timeout) cut the session: its "
            "logs at this time hold the error",
        )
    seen = close_text(close.code, close.reason)
    if close.by == "server" and close.code in _NORMAL_CLOSES:
        return (
            "closed_by_server",
            f"server closed the connection normally with {seen}",
            "the server's message handler returned and closed the socket instead of answering: "
            "look at its handler and cleanup path in the server logs",
        )
    if close.by == "server" and close.code in CREDENTIAL_CLOSES:
        return (
            "credential_rejected",
            f"server accepted the socket, then closed it with {seen}",
            "the handler refused the credential after the upgrade: most likely the signing "
            "secret or key was rotated, or the aud, iss or sub the gate mints with differ "
            "from what the service expects; its logs say which",
        )
    return (
        "server_error_close",
        f"server closed the connection with {seen}",
        "the server failed inside the session: its logs at this time hold the error",
    )


def close_text(code: int, reason: str) -> str:
    """``1011 (internal error) "reason"``, as the field reports quote it."""
    name = CLOSE_NAMES.get(code, "application-defined" if code >= 3000 else "unknown")
    return f"{code} ({name})" + (f' "{reason}"' if reason else "")


def _attempts_evidence(session: WsSession) -> list[dict[str, object]]:
    return [
        {
            "started_ms": round(a.started_ms, 1),
            "duration_ms": a.duration_ms,
            "connect_ms": a.connect_ms,
            "dns_ms": a.dns_ms,
            "status": a.handshake.status if a.handshake else None,
            "error": a.error.kind if a.error else None,
        }
        for a in session.attempts
    ]


def session_evidence(session: WsSession) -> dict[str, object]:
    """Evidence shared by the WebSocket checks: URL, attempts, negotiation."""
    evidence: dict[str, object] = {
        "url": session.url,
        "attempts": _attempts_evidence(session),
        "offered_subprotocols": list(session.offered),
        "selected_subprotocol": session.selected,
    }
    final = session.final
    if final.handshake is not None:
        evidence["status"] = final.handshake.status
        evidence["response_headers"] = dict(final.handshake.headers)
        if final.handshake.body:
            evidence["body_excerpt"] = excerpt(final.handshake.body)
    if final.error is not None:
        evidence["error"] = final.error.message
    return evidence


def _session_ms(session: WsSession) -> float:
    first, last = session.attempts[0], session.attempts[-1]
    return round(last.started_ms + last.duration_ms - first.started_ms, 1)


_CREDENTIAL_CAUSES = (
    "the credential was refused: most likely the signing secret or key was rotated, or the "
    "aud, iss or sub the gate mints with differ from what the service expects; then an "
    "Origin check on the WebSocket route; then the HTTP and WebSocket routes reading the "
    "token differently (the WebSocket route reads it from the subprotocol)"
)


def judge_upgrade(
    session: WsSession, credential: bool, platform: Platform = UNKNOWN_PLATFORM
) -> CheckResult:
    """The opening handshake must answer 101 with a valid Sec-WebSocket-Accept."""
    final = session.final
    attempts = len(session.attempts)
    duration = _session_ms(session)
    evidence = session_evidence(session)
    if platform.iam:
        evidence["retries"] = IAM_RETRIES
    if session.upgraded:
        connect = f" (TCP connect {final.connect_ms} ms)" if final.connect_ms is not None else ""
        return CheckResult(
            UPGRADE,
            "pass",
            f"101 Switching Protocols in {final.duration_ms} ms{connect}",
            duration,
            attempts=attempts,
            evidence=evidence,
        )
    error = final.error
    assert error is not None
    handshake = final.handshake
    if error.kind == "upgrade_status" and handshake is not None:
        status = handshake.status
        answer = front_end_answer(status, handshake.headers, handshake.body) or proxy_answer(
            status, handshake.headers
        )
        if answer is not None:
            return front_end_failure(
                UPGRADE, answer, "ws", platform, "upgrade refused",
                duration, attempts, evidence,
            )  # fmt: skip
        body = f": {excerpt(handshake.body)!r}" if handshake.body else ""
        if status == 426 or status < 400:
            hint = (
                "the upgrade was served as plain HTTP: a proxy or load balancer dropped the "
                "Upgrade header, or --ws-path is not the WebSocket route"
            )
            if 300 <= status < 400:
                location = handshake.header("Location") or "?"
                hint = f"redirect to {location}: the gate does not follow it; {hint}"
            return CheckResult(
                UPGRADE,
                "fail",
                f"upgrade answered HTTP {status} instead of 101{body}",
                duration,
                attempts=attempts,
                diagnosis="upgrade_not_supported",
                hint=hint,
                evidence=evidence,
            )
        if status in (401, 403):
            hint = (
                _CREDENTIAL_CAUSES
                if credential
                else "the route needs a credential: set GATE_TOKEN or GATE_JWT_SECRET"
            )
        elif status == 404:
            hint = "no WebSocket route at that path: check --ws-path"
        elif status >= 500:
            hint = "the service failed while handling the upgrade: its logs hold the error"
        else:
            hint = "the server refused the upgrade request: its logs say why"
        retried = f" after {attempts} attempts" if attempts > 1 else ""
        return CheckResult(
            UPGRADE,
            "fail",
            f"upgrade refused with HTTP {status}{retried}{body}",
            duration,
            attempts=attempts,
            diagnosis="upgrade_rejected",
            hint=hint,
            evidence=evidence,
        )
    if error.kind == "handshake_invalid":
        return CheckResult(
            UPGRADE,
            "fail",
            f"101 received but the handshake is invalid: {error.message}",
            duration,
            attempts=attempts,
            diagnosis="handshake_invalid",
            hint="the server or a proxy in front of it answers the upgrade incorrectly "
            "(Sec-WebSocket-Accept, Upgrade or Connection header)",
            evidence=evidence,
        )
    return network_failure(UPGRADE, error, "upgrade", duration, attempts, evidence)


def judge_subprotocol(session: WsSession, expect: str | None) -> CheckResult:
    """The server must select an offered subprotocol (exactly ``expect`` when given)."""
    if not session.upgraded:
        return skipped(SUBPROTOCOL, "not run: the upgrade failed")
    duration = session.final.duration_ms
    evidence = session_evidence(session)
    offered = ", ".join(session.offered)

    def fail(diagnosis: Diagnosis, summary: str, hint: str) -> CheckResult:
        return failure(SUBPROTOCOL, diagnosis, summary, hint, duration, evidence)

    if not session.offered:
        if session.selected is None:
            return skipped(SUBPROTOCOL, "no subprotocol offered (no credential, no --subprotocol)")
        return fail(
            "subprotocol_unexpected",
            f"server selected {session.selected!r} but the gate offered none",
            "a server may only select an offered subprotocol (RFC 6455 4.2.2); a client that "
            "sends its token in a hand-written Sec-WebSocket-Protocol header hits this as "
            "'no subprotocols supported', a client bug; the gate offers through negotiation",
        )
    if session.selected is None:
        return fail(
            "subprotocol_not_selected",
            f"offered [{offered}] through negotiation; the server selected none",
            "the server must answer with one offered name in Sec-WebSocket-Protocol, or "
            "browsers fail the connection; if it expects the token in another form, set "
            "--subprotocol-template",
        )
    if session.selected_index is None:
        return fail(
            "subprotocol_unexpected",
            f"server selected {session.selected!r}, which was not offered ([{offered}])",
            "the server selected a subprotocol the client never offered (RFC 6455 4.2.2): "
            "fix the server's subprotocol selection",
        )
    chosen = session.offered[session.selected_index]
    if expect is not None and chosen != expect and session.selected_index == session.credential_at:
        return fail(
            "subprotocol_unexpected",
            f"server selected {chosen!r}, the subprotocol carrying the token, expected {expect!r}",
            "the server echoed the token back in the upgrade response's Sec-WebSocket-Protocol "
            "header, where proxies and browsers' tools record it: make the server select "
            f"{expect!r}, never the credential-bearing name",
        )
    if expect is not None and chosen != expect:
        return fail(
            "subprotocol_unexpected",
            f"server selected {chosen!r}, expected {expect!r}",
            "the server prefers another subprotocol than the one the client relies on: check "
            "the server's selection order",
        )
    warnings: tuple[Finding, ...] = ()
    if session.selected_index == session.credential_at:
        warnings = (
            Finding(
                "credential_echoed",
                "the server selected the credential-bearing subprotocol, so the token is "
                "echoed in a response header (and in proxy logs); prefer a plain "
                "--subprotocol name for the server to select",
            ),
        )
    elif session.credential_echoed:
        warnings = (
            Finding(
                "credential_echoed",
                "the server echoed a credential in the upgrade's response headers (so it "
                "reaches proxy logs too); stop reflecting request headers in responses",
            ),
        )
    return CheckResult(
        SUBPROTOCOL,
        "warn" if warnings else "pass",
        f"server selected {chosen!r} of [{offered}]",
        duration,
        evidence=evidence,
        warnings=warnings,
    )


def describe_received(messages: Sequence[WsMessage], not_kept: int, noun: str) -> str:
    """What arrived, for a summary: a count and the first few messages."""
    count = len(messages) + not_kept
    if count == 0:
        return "nothing arrived"
    shown = "; ".join(repr(m.text) for m in messages[:_SHOWN_MESSAGES])
    more = f" and {count - _SHOWN_MESSAGES} more" if count > _SHOWN_MESSAGES else ""
    return f"{count} {noun}{'s' * (count != 1)} arrived: {shown}{more}"


def _received(exchange: Exchange) -> str:
    return describe_received(exchange.messages, exchange.messages_not_kept, "non-matching message")


def _exchange_evidence(session: WsSession, exchange: Exchange) -> dict[str, object]:
    evidence = session_evidence(session)
    evidence["sent"] = exchange.sent
    evidence["waited_ms"] = exchange.waited_ms
    evidence["messages"] = [
        {"at_ms": m.at_ms, "size": m.size, "binary": m.binary, "matched": m.matched, "text": m.text}
        for m in exchange.messages
    ]
    evidence["messages_not_kept"] = exchange.messages_not_kept
    if exchange.close is not None:
        evidence["close"] = {
            "code": exchange.close.code,
            "reason": exchange.close.reason,
            "by": exchange.close.by,
        }
    return evidence


def judge_first_message(
    session: WsSession, expect: str | None, message_timeout: float
) -> CheckResult:
    """The first matching message must arrive before a close and within the timeout."""
    exchange = session.exchange
    if exchange is None:
        if session.upgraded:
            return skipped(
                FIRST_MESSAGE, "not run: the handshake failed at subprotocol negotiation"
            )
        return skipped(FIRST_MESSAGE, "not run: the upgrade failed")
    evidence = _exchange_evidence(session, exchange)
    duration = exchange.waited_ms
    after = "after the first message" if exchange.sent is not None else "after the upgrade"
    seconds = f"{exchange.waited_ms / 1000:.2f} s"

    def fail(diagnosis: Diagnosis, summary: str, hint: str) -> CheckResult:
        return failure(FIRST_MESSAGE, diagnosis, summary, hint, duration, evidence)

    if exchange.matched:
        reply = exchange.messages[-1]
        return CheckResult(
            FIRST_MESSAGE,
            "pass",
            f"reply in {reply.at_ms} ms: {reply.text!r}",
            duration,
            evidence=evidence,
        )
    wrong = next((m for m in exchange.messages if m.matched and m.binary), None)
    if wrong is not None:
        return fail(
            "message_wrong_type",
            f"the reply arrived as a binary frame ({wrong.size} bytes) {seconds} {after}, not "
            f"as text: {wrong.text!r}",
            "the server answers a text protocol with a binary frame (browsers hand it to "
            "onmessage as a Blob, JSON parsing fails): send the reply as a text frame",
        )
    if exchange.error is not None and exchange.error.kind != "message_timeout":
        return network_failure(FIRST_MESSAGE, exchange.error, "exchange", duration, 1, evidence)
    close = exchange.close
    if close is not None:
        diagnosis, what, hint = judge_close(close)
        return fail(diagnosis, f"{what} {seconds} {after}, before a matching reply; "
                    f"{_received(exchange)}", hint)  # fmt: skip
    expectation = "a matching message" if expect is not None else "any message"
    return fail(
        "first_message_timeout",
        f"no reply within {message_timeout:g} s {after} (waited for {expectation}); "
        f"{_received(exchange)}",
        "the socket stayed open but the handler never answered: the work behind the reply "
        "(a database call, a model, a stream) stalls; check --expect against what did arrive",
    )
