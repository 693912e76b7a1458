"""What breaks WebSocket apps on Cloud Run, against the local Cloud Run: the revision's
settings (``revision.config``), messages between two sockets (``ws.scenario``), and a socket
held for a session's length (``ws.hold``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.sandbox.emulator import RevisionSettings
from tests.conftest import NEW, SECRET, GateRun
from tests.servers import CloudThread

PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1", "--log-settle", "0.5"]
CHAT = """
[scenario.sockets.bob]
claims = { sub = "bob" }

[[scenario.steps]]
send = { type = "join", room = "r1" }
expect = { type = "joined" }

[[scenario.steps]]
socket = "bob"
send = { type = "join", room = "r1" }
expect = { type = "joined" }

[[scenario.steps]]
send = { type = "say", room = "r1", text = "hello bob" }
expect = { type = "sent" }

[[scenario.steps]]
socket = "bob"
expect = { type = "said", text = "hello bob" }
timeout = 2
"""


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_JWT_SECRET", SECRET)


def _chat(tmp_path: Path) -> str:
    config = tmp_path / "gate.toml"
    config.write_text(CHAT)
    return str(config)


APART = RevisionSettings(timeout_s=3600.0, cpu_idle=False, concurrency=1)
"""One request per instance at a time: two sockets open together land on two instances."""


def test_two_users_talk_when_the_instances_share_a_room(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, instances=3, settings=APART)
    run = gate_cloud("verify", *PLAIN, "--config", _chat(tmp_path))
    assert run.exit_code == 0, run.stdout
    scenario = run.check("ws.scenario")
    assert scenario["status"] == "pass"
    assert "sockets main and bob were on different instances" in scenario["summary"]
    instances = scenario["evidence"]["instances"]
    assert set(instances) == {"main", "bob"}
    assert set(instances.values()) <= set(cloud.local.instances[NEW])


def test_sockets_packed_on_one_instance_say_the_path_between_was_not_tested(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, "no-pubsub", instances=2)  # concurrency 80: Cloud Run packs them
    run = gate_cloud("verify", *PLAIN, "--config", _chat(tmp_path))
    scenario = run.check("ws.scenario")
    assert scenario["status"] == "pass"
    assert (
        "shared an instance, so the path between instances was not tested" in (scenario["summary"])
    )


def test_a_broadcast_kept_in_one_instance_fails_naming_both_sockets(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, "no-pubsub", instances=3, settings=APART)
    run = gate_cloud("verify", *PLAIN, "--config", _chat(tmp_path))
    assert run.exit_code == 1, run.stdout
    scenario = run.check("ws.scenario")
    assert scenario["diagnosis"] == "scenario_not_delivered"
    assert "socket 'main' sent never arrived on socket 'bob'" in scenario["summary"]
    assert "were on different instances" in scenario["summary"]
    assert "Memorystore for Redis" in scenario["hint"]


def test_an_h2c_revision_fails_its_config_and_its_upgrade_names_the_port(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "h2c-reset", port="h2c")
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 1
    config = run.check("revision.config")
    assert (config["status"], config["diagnosis"]) == ("fail", "config_h2c_breaks_websocket")
    assert "gcloud run deploy --no-use-http2" in config["hint"]
    upgrade = run.check("ws.upgrade")
    assert upgrade["status"] == "fail"
    assert "container port is named h2c" in upgrade["hint"]
    assert run.report is not None
    assert run.report["revision_config"]["ports"] == ["h2c"]


def test_a_30_s_timeout_cuts_a_40_s_hold_at_about_30_s_naming_the_timeout(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, settings=RevisionSettings(timeout_s=30.0, cpu_idle=False))
    started = time.monotonic()
    run = gate_cloud("verify", *PLAIN, "--hold", "40", "--hold-interval", "10",
                     "--deadline", "60")  # fmt: skip
    assert time.monotonic() - started < 45
    assert run.exit_code == 1, run.stdout
    hold = run.check("ws.hold")
    assert hold["diagnosis"] == "session_cut"
    assert 29 <= hold["evidence"]["age_s"] <= 32
    assert "without a close frame" in hold["summary"]
    assert "the revision's request timeout (30 s) ended it" in hold["hint"]
    assert run.report is not None
    assert "config_timeout_cuts_sessions" in [w["code"] for w in run.report["warnings"]]


def test_concurrency_times_instances_below_the_connections_warns_with_the_capacity(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, settings=RevisionSettings(timeout_s=3600, cpu_idle=False, concurrency=5,
                                                max_instances=2))  # fmt: skip
    run = gate_cloud("verify", *PLAIN, "--connections", "20")
    assert run.check("revision.config")["status"] == "warn"
    assert run.report is not None
    [warning] = [w for w in run.report["warnings"] if w["code"] == "config_capacity_below"]
    assert "5 x 2 = 10" in warning["message"]
    assert "fewer than the 20 of --connections" in warning["message"]
    failing = gate_cloud("verify", *PLAIN, "--connections", "20", "--config-fail-on", "warning")
    assert failing.check("revision.config")["diagnosis"] == "config_unsuited"
    assert failing.exit_code == 1


def test_a_request_log_without_instance_labels_is_reported_as_unknown(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, instances=3, settings=APART)
    cloud.local.label_request_log = False
    run = gate_cloud("verify", *PLAIN, "--config", _chat(tmp_path))
    scenario = run.check("ws.scenario")
    assert scenario["status"] == "pass"
    assert "Cloud Logging did not say which instance served each socket" in scenario["summary"]
    assert scenario["evidence"]["instances"] == {"main": None, "bob": None}
