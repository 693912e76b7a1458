"""A scenario on one authenticated socket: open it, run the steps, close it."""

from __future__ import annotations

from collections.abc import Mapping

from gate.checks.scenario import ScenarioRun
from gate.config.scenario import Scenario
from gate.probes.context import Probing
from gate.probes.scenario import run_steps
from gate.probes.transcript import StepRecord
from gate.probes.ws import Connected, WsPlan, close_socket, open_socket, record_session
from gate.timing import Stopwatch


async def scenario_on(
    connected: Connected,
    plan: WsPlan,
    scenario: Scenario,
    values: Mapping[str, str],
    probing: Probing,
    watch: Stopwatch,
) -> ScenarioRun:
    """Run ``scenario`` on an already opened socket (if it opened)."""
    deadline, redactor = probing.deadline, probing.redactor
    steps: tuple[StepRecord, ...] = ()
    if connected.connection is not None:
        steps = await run_steps(
            connected.connection, scenario, dict(values), deadline, redactor, plan.read_timeout
        )
    session = record_session(plan, connected, None, redactor, watch.ms())
    return ScenarioRun(session, steps, len(scenario.steps), watch.ms())


async def run_scenario(
    plan: WsPlan,
    scenario: Scenario,
    values: Mapping[str, str],
    probing: Probing,
) -> ScenarioRun:
    """The scenario on a socket of its own."""
    watch = Stopwatch()
    connected = await open_socket(plan, probing)
    try:
        return await scenario_on(connected, plan, scenario, values, probing, watch)
    finally:
        await close_socket(connected, probing.deadline)
