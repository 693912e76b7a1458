"""Shared fixtures: the sandbox in a thread, and the real CLI run in-process or as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.sandbox.localrun import LocalCloudRun
from gate.sandbox.service import SandboxConfig
from tests.servers import BackgroundLoop, CloudThread, SandboxThread, TokenEndpoint

SECRET = "sandbox-secret-0123456789abcdef-XYZ"
OLD, NEW = "svc-00001-old", "svc-00002-new"
METRIC_PERIOD = 1.0


@dataclass
class GateRun:
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def check(self, check_id: str) -> dict[str, Any]:
        assert self.report is not None
        return next(c for c in self.report["checks"] if c["id"] == check_id)


@dataclass
class Stopped:
    """A gate process stopped by a signal."""

    code: int
    stdout: str
    stderr: str
    report: dict[str, Any]  # empty for the commands that write none
    after_signal_s: float


def interrupt(
    args: list[str],
    env: dict[str, str],
    ready: Callable[[], bool],
    signum: int,
    folder: Path,
    reports: bool = True,
) -> Stopped:
    """Start ``gate ARGS``, wait until ``ready()``, send ``signum``, and collect the outcome.

    With ``reports``, the run writes a JSON and a JUnit report, and both must exist.
    """
    report = folder / "report.json"
    junit = folder / "junit.xml"
    extra = ["--report-json", str(report), "--junit", str(junit)] if reports else []
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gate", *args, *extra],
        env={**full_env, "GATE_JWT_SECRET": SECRET, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        waited = time.monotonic() + 20
        while not ready():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < waited, "the run never reached the phase"
            time.sleep(0.05)
        time.sleep(0.3)  # well inside the phase
        sent = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
        after = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in stderr, stderr
    if not reports:
        return Stopped(process.returncode, stdout, stderr, {}, after)
    assert junit.exists(), "no JUnit report after the signal"
    return Stopped(process.returncode, stdout, stderr, json.loads(report.read_text()), after)


def _wants_report(args: tuple[str, ...]) -> bool:
    return bool(args) and args[0] == "check" and "--report-json" not in args


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def sandbox() -> Iterator[Callable[..., SandboxThread]]:
    """Start sandboxes on demand: ``sandbox(fault="crash")``; all stop at the test's end."""
    started: list[SandboxThread] = []
    records: list[dict[str, Any]] = []

    def start(fault: str = "none", secret: str | None = SECRET, **kw: Any) -> SandboxThread:
        config = SandboxConfig(fault=fault, jwt_secret=secret, log_sink=records.append, **kw)
        thread = SandboxThread(config).__enter__()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.__exit__(None, None, None)


@pytest.fixture
def gate(tmp_path: Path) -> Callable[..., GateRun]:
    """Run ``gate ARGS`` in-process through click, with a JSON report."""

    def run(*args: str, env: dict[str, str] | None = None) -> GateRun:
        report = tmp_path / "report.json"
        report.unlink(missing_ok=True)
        extra = ["--report-json", str(report)] if _wants_report(args) else []
        result = CliRunner().invoke(cli, [*args, *extra], env=env or {}, catch_exceptions=False)
        data = json.loads(report.read_text()) if report.exists() else None
        return GateRun(result.exit_code, result.stdout, result.stderr, data)

    return run


@pytest.fixture
def gate_process(tmp_path: Path) -> Callable[..., GateRun]:
    """Run ``gate ARGS`` as a real process (console script semantics, separate streams)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> GateRun:
        report = tmp_path / "process-report.json"
        report.unlink(missing_ok=True)
        extra = ["--report-json", str(report)] if _wants_report(args) else []
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "gate", *args, *extra],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )
        data = json.loads(report.read_text()) if report.exists() else None
        return GateRun(done.returncode, done.stdout, done.stderr, data)

    return run


@pytest.fixture
def private_cloud(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[CloudThread, TokenEndpoint]]:
    """A local Cloud Run whose service is private, and a token endpoint for --iam."""
    with (
        TokenEndpoint(tmp_path) as tokens,
        BackgroundLoop("local-cloud-run") as loop,
        CloudThread(loop, LocalCloudRun("svc", jwt_secret=SECRET, log_delay_s=0.1)) as cloud,
    ):
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tokens.credentials))
        for name, value in cloud.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GATE_JWT_SECRET", SECRET)
        cloud.deploy("svc-00001-old", created=datetime.now(UTC) - timedelta(hours=1))
        yield cloud, tokens


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CloudThread]:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "does-not-exist.json"))
    with (
        BackgroundLoop("local-cloud-run") as loop,
        CloudThread(
            loop,
            # Cloud Monitoring's clock (samples per 60 s, visible up to 180 s later), run faster.
            LocalCloudRun(
                "svc", jwt_secret=SECRET, log_delay_s=0.2, metric_clock=(METRIC_PERIOD, 1.0)
            ),
        ) as local,
    ):
        for name, value in local.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GATE_JWT_SECRET", SECRET)
        local.deploy(OLD, created=datetime.now(UTC) - timedelta(hours=1))
        yield local


@pytest.fixture
def gate_cloud(tmp_path: Path) -> Callable[..., GateRun]:
    def run(*args: str) -> GateRun:
        report = tmp_path / "verify.json"
        report.unlink(missing_ok=True)
        extra = ["--report-json", str(report)] if args[0] == "verify" else []
        scope = ["--project", "demo-project", "--region", "europe-west1", "--service", "svc"]
        result = CliRunner().invoke(cli, [*args, *scope, *extra], catch_exceptions=False)
        data = json.loads(report.read_text()) if report.exists() else None
        return GateRun(result.exit_code, result.stdout, result.stderr, data)

    return run
