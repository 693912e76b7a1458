"""A test-only stand-in for Cloud Run's front end, in front of a real app on 127.0.0.1.

It reads each request's head and either answers it itself, with the front end's
own shapes (Google's error pages, ``Rate exceeded.``, the h2c reset text, a
proxy's 502), or forwards the connection to the app byte for byte, adding the
headers every answer through Cloud Run carries (``server: Google Frontend``,
``x-cloud-trace-context``) to the app's response head, so that the app's own
answers look as they do behind the real front end.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from gate.sandbox.frontend import (
    H2C_RESET,
    INVALID_TOKEN_CHALLENGE,
    RATE_EXCEEDED,
    forbidden_page,
    front_end_headers,
    google_page,
    not_ready_page,
    unauthorized_page,
)
from tests.servers import BackgroundLoop

_REASONS = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}  # fmt: skip


@dataclass(frozen=True)
class Request:
    """The head of one request as the front end read it."""

    method: str
    path: str
    head: bytes


Rule = Callable[[Request], bytes | None]


def answer(status: int, body: str, content_type: str = "text/html; charset=UTF-8",
           extra: dict[str, str] | None = None) -> bytes:  # fmt: skip
    """A complete HTTP/1.1 answer of the front end."""
    payload = body.encode()
    headers = {**front_end_headers(content_type), **(extra or {})}
    headers["Content-Length"] = str(len(payload))
    headers["Connection"] = "close"
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def rate_exceeded(_request: Request) -> bytes:
    return answer(429, RATE_EXCEEDED)


def not_ready(_request: Request) -> bytes:
    return answer(503, not_ready_page())


def server_error_500(_request: Request) -> bytes:
    return answer(500, google_page(500, "Server Error", "The server encountered an error"
                                   " and could not complete your request.<p>Please try again"
                                   " in 30 seconds."))  # fmt: skip


def h2c_reset(_request: Request) -> bytes:
    return answer(503, H2C_RESET, "text/plain")


def forbidden(request: Request) -> bytes:
    return answer(403, forbidden_page(request.path))


def invalid_token(_request: Request) -> bytes:
    return answer(401, unauthorized_page(), extra={"www-authenticate": INVALID_TOKEN_CHALLENGE})


def bad_gateway(_request: Request) -> bytes:
    return answer(502, google_page(502, "Bad Gateway", "The server encountered a temporary "
                                   "error and could not complete your request."))  # fmt: skip


def on_paths(rule: Callable[[Request], bytes], *paths: str) -> Rule:
    """``rule`` for requests to ``paths``; every other request goes to the app."""
    return lambda request: rule(request) if request.path.split("?")[0] in paths else None


class FrontEnd:
    """The front end on 127.0.0.1, answering by ``rule`` or forwarding to ``app_port``."""

    def __init__(self, app_port: int, rule: Rule) -> None:
        self.app_port = app_port
        self.rule = rule
        self.port = 0
        self.seen: list[Request] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, *_version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            request = Request(method, path, head)
            self.seen.append(request)
            canned = self.rule(request)
            if canned is not None:
                writer.write(canned)
                await writer.drain()
                return
            await self._forward(head, reader, writer)
        writer.close()

    async def _forward(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.app_port)
        up_writer.write(head)
        await up_writer.drain()
        answer_head = await up_reader.readuntil(b"\r\n\r\n")
        status_line, *lines = answer_head[:-4].split(b"\r\n")
        # The front end's Server header replaces the app's.
        kept = [line for line in lines if not line.lower().startswith(b"server:")]
        trace = f"x-cloud-trace-context: {secrets.token_hex(16)};o=1".encode()
        head_out = b"\r\n".join([status_line, *kept, b"server: Google Frontend", trace])
        writer.write(head_out + b"\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def __enter__(self) -> FrontEnd:
        self._loop = BackgroundLoop("front-end").start()

        async def start() -> asyncio.Server:
            return await asyncio.start_server(self._handle, "127.0.0.1", 0)

        self._server = self._loop.call(start())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        async def stop() -> None:
            self._server.close()

        with contextlib.suppress(Exception):
            self._loop.call(stop())
        self._loop.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
