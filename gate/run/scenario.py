"""A scenario on its authenticated sockets: open each on first use, run the steps, close them.

The ``main`` socket is the one the caller opened (or opens here); every other socket a step
names opens when a step first uses it, with the plan ``plan_for(name)`` gives: the main
plan, or one carrying that socket's own token (``[scenario.sockets.NAME] claims``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from websockets.asyncio.client import ClientConnection

from gate.checks.scenario import ScenarioRun
from gate.config.scenario import MAIN, Scenario
from gate.probes.context import Probing
from gate.probes.scenario import run_steps
from gate.probes.transcript import WsSession
from gate.probes.ws import Connected, WsPlan, close_socket, open_socket, record_session
from gate.timing import Stopwatch


class ScenarioSockets:
    """The sockets of one scenario run, by name, each opened once."""

    def __init__(
        self,
        main: Connected,
        plan: WsPlan,
        plan_for: Callable[[str], WsPlan],
        probing: Probing,
    ) -> None:
        self.plan_for = plan_for
        self.probing = probing
        self.opened: dict[str, tuple[WsPlan, Connected]] = {MAIN: (plan, main)}

    async def get(self, name: str) -> ClientConnection | None:
        """The open socket called ``name``, opened now if it is its first use."""
        if name not in self.opened:
            plan = self.plan_for(name)
            self.opened[name] = (plan, await open_socket(plan, self.probing))
        return self.opened[name][1].connection

    def sessions(self, watch: Stopwatch) -> dict[str, WsSession]:
        """The transcript of each socket the scenario opened."""
        redactor = self.probing.redactor
        return {
            name: record_session(plan, connected, None, redactor, watch.ms())
            for name, (plan, connected) in self.opened.items()
        }

    async def close(self, keep_main: bool) -> None:
        """Close the scenario's own sockets (the main one too unless the caller owns it)."""
        for name, (_plan, connected) in self.opened.items():
            if name != MAIN or not keep_main:
                await close_socket(connected, self.probing.deadline)


async def scenario_on(
    connected: Connected,
    plan: WsPlan,
    scenario: Scenario,
    values: Mapping[str, str],
    probing: Probing,
    watch: Stopwatch,
    plan_for: Callable[[str], WsPlan] | None = None,
) -> ScenarioRun:
    """Run ``scenario`` with ``connected`` as its main socket (the caller closes that one)."""
    sockets = ScenarioSockets(connected, plan, plan_for or (lambda _name: plan), probing)
    try:
        steps = await run_steps(
            sockets.get, scenario, dict(values), probing.deadline, probing.redactor,
            plan.read_timeout,
        )  # fmt: skip
    finally:
        await sockets.close(keep_main=True)
    every = sockets.sessions(watch)
    main = every.pop(MAIN)
    if connected.connection is None:
        steps = ()  # the main socket never opened: the upgrade's checks say why
    return ScenarioRun(main, steps, len(scenario.steps), watch.ms(), every)


async def run_scenario(
    plan: WsPlan,
    scenario: Scenario,
    values: Mapping[str, str],
    probing: Probing,
    plan_for: Callable[[str], WsPlan] | None = None,
) -> ScenarioRun:
    """The scenario on sockets of its own."""
    watch = Stopwatch()
    connected = await open_socket(plan, probing)
    try:
        return await scenario_on(connected, plan, scenario, values, probing, watch, plan_for)
    finally:
        await close_socket(connected, probing.deadline)
