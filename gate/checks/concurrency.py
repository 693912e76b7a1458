"""``ws.concurrency``: N sockets at once, each judged like the single socket.

It reuses the single-socket judges for each connection (or the scenario's,
when a scenario is configured) and fails with ``concurrency_failed``, counting
how many failed and how.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from gate.checks.scenario import ScenarioRun, judge_scenario
from gate.checks.websocket import judge_first_message, judge_upgrade
from gate.model import CheckId, CheckResult, Diagnosis, failure
from gate.probes.transcript import WsSession

CONCURRENCY: CheckId = "ws.concurrency"


def _session_of(item: WsSession | ScenarioRun) -> WsSession:
    return item.session if isinstance(item, ScenarioRun) else item


def _connection_verdict(item: WsSession | ScenarioRun, expect: str | None) -> Diagnosis | None:
    """The diagnosis one connection would get, or ``None`` when it succeeded."""
    if isinstance(item, ScenarioRun):
        result = judge_scenario(item)
        if result.status == "skip":
            return judge_upgrade(item.session, credential=True).diagnosis
        return result.diagnosis
    upgrade = judge_upgrade(item, credential=True)
    if upgrade.diagnosis is not None:
        return upgrade.diagnosis
    return judge_first_message(item, expect, 0).diagnosis


def judge_concurrency(
    items: Sequence[WsSession | ScenarioRun], expect: str | None, duration_ms: float
) -> CheckResult:
    """Pass when every one of the N connections completed its exchange or scenario."""
    verdicts = [_connection_verdict(item, expect) for item in items]
    failed = Counter(v for v in verdicts if v is not None)
    total = len(items)
    ok = total - sum(failed.values())
    statuses = Counter(
        handshake.status
        for item, verdict in zip(items, verdicts, strict=True)
        if verdict is not None
        and (handshake := _session_of(item).final.handshake) is not None
        and handshake.status != 101
    )
    evidence: dict[str, object] = {
        "connections": total,
        "succeeded": ok,
        "failed": dict(failed),
        "failed_upgrade_statuses": {str(k): v for k, v in statuses.items()},
    }
    if not failed:
        return CheckResult(
            CONCURRENCY,
            "pass",
            f"{total} of {total} concurrent connections completed",
            duration_ms,
            attempts=total,
            evidence=evidence,
        )
    how = ", ".join(f"{count} x {diagnosis}" for diagnosis, count in failed.most_common())
    status_text = ", ".join(f"HTTP {k} x {v}" for k, v in statuses.items())
    return failure(
        CONCURRENCY,
        "concurrency_failed",
        f"{ok} of {total} concurrent connections completed; {total - ok} failed: {how}"
        + (f" ({status_text})" if status_text else ""),
        "the service serves one connection but not this many at once: check its concurrency "
        "and max-instances settings, connection limits and per-user session caps",
        duration_ms,
        evidence,
        attempts=total,
    )
