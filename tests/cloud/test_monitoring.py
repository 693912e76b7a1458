"""``gate.cloud.monitoring`` and the canary's windows, with the real Monitoring client.

The emulator's Cloud Monitoring keeps Google's clock, run faster: samples per
period (Google: 60 s), each visible up to a delay after its period (Google: up
to 180 s), alignment periods of at least the sampling period, and a
``location`` label on every series.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gate.cloud.monitoring import aligned
from tests.conftest import NEW, OLD, SECRET, GateRun
from tests.servers import CloudThread

STEPS = [
    "--tag", "candidate", "--subprotocol", "chat.v1", "--log-settle", "0.2",
    "--probe-interval", "0.5", "--metrics-period", "1", "--min-requests", "20",
]  # fmt: skip


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_window_is_rounded_out_to_whole_periods() -> None:
    start = datetime(2026, 12, 2, 12, 0, 10, tzinfo=UTC)
    assert aligned(start, start + timedelta(seconds=30), 60) == (
        datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 12, 1, tzinfo=UTC),
    )
    assert aligned(start, start, 60)[1] - aligned(start, start, 60)[0] == timedelta(seconds=60)


def test_a_bake_shorter_than_the_delay_still_catches_a_failing_candidate_at_once(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """Read as `[start, now - delay]`, this window was empty and every step "insufficient"."""
    cloud.emulator.metric_delay_s = 2.0
    cloud.deploy(NEW, "flaky-5xx", traffic=False, tag="candidate")
    with cloud.users(SECRET):
        run = gate_cloud(
            "verify", *STEPS, "--step-bake", "1", "--metrics-delay", "2", "--canary", "20,50",
            "--promote",
        )  # fmt: skip
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    (step,) = run.report["steps"]
    assert step["diagnosis"] == "canary_error_rate_exceeded"
    metrics = step["metrics"]
    assert metrics["candidate"]["requests"] >= 20
    read = [_at(metrics[k]) for k in ("window_start", "asked_start", "asked_end", "window_end")]
    assert read == sorted(read)
    assert read[0].microsecond == 0
    assert read[3].microsecond == 0
    assert metrics["reads"] >= 2
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    plan = "canary plan: 20%, 50%; each step 1 s of bake + 4 s waiting for its metrics"
    assert plan in run.stderr
    for call in cloud.emulator.calls_to("ListTimeSeries"):
        assert call.request.aggregation.alignment_period.total_seconds() == 1


def test_the_same_names_in_another_region_are_not_summed(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """A failing twin of the candidate in us-central1 is not this candidate."""
    cloud.deploy(NEW, traffic=False, tag="candidate")
    now = datetime.now(UTC)
    for i in range(400):
        when = now + timedelta(milliseconds=10 * i)
        cloud.emulator.record_request("svc", NEW, 503, 0.01, when, location="us-central1")
    with cloud.users(SECRET):
        run = gate_cloud(
            "verify", *STEPS, "--step-bake", "2", "--metrics-delay", "1", "--canary", "50",
            "--promote",
        )  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["steps"][0]["metrics"]["candidate"]["errors"] == 0
    request = cloud.emulator.calls_to("ListTimeSeries")[0].request
    assert 'resource.labels.location = "europe-west1"' in request.filter


def test_a_step_the_metrics_cannot_judge_is_inconclusive_in_every_output(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    junit = tmp_path / "junit.xml"
    run = gate_cloud(
        "verify", *STEPS, "--step-bake", "0.5", "--metrics-delay", "1", "--canary", "50",
        "--min-requests", "100000", "--junit", str(junit),
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    (step,) = run.report["steps"]
    assert step["verdict"] == "inconclusive"
    assert "data" in step["metrics"]["summary"]
    assert "INCONCLUSIVE  step 50%" in run.stdout
    assert 'skipped message="inconclusive: ' in junit.read_text()


def test_an_alignment_shorter_than_the_sampling_is_refused_as_google_refuses_it(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.emulator.metric_period_s = 60.0
    cloud.deploy(NEW, traffic=False, tag="candidate")
    run = gate_cloud(
        "verify", *STEPS, "--step-bake", "0.5", "--metrics-delay", "0", "--canary", "50",
    )  # fmt: skip
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "alignment period must be at least 60" in run.stdout + run.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
