"""``gate demo``: the main job against the embedded sandbox, no account or network needed.

It starts the sandbox in this process, twice: healthy, then with ``--fault``,
and runs the real ``gate check`` against each, so a first-time user sees a pass
and the exact failure the fault produces.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from gate.config import Settings
from gate.runner import RunResult, run_check
from gate.sandbox.service import SandboxConfig, SandboxThread
from gate.tokens import TokenSpec, load_credential

DEMO_SECRET_ENV = "GATE_DEMO_SECRET"  # noqa: S105 (a variable name; the secret is random)


def demo_runs(fault: str) -> Iterator[tuple[str, RunResult]]:
    """Run the gate against a healthy sandbox, then against one with ``fault``."""
    secret = secrets.token_urlsafe(32)
    spec = TokenSpec(jwt_secret_env=DEMO_SECRET_ENV, jwt_secret_env_explicit=True)
    for label, name in (("healthy sandbox", "none"), (f"sandbox with --fault {fault}", fault)):
        config = SandboxConfig(fault=name, jwt_secret=secret, log_sink=lambda _record: None)
        with SandboxThread(config) as sandbox:
            settings = Settings(
                url=sandbox.url,
                subprotocols=("chat.v1",),
                expect_subprotocol="chat.v1",
                expect='{"type": "pong"}',
                message_timeout=3.0,
                deadline=10.0,
                retry_budget=2.0,
                token=spec,
            )
            credential = load_credential(settings.token, {DEMO_SECRET_ENV: secret})
            yield label, run_check(settings, credential)
