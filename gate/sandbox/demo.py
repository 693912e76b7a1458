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
* ``--canary`` (default fault ``flaky-5xx``): the new revision is deployed with
  ``--no-traffic --tag`` and rolled out in steps (20%, then 50%) while
  synthetic users call the service URL. Its probes pass; the emulated Cloud
  Monitoring counts what the users got, the metrics catch the candidate's
  error rate at the first step, traffic goes back to the restore point and the
  rollback is verified. With ``--fault none`` it walks every step and is
  promoted.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from gate.config.endpoints import Endpoints
from gate.config.inputs import Inputs
from gate.config.scenario import parse_scenario
from gate.config.settings import Settings, VerifyOptions
from gate.config.tokens import TokenSpec, load_credential
from gate.model import RunResult
from gate.redact import Redactor
from gate.run.supervisor import Supervisor
from gate.run.verify import Verifier
from gate.sandbox.emulator import RevisionSettings
from gate.sandbox.faults import H2C_PORT, NEVER_STARTS, SHORT_TIMEOUT
from gate.sandbox.localrun import LocalCloudRun
from gate.sandbox.traffic import UserTraffic
from gate.status import Progress, quiet

COLD_START_S = 2.0  # the demo's cold start (--fault cold-start): 503s with Retry-After
_DEMO_LIMIT_S = 60.0  # the demo's deadline and its actions' budget, with room to spare
DEMO_SECRET_ENV = "GATE_DEMO_SECRET"  # noqa: S105 (a variable name; the secret is random)
SERVICE = "chat-backend"
OLD, NEW, TAG = "chat-backend-00001-old", "chat-backend-00002-new", "candidate"


CANARY_STEPS = (20, 50)
_USERS_PER_S = 150.0


# What the demo shortens so that a run takes seconds, not minutes: the option, its value here.
# Everything else is the gate's default. The retry budget still outlasts the sandbox's cold
# start (COLD_START_S), as the default 30 s outlasts a real one, so the demo rides it out.
SHORTENED: dict[str, Any] = {
    "deadline": 20.0,
    "connect_timeout": 3.0,
    "read_timeout": 3.0,
    "message_timeout": 3.0,
    "retry_budget": 3 * COLD_START_S,
}
_SHORTENED_VERIFY: dict[str, Any] = {"log_settle": 3.0}
# The canary's steps: short, metrics sampled per second and visible within a second, fewer
# requests.
_SHORTENED_CANARY: dict[str, Any] = {
    "log_settle": 1.0,
    "step_bake": 3.0,
    "probe_interval": 1.0,
    "metrics_period": 1.0,
    "metrics_delay": 1.0,
    "min_requests": 30,
}


SUITED = RevisionSettings(timeout_s=3600.0, cpu_idle=False)
"""The demo's revisions are configured as the WebSockets guide advises, but for a fault."""
DEPLOYED = {H2C_PORT: "h2c-reset", SHORT_TIMEOUT: "none"}
"""What the sandbox of a revision-settings fault does (the settings do the rest)."""
_SHORT_TIMEOUT_S = 3.0
_TWO_USERS = {
    "sockets": {"bob": {"claims": {"sub": "bob"}}},
    "steps": [
        {"send": {"type": "join", "room": "lobby"}, "expect": {"type": "joined"}},
        {"socket": "bob", "send": {"type": "join", "room": "lobby"},
         "expect": {"type": "joined"}},
        {"send": {"type": "say", "room": "lobby", "text": "hello bob"},
         "expect": {"type": "sent"}},
        {"socket": "bob", "expect": {"type": "said", "text": "hello bob"}, "timeout": 2},
    ],
}  # fmt: skip
"""A chat between two users, on two sockets: what ``no-pubsub`` breaks."""


def _revision_of(fault: str) -> dict[str, Any]:
    """How the new revision is deployed for ``fault``: its settings and instances."""
    if fault == H2C_PORT:
        return {"port": "h2c", "settings": SUITED}
    if fault == SHORT_TIMEOUT:
        return {"settings": RevisionSettings(timeout_s=_SHORT_TIMEOUT_S, cpu_idle=False)}
    if fault == "no-pubsub":  # one socket per instance: the two users land apart
        return {"settings": replace(SUITED, concurrency=1), "instances": 3}
    return {"settings": SUITED}


def _checks_of(fault: str) -> dict[str, Any]:
    """What the demo's gate runs besides the usual checks, for the faults that need it: a
    held socket (its cut at the short timeout), or the two users' chat."""
    if fault == SHORT_TIMEOUT:
        return {"hold": 2 * _SHORT_TIMEOUT_S, "hold_interval": 1.0}
    if fault == "no-pubsub":
        return {"scenario": parse_scenario(_TWO_USERS, 3.0)}
    return {}


def shortcuts(canary: bool) -> str:
    """The sentence naming what the demo shortens, each against the gate's default."""
    chosen = {**SHORTENED, **(_SHORTENED_CANARY if canary else _SHORTENED_VERIFY)}
    defaults = Inputs()

    def shown(name: str, value: float) -> str:
        unit = "" if name == "min_requests" else "s"  # no space: a wrapped line keeps "20s"
        default = getattr(defaults, name)
        return f"--{name.replace('_', '-')} {value:g}{unit} (default {default:g}{unit})"

    parts = ", ".join(shown(name, value) for name, value in chosen.items())
    return f"shortened for a quick run: {parts}"


async def _deploy_and_verify(
    fault: str, redactor: Redactor, supervisor: Supervisor, canary: bool, progress: Progress
) -> RunResult:
    secret = secrets.token_urlsafe(32)
    # Google samples per 60 s and shows a sample up to 180 s later: the demo's Cloud
    # Monitoring runs that clock faster, and the gate reads it with the same numbers.
    clock = (_SHORTENED_CANARY["metrics_period"], _SHORTENED_CANARY["metrics_delay"])
    async with LocalCloudRun(
        SERVICE, jwt_secret=secret, log_delay_s=0.8, audience=SERVICE, metric_clock=clock
    ) as cloud:
        progress("deploying the revisions to the local Cloud Run")
        await cloud.deploy(OLD, created=datetime.now(UTC) - timedelta(hours=1), settings=SUITED)
        tagged = fault == "none" or canary
        if fault == NEVER_STARTS:
            await cloud.deploy(NEW, ready=False)
        else:
            await cloud.deploy(
                NEW, DEPLOYED.get(fault, fault), traffic=not tagged, tag=TAG if tagged else None,
                cold_start_s=COLD_START_S, **_revision_of(fault),
            )  # fmt: skip
        settings = Settings(
            url=cloud.url,
            subprotocols=("chat.v1",),
            expect_subprotocol="chat.v1",
            expect='{"type": "pong"}',
            token=TokenSpec(
                jwt_secret_env=DEMO_SECRET_ENV, jwt_secret_env_explicit=True, audience=SERVICE
            ),
            **SHORTENED,
            **_checks_of(fault),
        )
        steps: dict[str, Any] = {"canary": CANARY_STEPS, **_SHORTENED_CANARY}
        options = VerifyOptions(
            project=cloud.emulator.project,
            region=cloud.emulator.region,
            service=SERVICE,
            tag=TAG if tagged else None,
            on_failure="rollback",
            promote=True,
            **(steps if canary else _SHORTENED_VERIFY),
            endpoints=Endpoints.from_env(cloud.env),  # the local Cloud Run's, handed over
        )
        credential = load_credential(settings.token, {DEMO_SECRET_ENV: secret})
        users = UserTraffic(cloud.url, secret, _USERS_PER_S, audience=SERVICE)
        if canary:
            users.start()
        try:
            verifier = Verifier(settings, credential, options, redactor, supervisor, progress)
            return await verifier.run()
        finally:
            progress("shutting the local Cloud Run down")
            await users.stop()


def run_demo(
    fault: str,
    redactor: Redactor,
    canary: bool = False,
    progress: Progress = quiet,
) -> tuple[str, RunResult]:
    """Deploy, gate and act; returns a one-line description of the scenario and the result.

    ``progress`` is the live line: the demo shows what it waits for, as ``gate verify`` does.
    """
    supervisor = Supervisor(_DEMO_LIMIT_S)
    work = _deploy_and_verify(fault, redactor, supervisor, canary, progress)
    result = supervisor.run(work, _DEMO_LIMIT_S)
    steps = ",".join(str(p) for p in CANARY_STEPS)
    if canary:
        story = (
            f"{NEW} deployed with --no-traffic --tag {TAG} and --fault {fault}, synthetic users "
            f"on the service URL; gate verify --tag {TAG} --canary {steps} --promote"
        )
    elif fault == "none":
        story = f"{NEW} deployed with --no-traffic --tag {TAG}; gate verify --tag {TAG} --promote"
    elif fault == NEVER_STARTS:
        story = f"{NEW} deployed with traffic but never listens; gate verify --on-failure rollback"
    else:
        story = (
            f"{NEW} deployed with traffic and --fault {fault}; gate verify --on-failure rollback"
        )
    return story, result
