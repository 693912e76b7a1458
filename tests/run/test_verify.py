"""``gate.run.verify``'s ``SecretsKnown``: no target probes before every target's secrets are
registered, and the redactor is frozen at that moment, not before."""

from __future__ import annotations

import asyncio

from gate.redact import Redactor
from gate.run.verify import SecretsKnown


def test_the_probes_wait_for_every_target_and_then_the_redactor_is_frozen() -> None:
    redactor = Redactor()
    known = SecretsKnown(2, redactor)
    first, second = object(), object()

    async def scenario() -> list[str]:
        order: list[str] = []

        async def ready_first() -> None:
            await known.ready(first)
            order.append("first probes")

        waiting = asyncio.create_task(ready_first())
        await asyncio.sleep(0.05)
        assert not redactor.frozen  # the second target may still register its ID token
        redactor.add_header("Bearer second-target-id-token")
        order.append("second registered")
        known.arrive(second)
        known.arrive(second)  # arriving twice counts once
        await waiting
        return order

    assert asyncio.run(scenario()) == ["second registered", "first probes"]
    assert redactor.frozen


def test_a_target_that_leaves_early_does_not_hold_the_others() -> None:
    redactor = Redactor()
    known = SecretsKnown(2, redactor)
    known.arrive("failed to resolve")
    asyncio.run(asyncio.wait_for(known.ready("the other"), 1.0))
    assert redactor.frozen
