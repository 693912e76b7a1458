"""SIGINT and SIGTERM at each phase of `check` and `verify`, sent to the real process.

Whatever the phase, the process stops starting new work, writes its reports
with verdict ``error`` and what was interrupted, and exits 130 (SIGINT) or 143
(SIGTERM); a traffic update in flight is finished, never cut and never
started after the signal, and traffic is asserted intact afterwards.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NEW, OLD, Stopped, interrupt
from tests.servers import CloudThread

SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
SCOPE = ["--project", "demo-project", "--region", "europe-west1", "--service", "svc"]
PLAIN = ["--subprotocol", "chat.v1"]
PROMPT_S = 3.0  # how soon after the signal the process must be gone (outside a traffic update)


def _assert_interrupted(run: Stopped, signum: int, code: int, during: str) -> None:
    name = signal.Signals(signum).name
    assert run.code == code, run.stdout + run.stderr
    assert run.report["verdict"] == "error"
    assert run.report["exit_code"] == code
    assert run.report["interrupted"] == name
    assert f"interrupted by {name} during {during}" in run.report["error"], run.report["error"]
    assert f"interrupted by {name}" in run.stdout + run.stderr


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_check_interrupted_during_the_probes(
    sandbox: Any, tmp_path: Path, signum: int, code: int
) -> None:
    server = sandbox(fault="hang")
    run = interrupt(
        ["check", server.url, "--deadline", "60", "--read-timeout", "60"],
        {},
        lambda: server.sandbox.raw_connections > 0,
        signum,
        tmp_path,
    )
    _assert_interrupted(run, signum, code, "the probes")
    assert run.after_signal_s < PROMPT_S
    health = next(c for c in run.report["checks"] if c["id"] == "http.health")
    assert health["status"] == "skip"
    assert "not finished" in health["summary"]


def _verify_env(cloud: CloudThread, tmp_path: Path) -> dict[str, str]:
    return {**cloud.env, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json")}


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_verify_interrupted_during_the_probes_changes_no_traffic(
    cloud: CloudThread, tmp_path: Path, signum: int, code: int
) -> None:
    cloud.deploy(NEW, "hang")
    before = cloud.emulator.traffic_of("svc")
    sandbox = cloud.sandboxes[NEW]
    run = interrupt(
        ["verify", *SCOPE, *PLAIN, "--on-failure", "rollback", "--deadline", "60",
         "--read-timeout", "60"],
        _verify_env(cloud, tmp_path),
        lambda: sandbox.raw_connections > 0,
        signum,
        tmp_path,
    )  # fmt: skip
    _assert_interrupted(run, signum, code, "the probes")
    assert run.after_signal_s < PROMPT_S
    assert not cloud.emulator.calls_to("UpdateService")
    assert not cloud.emulator.calls_to("ListLogEntries")
    assert cloud.emulator.traffic_of("svc") == before
    assert run.report["action"] is None or run.report["action"]["status"] == "skipped"


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_verify_interrupted_while_polling_logs_changes_no_traffic(
    cloud: CloudThread, tmp_path: Path, signum: int, code: int
) -> None:
    cloud.deploy(NEW, "crash")
    before = cloud.emulator.traffic_of("svc")
    run = interrupt(
        ["verify", *SCOPE, *PLAIN, "--on-failure", "rollback", "--log-settle", "60",
         "--deadline", "120"],
        _verify_env(cloud, tmp_path),
        lambda: bool(cloud.emulator.calls_to("ListLogEntries")),
        signum,
        tmp_path,
    )  # fmt: skip
    _assert_interrupted(run, signum, code, "reading Cloud Logging")
    assert run.after_signal_s < PROMPT_S
    assert not cloud.emulator.calls_to("UpdateService")  # the failed release is not rolled back
    assert cloud.emulator.traffic_of("svc") == before
    checks = {c["id"]: c for c in run.report["checks"]}
    assert checks["ws.first_message"]["status"] == "fail"  # what was judged stays in the report
    assert checks["logs.errors"]["status"] == "skip"


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_verify_interrupted_during_the_traffic_update_finishes_it(
    cloud: CloudThread, tmp_path: Path, signum: int, code: int
) -> None:
    cloud.deploy(NEW, "crash")
    cloud.emulator.operation_delay_s = 2.0
    run = interrupt(
        ["verify", *SCOPE, *PLAIN, "--on-failure", "rollback", "--log-settle", "0.2"],
        _verify_env(cloud, tmp_path),
        lambda: bool(cloud.emulator.calls_to("UpdateService")),
        signum,
        tmp_path,
    )
    _assert_interrupted(run, signum, code, "verifying the rollback")
    # The signal waited for the operation (2 s), then the run stopped before anything else.
    assert 1.0 < run.after_signal_s < 2.0 + PROMPT_S
    assert len(cloud.emulator.calls_to("UpdateService")) == 1
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    assert run.report["action"]["kind"] == "rollback"
    assert run.report["action"]["status"] == "done"
    assert run.report["action"]["checks"] == []  # the re-check was not started


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_standalone_rollback_interrupted_mid_update_finishes_it(
    cloud: CloudThread, tmp_path: Path, signum: int, code: int
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.operation_delay_s = 2.0
    run = interrupt(
        ["rollback", *SCOPE],
        _verify_env(cloud, tmp_path),
        lambda: bool(cloud.emulator.calls_to("UpdateService")),
        signum,
        tmp_path,
        reports=False,
    )
    assert run.code == code, run.stdout + run.stderr
    name = signal.Signals(signum).name
    assert f"interrupted by {name}: during the rollback, which was finished first" in run.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    assert len(cloud.emulator.calls_to("UpdateService")) == 1


def test_a_signal_during_a_canary_step_leaves_traffic_and_reports_the_restore_point(
    cloud: CloudThread, tmp_path: Path
) -> None:
    """No new traffic change after a signal: the step's share stays, the report says how to undo."""
    cloud.deploy(NEW, traffic=False, tag="candidate")
    run = interrupt(
        ["verify", *SCOPE, *PLAIN, "--tag", "candidate", "--canary", "20,50", "--step-bake", "30",
         "--probe-interval", "0.5", "--metrics-delay", "0", "--log-settle", "0.2", "--promote"],
        _verify_env(cloud, tmp_path),
        lambda: bool(cloud.emulator.calls_to("UpdateService")),
        signal.SIGTERM,
        tmp_path,
    )  # fmt: skip
    _assert_interrupted(run, signal.SIGTERM, 143, "the 20% step")
    assert run.after_signal_s < PROMPT_S
    assert len(cloud.emulator.calls_to("UpdateService")) == 1
    assert (NEW, 20, "candidate") in cloud.emulator.traffic_of("svc")
    action = run.report["action"]
    assert [c["step"] for c in action["changes"]] == ["20%"]
    assert (OLD, 100) in {(t["revision"], t["percent"]) for t in action["traffic"]}
    assert "restore point in the report" in run.report["error"]


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_check_interrupted_awaiting_the_first_message_keeps_what_finished(
    sandbox: Any, tmp_path: Path, signum: int, code: int
) -> None:
    server = sandbox(fault="silent")
    run = interrupt(
        ["check", server.url, *PLAIN, "--expect-subprotocol", "chat.v1", "--no-check-auth",
         "--deadline", "60", "--message-timeout", "60"],
        {},
        lambda: server.sandbox.service.sessions > 0,
        signum,
        tmp_path,
    )  # fmt: skip
    name = signal.Signals(signum).name
    _assert_interrupted(run, signum, code, "the probes")
    status = {c["id"]: (c["status"], c["summary"]) for c in run.report["checks"]}
    assert status["http.health"][0] == "pass"
    assert status["ws.upgrade"][0] == "pass"
    assert status["ws.subprotocol"][0] == "pass"
    assert status["ws.first_message"] == ("skip", f"not finished: interrupted by {name} during "
                                          "the probes")  # fmt: skip
    assert run.report["error"] == (
        f"interrupted by {name} during the probes: 4 checks had finished and were judged, "
        "1 check had not"
    )
    assert "PASS  ws.subprotocol" in run.stdout
    assert "error:" not in run.stdout  # the error line once, on stderr
    assert run.stderr.count(f"interrupted by {name} during the probes") == 1


def test_a_signal_during_a_hold_ends_the_held_socket_with_the_rest(
    sandbox: Any, tmp_path: Path
) -> None:
    server = sandbox()
    run = interrupt(
        ["check", server.url, *PLAIN, "--no-check-auth", "--hold", "30", "--hold-interval", "1",
         "--deadline", "60"],
        {},
        lambda: server.sandbox.service.sessions == 1 and len(server.sandbox.service.requests) >= 3,
        signal.SIGTERM,
        tmp_path,
    )  # fmt: skip
    _assert_interrupted(run, signal.SIGTERM, 143, "the probes")
    assert run.after_signal_s < PROMPT_S
    status = {c["id"]: c["status"] for c in run.report["checks"]}
    assert status["ws.hold"] == "skip"
    assert status["ws.first_message"] == "pass"  # finished before the signal, and kept
