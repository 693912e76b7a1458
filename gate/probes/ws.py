"""WebSocket probe: connect, upgrade, negotiate, and exchange the first message.

The phases are timed and time-limited separately, like httpx splits its
timeouts: DNS and TCP connect under ``--connect-timeout``, TLS and the HTTP
upgrade under ``--read-timeout``, the reply under ``--message-timeout``, each
clipped to the run's deadline. The TCP connection is opened here and handed to
websockets through ``connect(sock=...)``, so a refused or unreachable host is
told apart from a slow upgrade; with a socket of its own websockets follows no
redirect, so a 3xx answer is recorded as the outcome.

Subprotocols are offered through websockets' ``subprotocols`` argument, never
as a hand-written ``Sec-WebSocket-Protocol`` header. Only websockets' public API
is used: ``connect(sock=..., create_connection=...)`` with a subclass of
``ClientConnection`` that remembers the connection, so that the server's answer
(``ClientConnection.response``) is still recorded when the negotiation fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol

from gate.matching import looks_like_error
from gate.probes.context import Probing
from gate.probes.errors import from_close, from_handshake, from_os, handshake_response
from gate.probes.http import USER_AGENT
from gate.probes.resolve import Address, resolve
from gate.probes.retry import RetryPolicy, with_retries
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
from gate.text import EXCERPT
from gate.timing import Deadline, Stopwatch

KEPT_MESSAGES = 20
_HANDSHAKE_BODY = 4096  # enough for any front end's error page, which the checks classify
_KEPT_HEADERS = 30
_CLOSE_WAIT_S = 1.0


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
    retry: RetryPolicy[WsAttempt]


@dataclass
class _Opened:
    attempt: WsAttempt
    connection: ClientConnection | None
    selected: str | None = None
    selected_index: int | None = None
    echoed: bool = False


def _record_handshake(response: Response, redactor: Redactor) -> Handshake:
    headers = dict(list(response.headers.raw_items())[:_KEPT_HEADERS])
    body = response.body.decode("utf-8", "replace") if response.body else ""
    return Handshake(
        status=response.status_code,
        headers=redactor.headers(headers),
        body=redactor.record(body, _HANDSHAKE_BODY),
    )


async def tcp_connect(addresses: Sequence[Address]) -> socket.socket:
    """A connected non-blocking socket to the first address that accepts."""
    loop = asyncio.get_running_loop()
    last_error: OSError = OSError("no address to connect to")
    for family, kind, proto, _name, address in addresses:
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


def _recording() -> tuple[type[ClientConnection], list[ClientConnection]]:
    """A ``ClientConnection`` subclass that keeps every instance it makes, and that list.

    ``connect(create_connection=...)`` takes such a subclass by design; keeping
    the instance gives access to the server's answer when the handshake fails
    after the response arrived (a subprotocol the client never offered).
    """
    made: list[ClientConnection] = []

    class Recorded(ClientConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    return Recorded, made


def _selection(opened: _Opened, response: Response, plan: WsPlan, redactor: Redactor) -> _Opened:
    """Record which subprotocol the server chose, and whether it echoed a secret."""
    chosen = ", ".join(response.headers.get_all("Sec-WebSocket-Protocol")) or None
    if chosen is not None:
        opened.selected = redactor.record(chosen)
        opened.selected_index = plan.offered.index(chosen) if chosen in plan.offered else None
    opened.echoed = any(
        redactor.reveals(name) or redactor.reveals(value)
        for name, value in response.headers.raw_items()
    )
    return opened


async def _open(plan: WsPlan, deadline: Deadline, redactor: Redactor) -> _Opened:
    started_ms = deadline.elapsed_ms()
    watch = Stopwatch()
    parts = urlsplit(plan.url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)

    dns_ms: float | None = None

    def attempt(
        connect_ms: float | None, error: ProbeError | None, response: Response | None = None
    ) -> WsAttempt:
        handshake = _record_handshake(response, redactor) if response is not None else None
        return WsAttempt(
            started_ms, watch.ms(), connect_ms, handshake=handshake, error=error, dns_ms=dns_ms
        )

    addresses = await resolve(host, port, plan.connect_timeout, deadline, redactor)
    dns_ms = watch.ms()
    if isinstance(addresses, ProbeError):
        return _Opened(attempt(None, addresses), None)
    try:
        async with asyncio.timeout(deadline.clip(plan.connect_timeout)):
            sock = await tcp_connect(addresses)
    except TimeoutError:
        return _Opened(attempt(None, _timeout_error(deadline, "connect")), None)
    except OSError as exc:
        return _Opened(attempt(None, from_os(exc, "connect", redactor)), None)
    connect_ms = watch.ms()

    tls: dict[str, Any] = {"ssl": plan.ssl_context, "server_hostname": host} if secure else {}
    factory, made = _recording()
    try:
        connection = await connect(
            plan.url,
            sock=sock,
            create_connection=factory,
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
    except TimeoutError:
        sock.close()
        return _Opened(attempt(connect_ms, _timeout_error(deadline, "upgrade")), None)
    except OSError as exc:
        sock.close()
        return _Opened(attempt(connect_ms, from_os(exc, "upgrade", redactor)), None)
    except (InvalidHandshake, InvalidURI, ValueError) as exc:
        if not isinstance(exc, InvalidHandshake) and handshake_response(exc) is None:
            raise  # not a refused redirect: a bug, not the target's doing
        sock.close()
        response = handshake_response(exc) or (made[-1].response if made else None)
        opened = _Opened(attempt(connect_ms, from_handshake(exc, redactor), response), None)
        return _selection(opened, response, plan, redactor) if response else opened
    assert connection.response is not None
    opened = _Opened(attempt(connect_ms, None, connection.response), connection)
    return _selection(opened, connection.response, plan, redactor)


@dataclass(frozen=True)
class Seen:
    """A reader's judgement of one message: did it match, keep it anyway, stop reading?"""

    matched: bool
    notable: bool = False
    stop: bool = False


Ending = Literal["stopped", "timeout", "deadline", "closed", "error"]


@dataclass(frozen=True)
class Received:
    """What one read loop got: the kept messages, and how the loop ended.

    ``ended`` is ``stopped`` when the reader was satisfied, ``timeout`` or
    ``deadline`` when time ran out (the step's own limit, or the run's),
    ``closed`` when the socket ended (``close``), ``error`` otherwise.
    """

    messages: tuple[WsMessage, ...]
    not_kept: int
    ended: Ending
    close: WsClose | None = None
    error: ProbeError | None = None


async def receive(
    connection: ClientConnection,
    look: Callable[[str, bool], Seen],
    limit_s: float,
    deadline: Deadline,
    redactor: Redactor,
    watch: Stopwatch,
    phase: str,
    keep: int = KEPT_MESSAGES,
) -> Received:
    """Read messages until ``look`` says stop, ``limit_s`` passes, or the socket ends.

    Every message is recorded redacted and cut to an excerpt; beyond ``keep``
    only the ones ``look`` finds notable are kept, the rest are counted.
    """
    messages: list[WsMessage] = []
    not_kept = 0

    def ended(
        how: Ending, close: WsClose | None = None, error: ProbeError | None = None
    ) -> Received:
        return Received(tuple(messages), not_kept, how, close, error)

    binding = deadline.binds(limit_s)
    try:
        async with asyncio.timeout(deadline.clip(limit_s)):
            while True:
                data = await connection.recv()
                binary = isinstance(data, bytes)
                text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
                seen = look(text, binary)
                message = WsMessage(
                    at_ms=watch.ms(),
                    text=redactor.record(text, EXCERPT),
                    size=len(data),
                    binary=binary,
                    matched=seen.matched,
                    error_like=looks_like_error(text),
                )
                if len(messages) < keep or seen.matched or seen.notable:
                    messages.append(message)
                else:
                    not_kept += 1
                if seen.stop:
                    return ended("stopped")
    except TimeoutError:
        late = await _close_left_open(connection, redactor)
        if late is not None:
            return ended("closed", late)
        return ended("deadline" if binding else "timeout")
    except ConnectionClosed as exc:
        close, error = from_close(exc, redactor)
        return ended("error" if error else "closed", close, error)
    except OSError as exc:
        return ended("error", error=from_os(exc, phase, redactor))


async def _close_left_open(connection: ClientConnection, redactor: Redactor) -> WsClose | None:
    """The close frame of a server that then kept TCP open, or ``None``.

    The library ends ``recv`` only when TCP closes, so a server that sends a close
    frame and keeps the connection open would read as "nothing arrived". When the
    wait ends with the connection closing (the gate sent no close of its own
    while receiving), the gate finishes the close within its close timeout and
    reports the server's frame.
    """
    if connection.state is not State.CLOSING:
        return None
    with contextlib.suppress(TimeoutError, OSError):
        async with asyncio.timeout(_CLOSE_WAIT_S + 0.5):
            await connection.close()
    if connection.close_code is None:
        return None
    return WsClose(connection.close_code, redactor.record(connection.close_reason or ""), "server")


async def send_text(
    connection: ClientConnection, text: str, limit_s: float, deadline: Deadline
) -> Literal["sent", "closed"] | ProbeError:
    """Send one message within ``limit_s``.

    ``closed`` when the socket had already ended (the receive that follows reads
    how); an error when the server does not take the message in time, e.g. a
    server that stopped reading.
    """
    try:
        async with asyncio.timeout(deadline.clip(limit_s)):
            await connection.send(text)
    except TimeoutError:
        if deadline.expired():
            return ProbeError("deadline", "still sending at the run's deadline")
        return ProbeError(
            "read_timeout", "the server did not take the message within --read-timeout"
        )
    except ConnectionClosed:
        return "closed"
    return "sent"


async def exchange(connection: ClientConnection, plan: WsPlan, probing: Probing) -> Exchange:
    """Send the plan's message and wait for a matching reply."""
    deadline, redactor = probing.deadline, probing.redactor
    watch = Stopwatch()
    sent: str | None = None
    if plan.send is not None:
        outcome = await send_text(connection, plan.send, plan.read_timeout, deadline)
        if isinstance(outcome, ProbeError):
            return Exchange(None, watch.ms(), (), 0, False, error=outcome)
        if outcome == "sent":
            sent = redactor.record(plan.send, EXCERPT)

    def look(text: str, _binary: bool) -> Seen:
        # A binary frame that would match is the reply in the wrong frame type: stop there too.
        matched = plan.matcher(text)
        return Seen(matched, stop=matched)

    got = await receive(
        connection, look, plan.message_timeout, deadline, redactor, watch, phase="exchange"
    )
    error = got.error
    if got.ended == "deadline":
        error = ProbeError("deadline", "still waiting at the run's deadline")
    elif got.ended == "timeout":
        error = ProbeError("message_timeout", "no matching message in time")
    matched = got.ended == "stopped" and not got.messages[-1].binary
    return Exchange(sent, watch.ms(), got.messages, got.not_kept, matched, got.close, error)


@dataclass
class Connected:
    """The outcome of opening one socket: every attempt, and the connection if it opened."""

    outcomes: list[_Opened]

    @property
    def connection(self) -> ClientConnection | None:
        """The open connection, if the last attempt opened one."""
        return self.outcomes[-1].connection


async def open_socket(plan: WsPlan, probing: Probing) -> Connected:
    """Open the socket, retrying what ``plan.retry`` calls retryable."""
    deadline, redactor = probing.deadline, probing.redactor
    retry = RetryPolicy[_Opened](plan.retry.budget_s, lambda o: plan.retry.decide(o.attempt))
    outcomes = await with_retries(lambda: _open(plan, deadline, redactor), retry, deadline)
    return Connected(outcomes)


async def close_socket(connected: Connected, deadline: Deadline) -> None:
    """Close the connection if one is open, within a second; never raises."""
    connection = connected.connection
    if connection is None:
        return
    try:
        async with asyncio.timeout(deadline.clip(_CLOSE_WAIT_S)):
            await connection.close()
    except (TimeoutError, OSError, ConnectionClosed):
        with contextlib.suppress(Exception):
            connection.transport.abort()


def record_session(
    plan: WsPlan,
    connected: Connected,
    result: Exchange | None,
    redactor: Redactor,
    duration_ms: float,
) -> WsSession:
    """The transcript of one socket."""
    last = connected.outcomes[-1]
    return WsSession(
        label=plan.label,
        url=plan.url,
        offered=tuple(redactor.record(name) for name in plan.offered),
        credential_at=plan.credential_at,
        attempts=tuple(o.attempt for o in connected.outcomes),
        duration_ms=duration_ms,
        selected=last.selected,
        selected_index=last.selected_index,
        credential_echoed=last.echoed,
        exchange=result,
    )


async def probe_ws(
    plan: WsPlan, probing: Probing, on_open: Callable[[WsSession], None] | None = None
) -> WsSession:
    """Open the socket (retrying cold-start outcomes), exchange a message, and close.

    ``on_open`` is handed the session as it stands once the upgrade is decided (opened or
    refused, no exchange yet): what a run interrupted while it awaits the first message can
    still judge.
    """
    deadline, redactor = probing.deadline, probing.redactor
    watch = Stopwatch()
    connected = await open_socket(plan, probing)
    if on_open is not None:
        on_open(record_session(plan, connected, None, redactor, watch.ms()))
    result: Exchange | None = None
    try:
        if connected.connection is not None:
            result = await exchange(connected.connection, plan, probing)
    finally:
        await close_socket(connected, deadline)
    return record_session(plan, connected, result, redactor, watch.ms())
