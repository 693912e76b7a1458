"""WebSocket probe: connect, upgrade, negotiate, and exchange the first message.

The phases are timed and time-limited separately, like httpx splits its
timeouts: DNS and TCP connect under ``--connect-timeout``, TLS and the HTTP
upgrade under ``--read-timeout``, the reply under ``--message-timeout``, each
clipped to the run's deadline. The TCP connection is opened here and handed to
websockets, so a refused or unreachable host is told apart from a slow upgrade.

Subprotocols are offered through websockets' ``subprotocols`` argument, never
as a hand-written ``Sec-WebSocket-Protocol`` header, and redirects of the
upgrade are not followed: a 3xx answer is recorded as the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Response
from websockets.typing import Subprotocol

from gate.matching import looks_like_error
from gate.probes.errors import from_handshake, from_os
from gate.probes.http import USER_AGENT, parse_retry_after
from gate.probes.retry import COLD_START_STATUSES, RetryPolicy, with_retries
from gate.probes.transcript import (
    Exchange,
    Handshake,
    ProbeError,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)
from gate.redact import Redactor
from gate.timing import Deadline, Stopwatch

_KEPT_MESSAGES = 20
_EXCERPT = 300
_KEPT_HEADERS = 30
_CLOSE_WAIT_S = 1.0
_MESSAGE_TOO_BIG = 1009


@dataclass(frozen=True)
class WsPlan:
    """What one WebSocket probe offers, sends and waits for."""

    label: str
    url: str
    offered: tuple[str, ...]
    credential_at: int | None
    headers: Mapping[str, str]
    send: str | None
    matcher: Callable[[str], bool]
    connect_timeout: float
    read_timeout: float
    message_timeout: float
    max_size: int
    ssl_context: ssl.SSLContext | None
    retry: RetryPolicy


class _Connect(connect):
    """websockets' ``connect`` that keeps the connection object and follows no redirect."""

    last: ClientConnection | None = None

    async def open_tcp_connection(self) -> ClientConnection:
        self.last = await super().open_tcp_connection()
        return self.last

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


@dataclass
class _Opened:
    attempt: WsAttempt
    connection: ClientConnection | None
    selected: str | None = None
    selected_index: int | None = None
    echoed: bool = False


def excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def _record_handshake(response: Response, redactor: Redactor) -> Handshake:
    headers = dict(list(response.headers.raw_items())[:_KEPT_HEADERS])
    body = response.body.decode("utf-8", "replace") if response.body else ""
    return Handshake(
        status=response.status_code,
        headers=redactor.headers(headers),
        body=redactor.text(excerpt(body)),
    )


async def _tcp_connect(host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last_error: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            last_error = exc
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    raise last_error


def _timeout_error(deadline: Deadline, kind: Literal["connect", "upgrade"]) -> ProbeError:
    if deadline.expired():
        return ProbeError("deadline", f"the {kind} was still pending at the run's deadline")
    if kind == "connect":
        return ProbeError("connect_timeout", "no TCP connection within --connect-timeout")
    return ProbeError("read_timeout", "no answer to the upgrade within --read-timeout")


async def _open(plan: WsPlan, deadline: Deadline, redactor: Redactor) -> _Opened:
    started_ms = deadline.elapsed_ms()
    watch = Stopwatch()
    parts = urlsplit(plan.url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)

    def failed(error: ProbeError, connect_ms: float | None = None) -> _Opened:
        return _Opened(WsAttempt(started_ms, watch.ms(), connect_ms, error=error), None)

    try:
        async with asyncio.timeout(deadline.clip(plan.connect_timeout)):
            sock = await _tcp_connect(host, port)
    except TimeoutError:
        return failed(_timeout_error(deadline, "connect"))
    except OSError as exc:
        return failed(from_os(exc, "connect", redactor))
    connect_ms = watch.ms()

    tls: dict[str, Any] = {"ssl": plan.ssl_context, "server_hostname": host} if secure else {}
    connector = _Connect(
        plan.url,
        sock=sock,
        subprotocols=[Subprotocol(name) for name in plan.offered] or None,
        additional_headers=dict(plan.headers),
        user_agent_header=USER_AGENT,
        compression=None,
        open_timeout=deadline.clip(plan.read_timeout),
        ping_interval=None,
        close_timeout=_CLOSE_WAIT_S,
        max_size=plan.max_size,
        **tls,
    )
    try:
        connection = await connector
    except InvalidHandshake as exc:
        error = from_handshake(exc, redactor)
        response: Response | None = None
        if isinstance(exc, InvalidStatus):
            response = exc.response
        elif connector.last is not None:
            response = connector.last.response
        opened = failed(error, connect_ms)
        if response is not None:
            opened = _Opened(
                WsAttempt(
                    started_ms,
                    opened.attempt.duration_ms,
                    connect_ms,
                    handshake=_record_handshake(response, redactor),
                    error=error,
                ),
                None,
            )
            _note_selection(opened, response, plan, redactor)
        return opened
    except TimeoutError:
        sock.close()
        return failed(_timeout_error(deadline, "upgrade"), connect_ms)
    except OSError as exc:
        sock.close()
        return failed(from_os(exc, "upgrade", redactor), connect_ms)
    assert connection.response is not None
    opened = _Opened(
        WsAttempt(
            started_ms,
            watch.ms(),
            connect_ms,
            handshake=_record_handshake(connection.response, redactor),
        ),
        connection,
    )
    _note_selection(opened, connection.response, plan, redactor)
    return opened


def _note_selection(opened: _Opened, response: Response, plan: WsPlan, redactor: Redactor) -> None:
    """Record which subprotocol the server chose, and whether it echoed a secret."""
    chosen = ", ".join(response.headers.get_all("Sec-WebSocket-Protocol")) or None
    if chosen is not None:
        opened.selected = redactor.text(chosen)
        opened.selected_index = plan.offered.index(chosen) if chosen in plan.offered else None
    opened.echoed = any(redactor.reveals(value) for _name, value in response.headers.raw_items())


def _retry_after(opened: _Opened) -> float | None:
    error = opened.attempt.error
    if error is None:
        return None
    if error.kind == "connect_refused":
        return 0.0
    handshake = opened.attempt.handshake
    if error.kind == "upgrade_status" and handshake and handshake.status in COLD_START_STATUSES:
        return parse_retry_after(handshake.header("Retry-After"))
    return None


def close_of(exc: ConnectionClosed, redactor: Redactor) -> tuple[WsClose, ProbeError | None]:
    rcvd, sent = exc.rcvd, exc.sent
    if sent is not None and sent.code == _MESSAGE_TOO_BIG and not (rcvd and exc.rcvd_then_sent):
        return WsClose(sent.code, redactor.text(sent.reason), "client"), ProbeError(
            "message_too_large", "a message exceeded --max-message-size; the gate closed with 1009"
        )
    if rcvd is not None and (sent is None or exc.rcvd_then_sent):
        return WsClose(rcvd.code, redactor.text(rcvd.reason), "server"), None
    if rcvd is None and sent is None:
        return WsClose(1006, "", "none"), None
    assert sent is not None
    return WsClose(sent.code, redactor.text(sent.reason), "client"), ProbeError(
        "protocol_error", redactor.text(f"the server broke the WebSocket protocol ({exc})")
    )


async def _exchange(
    connection: ClientConnection, plan: WsPlan, deadline: Deadline, redactor: Redactor
) -> Exchange:
    watch = Stopwatch()
    messages: list[WsMessage] = []
    not_kept = 0
    sent: str | None = None

    def done(
        matched: bool, close: WsClose | None = None, error: ProbeError | None = None
    ) -> Exchange:
        return Exchange(sent, watch.ms(), tuple(messages), not_kept, matched, close, error)

    try:
        if plan.send is not None:
            async with asyncio.timeout(deadline.clip(plan.read_timeout)):
                await connection.send(plan.send)
            sent = redactor.text(excerpt(plan.send))
        binding = deadline.binds(plan.message_timeout)
        async with asyncio.timeout(deadline.clip(plan.message_timeout)):
            while True:
                data = await connection.recv()
                binary = isinstance(data, bytes)
                text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
                matched = not binary and plan.matcher(text)
                message = WsMessage(
                    at_ms=watch.ms(),
                    text=redactor.text(excerpt(text)),
                    size=len(data),
                    binary=binary,
                    matched=matched,
                    error_like=looks_like_error(text),
                )
                if len(messages) < _KEPT_MESSAGES or matched:
                    messages.append(message)
                else:
                    not_kept += 1
                if matched:
                    return done(True)
    except TimeoutError:
        if binding:
            return done(False, error=ProbeError("deadline", "still waiting at the run's deadline"))
        return done(False, error=ProbeError("message_timeout", "no matching message in time"))
    except ConnectionClosed as exc:
        close, error = close_of(exc, redactor)
        return done(False, close, error)
    except OSError as exc:
        return done(False, error=from_os(exc, "exchange", redactor))


async def _close(connection: ClientConnection, deadline: Deadline) -> None:
    wait = deadline.clip(_CLOSE_WAIT_S)
    try:
        async with asyncio.timeout(wait):
            await connection.close()
    except (TimeoutError, OSError, ConnectionClosed):
        connection.transport.abort()


@dataclass
class Connected:
    """The outcome of opening one socket: every attempt, and the connection if it opened."""

    outcomes: list[_Opened]

    @property
    def connection(self) -> ClientConnection | None:
        """The open connection, if the last attempt opened one."""
        return self.outcomes[-1].connection


async def open_socket(plan: WsPlan, deadline: Deadline, redactor: Redactor) -> Connected:
    """Open the socket, retrying cold-start outcomes."""
    outcomes = await with_retries(
        lambda: _open(plan, deadline, redactor), _retry_after, plan.retry, deadline
    )
    return Connected(outcomes)


async def exchange(
    connection: ClientConnection, plan: WsPlan, deadline: Deadline, redactor: Redactor
) -> Exchange:
    """Send the plan's message and wait for a matching reply."""
    return await _exchange(connection, plan, deadline, redactor)


async def close_socket(connected: Connected, deadline: Deadline) -> None:
    """Close the connection if one is open; never raises."""
    if connected.connection is not None:
        with contextlib.suppress(Exception):
            await _close(connected.connection, deadline)


def record_session(
    plan: WsPlan,
    connected: Connected,
    exchange: Exchange | None,
    redactor: Redactor,
    duration_ms: float,
) -> WsSession:
    """The transcript of one socket."""
    last = connected.outcomes[-1]
    return WsSession(
        label=plan.label,
        url=plan.url,
        offered=tuple(redactor.text(name) for name in plan.offered),
        credential_at=plan.credential_at,
        attempts=tuple(o.attempt for o in connected.outcomes),
        duration_ms=duration_ms,
        selected=last.selected,
        selected_index=last.selected_index,
        credential_echoed=last.echoed,
        exchange=exchange,
    )


async def probe_ws(plan: WsPlan, deadline: Deadline, redactor: Redactor) -> WsSession:
    """Open the socket (retrying cold-start outcomes), exchange a message, and close."""
    watch = Stopwatch()
    connected = await open_socket(plan, deadline, redactor)
    result: Exchange | None = None
    try:
        if connected.connection is not None:
            result = await _exchange(connected.connection, plan, deadline, redactor)
    finally:
        await close_socket(connected, deadline)
    return record_session(plan, connected, result, redactor, watch.ms())
