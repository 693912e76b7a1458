"""Test-only servers on 127.0.0.1, and the loop thread they (and the sandbox) run in.

The gate runs its own event loop in the test's thread, so servers run in a
:class:`BackgroundLoop` beside it.

* :class:`SandboxThread`: the project's sandbox, and :class:`CloudThread`: the
  local Cloud Run, driven from the test's thread.
* :class:`RawServer`: a plain TCP server whose per-connection behaviour is a coroutine
  (garbage bytes, silence, an endless body, a frame-level protocol violation).
* :class:`AiohttpServer`: a second stack (aiohttp) with its own WebSocket implementation,
  so the gate is proven against more than the websockets server it shares a library with.
* :func:`full_backlog`: a listening socket whose accept queue is full, so connects time out.
* :func:`self_signed`: a certificate for 127.0.0.1 and the CA file that trusts it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gate.sandbox.emulator import RevisionSettings
from gate.sandbox.localrun import LocalCloudRun
from gate.sandbox.service import Sandbox, SandboxConfig, SandboxService
from gate.sandbox.traffic import UserTraffic

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
T = TypeVar("T")


class BackgroundLoop:
    """An event loop running in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str = "background-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)

    def start(self) -> BackgroundLoop:
        self._thread.start()
        return self

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``work`` in the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def stop(self) -> None:
        """Cancel whatever still runs in the loop, then stop and close it."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(cancel_all(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()

    def __enter__(self) -> BackgroundLoop:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class SandboxThread:
    """A sandbox served from a loop thread of its own."""

    def __init__(self, config: SandboxConfig) -> None:
        self.sandbox = Sandbox(config)
        self._loop = BackgroundLoop("sandbox")

    def __enter__(self) -> SandboxThread:
        self._loop.start()
        self._loop.call(self.sandbox.start())
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            self._loop.call(self.sandbox.stop(), timeout=5)
        self._loop.stop()

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def service(self) -> SandboxService:
        return self.sandbox.service


SUITED = RevisionSettings(timeout_s=3600.0, cpu_idle=False)
"""A revision configured for WebSockets: sessions up to an hour, CPU between messages."""


class CloudThread:
    """A :class:`LocalCloudRun` in a loop thread, with a blocking ``deploy``."""

    def __init__(self, loop: BackgroundLoop, local: LocalCloudRun) -> None:
        self._loop = loop
        self.local = local

    def __enter__(self) -> CloudThread:
        self._loop.call(self.local.__aenter__())
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call(self.local.__aexit__(None, None, None))

    def deploy(self, revision: str, fault: str = "none", **options: Any) -> None:
        """Deploy ``revision``; unless ``settings`` says otherwise, as the WebSockets guide
        advises (a long request timeout, CPU always allocated), so that only the tests about
        ``revision.config`` meet its warnings."""
        options.setdefault("settings", SUITED)
        self._loop.call(self.local.deploy(revision, fault, **options))

    @contextlib.contextmanager
    def users(self, secret: str, rate_per_s: float = 200.0) -> Iterator[UserTraffic]:
        """Synthetic users calling the service URL for the duration of the block."""
        traffic = UserTraffic(self.local.url, secret, rate_per_s)

        async def start() -> None:
            traffic.start()

        self._loop.call(start())
        try:
            yield traffic
        finally:
            self._loop.call(traffic.stop(), timeout=15)

    @property
    def emulator(self) -> Any:
        return self.local.emulator

    @property
    def env(self) -> dict[str, str]:
        return self.local.env

    @property
    def sandboxes(self) -> dict[str, Sandbox]:
        return self.local.sandboxes


class RawServer:
    """A TCP server on 127.0.0.1 running ``behaviour`` for each connection."""

    def __init__(
        self, behaviour: Behaviour, context: ssl.SSLContext | None = None, rcvbuf: int = 0
    ) -> None:
        self.behaviour = behaviour
        self.context = context
        self.rcvbuf = rcvbuf  # a small receive window, so that a peer's send fills it fast
        self.port = 0
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        with contextlib.suppress(Exception):
            await self.behaviour(reader, writer)

    def __enter__(self) -> RawServer:
        self._loop = BackgroundLoop("raw-server").start()

        async def start() -> asyncio.Server:
            listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.rcvbuf:  # accepted sockets inherit it, and it turns off autotuning
                listening.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            listening.bind(("127.0.0.1", 0))
            return await asyncio.start_server(self._handle, sock=listening, ssl=self.context)

        self._server = self._loop.call(start())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        async def stop() -> None:
            for writer in self._writers:
                writer.transport.abort()
            self._server.close()

        with contextlib.suppress(Exception):
            self._loop.call(stop())
        self._loop.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://127.0.0.1:{self.port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read an HTTP request head."""
    return await reader.readuntil(b"\r\n\r\n")


def accept_upgrade(head: bytes, writer: asyncio.StreamWriter, subprotocol: str = "") -> None:
    """Answer a WebSocket upgrade request with 101, selecting ``subprotocol`` if given."""
    key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", head)
    assert key is not None, head
    digest = hashlib.sha1(key[1] + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()  # noqa: S324 (RFC 6455)
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + base64.b64encode(digest),
    ]
    if subprotocol:
        lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode())
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n")


async def read_frame_head(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    """A client frame's opcode, payload length and mask, without reading the payload."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, length, await reader.readexactly(4)


def text_frame(text: str) -> bytes:
    """An unmasked (server) text frame of less than 126 bytes."""
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, len(data)]) + data


class AiohttpServer:
    """An aiohttp application on 127.0.0.1, in its own loop thread."""

    def __init__(self, app: web.Application, context: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.context = context
        self.port = 0

    def __enter__(self) -> AiohttpServer:
        self._loop = BackgroundLoop("aiohttp-server").start()

        async def start() -> web.AppRunner:
            runner = web.AppRunner(self.app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self.context)
            await site.start()
            return runner

        self._runner = self._loop.call(start())
        self.port = self._runner.addresses[0][1]
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            self._loop.call(self._runner.cleanup())
        self._loop.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://127.0.0.1:{self.port}"


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full: further TCP connects hang until they time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.socket()
    filler.settimeout(1)
    filler.connect(("127.0.0.1", port))
    try:
        yield port
    finally:
        filler.close()
        listener.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the path of a CA file that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gate-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


class TokenEndpoint:
    """A local OAuth 2.0 token endpoint that issues Google-style ID tokens.

    google-auth's service-account flow posts a signed assertion to the
    account's ``token_uri`` and reads ``id_token`` from the answer; pointing a
    service-account file at this endpoint lets ``--iam`` fetch a real ID token
    through the real library, without any network beyond 127.0.0.1.
    """

    def __init__(self, folder: Path, html: bool = False) -> None:
        self.folder = folder
        self.html = html  # answer as a captive portal or a misrouted proxy would
        self.issued: list[str] = []
        self.audiences: list[str] = []
        self.on_issue: Callable[[str], None] | None = None  # e.g. a revision that logs it

    async def _token(self, request: web.Request) -> web.Response:
        if self.html:
            return web.Response(text="<html><body>Sign in</body></html>", content_type="text/html")
        form = await request.post()
        assertion = jwt.decode(str(form["assertion"]), options={"verify_signature": False})
        audience = str(assertion.get("target_audience", ""))
        self.audiences.append(audience)
        now = int(datetime.datetime.now(datetime.UTC).timestamp())
        claims = {"aud": audience, "iss": "https://accounts.google.com", "iat": now,
                  "exp": now + 3600, "sub": "gate@demo-project.iam.gserviceaccount.com"}  # fmt: skip
        token = jwt.encode(claims, "id-token-signing-key-for-tests-0123456789", algorithm="HS256")
        self.issued.append(token)
        if self.on_issue is not None:
            self.on_issue(token)
        return web.json_response({"id_token": token})

    def __enter__(self) -> TokenEndpoint:
        app = web.Application()
        app.router.add_post("/token", self._token)
        self._server = AiohttpServer(app).__enter__()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.credentials = self.folder / "service-account.json"
        self.credentials.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "demo-project",
                    "private_key_id": "test-key",
                    "private_key": pem,
                    "client_email": "gate@demo-project.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"{self._server.url}/token",
                }
            )
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.__exit__(None, None, None)
