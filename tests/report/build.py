"""Hand-built results for the renderers' tests: the smallest data that reaches each branch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gate.model import CheckResult, Finding, LogGroupBlock, LogsBlock, RunResult, StepBlock

STARTED = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
FAILED = CheckResult(
    "ws.first_message", "fail", "no reply within 10 s", 10.0, diagnosis="first_message_timeout",
    hint="compare what arrived with --expect",
)  # fmt: skip
PASSED = CheckResult("http.health", "pass", "200 OK", 3.0)


def result(*checks: CheckResult, **fields: Any) -> RunResult:
    """A ``gate verify`` result of ``checks`` (a passing health check by default)."""
    target = {"project": "p", "region": "r", "service": "chat", "revision": "chat-00002-new"}
    return RunResult(
        run_id="r1", started_at=STARTED, duration_ms=12.0, target=fields.pop("target", target),
        checks=checks or (PASSED,), **fields,
    )  # fmt: skip


def group(**fields: Any) -> LogGroupBlock:
    """One log group; ``fields`` override the defaults."""
    base: LogGroupBlock = {
        "fingerprint": "f", "count": 2, "severity": "ERROR", "first": "10:30:01",
        "sample": "KeyError: 'user'", "caused_by_gate": False, "kind": "app",
        "expected": False, "counted": True,
    }  # fmt: skip
    return {**base, **fields}  # type: ignore[typeddict-item]


def logs(*groups: LogGroupBlock) -> LogsBlock:
    """A logs block holding ``groups``."""
    return {
        "filter": 'resource.type="cloud_run_revision"', "count": sum(g["count"] for g in groups),
        "expected": 0, "ignored": 0, "calls": 1, "settle_s": 0.2, "truncated": False,
        "groups": list(groups),
    }  # fmt: skip


def step(verdict: str, diagnosis: str | None = None, summary: str = "5xx 0/10") -> StepBlock:
    """A canary step block with ``verdict``."""
    return {
        "name": "10%", "percent": 10, "url": "https://candidate---chat.a.run.app",
        "started_at": "2026-12-02T10:31:00Z", "duration_ms": 3000.0, "rounds": [],
        "log_errors": 0, "metrics": None, "verdict": verdict,  # type: ignore[typeddict-item]
        "diagnosis": diagnosis, "summary": summary,  # type: ignore[typeddict-item]
    }  # fmt: skip


WARNING = Finding("credential_echoed", "the token was echoed in Sec-WebSocket-Protocol")
