"""The load-like checks: ``ws.concurrency`` (N sockets at once) and ``latency`` (repeated samples).

Both run after the other checks, so that they measure the service alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace

from gate.checks.concurrency import judge_concurrency
from gate.checks.health import judge_health
from gate.checks.latency import judge_latency
from gate.checks.scenario import ScenarioRun
from gate.checks.websocket import judge_first_message, judge_upgrade
from gate.config.settings import Settings
from gate.model import CheckResult, Diagnosis
from gate.probes.context import Probing
from gate.probes.http import HttpPlan, probe_http
from gate.probes.transcript import Exchange, WsSession
from gate.probes.ws import (
    Connected,
    WsPlan,
    close_socket,
    exchange,
    open_socket,
    probe_ws,
    record_session,
)
from gate.run.scenario import scenario_on
from gate.timing import Stopwatch


async def concurrency(
    plan: WsPlan,
    settings: Settings,
    values: Mapping[str, str],
    probing: Probing,
) -> CheckResult:
    """Open N sockets at once, then run the exchange (or scenario) on all, then close."""
    watch = Stopwatch()
    deadline, redactor = probing.deadline, probing.redactor
    opened = await asyncio.gather(
        *(open_socket(plan, probing) for _ in range(settings.connections))
    )
    scenario = settings.scenario
    items: Sequence[WsSession | ScenarioRun]
    try:
        if scenario is not None:
            items = await asyncio.gather(
                *(scenario_on(c, plan, scenario, values, probing, watch) for c in opened)
            )
        else:
            exchanges = await asyncio.gather(*(_exchange(c, plan, probing) for c in opened))
            items = [
                record_session(plan, c, e, redactor, watch.ms())
                for c, e in zip(opened, exchanges, strict=True)
            ]
    finally:
        await asyncio.gather(*(close_socket(c, deadline) for c in opened))
    return judge_concurrency(items, settings.expect, watch.ms())


async def _exchange(connected: Connected, plan: WsPlan, probing: Probing) -> Exchange | None:
    if connected.connection is None:
        return None
    return await exchange(connected.connection, plan, probing)


async def latency(
    health_plan: HttpPlan,
    ws_plan: WsPlan,
    settings: Settings,
    probing: Probing,
) -> CheckResult:
    """Repeat the health request and the socket exchange; the two series run side by side.

    Each series is sequential, so that samples do not queue behind each other;
    samples are not retried (a cold start is not what they measure).
    """
    watch = Stopwatch()
    s = settings
    measured: dict[str, list[float]] = {"health": [], "handshake": [], "first_message": []}
    failures: list[tuple[str, Diagnosis]] = []

    async def health_series() -> None:
        plan = replace(health_plan, retry=health_plan.retry.once())
        for _ in range(s.samples):
            transcript = await probe_http(plan, probing)
            verdict = judge_health([transcript], [s.health_paths[0]], s.expect_status, None)
            if verdict.diagnosis is not None:
                failures.append(("health", verdict.diagnosis))
            else:
                measured["health"].append(transcript.final.duration_ms)

    async def socket_series() -> None:
        plan = replace(ws_plan, retry=ws_plan.retry.once())
        for _ in range(s.samples):
            session = await probe_ws(plan, probing)
            diagnosis = judge_upgrade(session, credential=True).diagnosis
            diagnosis = diagnosis or judge_first_message(session, s.expect, 0).diagnosis
            if diagnosis is not None:
                failures.append(("first_message", diagnosis))
                continue
            measured["handshake"].append(session.final.duration_ms)
            assert session.exchange is not None
            measured["first_message"].append(session.exchange.messages[-1].at_ms)

    await asyncio.gather(health_series(), socket_series())
    return judge_latency(measured, failures, s.samples, dict(s.budgets), watch.ms())
