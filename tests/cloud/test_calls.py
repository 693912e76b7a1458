"""``gate.cloud.calls``: reads retried as Google's own clients would, writes never.

The emulator throttles reads as a shared per-project quota does
(``RESOURCE_EXHAUSTED``), with a ``RetryInfo`` delay or without one (Google does
not document which), and the real clients meet it over gRPC.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest
from google.api_core import exceptions
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from gate.cloud.calls import BACKOFF_FIRST_S, BACKOFF_MAX_S, retry_delay
from tests.conftest import NEW, OLD, SECRET, GateRun
from tests.servers import CloudThread

PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1", "--log-settle", "0.5"]
CANARY = [
    "--tag", "candidate", "--subprotocol", "chat.v1", "--log-settle", "0.2",
    "--probe-interval", "0.5", "--metrics-period", "1", "--metrics-delay", "1",
    "--min-requests", "20", "--step-bake", "1",
]  # fmt: skip


def test_the_server_s_retry_info_decides_the_wait() -> None:
    info = error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=2, nanos=500_000_000)
    )
    throttled = exceptions.ResourceExhausted("quota", details=[info])
    assert retry_delay(throttled, 1) == 2.5


@pytest.mark.parametrize(
    "error",
    [exceptions.ResourceExhausted("q"), exceptions.ServiceUnavailable("u"),
     exceptions.InternalServerError("i"), exceptions.DeadlineExceeded("d")],
)  # fmt: skip
def test_transient_errors_back_off_with_jitter(error: Exception) -> None:
    low = [retry_delay(error, n, lambda: 0.0) for n in range(1, 9)]
    high = [retry_delay(error, n, lambda: 1.0) for n in range(1, 9)]
    assert low[0] == BACKOFF_FIRST_S / 2
    assert high[0] == BACKOFF_FIRST_S
    assert high[-1] == BACKOFF_MAX_S
    assert all(a is not None and b is not None and a < b for a, b in zip(low, high, strict=True))


@pytest.mark.parametrize(
    "error",
    [exceptions.PermissionDenied("p"), exceptions.NotFound("n"), exceptions.Aborted("a"),
     ValueError("not an API error")],
)  # fmt: skip
def test_other_errors_are_never_retried(error: Exception) -> None:
    assert retry_delay(error, 1) is None


@pytest.mark.parametrize("hinted", [None, 0.3], ids=["no RetryInfo", "RetryInfo"])
@pytest.mark.parametrize("code", [grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE])
def test_one_throttled_log_read_leaves_the_verdict_as_it_was(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    hinted: float | None,
    code: grpc.StatusCode,
) -> None:
    cloud.deploy(NEW, "crash")
    cloud.emulator.throttle("ListLogEntries", 1, hinted, code)
    cloud.emulator.throttle("GetService", 1, hinted, code)
    started = time.monotonic()
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.check("ws.first_message")["diagnosis"] == "server_error_close"
    assert run.check("logs.errors")["status"] == "fail"
    assert run.report is not None
    assert run.report["error"] is None
    if hinted is not None:
        assert time.monotonic() - started >= 2 * hinted
    assert len(cloud.emulator.calls_to("ListLogEntries")) >= 2


def test_a_read_throttled_for_good_says_so_and_exits_3(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.throttle("GetService", 10_000)
    run = gate_cloud("verify", *PLAIN, "--deadline", "3")
    assert run.exit_code == 3, run.stdout + run.stderr
    text = run.stdout + run.stderr
    assert "quota is exhausted" in text
    assert "attempts" in text
    assert "Traceback" not in text


def test_a_write_is_never_retried(cloud: CloudThread, gate_cloud: Callable[..., GateRun]) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    cloud.emulator.throttle("UpdateService", 1, None, grpc.StatusCode.UNAVAILABLE)
    run = gate_cloud("verify", *PLAIN, "--tag", "candidate", "--promote")
    assert run.exit_code == 3, run.stdout + run.stderr
    assert len(cloud.emulator.calls_to("UpdateService")) == 1
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


@pytest.mark.parametrize("where", ["step", "watch"])
def test_reads_failing_for_good_mid_rollout_restore_traffic_and_exit_3(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], where: str
) -> None:
    """Traffic is never left mid-canary, and the report says which read failed."""
    cloud.deploy(NEW, traffic=False, tag="candidate")
    cloud.emulator.throttle("ListTimeSeries", 10_000)
    rollout = ["--canary", "50"] if where == "step" else ["--watch", "1"]
    with cloud.users(SECRET):
        run = gate_cloud("verify", *CANARY, *rollout, "--promote", "--action-timeout", "3")
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.report is not None, "the report was lost"
    step = run.report["steps"][-1]
    assert step["verdict"] == "error"
    assert "read the request metrics of svc" in step["summary"]
    assert "quota is exhausted" in step["summary"]
    action = run.report["action"]
    assert (action["kind"], action["status"]) == ("rollback", "done")
    assert "traffic was restored to the restore point" in run.report["error"]
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    assert "ERROR  " in run.stdout
