"""--notify: each format reaches a local receiver with the right shape and no secret.

The receiver serves the paths real webhooks have (Slack's ``/services/T/B/secret``,
Google Chat's ``/v1/spaces/S/messages?key=..&token=..``), so the gate picks each
format as it would for the real hosts; anything else gets the JSON report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import NEW, SECRET, GateRun
from tests.servers import AiohttpServer, CloudThread, free_port

SLACK_SECRET = "xoxSlackHookSecret0123456789ab"
CHAT_KEY = "AIzaChatKey-0123456789abcdefghij"
CHAT_TOKEN = "chatToken_0123456789ABCDEFGH="
JSON_TOKEN = "jsonHookToken0123456789abcd"
ENV = {"GATE_JWT_SECRET": SECRET}


@dataclass
class Receiver:
    """Records every POST: (path, query, JSON body); ``/fail`` answers 500."""

    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.Response:
            body = await request.json()
            self.posts.append((request.path, dict(request.query), body))
            if request.path == "/fail":
                return web.Response(status=500, text=f"upstream broke; you sent {request.url}")
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/{tail:.*}", record)
        return app

    def of(self, prefix: str) -> list[tuple[str, dict[str, str], Any]]:
        return [p for p in self.posts if p[0].startswith(prefix)]

    @property
    def slack(self) -> str:
        return f"{self.url}/services/T0001/B0002/{SLACK_SECRET}"

    @property
    def chat(self) -> str:
        return f"{self.url}/v1/spaces/AAAA/messages?key={CHAT_KEY}&token={CHAT_TOKEN}"

    @property
    def generic(self) -> str:
        return f"{self.url}/hooks/deploy?token={JSON_TOKEN}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with AiohttpServer(found.app()) as server:
        found.url = server.url
        yield found


def _notify(*urls: str) -> list[str]:
    return [arg for url in urls for arg in ("--notify", url)]


def _secrets_absent(*texts: str) -> None:
    for text in texts:
        for secret in (SLACK_SECRET, CHAT_KEY, CHAT_TOKEN, JSON_TOKEN, SECRET):
            assert secret not in text


def test_a_failed_check_reaches_slack_chat_and_a_json_hook(
    sandbox: Any, gate: Callable[..., GateRun], receiver: Receiver
) -> None:
    server = sandbox(fault="close-on-message")
    run = gate(
        "check", server.url, "--subprotocol", "chat.v1",
        *_notify(receiver.slack, receiver.chat, receiver.generic), env=ENV,
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout + run.stderr
    ((_, _, slack),) = receiver.of("/services/")
    assert slack["text"].startswith("smoke-gate FAIL: http://127.0.0.1")
    body = "\n".join(b["text"]["text"] for b in slack["blocks"] if b["type"] == "section")
    assert "`ws.first_message` closed_by_server" in body
    ((_, query, chat),) = receiver.of("/v1/spaces/")
    assert query["messageReplyOption"] == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
    assert query["threadKey"] == chat["thread"]["threadKey"]
    assert chat["thread"]["threadKey"].startswith("smoke-gate-http-127.0.0.1")
    assert "*smoke-gate FAIL" in chat["text"]
    ((_, _, report),) = receiver.of("/hooks/")
    assert report["schema"] == "gate.report/v1"
    assert report["verdict"] == "fail"
    assert run.report is not None
    assert not [w for w in run.report["warnings"] if w["code"] == "notification_failed"]
    _secrets_absent(
        run.stdout,
        run.stderr,
        json.dumps(run.report),
        json.dumps([body for _p, _q, body in receiver.posts]),
    )


def test_a_pass_notifies_only_when_asked(
    sandbox: Any, gate: Callable[..., GateRun], receiver: Receiver
) -> None:
    server = sandbox()
    quiet = gate("check", server.url, "--subprotocol", "chat.v1", *_notify(receiver.slack), env=ENV)
    assert quiet.exit_code == 0
    assert receiver.posts == []
    told = gate(
        "check", server.url, "--subprotocol", "chat.v1", *_notify(receiver.slack),
        "--notify-on", "always", env=ENV,
    )  # fmt: skip
    assert told.exit_code == 0
    ((_, _, slack),) = receiver.posts
    assert slack["text"].startswith("smoke-gate PASS")


def test_a_failing_or_unreachable_webhook_is_a_warning_never_a_verdict(
    sandbox: Any, gate: Callable[..., GateRun], receiver: Receiver, tmp_path: Path
) -> None:
    server = sandbox()
    refused = f"http://127.0.0.1:{free_port()}/services/T1/B1/{SLACK_SECRET}"
    run = gate(
        "check", server.url, "--subprotocol", "chat.v1", "--strict", "--notify-on", "always",
        *_notify(f"{receiver.url}/fail?token={JSON_TOKEN}", refused), env=ENV,
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr  # even with --strict
    assert run.report is not None
    assert run.report["verdict"] == "pass"
    failed = [w["message"] for w in run.report["warnings"] if w["code"] == "notification_failed"]
    assert len(failed) == 2, failed
    assert any("answered HTTP 500" in m for m in failed)
    assert any("connect_refused" in m for m in failed)
    assert all("the verdict stands" in m for m in failed)
    assert "warning notification_failed" in run.stdout
    _secrets_absent(run.stdout, run.stderr, json.dumps(run.report))


def test_verify_tells_the_thread_of_its_revision_what_failed_and_what_was_done(
    cloud: CloudThread, gate: Callable[..., GateRun], receiver: Receiver
) -> None:
    cloud.deploy(NEW, "crash")
    run = gate(
        "verify", "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        "--subprotocol", "chat.v1", "--on-failure", "rollback", "--log-settle", "0.5",
        *_notify(receiver.slack, receiver.chat),
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout + run.stderr
    ((_, _, slack),) = receiver.of("/services/")
    assert slack["text"] == f"smoke-gate FAIL: svc {NEW}"
    body = "\n".join(b["text"]["text"] for b in slack["blocks"] if b["type"] == "section")
    assert "• logs: " in body  # the group the gate's own probes caused
    assert "• action: rollback svc-00002-new (100%) -> svc-00001-old: done" in body
    ((_, _query, chat),) = receiver.of("/v1/spaces/")
    assert chat["thread"]["threadKey"] == f"smoke-gate-svc-{NEW}"
    _secrets_absent(run.stdout, json.dumps([body for _p, _q, body in receiver.posts]))


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (f"http://hooks.example.com/services/T/B/{SLACK_SECRET}", "use https://"),
        ("ftp://hooks.example.com/x", "must be an https:// webhook URL"),
        ("https://", "must be an https:// webhook URL"),
    ],
)
def test_a_bad_webhook_is_refused_up_front_without_quoting_it(
    gate: Callable[..., GateRun], url: str, needle: str
) -> None:
    run = gate("check", "http://x", "--notify", url)
    assert run.exit_code == 2
    assert needle in run.stderr
    assert SLACK_SECRET not in run.stderr
