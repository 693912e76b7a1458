"""`gate verify` and the traffic commands, through the real google-cloud-run and
google-cloud-logging clients, over gRPC, against the emulator on 127.0.0.1.

GOOGLE_APPLICATION_CREDENTIALS points at a file that does not exist, so any
accidental credential lookup by the clients fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gate.cli import cli
from tests.conftest import NEW, OLD, GateRun
from tests.servers import CloudThread

TAG = "candidate"
SNAPSHOT = b'{"schema": "gate.snapshot/v1", "service": "projects/demo-project/locations/europe-west1/services/svc", '
PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1"]


def _verify(*args: str) -> tuple[str, ...]:
    return ("verify", *PLAIN, "--log-settle", "0.5", *args)


def test_failed_release_rolls_back_to_previous_revision_and_verifies_it(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    assert run.check("ws.first_message")["diagnosis"] == "server_error_close"
    action = run.report["action"]
    assert (action["kind"], action["status"], action["to"], action["verified"]) == (
        "rollback", "done", OLD, True,
    )  # fmt: skip
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    update = cloud.emulator.calls_to("UpdateService")[0].request
    assert list(update.update_mask.paths) == ["traffic"]
    assert update.service.etag
    assert run.report["target"]["revision"] == NEW
    assert run.report["target"]["project"] == "demo-project"


def test_rollback_restores_a_snapshot(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    snapshot = tmp_path / "traffic.json"
    taken = gate_cloud("snapshot", "--out", str(snapshot))
    assert taken.exit_code == 0, taken.stderr
    data = json.loads(snapshot.read_text())
    assert data["traffic"][0]["type"] == "REVISION"
    assert data["traffic"][0]["revision"] == OLD
    cloud.deploy(NEW, "close-on-message")
    run = gate_cloud(*_verify("--on-failure", "rollback", "--restore", str(snapshot)))
    assert run.exit_code == 1
    assert run.report is not None
    assert run.report["action"]["status"] == "done"
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"schema": "gate.snapshot/v1", "traff', "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"traffic": []}', "not a gate.snapshot/v1 file"),
        (b'{"schema": "gate.snapshot/v1", "traffic": []}', "names no service"),
        (SNAPSHOT + b'"traffic": [1, 2]}', "a traffic target must be an object, not 1"),
        (SNAPSHOT + b'"traffic": []}', "do not add up to 100"),
        (SNAPSHOT + b'"traffic": [{"type": "LATEST", "percent": 1e400}]}', "not a whole number"),
    ],
)
@pytest.mark.parametrize("command", ["verify", "rollback"])
def test_a_broken_snapshot_is_refused_before_any_call(
    cloud: CloudThread,
    gate_process: Callable[..., GateRun],
    tmp_path: Path,
    command: str,
    content: bytes,
    needle: str,
) -> None:
    """Read up front: a bad --restore never leaves a failed release serving for lack of one."""
    snapshot = tmp_path / "traffic.json"
    snapshot.write_bytes(content)
    cloud.deploy(NEW, "crash")
    extra = ["--on-failure", "rollback", *PLAIN] if command == "verify" else []
    run = gate_process(
        command, "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        *extra, "--restore", str(snapshot), env=cloud.env,
    )  # fmt: skip
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert f"--restore {snapshot}" in run.stderr
    assert needle in run.stderr
    assert not cloud.emulator.calls, "a call was made before the input was checked"


def test_promote_a_tagged_latest_revision_as_latest(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag=TAG)
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    run = gate_cloud(*_verify("--tag", TAG, "--promote"))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["target"]["tag"] == TAG
    assert run.report["action"]["status"] == "done"
    update = cloud.emulator.calls_to("UpdateService")[0].request
    assert update.service.traffic[0].type_ == 1  # LATEST: later deploys are not pinned
    assert cloud.emulator.traffic_of("svc")[0][:2] == (NEW, 100)


def test_promote_pins_a_revision_that_is_not_the_latest(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag=TAG)
    cloud.deploy("svc-00003-newer", traffic=False)
    run = gate_cloud(*_verify("--tag", TAG, "--promote"))
    assert run.exit_code == 0, run.stdout
    target = cloud.emulator.calls_to("UpdateService")[0].request.service.traffic[0]
    assert (target.type_, target.revision, target.percent) == (2, NEW, 100)


def test_dry_run_makes_no_update_call(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    run = gate_cloud(*_verify("--on-failure", "rollback", "--dry-run"))
    assert run.exit_code == 1
    assert run.report is not None
    assert run.report["action"]["status"] == "dry-run"
    assert run.report["action"]["to"] == OLD
    assert cloud.emulator.calls_to("UpdateService") == []
    assert "dry-run" in run.stdout


def test_etag_conflict_never_clobbers_a_concurrent_change(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "silent")
    # Someone else deploys while the gate waits for the silent socket.
    timer = threading.Timer(0.3, lambda: cloud.deploy("svc-00003-other", traffic=False, tag="x"))
    timer.start()
    run = gate_cloud(*_verify("--on-failure", "rollback", "--message-timeout", "1"))
    timer.join()
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["verdict"] == "error"
    assert run.report["action"]["status"] == "failed"
    assert "etag" in run.report["error"]
    assert "etag mismatch" in run.stderr
    assert [t[0] for t in cloud.emulator.traffic_of("svc")] == [NEW, "svc-00003-other"]


def test_failed_operation_is_reported(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    cloud.emulator.fail_next_update = "revision svc-00001-old has no healthy instances"
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.exit_code == 3
    assert run.report is not None
    assert run.report["action"]["status"] == "failed"
    assert "no healthy instances" in run.report["action"]["reason"]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("method", "role"),
    [("GetService", "roles/run.viewer"), ("ListRevisions", "roles/run.viewer")],
)
def test_permission_denied_names_the_role(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], method: str, role: str
) -> None:
    cloud.deploy(NEW, "crash")
    cloud.emulator.deny.add(method)
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.exit_code == 3
    assert role in run.stderr
    assert "Traceback" not in run.stderr


def test_permission_denied_on_update_names_developer_role(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    cloud.emulator.deny.add("UpdateService")
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.exit_code == 3
    assert "roles/run.developer" in run.stderr


def test_logging_permission_denied_names_the_role(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.deny.add("ListLogEntries")
    run = gate_cloud(*_verify())
    assert run.exit_code == 3
    assert "roles/logging.viewer" in run.stderr
    assert run.check("logs.errors")["status"] == "skip"


def test_a_release_whose_logs_cannot_be_read_is_never_promoted(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag=TAG)
    cloud.emulator.deny.add("ListLogEntries")
    run = gate_cloud(*_verify("--tag", TAG, "--promote"))
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["action"]["status"] == "skipped"
    assert "not promoted" in run.report["action"]["reason"]
    assert not cloud.emulator.calls_to("UpdateService")
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_missing_service_or_revision_is_a_configuration_error(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    run = gate_cloud(*_verify("--revision", "svc-09999-nope"))
    assert run.exit_code == 2
    assert "not found" in run.stderr
    result = CliRunner().invoke(
        cli,
        ["verify", "--project", "demo-project", "--region", "europe-west1", "--service", "nope"],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    assert "check --project, --region, --service" in result.stderr


def test_unknown_tag_is_a_configuration_error(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    run = gate_cloud(*_verify("--tag", "missing"))
    assert run.exit_code == 2
    assert "--no-traffic --tag missing" in run.stderr


def test_unreachable_api_exits_3(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("GATE_RUN_ENDPOINT", f"127.0.0.1:{free_port()}")
    run = gate_cloud(*_verify("--deadline", "4"))  # an unreachable API is retried until then
    assert run.exit_code == 3
    assert "unreachable" in run.stderr


def test_log_groups_ignores_and_trace_correlation(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    for ms in (5012, 498, 77):
        cloud.emulator.write_log("svc", NEW, f"upstream timeout after {ms} ms on conn 7f3a{ms}c2e")
    cloud.emulator.write_log("svc", NEW, "healthcheck noise 42")
    cloud.emulator.write_log("svc", OLD, "old revision error")
    run = gate_cloud(*_verify("--ignore-log", "noise"))
    assert run.report is not None
    logs = run.report["logs"]
    assert logs["ignored"] == 1
    groups = {g["fingerprint"]: g for g in logs["groups"]}
    timeout = groups["upstream timeout after <n> ms on conn <hex>"]
    assert timeout["count"] == 3
    assert timeout["caused_by_gate"] is False
    ours = [g for g in logs["groups"] if g["caused_by_gate"]]
    assert ours, "the crash logged with the gate's trace id must be marked"
    assert all("old revision" not in g["sample"] for g in logs["groups"])
    check = run.check("logs.errors")
    assert check["diagnosis"] == "log_errors_found"
    assert run.report["trace_id"] in check["hint"]


def test_max_log_errors_allows_known_volume(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.write_log("svc", NEW, "one tolerated error")
    run = gate_cloud(*_verify("--max-log-errors", "1"))
    assert run.exit_code == 0, run.stdout
    assert run.check("logs.errors")["status"] == "pass"


def test_log_settling_picks_up_a_late_entry(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.write_log("svc", NEW, "late error", delay_s=0.8)
    run = gate_cloud("verify", *PLAIN, "--log-settle", "1.5")
    assert run.check("logs.errors")["diagnosis"] == "log_errors_found"
    calls = len(cloud.emulator.calls_to("ListLogEntries"))
    assert 2 <= calls <= 3
    cloud.emulator.write_log("svc", NEW, "later error", delay_s=5)
    quick = gate_cloud("verify", *PLAIN, "--log-settle", "0", "--max-log-errors", "1")
    assert quick.check("logs.errors")["status"] == "pass"


def test_log_pagination(cloud: CloudThread, gate_cloud: Callable[..., GateRun]) -> None:
    cloud.deploy(NEW)
    for i in range(2100):
        cloud.emulator.write_log("svc", NEW, f"bulk error {i}")
    before = len(cloud.emulator.calls_to("ListLogEntries"))
    run = gate_cloud(*_verify())
    assert run.report is not None
    assert run.report["logs"]["count"] == 2100
    requests = cloud.emulator.calls_to("ListLogEntries")[before:]
    assert len(requests) == 3
    assert [bool(r.request.page_token) for r in requests] == [False, True, True]


def test_revision_pagination_finds_the_previous_ready_revision(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    base = datetime.now(UTC) - timedelta(minutes=30)
    for i in range(60):
        cloud.emulator.add_revision(
            "svc", f"svc-1{i:04d}-broken", ready=False, created=base + timedelta(seconds=i),
            traffic=False,
        )  # fmt: skip
    cloud.deploy(NEW, "crash")
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.report is not None
    assert run.report["action"]["to"] == OLD
    assert len(cloud.emulator.calls_to("ListRevisions")) >= 2


def test_every_request_carries_the_run_trace_id(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """Every probe carries the run's trace; since issue 10 each negative-credential session
    carries one of its own instead, so what the app logs about it is known as expected."""
    cloud.deploy(NEW)
    run = gate_cloud(*_verify("--no-logs"))
    assert run.report is not None
    trace = run.report["trace_id"]
    seen = cloud.sandboxes[NEW].service.traces_seen
    assert seen
    assert None not in seen
    assert seen.count(trace) == 2  # the health request and the authenticated upgrade
    negative = [t for t in seen if t != trace]
    variants = run.check("ws.auth_enforced")["evidence"]["variants"]
    assert len(negative) == len(set(negative)) == len(variants) == 4


def test_standalone_rollback_promote_and_dry_run(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    dry = gate_cloud("rollback", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "dry-run" in dry.stdout
    assert cloud.emulator.calls_to("UpdateService") == []
    done = gate_cloud("rollback")
    assert done.exit_code == 0, done.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    back = gate_cloud("promote", "--revision", NEW)
    assert back.exit_code == 0, back.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (NEW, 100)
    again = gate_cloud("rollback", "--to", OLD)
    assert again.exit_code == 0
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_iam_without_credentials_is_a_clear_error(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    run = gate_cloud(*_verify("--iam"))
    assert run.exit_code == 3
    assert "--iam" in run.stderr
    assert "roles/run.invoker" in run.stderr


def test_emulator_rejects_filters_it_does_not_understand(cloud: CloudThread) -> None:
    import grpc
    from google.api_core import exceptions
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.logging_v2.services.logging_service_v2.transports import (
        LoggingServiceV2GrpcTransport,
    )

    channel = grpc.insecure_channel(cloud.emulator.endpoint)
    client = LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))
    with pytest.raises(exceptions.InvalidArgument):
        client.list_log_entries(
            request={"resource_names": ["projects/demo-project"], "filter": 'jsonPayload.x="y"'},
            retry=None,
        ).pages.__next__()


def test_demo_runs_verify_rolls_back_and_reports(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "demo", "--report-json", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 1, done.stdout + done.stderr
    data: dict[str, Any] = json.loads(report.read_text())
    assert data["verdict"] == "fail"
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert {c["diagnosis"] for c in failed} == {"closed_by_server", "log_errors_found"}
    assert data["logs"]["count"] >= 1
    assert any(g["caused_by_gate"] for g in data["logs"]["groups"])
    assert data["action"]["kind"] == "rollback"
    assert data["action"]["status"] == "done"
    assert data["action"]["verified"] is True


def test_demo_without_fault_promotes(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    done = subprocess.run(
        [sys.executable, "-m", "gate", "demo", "--fault", "none", "--report-json", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["action"]["kind"] == "promote"
    assert data["action"]["status"] == "done"


def test_live_progress_on_a_terminal(cloud: CloudThread, tmp_path: Path) -> None:
    """With stderr on a terminal, verify says what it waits on, including the settle countdown."""
    import os
    import pty

    cloud.deploy(NEW)
    primary, secondary = pty.openpty()
    scope = ["--project", "demo-project", "--region", "europe-west1", "--service", "svc"]
    process = subprocess.Popen(
        [sys.executable, "-m", "gate", "verify", *scope, *PLAIN, "--log-settle", "2.5"],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=dict(os.environ),
    )
    os.close(secondary)
    stdout, _ = process.communicate(timeout=60)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    progress = b"".join(chunks).decode()
    assert process.returncode == 0, stdout.decode() + progress
    assert f"checking {NEW}" in progress
    assert "log settle " in progress
    assert "\x1b[K" in progress
    assert "\x1b" not in stdout.decode()


def test_a_newest_revision_that_never_started_fails_and_is_never_promoted(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """The old revision keeps serving; the gate judges the latest created one, not it."""
    cloud.deploy(NEW, ready=False)
    run = gate_cloud(*_verify("--promote"))
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    ready = run.check("revision.ready")
    assert ready["diagnosis"] == "revision_not_ready"
    assert "failed to start and listen on the port" in ready["summary"]
    assert "HEALTH_CHECK_CONTAINER_ERROR" in ready["summary"]
    assert OLD in ready["hint"]
    assert run.check("ws.upgrade")["status"] == "skip"
    assert run.report["target"]["revision"] == NEW
    assert cloud.emulator.calls_to("UpdateService") == []
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    groups = run.report["logs"]["groups"]
    startup = [g for g in groups if g["kind"] == "startup"]
    assert startup
    assert "STARTUP TCP probe failed" in startup[0]["sample"]
    info = [g for g in groups if g["severity"] == "INFO"]
    assert info
    assert not info[0]["counted"]  # an instance starting is context


def test_a_failed_revision_by_name_or_tag_fails_the_same_way(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, ready=False, traffic=False, tag=TAG)
    by_name = gate_cloud(*_verify("--revision", NEW))
    assert by_name.exit_code == 1
    assert by_name.check("revision.ready")["diagnosis"] == "revision_not_ready"
    by_tag = gate_cloud(*_verify("--tag", TAG))  # the tag exists only in the requested traffic
    assert by_tag.exit_code == 1, by_tag.stdout + by_tag.stderr
    assert by_tag.check("revision.ready")["diagnosis"] == "revision_not_ready"
    assert by_tag.report is not None
    assert by_tag.report["target"]["tag"] == TAG


def test_rollback_of_a_revision_that_never_served_changes_nothing(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, ready=False)
    run = gate_cloud(*_verify("--on-failure", "rollback"))
    assert run.exit_code == 1
    assert run.report is not None
    action = run.report["action"]
    assert (action["kind"], action["status"]) == ("none", "skipped")
    assert f"traffic never left {OLD} (100%)" in action["reason"]
    assert cloud.emulator.calls_to("UpdateService") == []


def test_traffic_pinned_to_a_failed_revision_is_moved_back(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, ready=False, traffic=False)
    cloud.emulator.request_traffic("svc", [(NEW, 50), (OLD, 50)])
    run = gate_cloud(*_verify("--revision", NEW, "--on-failure", "rollback"))
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    assert (run.report["action"]["kind"], run.report["action"]["status"]) == ("rollback", "done")
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_a_revision_still_deploying_is_waited_for(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, pending_for_s=1.0)
    run = gate_cloud(*_verify())
    assert run.exit_code == 0, run.stdout + run.stderr
    ready = run.check("revision.ready")
    assert ready["status"] == "pass"
    assert ready["evidence"]["waited_s"] >= 1.0
    assert len(cloud.emulator.calls_to("GetRevision")) >= 2


def test_partial_traffic_without_a_tag_names_what_serves(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False)
    run = gate_cloud(*_verify())
    assert run.exit_code == 2
    assert f"serving: {OLD} (100%)" in run.stderr


def test_negative_session_log_noise_is_expected_not_counted(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """A healthy release whose app logs every refused token at ERROR passes."""
    cloud.deploy(NEW, refusal_severity="ERROR")
    run = gate_cloud(*_verify("--log-settle", "1"))
    assert run.exit_code == 0, run.stdout
    assert run.report is not None
    logs = run.report["logs"]
    assert logs["count"] == 0
    assert logs["expected"] >= 3
    assert all(g["expected"] and not g["counted"] for g in logs["groups"])
    assert "[expected: the gate's refused probes]" in run.stdout


def test_a_warning_429_request_log_entry_is_pulled_and_counted(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.write_log(
        "svc", NEW, "The request was aborted because there was no available instance.",
        severity="WARNING", log="run.googleapis.com/requests", status=429,
    )  # fmt: skip
    cloud.emulator.write_log("svc", NEW, "a warning of the app itself", severity="WARNING")
    run = gate_cloud(*_verify())
    check = run.check("logs.errors")
    assert check["diagnosis"] == "log_errors_found"
    assert run.report is not None
    groups = run.report["logs"]["groups"]
    assert [(g["kind"], g["count"], g["counted"]) for g in groups] == [("capacity", 1, True)]
    assert "max instances" in check["hint"]
    assert "httpRequest.status>=400" in run.report["logs"]["filter"]


def test_h2c_port_is_named_when_the_upgrade_is_reset(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "h2c-reset", port="h2c")
    run = gate_cloud(*_verify("--no-logs"))
    upgrade = run.check("ws.upgrade")
    assert upgrade["diagnosis"] == "upstream_reset"
    assert "container port is named h2c" in upgrade["hint"]
    assert run.check("revision.ready")["evidence"]["ports"] == ["h2c"]
