"""``gate.cloud.run`` through the real google-cloud-run client against the emulator, as Google answers.

* ``LATEST`` traffic statuses carry no revision name (a captured real v2 GetService
  answer): every command resolves LATEST through ``latest_ready_revision``;
* a service that is ``reconciling`` has transient status fields
  (google/cloud/run/v2/service.proto): the gate waits for it to settle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from google.cloud import run_v2

from tests.conftest import NEW, OLD, GateRun
from tests.servers import CloudThread

PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1", "--log-settle", "0.5"]
LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST


def _get_service(cloud: CloudThread) -> run_v2.Service:
    """The service as the real client reads it from the emulator."""
    from gate.cloud.run import _clients

    services, _revisions = _clients(cloud.emulator.endpoint)
    try:
        return services.get_service(name=cloud.emulator.service_name("svc"))
    finally:
        services.transport.close()


def test_the_emulator_answers_latest_without_a_revision_name(cloud: CloudThread) -> None:
    found = _get_service(cloud)
    [status] = list(found.traffic_statuses)
    assert (status.type_, status.percent, status.revision) == (LATEST, 100, "")
    assert found.latest_ready_revision.endswith(f"/{OLD}")


def test_snapshot_records_the_revision_latest_meant(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    out = tmp_path / "snapshot.json"
    taken = gate_cloud("snapshot", "--out", str(out))
    assert taken.exit_code == 0, taken.stdout + taken.stderr
    traffic = json.loads(out.read_text())["traffic"]
    assert traffic == [{"type": "REVISION", "revision": OLD, "percent": 100, "tag": "", "uri": ""}]


def test_a_deploy_that_took_all_traffic_through_latest_is_verified(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """The ordinary flow: `gcloud run deploy` without --no-traffic; LATEST takes 100%."""
    cloud.deploy(NEW)
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["target"]["revision"] == NEW
    assert "receives 0%" not in run.stdout + run.stderr


def test_rollback_and_promote_never_write_a_nameless_revision(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash")
    failed = gate_cloud("verify", *PLAIN, "--on-failure", "rollback")
    assert failed.exit_code == 1, failed.stdout + failed.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    promoted = gate_cloud("promote", "--revision", NEW)
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    back = gate_cloud("rollback")
    assert back.exit_code == 0, back.stdout + back.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    for call in cloud.emulator.calls_to("UpdateService"):
        for target in call.request.service.traffic:
            assert target.type_ == LATEST or target.revision, call.request.service.traffic


def test_a_reconciling_service_is_waited_for_before_the_revision_is_resolved(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """Read at once, the transient statuses still give all traffic to the old revision."""
    cloud.deploy(NEW, reconcile_s=2.5)
    assert _get_service(cloud).reconciling
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["target"]["revision"] == NEW
    reads = cloud.emulator.calls_to("GetService")
    assert len(reads) >= 3, "the service was not read again while it reconciled"


@pytest.mark.parametrize("command", ["verify", "snapshot"])
def test_a_service_still_reconciling_at_the_deadline_is_exit_3(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path, command: str
) -> None:
    cloud.deploy(NEW, reconcile_s=60)
    extra = (
        [*PLAIN, "--deadline", "3"]
        if command == "verify"
        else ["--out", str(tmp_path / "s.json"), "--action-timeout", "3"]
    )
    run = gate_cloud(command, *extra)
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "still reconciling" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
