"""Progressive delivery with the real Run, Logging and Monitoring clients against the emulator.

Synthetic users call the service URL throughout (each request routed by the
traffic split, as Cloud Run does), so that the candidate's request metrics are
real counts of what it served: the emulated Monitoring answers from them.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.checks.canary import Limits, judge, worse_beyond_noise
from gate.checks.stats import fisher_greater
from gate.cloud.model import Latency, Traffic, TrafficEntry
from gate.config.settings import parse_percentages
from gate.errors import ConfigError
from gate.traffic.plan import canary_step
from tests.conftest import NEW, OLD, SECRET, GateRun
from tests.servers import CloudThread

FAST = [
    "--subprotocol", "chat.v1", "--log-settle", "0.2", "--step-bake", "1.5",
    "--probe-interval", "0.5", "--metrics-delay", "1", "--metrics-period", "1",
    "--min-requests", "20",
]  # fmt: skip
MIDDLE = "svc-00002-mid"
THIRD = "svc-00003-third"
CANDIDATE = "svc-00004-new"


def _verify(gate_cloud: Callable[..., GateRun], *args: str) -> GateRun:
    return gate_cloud("verify", "--tag", "candidate", *FAST, *args)


def _updates(cloud: CloudThread) -> int:
    return len(cloud.emulator.calls_to("UpdateService"))


def test_a_failing_candidate_is_rolled_back_to_the_exact_restore_point(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """A 3-revision split (with a tag-only entry) is put back as it was."""
    earlier = datetime.now(UTC) - timedelta(minutes=30)
    cloud.deploy(MIDDLE, created=earlier)
    cloud.deploy(THIRD, created=earlier + timedelta(minutes=1))
    cloud.emulator.request_traffic(
        "svc", [(OLD, 60), (MIDDLE, 30, "mid"), (THIRD, 10), (OLD, 0, "old")]
    )
    cloud.deploy(CANDIDATE, "flaky-5xx", traffic=False, tag="candidate")
    before = cloud.emulator.traffic_of("svc")
    assert len([p for _r, p, _t in before if p]) == 3
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "20,50", "--promote")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    (step,) = run.report["steps"]
    assert step["name"] == "20%"
    assert step["diagnosis"] == "canary_error_rate_exceeded"
    assert all(r["passed"] for r in step["rounds"]), "probes alone should miss flaky-5xx"
    assert step["metrics"]["candidate"]["errors"] > 0
    action = run.report["action"]
    assert action["kind"] == "rollback"
    assert action["verified"] is True
    assert [c["step"] for c in action["changes"]] == ["20%", "restore"]
    assert sorted(cloud.emulator.traffic_of("svc")) == sorted(before)
    assert "FAIL  step 20%" in run.stdout


def test_a_healthy_candidate_walks_every_step_and_is_promoted(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    junit = tmp_path / "junit.xml"
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "20,50", "--promote", "--remove-tag",
                      "--junit", str(junit))  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    steps = run.report["steps"]
    assert [s["name"] for s in steps] == ["20%", "50%"]
    assert all(s["verdict"] == "pass" for s in steps)
    assert all(s["metrics"]["verdict"] == "pass" for s in steps)
    assert steps[1]["metrics"]["candidate"]["requests"] >= 20
    changes = run.report["action"]["changes"]
    assert [c["step"] for c in changes] == ["20%", "50%", "promote"]
    assert changes[0]["traffic"][:2] == [
        {"type": "REVISION", "revision": NEW, "percent": 20, "tag": "candidate", "uri": ""},
        {"type": "REVISION", "revision": OLD, "percent": 80, "tag": "", "uri": ""},
    ]
    after = cloud.emulator.traffic_of("svc")
    assert after[0][:2] == (NEW, 100)
    assert "candidate" not in {tag for _r, _p, tag in after}
    assert junit.read_text().count('classname="gate.canary"') == 2


def test_too_few_requests_pass_unless_metrics_are_required(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    quiet = _verify(gate_cloud, "--canary", "50", "--min-requests", "100000")
    assert quiet.exit_code == 0, quiet.stdout + quiet.stderr
    assert quiet.report is not None
    (step,) = quiet.report["steps"]
    assert step["metrics"]["verdict"] == "insufficient"
    assert "insufficient data" in step["summary"]
    cloud.emulator.request_traffic("svc", [(OLD, 100), (NEW, 0, "candidate")])
    strict = _verify(gate_cloud, "--canary", "50", "--min-requests", "100000", "--require-metrics")
    assert strict.exit_code == 1, strict.stdout + strict.stderr
    assert strict.report is not None
    assert strict.report["steps"][0]["diagnosis"] == "metrics_insufficient"
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_a_platform_wide_5xx_does_not_blame_the_candidate(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    """The stable revision fails as often as the candidate: not the candidate's fault."""
    cloud.sandboxes[OLD].service.config.fault = "flaky-5xx"
    cloud.deploy(NEW, "flaky-5xx", traffic=False, tag="candidate")
    with cloud.users(SECRET, rate_per_s=250):
        run = _verify(gate_cloud, "--canary", "50", "--promote")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    metrics = run.report["steps"][0]["metrics"]
    assert metrics["candidate"]["error_ratio"] > 0.01
    assert metrics["stable"]["error_ratio"] > 0.01
    assert metrics["verdict"] == "pass"


def test_a_slow_candidate_fails_on_its_p95_against_the_stable_one(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "slow-api", traffic=False, tag="candidate")
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "50", "--promote")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    step = run.report["steps"][0]
    assert step["diagnosis"] == "canary_latency_exceeded"
    metrics = step["metrics"]
    assert metrics["candidate"]["p95_ms"] > 1.5 * metrics["stable"]["p95_ms"]
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_a_concurrent_change_stops_the_rollout_and_overwrites_nothing(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")

    def someone_else() -> None:
        waited = time.monotonic() + 20
        while _updates(cloud) < 1 and time.monotonic() < waited:
            time.sleep(0.05)
        cloud.deploy("svc-00003-hotfix", traffic=False, tag="hotfix")

    racer = threading.Thread(target=someone_else)
    racer.start()
    run = _verify(gate_cloud, "--canary", "20,50", "--promote")
    racer.join()
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "etag mismatch" in run.stderr
    assert _updates(cloud) == 2  # the 20% step, then the refused 50% one
    traffic = cloud.emulator.traffic_of("svc")
    assert (NEW, 20, "candidate") in traffic  # left as the last change set it
    assert "hotfix" in {tag for _r, _p, tag in traffic}  # the other change stands
    assert run.report is not None
    assert run.report["action"]["status"] == "failed"
    assert "traffic left as 20% set it" in run.report["action"]["reason"]


def test_the_watch_rolls_back_a_revision_that_degrades_after_promotion(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")

    def degrade_once_promoted() -> None:
        waited = time.monotonic() + 30
        while _updates(cloud) < 2 and time.monotonic() < waited:
            time.sleep(0.05)
        cloud.sandboxes[NEW].service.config.fault = "flaky-5xx"

    turn = threading.Thread(target=degrade_once_promoted)
    turn.start()
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "50", "--promote", "--watch", "2")
    turn.join()
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    assert [s["name"] for s in run.report["steps"]] == ["50%", "watch"]
    watch = run.report["steps"][1]
    assert watch["verdict"] == "fail"
    assert watch["diagnosis"] == "canary_error_rate_exceeded"
    action = run.report["action"]
    assert [c["step"] for c in action["changes"]] == ["50%", "promote", "restore"]
    assert action["kind"] == "rollback"
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)


def test_a_dry_run_plans_every_step_and_changes_nothing(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    run = _verify(gate_cloud, "--canary", "10,50", "--promote", "--dry-run")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    changes = run.report["action"]["changes"]
    assert [(c["step"], c["status"]) for c in changes] == [
        ("10%", "dry-run"),
        ("50%", "dry-run"),
        ("promote", "dry-run"),
    ]
    assert _updates(cloud) == 0


def test_a_candidate_that_fails_its_checks_never_gets_traffic(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, "crash", traffic=False, tag="candidate")
    run = _verify(gate_cloud, "--canary", "10,50", "--promote")
    assert run.exit_code == 1
    assert run.report is not None
    assert run.report["steps"] == []
    assert "never got traffic" in run.report["action"]["reason"]
    assert _updates(cloud) == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--canary", "10,50"], "--canary needs --tag"),
        (["--tag", "candidate", "--canary", "50,10"], "larger than the one before"),
        (["--tag", "candidate", "--canary", "0,100"], "from 1 to 99"),
        (["--tag", "candidate", "--canary", "ten"], "whole percents"),
        (["--watch", "30"], "--watch needs --promote and --tag"),
        (["--watch", "30", "--promote"], "--watch needs --promote and --tag"),
        (["--tag", "c", "--canary", "10", "--no-metrics", "--require-metrics"], "contradict"),
    ],
)
def test_bad_canary_options_are_one_line(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], args: list[str], needle: str
) -> None:
    run = gate_cloud("verify", *args)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert needle in run.stderr


def test_the_demo_canary_catches_the_error_rate_and_rolls_back(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "demo", "--canary", "--report-json", str(report)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["steps"][0]["diagnosis"] == "canary_error_rate_exceeded"
    assert data["action"]["kind"] == "rollback"
    assert data["action"]["verified"] is True


def test_the_demo_canary_without_a_fault_walks_every_step(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    done = subprocess.run(
        [sys.executable, "-m", "gate", "demo", "--canary", "--fault", "none",
         "--report-json", str(report)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert all(step["verdict"] == "pass" for step in data["steps"])
    assert data["action"]["kind"] == "promote"


# --- pure parts ------------------------------------------------------------------------


def test_a_step_keeps_the_previous_proportions_and_every_tag() -> None:
    restore_point = (
        TrafficEntry("REVISION", "a", 70),
        TrafficEntry("REVISION", "b", 30, "blue"),
        TrafficEntry("REVISION", "c", 0, "old"),
        TrafficEntry("REVISION", "new", 0, "candidate"),
    )
    plan = canary_step(restore_point, "new", "candidate", 10, "etag-1")
    shares = [(t.revision, t.percent, t.tag) for t in plan.traffic]
    assert shares == [("new", 10, "candidate"), ("a", 63, ""), ("b", 27, "blue"), ("c", 0, "old")]
    assert sum(t.percent for t in plan.traffic) == 100
    assert plan.etag == "etag-1"
    odd = canary_step((TrafficEntry("REVISION", "a", 50), TrafficEntry("REVISION", "b", 50)),
                      "new", "t", 33, "e")  # fmt: skip
    assert sum(t.percent for t in odd.traffic) == 100


def test_the_error_rate_test_needs_more_than_noise() -> None:
    assert worse_beyond_noise(30, 1000, 10, 9000)  # 3% against 0.1%
    assert not worse_beyond_noise(3, 100, 20, 900)  # 3% against 2.2%: noise at these counts
    limits = Limits(max_error_rate=0.01, min_requests=100)
    latency = Latency((10.0, 20.0, 40.0), (0, 90, 8, 2))
    bad = Traffic(1000, 40, latency)
    assert judge(bad, Traffic(9000, 9, latency), limits)[1] == "canary_error_rate_exceeded"
    assert judge(bad, Traffic(9000, 360, latency), limits)[0] == "pass"  # equally bad
    assert judge(bad, Traffic(50, 0, latency), limits)[1] == "canary_error_rate_exceeded"
    slow = Traffic(1000, 0, Latency((10.0, 20.0, 40.0), (0, 10, 10, 980)))  # p95: 40 ms
    fast = Traffic(9000, 0, Latency((10.0, 20.0, 40.0), (0, 99, 1, 0)))  # p95: 19.6 ms
    assert judge(slow, fast, limits)[1] == "canary_latency_exceeded"
    assert judge(fast, fast, limits)[0] == "pass"
    assert judge(Traffic(99, 50), Traffic(), limits)[0] == "insufficient"


def test_the_p95_is_read_from_the_buckets() -> None:
    latency = Latency((10.0, 20.0), (0, 50, 50))
    assert latency.percentile(0.25) == pytest.approx(15.0)  # half-way through [10, 20)
    assert latency.percentile(0.95) == pytest.approx(20.0)  # in the overflow: its lower bound
    assert Latency((10.0,), (0, 0)).percentile(0.95) is None


def test_percentages_are_parsed_strictly() -> None:
    assert parse_percentages("10,50") == (10, 50)
    assert parse_percentages("[5, 25, 75]") == (5, 25, 75)
    with pytest.raises(ConfigError):
        parse_percentages("50,50")


def test_the_github_summary_has_a_table_of_steps() -> None:
    from gate.model import RunResult
    from gate.report.github import summary_markdown

    step = {
        "name": "10%", "percent": 10, "url": "https://candidate---svc", "started_at": "x",
        "duration_ms": 60000.0, "rounds": [], "log_errors": 0, "metrics": None,
        "verdict": "fail", "diagnosis": "canary_error_rate_exceeded", "summary": "5xx | 4%",
    }  # fmt: skip
    result = RunResult("r", datetime.now(UTC), 1.0, {"url": "u"}, (), steps=(step,))  # type: ignore[arg-type]
    text = summary_markdown(result)
    assert "**Canary steps**" in text
    assert "| ❌ | 10% | 60.0 s | 0 | canary_error_rate_exceeded | 5xx \\| 4% |" in text


def test_a_candidate_that_already_serves_is_refused_before_any_probe(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    cloud.emulator.request_traffic("svc", [(OLD, 90), (NEW, 10, "candidate")])
    run = _verify(gate_cloud, "--canary", "50", "--promote")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"{NEW} already receives 10% of traffic" in run.stderr
    assert _updates(cloud) == 0
    assert not cloud.sandboxes[NEW].service.requests, "a probe was sent"


BASELINE = "svc-00003-base"


def _shares(cloud: CloudThread) -> dict[str, int]:
    """Each revision's whole share of the service's traffic (a tag-only entry adds 0)."""
    shares: dict[str, int] = {}
    for revision, percent, _tag in cloud.emulator.traffic_of("svc"):
        shares[revision] = shares.get(revision, 0) + percent
    return shares


def test_a_baseline_gets_the_candidate_s_share_is_compared_with_and_leaves_at_the_end(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(BASELINE, traffic=False, tag="baseline")
    cloud.deploy(NEW, traffic=False, tag="candidate")
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "20,40", "--baseline-tag", "baseline",
                      "--promote")  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.report is not None
    changes = run.report["action"]["changes"]
    for change, percent in zip(changes[:2], (20, 40), strict=True):
        shares = {t["revision"]: t["percent"] for t in change["traffic"]}
        assert shares == {NEW: percent, BASELINE: percent, OLD: 100 - 2 * percent}
    for step in run.report["steps"]:
        assert step["metrics"]["stable"]["revisions"] == [BASELINE]
    after = _shares(cloud)
    assert after[NEW] == 100
    assert after.get(BASELINE, 0) == 0


def test_a_failing_candidate_against_its_baseline_takes_both_out(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(BASELINE, traffic=False, tag="baseline")
    cloud.deploy(NEW, "flaky-5xx", traffic=False, tag="candidate")
    with cloud.users(SECRET, rate_per_s=300.0):
        run = _verify(gate_cloud, "--canary", "30", "--baseline-tag", "baseline", "--promote")
    assert run.exit_code == 1, run.stdout + run.stderr
    after = _shares(cloud)
    assert after.get(BASELINE, 0) == 0
    assert after.get(NEW, 0) == 0
    assert after[OLD] == 100


def test_bad_baseline_input_is_one_line() -> None:
    from gate.config.inputs import Inputs
    from gate.config.settings import build_verify_options

    base = Inputs(project="p", region="r", service="s", tag="candidate", canary="20,60",
                  baseline_tag="baseline")  # fmt: skip
    for given, words in (
        (base, "no step may be above 50%"),
        (Inputs(project="p", region="r", service="s", baseline_tag="b"), "needs --canary"),
        (Inputs(project="p", region="r", service="s", tag="t", canary="10", baseline_tag="t"),
         "names the candidate's own --tag"),
    ):  # fmt: skip
        with pytest.raises(ConfigError, match=words):
            build_verify_options(given, {})


DISCONNECTS = "logging.googleapis.com/user/ws_disconnects"


@contextlib.contextmanager
def _counting(cloud: CloudThread, per_tick: dict[str, int]) -> Iterator[None]:
    """A log-based counter the revisions' logs feed while the block runs: ``per_tick`` each
    revision's count every 0.1 s."""
    stop = threading.Event()

    def feed() -> None:
        while not stop.wait(0.1):
            for revision, value in per_tick.items():
                if value:
                    cloud.emulator.record_user_metric(DISCONNECTS, "svc", revision, value,
                                                      {"reason": "server"})  # fmt: skip

    worker = threading.Thread(target=feed, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()


def _metric_config(tmp_path: Path, critical: bool = True, metric: str = DISCONNECTS) -> str:
    config = tmp_path / "gate.toml"
    config.write_text(
        f'[[canary_metrics]]\nname = "ws_disconnects"\nmetric = "{metric}"\n'
        f'labels = {{ reason = "server" }}\nthreshold = 2\nrelative = true\n'
        f"critical = {'true' if critical else 'false'}\n"
    )
    return str(config)


@pytest.mark.parametrize(("candidate", "verdict"), [(40, "fail"), (2, "pass")])
def test_a_user_metric_fails_a_step_when_the_candidate_is_worse(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    tmp_path: Path,
    candidate: int,
    verdict: str,
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    with cloud.users(SECRET), _counting(cloud, {NEW: candidate, OLD: 8}):
        run = _verify(gate_cloud, "--canary", "50", "--config", _metric_config(tmp_path))
    assert run.report is not None
    step = run.report["steps"][0]
    [mine] = step["metrics"]["user"]
    assert mine["verdict"] == verdict, mine
    assert step["verdict"] == verdict
    if verdict == "fail":
        assert step["diagnosis"] == "canary_metric_failed"
        assert "ws_disconnects" in step["hint"]
        assert run.exit_code == 1


@pytest.mark.parametrize("required", [False, True])
def test_a_critical_metric_without_data_is_inconclusive_or_with_require_a_failure(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path, required: bool
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    extra = ["--require-metrics"] if required else []
    with cloud.users(SECRET), _counting(cloud, {OLD: 8}):
        run = _verify(gate_cloud, "--canary", "50", "--config", _metric_config(tmp_path),
                      *extra)  # fmt: skip
    assert run.report is not None
    step = run.report["steps"][0]
    if required:
        assert step["diagnosis"] == "metrics_insufficient"
        assert run.exit_code == 1
    else:
        assert step["verdict"] == "inconclusive"
    assert "critical metric ws_disconnects has no data" in step["summary"]


def test_a_bad_user_metric_is_one_line_and_exit_2_before_any_traffic_moves(
    cloud: CloudThread, gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = _metric_config(tmp_path, metric="not a metric type")
    run = gate_process("verify", "--project", "demo-project", "--region", "europe-west1",
                       "--service", "svc", "--tag", "candidate", "--canary", "50",
                       "--config", config, env=cloud.env)  # fmt: skip
    assert run.exit_code == 2
    assert "gate.toml: canary metric 'ws_disconnects': metric must be a Cloud Monitoring" in (
        run.stderr
    )
    assert not cloud.emulator.calls_to("UpdateService")


PROMQL = 'sum(ws_errors_per_request{revision="{revision}"})'


def _promql_config(tmp_path: Path, query: str = PROMQL) -> str:
    config = tmp_path / "gate.toml"
    config.write_text(
        f"[[canary_metrics]]\nname = \"ws_errors\"\npromql = '{query}'\nthreshold = 0.05\n"
        "critical = true\n"
    )
    return str(config)


@pytest.mark.parametrize(("candidate", "verdict"), [(0.2, "fail"), (0.01, "pass")])
def test_a_promql_metric_fails_a_step_when_the_candidate_is_worse(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    tmp_path: Path,
    candidate: float,
    verdict: str,
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    answers = cloud.emulator.prometheus.answers
    answers[PROMQL.replace("{revision}", NEW)] = candidate
    answers[PROMQL.replace("{revision}", OLD)] = 0.01
    with cloud.users(SECRET):
        run = _verify(gate_cloud, "--canary", "50", "--config", _promql_config(tmp_path))
    assert run.report is not None
    step = run.report["steps"][0]
    [mine] = step["metrics"]["user"]
    assert (mine["verdict"], mine["candidate_rate"]) == (verdict, candidate)
    assert step["verdict"] == verdict
    asked = cloud.emulator.prometheus.queries
    assert PROMQL.replace("{revision}", NEW) in asked  # the first read, before any traffic
    assert PROMQL.replace("{revision}", OLD) in asked


def test_a_promql_query_the_api_refuses_stops_the_run_before_any_traffic_moves(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    run = _verify(gate_cloud, "--canary", "50",
                  "--config", _promql_config(tmp_path, 'rate(nope{revision="{revision}"'))  # fmt: skip
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "gate.toml: canary metric 'ws_errors': promql: the Prometheus API refused" in (
        run.stderr
    )
    assert not cloud.emulator.calls_to("UpdateService")


def _after_the_first_change(cloud: CloudThread, feed: Callable[[], None]) -> threading.Thread:
    """Run ``feed`` once the first traffic change is made (inside the step's window)."""

    def wait_then_feed() -> None:
        ends = time.monotonic() + 30
        while not cloud.emulator.calls_to("UpdateService") and time.monotonic() < ends:
            time.sleep(0.02)
        time.sleep(0.2)
        feed()

    worker = threading.Thread(target=wait_then_feed, daemon=True)
    worker.start()
    return worker


def test_three_failures_in_forty_against_none_in_four_hundred_fail_by_the_exact_test(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")

    def feed() -> None:
        for n in range(40):
            cloud.emulator.record_request("svc", NEW, 500 if n < 3 else 200, 0.01)
        for _n in range(400):
            cloud.emulator.record_request("svc", OLD, 200, 0.01)

    worker = _after_the_first_change(cloud, feed)
    run = _verify(gate_cloud, "--canary", "50", "--min-requests", "40")
    worker.join()
    assert run.report is not None
    step = run.report["steps"][0]
    assert step["diagnosis"] == "canary_error_rate_exceeded", step["summary"]
    # The gate's own probes of the candidate count too: 3 failures in 40 and a few more.
    mine = step["metrics"]["candidate"]
    errors = step["metrics"]["tests"]["errors"]
    assert (mine["errors"], errors["test"]) == (3, "fisher_exact")
    assert math.isclose(errors["p_value"], fisher_greater(3, mine["requests"], 0, 400))
    assert "Fisher's exact test, p = " in step["summary"]


@pytest.mark.parametrize(
    ("shift", "requests", "verdict"), [(1.22, 400, "fail"), (1.0, 4000, "pass")]
)
def test_a_candidate_slower_across_its_distribution_fails_and_a_copy_passes(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    shift: float,
    requests: int,
    verdict: str,
) -> None:
    """Latencies spread from 20 to 100 ms: shifted by 30% (a p95 ratio near 1.3, under
    --max-latency-ratio 1.5) the candidate fails; the same spread with 10x the requests passes."""
    cloud.deploy(NEW, traffic=False, tag="candidate")
    spread = [0.020 + 0.080 * n / 399 for n in range(400)]

    def feed() -> None:
        for n in range(requests):
            cloud.emulator.record_request("svc", NEW, 200, spread[n % 400] * shift)
        for latency in spread:
            cloud.emulator.record_request("svc", OLD, 200, latency)

    worker = _after_the_first_change(cloud, feed)
    run = _verify(gate_cloud, "--canary", "50")
    worker.join()
    assert run.report is not None
    step = run.report["steps"][0]
    metrics = step["metrics"]
    ratio = metrics["candidate"]["p95_ms"] / metrics["stable"]["p95_ms"]
    assert step["verdict"] == verdict, step["summary"]
    if verdict == "fail":
        assert 1.1 < ratio < 1.5, metrics
        assert "slower across its whole latency distribution" in step["summary"]
    else:
        assert metrics["tests"]["latency"]["effect"] <= 0.55
