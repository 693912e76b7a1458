"""Hostile targets and cloud faults: the run ends within --deadline + 3 s, with a diagnosis.

Each case is a real misbehaving server on 127.0.0.1 (or, for a resolver that never
answers, a stand-in through the probes' own resolver hook): no mocks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from aiohttp import web

from gate.probes import resolve
from tests.aiohttp_app import SPRING, make_app
from tests.conftest import NEW, SECRET, GateRun
from tests.servers import (
    AiohttpServer,
    CloudThread,
    RawServer,
    TokenEndpoint,
    accept_upgrade,
    free_port,
    read_frame_head,
    read_request,
    text_frame,
)

ENV = {"GATE_JWT_SECRET": SECRET}
PLAIN = ["--subprotocol", "chat.v1"]
SLACK_S = 3.0  # how far past its deadline a run may end
JUNIT = xmlschema.XMLSchema(str(Path(__file__).parents[1] / "data" / "junit.xsd"))


def _elapsed(started: float) -> float:
    return time.monotonic() - started


async def _stops_reading_big_messages(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Healthy, answers small messages, and stops reading for good at a big one."""
    head = await read_request(reader)
    if not head.startswith(b"GET /ws"):
        body = b'{"status": "ok"}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        return
    accept_upgrade(head, writer, "chat.v1")
    await writer.drain()
    while True:
        opcode, length, _mask = await read_frame_head(reader)
        if length > 4096:
            writer.transport.pause_reading()  # the kernel buffers fill, then the sender blocks
            await asyncio.sleep(3600)
        await reader.readexactly(length)
        if opcode == 0x1:
            writer.write(text_frame('{"type": "pong"}'))
            await writer.drain()


def test_a_scenario_send_to_a_server_that_stopped_reading_ends_at_the_deadline(
    gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    # {run_id} (32 characters) makes a 1 MB file send 4 MB, more than loopback buffers hold.
    config.write_text('[[scenario.steps]]\nsend = "' + "{run_id}" * 125_000 + '"\n')
    with RawServer(_stops_reading_big_messages, rcvbuf=4096) as server:
        started = time.monotonic()
        run = gate(
            "check", server.url, "--config", str(config), "--no-check-auth", *PLAIN,
            "--deadline", "4", env=ENV,
        )  # fmt: skip
    assert _elapsed(started) < 4 + SLACK_S
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.check("ws.first_message")["status"] == "pass"
    scenario = run.check("ws.scenario")
    assert scenario["status"] == "fail"
    assert scenario["diagnosis"] == "deadline_exceeded", scenario
    assert "step 1" in scenario["summary"]


class _Stuck:
    """A resolver that never answers until the test ends (then it fails, as a lookup would)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> Any:
        self.asked.append(host)
        self.release.wait()
        raise OSError("resolver released by the test")


@pytest.fixture
def stuck_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Stuck]:
    stuck = _Stuck()
    monkeypatch.setattr(resolve, "RESOLVER", stuck)
    yield stuck
    stuck.release.set()


def test_a_resolver_that_never_answers_is_bounded_by_connect_timeout(
    gate: Callable[..., GateRun], stuck_resolver: _Stuck
) -> None:
    started = time.monotonic()
    run = gate(
        "check", "http://svc.example.test", "--connect-timeout", "1", "--retry-budget", "0",
        "--deadline", "10", env=ENV,
    )  # fmt: skip
    assert _elapsed(started) < 1 + SLACK_S
    assert stuck_resolver.asked, "the resolver stand-in was never asked"
    health = run.check("http.health")
    assert run.exit_code == 1
    assert health["diagnosis"] == "connect_timeout", health
    assert "resolver did not answer for svc.example.test" in health["summary"]


def test_a_stuck_resolver_does_not_hold_the_process_past_its_deadline(tmp_path: Path) -> None:
    """The process exits once its report is written, not when the lookup thread returns."""
    report = tmp_path / "report.json"
    hook = (
        "import threading; from gate.probes import resolve; "
        "resolve.RESOLVER = lambda host, port: threading.Event().wait() or []; "
        "from gate.cli import main; main()"
    )
    env = {**os.environ, **ENV}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", hook, "check", "http://svc.example.test", "--deadline", "2",
         "--report-json", str(report)],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    assert _elapsed(started) < 2 + SLACK_S
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    data = json.loads(report.read_text())
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["http.health"]["diagnosis"] == "deadline_exceeded"


def test_an_unknown_charset_falls_back_and_a_healthy_service_passes(
    gate: Callable[..., GateRun],
) -> None:
    app = make_app(SECRET, SPRING)

    async def mysql_charset(_request: web.Request) -> web.Response:
        body = json.dumps(SPRING).encode()
        return web.Response(
            body=body, headers={"Content-Type": "application/json; charset=utf8mb4"}
        )

    app.router.add_get("/mb4", mysql_charset)
    with AiohttpServer(app) as server:
        run = gate("check", server.url, "--health-path", "/mb4", *PLAIN, env=ENV)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.check("http.health")["status"] == "pass"


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_ready_token_with_an_algorithm_the_gate_cannot_sign_is_still_sent(
    sandbox: Any, gate_process: Callable[..., GateRun]
) -> None:
    """``alg: ES256K`` (which PyJWT does not know): the gate sends it; the server judges it."""
    header = _segment(json.dumps({"alg": "ES256K", "typ": "JWT"}).encode())
    claims = _segment(b'{"sub": "ci"}')
    token = f"{header}.{claims}.{_segment(os.urandom(64))}"
    server = sandbox()
    run = gate_process("check", server.url, env={"GATE_TOKEN": token})
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert run.check("ws.upgrade")["diagnosis"] == "upgrade_rejected"
    assert token in server.service.tokens_seen


def test_an_unwritable_step_summary_is_a_warning_not_a_failure(
    sandbox: Any, gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs.txt"
    run = gate_process(
        "check", sandbox().url, *PLAIN,
        env={**ENV, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path),
             "GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(tmp_path)},
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert f"cannot write $GITHUB_STEP_SUMMARY ({tmp_path}: Is a directory)" in run.stderr
    assert "verdict=pass" in outputs.read_text()


@pytest.fixture
def logging_endpoint(
    request: pytest.FixtureRequest, cloud: CloudThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Cloud Logging refusing connections, or accepting them and never answering."""
    if request.param == "refused":
        monkeypatch.setenv("GATE_LOGGING_ENDPOINT", f"127.0.0.1:{free_port()}")
        yield "refused"
        return

    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(3600)

    with RawServer(silent) as server:
        monkeypatch.setenv("GATE_LOGGING_ENDPOINT", f"127.0.0.1:{server.port}")
        yield "stalled"


@pytest.mark.parametrize("logging_endpoint", ["refused", "stalled"], indirect=True)
def test_a_broken_logging_api_never_delays_the_rollback_past_the_deadline(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], logging_endpoint: str
) -> None:
    cloud.deploy(NEW, "crash")
    started = time.monotonic()
    run = gate_cloud(
        "verify", *PLAIN, "--on-failure", "rollback", "--deadline", "6", "--log-settle", "0.2"
    )
    assert _elapsed(started) < 6 + SLACK_S + 2  # the rollback's update and re-check included
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    logs = next(c for c in run.report["checks"] if c["id"] == "logs.errors")
    assert logs["status"] == "skip", logs
    assert "Cloud Logging" in logs["summary"]
    assert run.report["action"]["kind"] == "rollback"
    assert cloud.emulator.traffic_of("svc")[0][:2] == ("svc-00001-old", 100)


def test_a_token_endpoint_answering_html_to_iam_is_named(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.deploy(NEW)
    with TokenEndpoint(tmp_path, html=True) as tokens:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tokens.credentials))
        run = gate_cloud("verify", *PLAIN, "--iam", "--promote")
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "the token endpoint did not answer with an ID token" in run.stderr
    assert not cloud.emulator.calls_to("UpdateService")


CONTROLS = ("\x1b", "\x07", "\x00", "\u202e", "\x9b")


async def _control_characters(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A reason phrase, a body and a close reason full of terminal and annotation tricks.

    After its close frame it keeps TCP open, as a broken server may: still "closed by server".
    """
    head = await read_request(reader)
    if head.startswith(b"GET /ws"):
        accept_upgrade(head, writer, "chat.v1")
        await writer.drain()
        _opcode, length, _mask = await read_frame_head(reader)
        await reader.readexactly(length)
        reason = "bye\x1b[2J\n::error file=app.py::forged\u202e\x9b\x00".encode()
        payload = (1011).to_bytes(2, "big") + reason
        writer.write(bytes([0x88, len(payload)]) + payload)
        await writer.drain()
        await asyncio.sleep(1)
        return
    body = b"\n::error file=app.py::forged\x1b]0;title\x07\x00 down"
    writer.write(
        b"HTTP/1.1 500 Bad\x1b[31m\x07 News\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()


def test_control_characters_from_a_server_reach_no_output(
    gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    summary = tmp_path / "summary.md"
    with RawServer(_control_characters) as server:
        run = gate_process(
            "check", server.url, *PLAIN, "--no-check-auth", "--junit", str(junit),
            "--message-timeout", "2",
            env={**ENV, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
                 "RUNNER_TEMP": str(tmp_path)},
        )  # fmt: skip
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.check("http.health")["diagnosis"] == "http_status"
    assert run.check("ws.first_message")["diagnosis"] == "server_error_close"
    outputs = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "report": json.dumps(run.report, ensure_ascii=False),
        "junit": junit.read_text(),
        "summary": summary.read_text(),
    }
    for where, text in outputs.items():
        found = [c for c in CONTROLS if c in text]
        assert not found, f"{where} holds {found!r}"
    forged = [line for line in run.stdout.splitlines() if line.startswith("::error file=app.py")]
    assert not forged, "a server forged an annotation"
    JUNIT.validate(str(junit))  # well-formed, and valid
    assert "News" in outputs["report"]  # shown, made harmless
    assert "forged" in outputs["report"]
