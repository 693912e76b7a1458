"""``gate.probes.hold``: one socket held open and pinged, against the sandbox on 127.0.0.1, and
through a proxy that drops it without a close frame (the local Cloud Run's router)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gate.checks.frontend import UNKNOWN_PLATFORM
from gate.checks.hold import judge_hold
from gate.config.settings import Settings
from gate.config.tokens import TokenSpec, load_credential
from gate.probes.context import Probing
from gate.probes.hold import probe_hold
from gate.probes.transcript import HoldRecord
from gate.redact import Redactor
from gate.run.plans import Plans
from gate.sandbox.localrun import Backend, Router
from gate.timing import Deadline
from tests.conftest import SECRET


async def _hold(url: str, hold_s: float, interval_s: float) -> HoldRecord:
    given = Settings(url=url, subprotocols=("chat.v1",), expect='{"type": "pong"}')
    credential = load_credential(TokenSpec(), {"GATE_JWT_SECRET": SECRET})
    assert credential is not None
    plan = Plans.of(given, {}, UNKNOWN_PLATFORM).socket("held", credential.token)
    probing = Probing(Deadline(10.0), Redactor(credential.secrets))
    return await probe_hold(plan, hold_s, interval_s, given.send, plan.matcher, probing)


def test_a_healthy_socket_is_held_and_every_ping_answered(sandbox: Callable[..., Any]) -> None:
    record = asyncio.run(_hold(sandbox().url, 1.5, 0.5))
    assert record.ended == "held"
    assert 1.4 <= record.age_s <= 2.5
    assert record.pings == record.answered == 3


def test_the_server_s_close_is_told_apart_from_a_proxy_s_drop(
    sandbox: Callable[..., Any],
) -> None:
    closed = asyncio.run(_hold(sandbox(fault="close-on-message").url, 5.0, 0.5))
    assert closed.ended == "cut"
    assert closed.close is not None
    assert (closed.close.by, closed.close.code) == ("server", 1000)
    port = int(sandbox().url.rsplit(":", 1)[1])

    async def through_a_proxy() -> HoldRecord:
        router = Router()
        url = await router.listen(lambda: Backend(port, timeout_s=1.0))
        try:
            return await _hold(url, 5.0, 0.4)
        finally:
            await router.stop()

    dropped = asyncio.run(through_a_proxy())
    assert dropped.ended == "cut"
    assert dropped.close is not None
    assert dropped.close.by == "none"
    assert 0.9 <= dropped.age_s <= 1.6
    server = judge_hold(closed, UNKNOWN_PLATFORM)
    proxy = judge_hold(dropped, UNKNOWN_PLATFORM)
    assert server is not None
    assert proxy is not None
    assert server.hint is not None
    assert proxy.hint is not None
    assert server.hint.startswith("the server closed it (1000 (OK)")
    assert "(without a close frame, 1006)" in proxy.summary
    assert proxy.hint.startswith("it was dropped without a close frame")
