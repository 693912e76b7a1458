"""``gate.probes.ws``: one WebSocket session (connect, upgrade, negotiation, first exchange),
against the sandbox and raw servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gate.checks.frontend import UNKNOWN_PLATFORM
from gate.config.settings import Settings
from gate.config.tokens import TokenSpec, b64url, load_credential
from gate.probes.context import Probing
from gate.probes.transcript import WsSession
from gate.probes.ws import probe_ws
from gate.redact import Redactor
from gate.run.plans import Plans
from gate.timing import Deadline
from tests.conftest import SECRET
from tests.servers import RawServer


def _session(url: str, deadline_s: float = 5.0, **settings: Any) -> tuple[WsSession, str]:
    given = Settings(url=url, subprotocols=("chat.v1",), expect='{"type": "pong"}', **settings)
    credential = load_credential(TokenSpec(), {"GATE_JWT_SECRET": SECRET})
    assert credential is not None
    redactor = Redactor(credential.secrets)
    plan = Plans.of(given, {}, UNKNOWN_PLATFORM).socket("valid credential", credential.token)
    return asyncio.run(probe_ws(plan, Probing(Deadline(deadline_s), redactor))), credential.token


def test_a_healthy_session_upgrades_selects_and_is_answered(sandbox: Callable[..., Any]) -> None:
    session, _token = _session(sandbox().url)
    assert session.upgraded
    assert session.selected == "chat.v1"
    assert session.exchange is not None
    assert session.exchange.matched


def test_a_close_after_the_first_message_is_recorded_with_its_code(
    sandbox: Callable[..., Any],
) -> None:
    session, _token = _session(sandbox(fault="close-on-message").url)
    assert session.exchange is not None
    assert session.exchange.close is not None
    assert (session.exchange.close.code, session.exchange.close.reason) == (1000, "main cleanup")


def test_a_refused_upgrade_keeps_the_answer(sandbox: Callable[..., Any]) -> None:
    session, _token = _session(sandbox(fault="reject-upgrade").url, retry_budget=0.0)
    assert not session.upgraded
    handshake = session.final.handshake
    assert handshake is not None
    assert handshake.status == 403


def test_an_echoed_credential_is_seen_and_never_recorded(sandbox: Callable[..., Any]) -> None:
    session, token = _session(sandbox(fault="echo-credential").url)
    assert session.selected_index == session.credential_at  # the jwt.* one came back
    assert token not in repr(session)
    assert b64url(token) not in repr(session)  # the form the subprotocol carries it in


async def _garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x16\x03\x01 not http\r\n\r\n")
    await writer.drain()
    writer.close()


def test_garbage_instead_of_a_handshake_is_a_protocol_error() -> None:
    with RawServer(_garbage) as server:
        session, _token = _session(f"http://127.0.0.1:{server.port}", retry_budget=0.0)
    assert session.final.error is not None
    assert session.final.error.kind in ("protocol_error", "empty_reply")


def test_the_deadline_bounds_a_server_that_never_answers() -> None:
    async def hang(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    with RawServer(hang) as server:
        session, _token = _session(
            f"http://127.0.0.1:{server.port}", deadline_s=1.0, read_timeout=30.0, retry_budget=0.0
        )
    assert session.final.error is not None
    assert session.final.error.kind in ("deadline", "read_timeout")
    assert session.duration_ms < 2500
