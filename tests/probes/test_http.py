"""``gate.probes.http``: one health GET and its retries, against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gate.checks.frontend import UNKNOWN_PLATFORM
from gate.config.settings import Settings
from gate.probes.context import Probing
from gate.probes.http import probe_http
from gate.probes.transcript import HttpTranscript
from gate.redact import Redactor
from gate.run.plans import Plans
from gate.timing import Deadline
from tests.servers import RawServer, free_port


def _probe(url: str, deadline_s: float = 5.0, **settings: Any) -> HttpTranscript:
    plan = Plans.of(Settings(url=url, **settings), {}, UNKNOWN_PLATFORM).health()[0]
    return asyncio.run(probe_http(plan, Probing(Deadline(deadline_s), Redactor())))


def test_a_healthy_answer_is_recorded_whole(sandbox: Callable[..., Any]) -> None:
    transcript = _probe(sandbox().url)
    response = transcript.final.response
    assert response is not None
    assert response.status == 200
    assert '"status": "healthy"' in response.body
    assert len(transcript.attempts) == 1


def test_a_refused_connection_is_retried_within_the_budget() -> None:
    transcript = _probe(f"http://127.0.0.1:{free_port()}", retry_budget=1.0)
    assert transcript.final.error is not None
    assert transcript.final.error.kind == "connect_refused"
    assert len(transcript.attempts) > 1


async def _garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
    await writer.drain()
    writer.close()


async def _hang(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


def test_garbage_is_a_protocol_error() -> None:
    with RawServer(_garbage) as server:
        transcript = _probe(f"http://127.0.0.1:{server.port}", retry_budget=0.0)
    assert transcript.final.error is not None
    assert transcript.final.error.kind in ("protocol_error", "empty_reply")


def test_a_server_that_never_answers_is_cut_by_the_read_timeout() -> None:
    with RawServer(_hang) as server:
        transcript = _probe(f"http://127.0.0.1:{server.port}", read_timeout=0.5, retry_budget=0)
    assert transcript.final.error is not None
    assert transcript.final.error.kind == "read_timeout"
    assert transcript.duration_ms < 3000


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer 200 with the request's head as the body, and in a header: a reflecting proxy."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    auth = next(
        (line for line in head.split("\r\n") if line.lower().startswith("authorization")), ""
    )
    body = head.encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Seen: " + auth.encode()
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip
    await writer.drain()
    writer.close()


def test_a_reflected_secret_header_is_redacted_in_what_is_recorded() -> None:
    secret = "Bearer hdr-secret-0123456789"
    redactor = Redactor()
    redactor.add_header(secret)
    with RawServer(_echo) as server:
        settings = Settings(
            url=f"http://127.0.0.1:{server.port}", headers=(("Authorization", secret),)
        )
        plan = Plans.of(settings, {}, UNKNOWN_PLATFORM).health()[0]
        transcript = asyncio.run(probe_http(plan, Probing(Deadline(5.0), redactor)))
    response = transcript.final.response
    assert response is not None
    assert "Authorization: [redacted]" in response.body  # it was reflected, and masked
    assert "hdr-secret-0123456789" not in repr(transcript)
