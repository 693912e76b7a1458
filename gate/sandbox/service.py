"""The sandbox reference service, built on the websockets server.

HTTP routes are answered from ``process_request``; ``/ws`` is the WebSocket.
When healthy it behaves like the field reports' backend: ``/health`` answers
the seeds' JSON, the socket authenticates a JWT carried in the subprotocol
``jwt.<base64url(token)>`` (HS256, secret from ``GATE_JWT_SECRET``; without
it authentication is off), prefers to select the plain subprotocol
``chat.v1`` when offered, answers ``{"type": "ping"}`` with
``{"type": "pong"}`` and a ``user_message`` with the five agent events
(each followed by a heartbeat, as streaming backends interleave them).
Each fault of :mod:`gate.sandbox.faults` breaks exactly one of those.

Errors are written as structured log records (Cloud Run's JSON logging shape,
with the request's trace id) to a sink, stderr by default.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from gate.sandbox.connections import Connections, Handler
from gate.sandbox.faults import FAULTS
from gate.sandbox.frontend import (
    H2C_RESET,
    INVALID_TOKEN_CHALLENGE,
    MALFORMED_RESPONSE,
    NO_INSTANCE,
    NOT_AUTHENTICATED,
    NOT_AUTHORIZED,
    RATE_EXCEEDED,
    forbidden_page,
    front_end_headers,
    not_ready_page,
    unauthorized_page,
)
from gate.sandbox.rooms import Rooms

PLAIN_SUBPROTOCOL = "chat.v1"
AGENT_EVENTS: tuple[str, ...] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)
SLOW_API_S = 0.08  # how late the slow-api fault answers API requests
LogSink = Callable[[dict[str, Any]], None]
RequestSink = Callable[[int, float], None]
"""Told (status, latency in seconds) of every answer, as Cloud Run's request metrics count it."""

# Short demo secrets are fine for a local reference service.
warnings.filterwarnings("ignore", message="The HMAC key is")


def stderr_sink(record: dict[str, Any]) -> None:
    """Write one structured log record as a JSON line, as Cloud Run services do."""
    print(json.dumps(record), file=sys.stderr, flush=True)


@dataclass
class SandboxConfig:
    """How the sandbox behaves.

    Besides ``fault``: ``fault_for_s`` ends a front-end fault after that many
    seconds (an IAM binding that propagates, a revision that becomes ready);
    ``refusal_severity`` is the severity at which refused tokens are logged;
    ``audience`` and ``issuer`` are checked in tokens when set;
    ``delay_s`` delays every HTTP answer, upgrade and reply (a
    stand-in for network distance, used by latency tests and the benchmark);
    ``max_sessions`` refuses upgrades beyond that many open sockets with 403;
    ``scramble_events`` swaps two agent events; ``drop_events`` omits some;
    ``request_sink`` is told the status and latency (seconds) of every HTTP
    answer, and of every WebSocket session when it closes (101, its lifetime),
    as Cloud Run's request metrics count them; ``rooms``, the chat rooms
    (:mod:`gate.sandbox.rooms`).
    """

    fault: str = "none"
    fault_for_s: float | None = None
    refusal_severity: str = "WARNING"
    jwt_secret: str | None = None
    audience: str | None = None
    issuer: str | None = None
    cold_start_s: float = 2.0
    delay_s: float = 0.0
    max_sessions: int | None = None
    scramble_events: bool = False
    drop_events: tuple[str, ...] = ()
    revision: str = "sandbox-00001"
    service: str = "sandbox"
    log_sink: LogSink = field(default=stderr_sink)
    request_sink: RequestSink | None = None
    rooms: Rooms | None = None
    """The chat rooms: shared by the instances of a revision (a shared pub/sub), or, when
    ``None``, the sandbox's own."""

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}")


def _subject(token: str | None) -> str:
    """The ``sub`` of an accepted token (already verified, or accepted as the fault allows)."""
    if not token:
        return "anonymous"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "anonymous"
    return str(claims.get("sub", "anonymous"))


def _trace_of(headers: Headers) -> str | None:
    cloud = headers.get("X-Cloud-Trace-Context")
    if cloud:
        return cloud.split("/")[0]
    parent = headers.get("traceparent")
    if parent and parent.count("-") >= 3:
        return parent.split("-")[1]
    return None


def _json_response(status: int, body: Mapping[str, Any], reason: str = "") -> Response:
    from http import HTTPStatus

    payload = json.dumps(body).encode()
    headers = Headers()
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = str(len(payload))
    return Response(status, reason or HTTPStatus(status).phrase, headers, payload)


def _front_end_response(
    status: int, body: str, content_type: str = "text/html; charset=UTF-8"
) -> Response:
    from http import HTTPStatus

    payload = body.encode()
    headers = Headers()
    for name, value in front_end_headers(content_type).items():
        headers[name] = value
    headers["Content-Length"] = str(len(payload))
    return Response(status, HTTPStatus(status).phrase, headers, payload)


def _text_response(status: int, text: str, extra: Mapping[str, str] | None = None) -> Response:
    from http import HTTPStatus

    payload = text.encode()
    headers = Headers()
    headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["Content-Length"] = str(len(payload))
    for name, value in (extra or {}).items():
        headers[name] = value
    return Response(status, HTTPStatus(status).phrase, headers, payload)


class SandboxService:
    """The reference service's behaviour; :class:`Sandbox` runs it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.started = time.monotonic()
        self.requests: list[str] = []
        self.tokens_seen: list[str] = []
        self.sessions = 0
        self.subjects: dict[int, str] = {}  # each open socket's user (its token's sub)
        self.rooms = config.rooms if config.rooms is not None else Rooms()
        self.traces_seen: list[str | None] = []
        self._begun: dict[int, float] = {}
        self._api_calls = 0

    def request_log(self, severity: str, message: str, status: int, trace: str | None) -> None:
        """What Cloud Run's front end writes to the request log about a refused request."""
        self.log(severity, message, trace, log="run.googleapis.com/requests", status=status)

    def log(self, severity: str, message: str, trace: str | None, **fields: Any) -> None:
        """Emit one structured log record."""
        record: dict[str, Any] = {
            "severity": severity,
            "message": message,
            "service": self.config.service,
            "revision": self.config.revision,
            **fields,
        }
        if trace:
            record["trace"] = trace
        self.config.log_sink(record)

    def cold(self) -> bool:
        """True while the cold-start fault still answers 503."""
        return (
            self.config.fault == "cold-start"
            and time.monotonic() - self.started < self.config.cold_start_s
        )

    def health_body(self) -> tuple[int, dict[str, Any]]:
        """The seeds' health document, broken as the fault says."""
        code, status, redis = HEALTH.get(self.config.fault, HEALTHY)
        return code, {
            "status": status,
            "service": "netra-ai-platform",
            "version": "1.0.0",
            "revision": self.config.revision,
            "uptime_seconds": round(time.monotonic() - self.started, 2),
            "checks": {
                "postgresql": {"status": "healthy", "response_time_ms": 107.58},
                "redis": redis,
                "clickhouse": {"status": "healthy", "response_time_ms": 124.61},
            },
        }

    def authenticate(self, token: str | None) -> str | None:
        """The reason a token is refused, or ``None`` when it is accepted."""
        secret = self.config.jwt_secret
        rules = AUTH_RULES.get(self.config.fault, STRICT)
        if secret is None or not rules.enforced:
            return None
        if token is None:
            return "missing token"
        checked = rules.claims
        try:
            if rules.alg_none and jwt.get_unverified_header(token).get("alg") == "none":
                return None
            jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=self.config.audience if checked else None,
                issuer=self.config.issuer if checked else None,
                options={
                    "verify_aud": checked and self.config.audience is not None,
                    "verify_iss": checked and self.config.issuer is not None,
                    "verify_exp": rules.expiry,
                },
            )
        except jwt.ExpiredSignatureError:
            return "token expired"
        except jwt.PyJWTError:
            return "invalid token"
        return None

    @staticmethod
    def token_from_subprotocols(offered: list[str]) -> str | None:
        """Decode the JWT from a ``jwt.<base64url>`` subprotocol."""
        for name in offered:
            if name.startswith("jwt."):
                encoded = name[4:]
                try:
                    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return ""
        return None

    @staticmethod
    def token_from_bearer(headers: Headers) -> str | None:
        """The token of an ``Authorization: Bearer`` header."""
        value = headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Answer HTTP routes and the upgrade after the injected delay (a network stand-in)."""
        self._begun[id(connection)] = time.monotonic()
        if self.config.delay_s:
            await asyncio.sleep(self.config.delay_s)
        if self.config.fault == "slow-api" and request.path.startswith("/api/"):
            await asyncio.sleep(SLOW_API_S)
        return self.route(connection, request)

    def _metered(self, connection: ServerConnection, status: int) -> None:
        """Tell the request sink about one answer (or one closed session)."""
        begun = self._begun.pop(id(connection), None)
        if self.config.request_sink is not None and begun is not None:
            self.config.request_sink(status, time.monotonic() - begun)

    def route(self, _connection: ServerConnection, request: Request) -> Response | None:
        """Answer HTTP routes; admit or refuse WebSocket upgrades."""
        path = request.path.split("?")[0]
        self.requests.append(path)
        trace = _trace_of(request.headers)
        self.traces_seen.append(trace)
        if self.cold():
            return _text_response(503, "starting up", {"Retry-After": "1"})
        refusal = self.front_end(path, trace)
        if refusal is not None:
            return refusal
        if path in ("/health", "/api/health"):
            if self.config.fault == "health-500":
                self.log("ERROR", "health handler failed: database pool exhausted", trace)
                return _text_response(500, "Internal Server Error")
            code, body = self.health_body()
            if code >= 500:
                self.log("ERROR", f"health check failed: {body['checks']['redis']}", trace)
            return _json_response(code, body)
        if path in ("/api/discovery/services", "/api/mcp/config", "/api/mcp/servers"):
            refused = self.authenticate(self.token_from_bearer(request.headers))
            if refused:
                return _json_response(401, {"error": refused})
            self._api_calls += 1
            if self.config.fault == "flaky-5xx" and self._api_calls % 5 == 0:
                # The app logs nothing; Cloud Run's request log has the 500, at ERROR.
                self.request_log("ERROR", f"GET {path} 500", 500, trace)
                return _json_response(500, {"error": "upstream failed"})
            return _json_response(200, {"path": path, "items": []})
        if path != "/ws":
            return _json_response(404, {"error": "not found"})
        if self.config.fault == "plain-http":
            return _json_response(200, {"status": "ok", "note": "served as plain HTTP"})
        offered = [
            p.strip()
            for value in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in value.split(",")
        ]
        token = self.token_from_subprotocols(offered)
        if token:
            self.tokens_seen.append(token)
        if self.config.fault == "reject-upgrade":
            self.log("WARNING", "websocket upgrade refused: auth context missing", trace)
            return _json_response(403, {"error": "forbidden"})
        refused = self.authenticate(token)
        if refused:
            self.log(self.config.refusal_severity, f"websocket auth failed: {refused}", trace)
            return _json_response(403, {"error": refused})
        limit = self.config.max_sessions
        if limit is not None and self.sessions >= limit:
            self.log("ERROR", f"session limit reached ({limit} concurrent sockets)", trace)
            return _json_response(403, {"error": "too many sessions"})
        self.sessions += 1
        self.subjects[id(_connection)] = _subject(token)
        return None

    def front_end(self, path: str, trace: str | None) -> Response | None:
        """What stands in front of the app answers instead of it, for the front-end faults.

        Each refusal is also written to the request log, at the severity and in
        the words Cloud Run uses (capacity and IAM at WARNING, the rest at ERROR).
        """
        answer = FRONT_END.get(self.config.fault)
        lasting = self.config.fault_for_s
        if answer is None or (answer.ws_only and path != "/ws"):
            return None
        if lasting is not None and time.monotonic() - self.started >= lasting:
            return None
        if answer.logged is not None:
            severity, message = answer.logged
            self.request_log(severity, message, answer.status, trace)
        if not answer.google:
            return _text_response(answer.status, answer.body(path))
        response = _front_end_response(answer.status, answer.body(path), answer.content_type)
        for name, value in answer.headers.items():
            response.headers[name] = value
        return response

    def select_subprotocol(
        self, _connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """Prefer the plain subprotocol; fall back to echoing the credential (or as the fault
        selects)."""
        credential = next((p for p in offered if p.startswith("jwt.")), None)
        chosen = SELECT.get(self.config.fault, _prefer_plain)
        return chosen(offered, credential)

    def process_response(
        self, connection: ServerConnection, _request: Request, response: Response
    ) -> Response | None:
        """Meter each answer but the upgrade; break the handshake for ``bad-accept``."""
        if response.status_code != 101:
            self._metered(connection, response.status_code)
        if self.config.fault == "bad-accept" and response.status_code == 101:
            del response.headers["Sec-WebSocket-Accept"]
            response.headers["Sec-WebSocket-Accept"] = "bm90IHRoZSByaWdodCBhY2NlcHQ="
        return None

    async def handler(self, connection: ServerConnection) -> None:
        """Serve one socket according to the fault."""
        assert connection.request is not None
        trace = _trace_of(connection.request.headers)
        try:
            await self.serve_session(connection, trace)
        finally:
            # Cloud Run's request log has one entry per socket, status 101, written when it
            # closes (cloud-run-facts: its latency is the connection's lifetime).
            self.request_log("INFO", "GET /ws 101", 101, trace)
            self.sessions -= 1
            self.rooms.leave(connection)
            self.subjects.pop(id(connection), None)
            self._metered(connection, 101)

    async def serve_session(self, connection: ServerConnection, trace: str | None) -> None:
        """The message loop of one socket: each message answered, or as the fault does."""
        on_message = ON_MESSAGE.get(self.config.fault)
        with contextlib.suppress(ConnectionClosed):
            async for raw in connection:
                if self.config.delay_s:
                    await asyncio.sleep(self.config.delay_s)
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                if on_message is None:
                    await self.reply(connection, text)
                elif await on_message(self, connection, trace) == "end":
                    return

    async def _chat(self, connection: ServerConnection, kind: str, message: dict[str, Any]) -> None:
        """A chat room's join or broadcast (:mod:`gate.sandbox.rooms`)."""
        room = str(message["room"])
        if kind == "join":
            self.rooms.join(room, connection)
            await connection.send(json.dumps({"type": "joined", "room": room}))
            return
        who = self.subjects.get(id(connection), "anonymous")
        await self.rooms.say(room, connection, who, str(message.get("text", "")))
        await connection.send(json.dumps({"type": "sent", "room": room}))

    async def reply(self, connection: ServerConnection, text: str) -> None:
        """The healthy protocol: pong, the agent event stream, or an error message."""
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            await connection.send(json.dumps({"type": "error", "message": "invalid JSON"}))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind in ("join", "say") and isinstance(message.get("room"), str):
            await self._chat(connection, kind, message)
        elif kind == "ping":
            await connection.send(json.dumps({"type": "pong", "ts": time.time()}))
        elif kind == "user_message":
            run_id = message.get("run_id", "run")
            events = list(AGENT_EVENTS)
            if self.config.scramble_events:
                events[1], events[2] = events[2], events[1]
            for event in (e for e in events if e not in self.config.drop_events):
                await connection.send(json.dumps({"type": event, "run_id": run_id}))
                await connection.send(json.dumps({"type": "heartbeat"}))
        else:
            await connection.send(
                json.dumps({"type": "error", "message": f"unknown type {kind!r}"})
            )


HEALTHY: tuple[int, str, dict[str, object]] = (
    200, "healthy", {"status": "healthy", "response_time_ms": 14.78},
)  # fmt: skip
HEALTH: dict[str, tuple[int, str, dict[str, object]]] = {
    "dependency-unhealthy": (
        503, "unhealthy", {"status": "unhealthy", "error": "Connection refused (redis:6379)"},
    ),
    "status-unhealthy": (200, "unhealthy", HEALTHY[2]),
}  # fmt: skip
"""The health faults: the status code, the document's status, and redis's entry."""


@dataclass(frozen=True)
class AuthRules:
    """How the socket checks a token: at all, its claims, ``alg: none``, its expiry."""

    enforced: bool = True
    claims: bool = True
    alg_none: bool = False
    expiry: bool = True


STRICT = AuthRules()
AUTH_RULES: dict[str, AuthRules] = {
    "auth-not-enforced": AuthRules(enforced=False),
    "ignores-claims": AuthRules(claims=False),
    "accepts-alg-none": AuthRules(alg_none=True),
    "expired-accepted": AuthRules(expiry=False),
}


@dataclass(frozen=True)
class FrontEndAnswer:
    """What Cloud Run's front end (or a proxy) answers instead of the app, and logs."""

    status: int
    body: Callable[[str], str]  # of the request's path
    content_type: str = "text/html; charset=UTF-8"
    logged: tuple[str, str] | None = None  # the request log's severity and message
    headers: Mapping[str, str] = field(default_factory=dict)
    ws_only: bool = False  # only the upgrade is answered so
    google: bool = True  # Google's front end (its headers), not a proxy's plain text


FRONT_END: dict[str, FrontEndAnswer] = {
    "rate-limited": FrontEndAnswer(429, lambda _p: RATE_EXCEEDED, logged=("WARNING", NO_INSTANCE)),
    "not-ready-page": FrontEndAnswer(503, lambda _p: not_ready_page()),
    "iam-forbidden": FrontEndAnswer(403, forbidden_page, logged=("WARNING", NOT_AUTHENTICATED)),
    "iam-token-rejected": FrontEndAnswer(
        401, lambda _p: unauthorized_page(), logged=("WARNING", NOT_AUTHORIZED),
        headers={"www-authenticate": INVALID_TOKEN_CHALLENGE},
    ),
    "bad-gateway": FrontEndAnswer(502, lambda _p: "Bad Gateway", google=False),
    "h2c-reset": FrontEndAnswer(
        503, lambda _p: H2C_RESET, "text/plain", logged=("ERROR", MALFORMED_RESPONSE),
        ws_only=True,
    ),
}  # fmt: skip

Select = Callable[[Sequence[Subprotocol], "Subprotocol | None"], "Subprotocol | None"]


def _prefer_plain(
    offered: Sequence[Subprotocol], credential: Subprotocol | None
) -> Subprotocol | None:
    if PLAIN_SUBPROTOCOL in offered:
        return Subprotocol(PLAIN_SUBPROTOCOL)
    return credential or (offered[0] if offered else None)


SELECT: dict[str, Select] = {
    "no-subprotocol": lambda _offered, _credential: None,
    "unexpected-subprotocol": lambda _offered, _credential: Subprotocol("chat.v2"),
    "echo-credential": lambda offered, credential: credential or _prefer_plain(offered, None),
}
"""The subprotocol faults: which of the offered subprotocols the server selects."""

OnMessage = Callable[["SandboxService", ServerConnection, "str | None"], Awaitable[str]]


async def _close_after_cleanup(
    service: SandboxService, c: ServerConnection, trace: str | None
) -> str:
    await asyncio.sleep(0.15)
    service.log("ERROR", "message handler exited: main cleanup", trace)
    await c.close(1000, "main cleanup")
    return "end"


async def _close_1008(service: SandboxService, c: ServerConnection, trace: str | None) -> str:
    service.log("WARNING", "websocket session refused: invalid token", trace)
    await c.close(1008, "invalid token")
    return "end"


async def _binary_reply(_service: SandboxService, c: ServerConnection, _trace: str | None) -> str:
    await c.send(json.dumps({"type": "pong"}).encode())
    return "next"


async def _crash(service: SandboxService, c: ServerConnection, trace: str | None) -> str:
    service.log("ERROR", "Unhandled exception in handler: KeyError 'thread_id'", trace)
    await c.close(1011, "internal error")
    return "end"


async def _silent(_service: SandboxService, _c: ServerConnection, _trace: str | None) -> str:
    return "next"


async def _oversized(_service: SandboxService, c: ServerConnection, _trace: str | None) -> str:
    await c.send(json.dumps({"type": "pong", "pad": "x" * (2 << 20)}))
    return "next"


ON_MESSAGE: dict[str, OnMessage] = {
    "close-on-message": _close_after_cleanup,
    "close-1008": _close_1008,
    "binary-reply": _binary_reply,
    "crash": _crash,
    "silent": _silent,
    "oversized": _oversized,
}
"""The session faults: what the socket does with each message ("end" closes it)."""


async def _garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x16\x03\x01\x02\x00garbage\xff\xfe not http\r\n\r\n")
    await writer.drain()
    writer.close()


async def _empty_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def _hang(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


RAW: dict[str, Handler] = {
    "garbage": _garbage,
    "empty-reply": _empty_reply,
    "hang": _hang,
}
"""The raw faults: what a connection gets instead of HTTP."""


class Sandbox:
    """Runs a :class:`SandboxService` (or a raw fault) on 127.0.0.1 in the running event loop."""

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.service = SandboxService(config)
        self._server: Server | asyncio.Server | None = None
        self._raw = Connections()  # what a raw fault accepted

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening; ``port`` holds the bound port afterwards."""
        if self.config.fault in RAW:
            handler = self._raw.serve(RAW[self.config.fault])
            raw = await asyncio.start_server(handler, self.host, self.port)
            self.port = raw.sockets[0].getsockname()[1]
            self._server = raw
            return
        server = await serve(
            self.service.handler,
            self.host,
            self.port,
            process_request=self.service.process_request,
            process_response=self.service.process_response,
            select_subprotocol=self.service.select_subprotocol,
            server_header="sandbox",
            compression=None,
        )
        self.port = server.sockets[0].getsockname()[1] if server.sockets else self.port
        self._server = server

    @property
    def raw_connections(self) -> int:
        """How many connections a raw fault accepted."""
        return self._raw.accepted

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        await self._raw.drop()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
