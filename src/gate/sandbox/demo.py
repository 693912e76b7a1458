"""``gate demo``: the main job, ``gate verify``, against a local Cloud Run. No account needed.

In one process, and in the gate's own event loop, it starts the Cloud Run +
Cloud Logging emulator, a router standing in for the service URL, and two
sandbox revisions, then runs the real ``gate verify`` with the real Google
clients pointed at the emulator:

* ``--fault NAME`` (default ``close-on-message``): the old revision is
  healthy, the new one is deployed with traffic and has the fault. The gate
  names the failure, pulls the matching errors (with its own trace id) from
  the emulated Cloud Logging, rolls traffic back and verifies the rollback.
* ``--fault none``: the new revision is deployed with ``--no-traffic --tag``,
  passes at its tag URL, and is promoted to 100%.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

from gate.config.settings import Settings, VerifyOptions
from gate.config.tokens import TokenSpec, load_credential
from gate.model import RunResult
from gate.redact import Redactor
from gate.run.supervisor import Supervisor
from gate.run.verify import Verifier
from gate.sandbox.faults import NEVER_STARTS
from gate.sandbox.localrun import LocalCloudRun

_DEMO_LIMIT_S = 60.0  # the demo's deadline and its actions' budget, with room to spare
DEMO_SECRET_ENV = "GATE_DEMO_SECRET"  # noqa: S105 (a variable name; the secret is random)
SERVICE = "chat-backend"
OLD, NEW, TAG = "chat-backend-00001-old", "chat-backend-00002-new", "candidate"


async def _deploy_and_verify(fault: str, redactor: Redactor, supervisor: Supervisor) -> RunResult:
    secret = secrets.token_urlsafe(32)
    async with LocalCloudRun(
        SERVICE, jwt_secret=secret, log_delay_s=0.8, audience=SERVICE
    ) as cloud:
        await cloud.deploy(OLD, created=datetime.now(UTC) - timedelta(hours=1))
        healthy = fault == "none"
        if fault == NEVER_STARTS:
            await cloud.deploy(NEW, ready=False)
        else:
            await cloud.deploy(NEW, fault, traffic=not healthy, tag=TAG if healthy else None)
        os.environ.update(cloud.env)
        settings = Settings(
            url=cloud.url,
            subprotocols=("chat.v1",),
            expect_subprotocol="chat.v1",
            expect='{"type": "pong"}',
            message_timeout=3.0,
            deadline=20.0,
            retry_budget=2.0,
            token=TokenSpec(
                jwt_secret_env=DEMO_SECRET_ENV, jwt_secret_env_explicit=True, audience=SERVICE
            ),
        )
        options = VerifyOptions(
            project=cloud.emulator.project,
            region=cloud.emulator.region,
            service=SERVICE,
            tag=TAG if healthy else None,
            on_failure="rollback",
            promote=True,
            log_settle=3.0,
        )
        credential = load_credential(settings.token, {DEMO_SECRET_ENV: secret})
        return await Verifier(settings, credential, options, redactor, supervisor).run()


def run_demo(fault: str, redactor: Redactor) -> tuple[str, RunResult]:
    """Deploy, gate and act; returns a one-line description of the scenario and the result."""
    supervisor = Supervisor()
    result = supervisor.run(_deploy_and_verify(fault, redactor, supervisor), _DEMO_LIMIT_S)
    if fault == "none":
        story = f"{NEW} deployed with --no-traffic --tag {TAG}; gate verify --tag {TAG} --promote"
    elif fault == NEVER_STARTS:
        story = f"{NEW} deployed with traffic but never listens; gate verify --on-failure rollback"
    else:
        story = (
            f"{NEW} deployed with traffic and --fault {fault}; gate verify --on-failure rollback"
        )
    return story, result
