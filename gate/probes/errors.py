"""The one boundary where exceptions of requests, websockets and the OS become data.

Nothing outside this module inspects a third-party exception. Each function
returns a :class:`ProbeError` whose ``kind`` the checks turn into a diagnosis
code and whose ``message`` is already redacted. requests is imported only by
:func:`from_requests`, which runs in the worker thread of a failed GET (see
:mod:`gate.probes.http` for why requests is kept off the start-up path).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import TYPE_CHECKING

from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidHeader,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
)
from websockets.http11 import Response

from gate.probes.transcript import ErrorKind, ProbeError, WsClose
from gate.redact import Redactor

if TYPE_CHECKING:
    import requests


# The server closed or reset the connection before a byte of an answer.
_NOTHING_SENT = (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _first(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    # urllib3 wraps the OS error in its own and keeps it in args, not only __cause__.
    for link in _chain(exc):
        if isinstance(link, kinds):
            return link
        for arg in link.args:
            if isinstance(arg, BaseException):
                found = _first(arg, kinds)
                if found is not None:
                    return found
    return None


def from_requests(exc: requests.RequestException, redactor: Redactor) -> ProbeError:
    """Classify an exception raised by requests."""
    import requests

    kind: ErrorKind
    cause: BaseException = exc
    if isinstance(exc, requests.exceptions.SSLError):
        kind = "tls_error"
        cause = _first(exc, (ssl.SSLError,)) or exc
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        # urllib3's own text ("HTTPConnectionPool(host=...): ...") says nothing a user needs.
        return ProbeError("connect_timeout", "no TCP connection within --connect-timeout")
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        return ProbeError("read_timeout", "no answer within --read-timeout")
    elif (found := _first(exc, (socket.gaierror,))) is not None or "NameResolution" in str(exc):
        kind, cause = "dns_failure", found or exc
    elif (found := _first(exc, (ConnectionRefusedError,))) is not None:
        kind, cause = "connect_refused", found
    elif (found := _first(exc, (TimeoutError, socket.timeout))) is not None:
        kind, cause = "read_timeout", found
    elif (found := _first(exc, _NOTHING_SENT)) is not None:
        kind, cause = "empty_reply", found
    else:
        kind = "protocol_error"
        cause = _first(exc, (http.client.HTTPException, OSError)) or exc
    return ProbeError(kind, redactor.record(_describe(cause)))


def from_os(exc: OSError, phase: str, redactor: Redactor) -> ProbeError:
    """Classify an OS-level error met while resolving or connecting."""
    kind: ErrorKind
    if isinstance(exc, socket.gaierror):
        kind = "dns_failure"
    elif isinstance(exc, ssl.SSLError):
        kind = "tls_error"
    elif isinstance(exc, ConnectionRefusedError):
        kind = "connect_refused"
    elif isinstance(exc, TimeoutError):
        kind = "connect_timeout" if phase == "connect" else "read_timeout"
    elif phase == "connect":
        kind = "connect_refused"
    elif phase == "upgrade" and isinstance(exc, ConnectionResetError | ConnectionAbortedError):
        kind = "empty_reply"
    else:
        kind = "protocol_error"
    return ProbeError(kind, redactor.record(f"{phase}: {_describe(exc)}"))


def handshake_response(exc: BaseException) -> Response | None:
    """The HTTP answer behind a refused upgrade, also when websockets wraps it.

    With a socket of its own, websockets does not follow a redirect: it raises
    ``ValueError("cannot follow redirect ... with a preexisting socket")`` from
    the ``InvalidStatus`` that carries the 3xx answer. A ``Location`` that is
    not a WebSocket URI (``http://host/ws/``) makes it raise ``InvalidURI``
    while handling that ``InvalidStatus`` instead (websockets 14.2 to 17.4 parse
    the new URI first), so the answer is its ``__context__``; the ``InvalidURI``'s
    own text quotes the ``Location``, which a server can fill with a secret,
    and is never used.
    """
    for link in (exc, exc.__cause__, exc.__context__):
        if isinstance(link, InvalidStatus):
            return link.response
    return None


def from_handshake(
    exc: InvalidHandshake | InvalidURI | ValueError, redactor: Redactor
) -> ProbeError:
    """Classify a failed WebSocket opening handshake (a redirect arrives as ``ValueError``)."""
    response = handshake_response(exc)
    if response is not None:
        status = response.status_code
        return ProbeError("upgrade_status", f"server answered the upgrade with HTTP {status}")
    if isinstance(exc, NegotiationError):
        return ProbeError("subprotocol_negotiation", redactor.record(str(exc)))
    if isinstance(exc, InvalidHeader):
        return ProbeError("handshake_invalid", redactor.record(str(exc)))
    if isinstance(exc, InvalidMessage):
        cause = exc.__cause__
        if isinstance(cause, EOFError):
            return ProbeError(
                "empty_reply", "the server closed the connection without answering the upgrade"
            )
        detail = f"not an HTTP response ({_describe(cause) if cause else exc})"
        return ProbeError("protocol_error", redactor.record(detail))
    return ProbeError("protocol_error", redactor.record(_describe(exc)))


_MESSAGE_TOO_BIG = 1009


def from_close(exc: ConnectionClosed, redactor: Redactor) -> tuple[WsClose, ProbeError | None]:
    """How a socket ended, and the error when the gate closed it (oversized or broken frames).

    ``by`` is ``server`` when the server sent the first close frame, ``client``
    when the gate did, ``none`` when TCP dropped without a close frame (1006).
    """
    rcvd, sent = exc.rcvd, exc.sent
    if sent is not None and sent.code == _MESSAGE_TOO_BIG and not (rcvd and exc.rcvd_then_sent):
        return WsClose(sent.code, redactor.record(sent.reason), "client"), ProbeError(
            "message_too_large", "a message exceeded --max-message-size; the gate closed with 1009"
        )
    if rcvd is not None and (sent is None or exc.rcvd_then_sent):
        return WsClose(rcvd.code, redactor.record(rcvd.reason), "server"), None
    if rcvd is None and sent is None:
        return WsClose(1006, "", "none"), None
    assert sent is not None
    return WsClose(sent.code, redactor.record(sent.reason), "client"), ProbeError(
        "protocol_error", redactor.record(f"the server broke the WebSocket protocol ({exc})")
    )
