"""[[targets]]: several services gated concurrently in one run, one report, the worst exit."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.sandbox.localrun import LocalCloudRun
from tests.conftest import SECRET, GateRun, interrupt
from tests.servers import BackgroundLoop, CloudThread, free_port


def test_check_targets_sections_and_worst_exit(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    healthy, broken = sandbox(), sandbox(fault="crash")
    config = tmp_path / "gate.toml"
    config.write_text(
        'subprotocol = ["chat.v1"]\n'
        f'[[targets]]\nname = "eu"\nurl = "{healthy.url}"\n'
        f'[[targets]]\nname = "us"\nurl = "{broken.url}"\nhealth_path = ["/api/health"]\n'
    )
    run = gate("check", "--config", str(config), env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 1, run.stdout
    assert run.report is not None
    assert run.report["verdict"] == "fail"
    sections = {t["name"]: t for t in run.report["targets"]}
    assert sections["eu"]["verdict"] == "pass"
    assert sections["us"]["verdict"] == "fail"
    assert sections["us"]["target"]["health_urls"] == [f"{broken.url}/api/health"]
    assert "=== target eu" in run.stdout
    assert "=== target us" in run.stdout
    assert "=== overall: FAIL (exit 1)" in run.stdout


def test_command_line_flag_overrides_every_target(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    server = sandbox()
    config = tmp_path / "gate.toml"
    config.write_text(f'[[targets]]\nname = "a"\nurl = "{server.url}"\nhealth_path = ["/nope"]\n')
    run = gate(
        "check", "--config", str(config), "--health-path", "/health",
        env={"GATE_JWT_SECRET": SECRET},
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[targets]]\nname = "a"\nurl = "http://x"\nbogus = 1\n', "target 'a': unknown key 'bogus'"),
        ('[[targets]]\nname = "a"\nurl = "http://x"\n[[targets]]\nname = "a"\nurl = "http://y"\n',
         "two targets are named 'a'"),
        ('[[targets]]\nname = "a"\nurl = "http://x"\ndeadline = "soon"\n', "deadline"),
        ('[[targets]]\nname = "a"\n', "target 'a' has no url"),
    ],
)  # fmt: skip
def test_bad_targets_are_configuration_errors(
    gate: Callable[..., GateRun], tmp_path: Path, toml: str, message: str
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(toml)
    run = gate("check", "--config", str(config))
    assert run.exit_code == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_url_and_targets_together_are_refused(gate: Callable[..., GateRun], tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[[targets]]\nname = "a"\nurl = "http://x"\n')
    run = gate("check", "http://y", "--config", str(config))
    assert run.exit_code == 2
    assert "use one or the other" in run.stderr


@pytest.fixture
def two_services(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[CloudThread, CloudThread]]:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("GATE_JWT_SECRET", SECRET)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    first = LocalCloudRun("alpha", jwt_secret=SECRET, log_delay_s=0.1)
    second = LocalCloudRun("beta", jwt_secret=SECRET, emulator=first.emulator)
    with (
        BackgroundLoop("local-cloud-run") as loop,
        CloudThread(loop, first) as alpha,
        CloudThread(loop, second) as beta,
    ):
        for name, value in alpha.env.items():
            monkeypatch.setenv(name, value)
        alpha.deploy("alpha-00001", created=earlier)
        alpha.deploy("alpha-00002", "crash")
        beta.deploy("beta-00001", created=earlier)
        beta.deploy("beta-00002")
        yield alpha, beta


def _verify_with(config_text: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """Run `gate verify --config` in-process; return the exit code and the report's sections."""
    config = tmp_path / "gate.toml"
    config.write_text(config_text)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli, ["verify", "--config", str(config), "--report-json", str(report)],
        catch_exceptions=False,
    )  # fmt: skip
    data = json.loads(report.read_text())
    return result.exit_code, {t["name"]: t for t in data["targets"]}


def test_verify_targets_roll_back_only_the_failed_one(
    two_services: tuple[CloudThread, CloudThread], tmp_path: Path
) -> None:
    alpha, _beta = two_services
    exit_code, sections = _verify_with(
        'project = "demo-project"\nregion = "europe-west1"\non_failure = "rollback"\n'
        'promote = true\nlog_settle = 0.3\nsubprotocol = ["chat.v1"]\n'
        '[[targets]]\nname = "alpha"\nservice = "alpha"\n'
        '[[targets]]\nname = "beta"\nservice = "beta"\n',
        tmp_path,
    )
    assert exit_code == 1
    assert sections["alpha"]["action"]["kind"] == "rollback"
    assert sections["alpha"]["action"]["status"] == "done"
    assert sections["beta"]["verdict"] == "pass"
    assert sections["beta"]["action"]["kind"] == "promote"
    updated = [
        c.request.service.name.rsplit("/", 1)[-1] for c in alpha.emulator.calls_to("UpdateService")
    ]
    assert updated.count("alpha") == 1
    assert alpha.emulator.traffic_of("alpha")[0][:2] == ("alpha-00001", 100)
    # beta already served its latest revision as LATEST: nothing to change there.
    assert sections["beta"]["action"]["status"] == "skipped"


def test_verify_target_that_cannot_resolve_does_not_stop_the_others(
    two_services: tuple[CloudThread, CloudThread], tmp_path: Path
) -> None:
    exit_code, sections = _verify_with(
        'project = "demo-project"\nregion = "europe-west1"\nno_logs = true\n'
        '[[targets]]\nname = "beta"\nservice = "beta"\nsubprotocol = ["chat.v1"]\n'
        '[[targets]]\nname = "ghost"\nservice = "ghost"\n',
        tmp_path,
    )
    assert exit_code == 3
    assert sections["beta"]["verdict"] == "pass"
    assert "not found" in sections["ghost"]["error"]


def test_unreachable_target_in_a_many_target_check(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    urls = [sandbox().url for _ in range(3)] + [f"http://127.0.0.1:{free_port()}"]
    config.write_text(
        "retry_budget = 0\n"
        + "".join(f'[[targets]]\nname = "t{i}"\nurl = "{u}"\n' for i, u in enumerate(urls))
    )
    run = gate("check", "--config", str(config), env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 1
    assert run.report is not None
    verdicts = [t["verdict"] for t in run.report["targets"]]
    assert verdicts == ["pass", "pass", "pass", "fail"]


def test_restore_without_rollback_is_refused_per_target(
    gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(
        'project = "p"\nregion = "r"\n'
        '[[targets]]\nname = "a"\nservice = "a"\n'
        '[[targets]]\nname = "b"\nservice = "b"\nrestore = "traffic-before.json"\n'
    )
    run = gate("verify", "--config", str(config))
    assert run.exit_code == 2
    assert "--restore needs --on-failure rollback" in run.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_every_target_and_changes_no_traffic(
    two_services: tuple[CloudThread, CloudThread], tmp_path: Path, signum: int, code: int
) -> None:
    """While both targets wait for their logs: no rollback of alpha, no promotion of beta."""
    alpha, _beta = two_services
    alpha.local.log_delay_s = 30.0  # alpha's crash is not in Cloud Logging yet: both wait
    before = {s: alpha.emulator.traffic_of(s) for s in ("alpha", "beta")}
    config = tmp_path / "gate.toml"
    config.write_text(
        'project = "demo-project"\nregion = "europe-west1"\non_failure = "rollback"\n'
        'promote = true\nlog_settle = 60\ndeadline = 120\nsubprotocol = ["chat.v1"]\n'
        '[[targets]]\nname = "alpha"\nservice = "alpha"\n'
        '[[targets]]\nname = "beta"\nservice = "beta"\n'
    )
    env = {**alpha.env, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json")}
    run = interrupt(
        ["verify", "--config", str(config)],
        env,
        lambda: any(  # both wait for their logs, read together in one query
            "alpha-00002" in c.request.filter and "beta-00002" in c.request.filter
            for c in alpha.emulator.calls_to("ListLogEntries")
        ),
        signum,
        tmp_path,
    )
    assert run.code == code, run.stdout + run.stderr
    assert run.after_signal_s < 3
    assert run.report["verdict"] == "error"
    assert run.report["interrupted"] == signal.Signals(signum).name
    for section in run.report["targets"]:
        assert section["interrupted"] == signal.Signals(signum).name, section["name"]
        assert "reading Cloud Logging" in section["error"]
    assert not alpha.emulator.calls_to("UpdateService")
    assert {s: alpha.emulator.traffic_of(s) for s in ("alpha", "beta")} == before


def test_targets_of_one_project_read_cloud_logging_together(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One Logging query per polling round for six targets, each keeping its own entries."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("GATE_JWT_SECRET", SECRET)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    names = [f"svc{i}" for i in range(6)]
    first = LocalCloudRun(names[0], jwt_secret=SECRET, log_delay_s=0.1)
    others = [LocalCloudRun(n, jwt_secret=SECRET, emulator=first.emulator) for n in names[1:]]
    with contextlib.ExitStack() as stack:
        loop = stack.enter_context(BackgroundLoop("local-cloud-run"))
        clouds = [stack.enter_context(CloudThread(loop, c)) for c in (first, *others)]
        for name, value in clouds[0].env.items():
            monkeypatch.setenv(name, value)
        for cloud, name in zip(clouds, names, strict=True):
            cloud.deploy(f"{name}-00001", created=earlier)
            cloud.deploy(f"{name}-00002", "crash" if name == "svc0" else "none")
        targets = "".join(f'[[targets]]\nname = "{n}"\nservice = "{n}"\n' for n in names)
        exit_code, sections = _verify_with(
            'project = "demo-project"\nregion = "europe-west1"\nlog_settle = 1\n'
            f'subprotocol = ["chat.v1"]\n{targets}',
            tmp_path,
        )
        calls = first.emulator.calls_to("ListLogEntries")
    assert exit_code == 1
    assert sections["svc0"]["logs"]["count"] > 0
    assert all(sections[n]["logs"]["count"] == 0 for n in names[1:])
    assert all(sections[n]["verdict"] == "pass" for n in names[1:])
    assert len(calls) <= 3, f"{len(calls)} Logging reads for {len(names)} targets"
    assert all(f'revision_name="{n}-00002"' in calls[0].request.filter for n in names)
    own = sections["svc3"]["logs"]["filter"]
    assert 'revision_name="svc3-00002"' in own
    assert "svc0" not in own
