"""Frozen records of what the probes saw. Checks judge these and nothing else.

All text fields are already redacted when a transcript is built. Times are in
milliseconds; ``started_ms`` is measured from the start of the run. This module
imports no network library, so the checks that read it do not either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ErrorKind = Literal[
    "dns_failure",
    "connect_refused",
    "connect_timeout",
    "tls_error",
    "read_timeout",
    "protocol_error",
    "empty_reply",
    "deadline",
    "upgrade_status",
    "handshake_invalid",
    "subprotocol_negotiation",
    "message_too_large",
    "message_timeout",
    "connection_lost",
]


@dataclass(frozen=True)
class ProbeError:
    """An error met by a probe, classified at the boundary."""

    kind: ErrorKind
    message: str


def header_of(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response as received (body decoded, capped, redacted)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: str
    body_bytes: int
    body_truncated: bool

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased."""
        value = header_of(self.headers, "Content-Type") or ""
        return value.split(";")[0].strip().lower()

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name."""
        return header_of(self.headers, name)


@dataclass(frozen=True)
class HttpAttempt:
    """One HTTP request and its outcome."""

    started_ms: float
    duration_ms: float
    response: HttpResponse | None = None
    error: ProbeError | None = None


@dataclass(frozen=True)
class HttpTranscript:
    """All attempts of one HTTP probe; the last one is the outcome."""

    method: str
    url: str
    attempts: tuple[HttpAttempt, ...]
    duration_ms: float

    @property
    def final(self) -> HttpAttempt:
        """The attempt whose outcome counts."""
        return self.attempts[-1]


@dataclass(frozen=True)
class Handshake:
    """The server's answer to the opening handshake, whatever its status."""

    status: int
    headers: Mapping[str, str]
    body: str

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name."""
        return header_of(self.headers, name)


@dataclass(frozen=True)
class WsAttempt:
    """One connection attempt: DNS, TCP connect, TLS, and the HTTP upgrade.

    ``dns_ms`` and ``connect_ms`` are measured from the attempt's start (the name resolved,
    the TCP connection made); TLS and the upgrade are one call of websockets, timed together
    up to ``duration_ms``.
    """

    started_ms: float
    duration_ms: float
    connect_ms: float | None
    handshake: Handshake | None = None
    error: ProbeError | None = None
    dns_ms: float | None = None


@dataclass(frozen=True)
class WsMessage:
    """A message received on the socket (text excerpt, redacted)."""

    at_ms: float
    text: str
    size: int
    binary: bool
    matched: bool
    error_like: bool


@dataclass(frozen=True)
class WsClose:
    """How the connection ended during the exchange.

    ``by`` is ``server`` when the server sent the first close frame, ``client``
    when the gate did (e.g. 1009 for an oversized message), ``none`` when the
    TCP connection dropped without any close frame (code 1006).
    """

    code: int
    reason: str
    by: Literal["server", "client", "none"]


@dataclass(frozen=True)
class Exchange:
    """The first-message exchange on an open socket."""

    sent: str | None
    waited_ms: float
    messages: tuple[WsMessage, ...]
    messages_not_kept: int
    matched: bool
    close: WsClose | None = None
    error: ProbeError | None = None


@dataclass(frozen=True)
class WsSession:
    """One WebSocket probe: connection attempts, negotiation facts, and the exchange.

    ``offered`` lists the subprotocols offered through negotiation (redacted);
    ``credential_at`` is the index of the one carrying the token, if any.
    ``selected_index`` is the index in ``offered`` of the server's choice, or
    ``None`` when it chose nothing or something never offered
    (``selected`` then tells which).
    """

    label: str
    url: str
    offered: tuple[str, ...]
    credential_at: int | None
    attempts: tuple[WsAttempt, ...]
    duration_ms: float
    selected: str | None = None
    selected_index: int | None = None
    credential_echoed: bool = False
    exchange: Exchange | None = None

    @property
    def final(self) -> WsAttempt:
        """The attempt whose outcome counts."""
        return self.attempts[-1]

    @property
    def upgraded(self) -> bool:
        """True when the server answered 101 with a valid handshake."""
        error = self.final.error
        return self.final.handshake is not None and (
            error is None or error.kind == "subprotocol_negotiation"
        )


@dataclass(frozen=True)
class AuthProbe:
    """The negative-credential sessions of ``ws.auth_enforced``."""

    variants: tuple[WsSession, ...] = field(default_factory=tuple)
    duration_ms: float = 0.0


StepOutcome = Literal[
    "done", "timeout", "out_of_order", "closed", "error", "deadline", "not_opened"
]


@dataclass(frozen=True)
class StepRecord:
    """What happened in one scenario step: what was sent, what arrived, how it ended.

    ``out_of_order`` names a later expected item that arrived before the one
    expected next, which then arrived too; ``ahead`` names such a later item
    when the step timed out still waiting (a missing event).
    """

    index: int
    sent: str | None
    expected: tuple[str, ...]
    matched: int
    messages: tuple[WsMessage, ...]
    messages_not_kept: int
    outcome: StepOutcome
    duration_ms: float
    timeout: float
    out_of_order: str | None = None
    ahead: str | None = None
    close: WsClose | None = None
    error: ProbeError | None = None
    socket: str = "main"


HoldEnding = Literal["held", "cut", "unanswered", "deadline", "not_opened"]


@dataclass(frozen=True)
class HoldRecord:
    """The socket of ``--hold``: how long it stayed open, its pings, and how it ended.

    ``ended`` is ``held`` when it lasted ``hold_s`` and the gate closed it, ``cut`` when it
    ended before (``close`` says how: a server's close frame, or none at all),
    ``unanswered`` when a ping got no matching answer in time, ``deadline`` when the run's
    deadline came first, ``not_opened`` when the upgrade failed (``session`` has why).
    ``age_s`` is how long it was open.
    """

    session: WsSession
    hold_s: float
    interval_s: float
    age_s: float
    pings: int
    answered: int
    ended: HoldEnding
    close: WsClose | None = None
    error: ProbeError | None = None
