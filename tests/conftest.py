"""Shared fixtures: the sandbox in a thread, and the real CLI run in-process or as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@dataclass
class GateRun:
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def check(self, check_id: str) -> dict[str, Any]:
        assert self.report is not None
        return next(c for c in self.report["checks"] if c["id"] == check_id)


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
