"""One run per command: :func:`execute` is the one entry point of ``gate check`` and
``gate verify``, and owns the run's only event loop, supervisor and deadline.

The CLI builds the settings of every target (a single target is a list of one)
and the environment it read once, then calls :func:`execute`, which runs the
phases of the run in order, each under the same ``--deadline`` and named in the
progress line and, when the deadline cuts it short, in the report:

1. **reading secrets from Secret Manager**: each ``sm://`` reference in a
   secret's variable, read once however many targets name it;
2. the credentials resolved from the variables (a missing one is exit 2) and
   **forging the negative tokens**: every secret of the run is known to the
   redactor before the first probe;
3. **the probes**, **reading Cloud Logging** and, for ``verify``, resolving the
   revision, the ID token of ``--iam``, the traffic actions (``--action-timeout``,
   a budget of their own) and the canary steps (:mod:`gate.run.check`,
   :mod:`gate.run.verify`, :mod:`gate.run.canary`);
4. **notifying** the ``--notify`` webhooks, within :data:`~gate.run.notify.NOTIFY_BUDGET_S`
   of their own, after the verdict and before any report is rendered, so that a
   failed post is a ``notification_failed`` warning in every report.

The result is a :class:`~gate.model.RunResult` for a single target and a
:class:`~gate.model.MultiResult` for the ``[[targets]]`` of a config file.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from gate.config.endpoints import Endpoints
from gate.config.settings import Settings, VerifyOptions
from gate.config.tokens import Credential, Negatives, load_credential
from gate.config.webhooks import Webhook
from gate.model import MultiResult, Result, RunContext, RunResult
from gate.redact import Redactor
from gate.run.supervisor import Supervisor
from gate.status import Progress
from gate.text import plural

SECRETS_PHASE = "reading secrets from Secret Manager"
FORGING_PHASE = "forging the negative tokens"


@dataclass(frozen=True)
class Prepared:
    """One target's validated settings; ``cloud`` holds ``gate verify``'s Cloud options."""

    name: str
    settings: Settings
    cloud: VerifyOptions | None = None


@dataclass(frozen=True)
class Job:
    """Everything a run needs, validated: its targets and the environment read at the edge.

    ``many``: the targets come from ``[[targets]]`` (the report has one block per
    target); ``env``: the variables the credentials are read from.
    """

    targets: tuple[Prepared, ...]
    env: Mapping[str, str] = field(repr=False)
    many: bool = False
    hooks: tuple[Webhook, ...] = ()
    notify_on: str = "fail"
    context: RunContext = field(default_factory=RunContext)
    endpoints: Endpoints = field(default_factory=Endpoints)

    @property
    def deadline_s(self) -> float:
        """The run's deadline: the longest ``--deadline`` of its targets."""
        return max(t.settings.deadline for t in self.targets)

    @property
    def limit_s(self) -> float:
        """The most the whole run may take: its deadline, or a rollout's length, and the
        notifications' budget."""
        from gate.run.notify import NOTIFY_BUDGET_S

        longest = max(
            t.cloud.time_limit(t.settings.deadline) if t.cloud else t.settings.deadline
            for t in self.targets
        )
        return longest + (NOTIFY_BUDGET_S if self.hooks else 0.0)


def execute(job: Job, redactor: Redactor, progress: Progress) -> Result:
    """Run ``job`` to its result under one supervisor; ``redactor`` learns the run's secrets.

    Raises :class:`~gate.errors.GateError` for what leaves nothing to report (bad input
    found late, a secret that cannot be read, a single ``verify`` target that cannot be
    resolved) and :class:`~gate.run.supervisor.Interrupted` for a signal before the checks.
    """
    supervisor = Supervisor(job.deadline_s)
    return supervisor.run(_run(job, redactor, supervisor, progress), job.limit_s)


async def _run(job: Job, redactor: Redactor, supervisor: Supervisor, progress: Progress) -> Result:
    env = await _secrets(job, supervisor, progress)
    credentials = [load_credential(t.settings.token, env) for t in job.targets]
    await _known_secrets(job, credentials, redactor, supervisor, progress)
    result: Result
    if job.targets[0].cloud is not None:  # frozen once every target has its ID token
        result = await _verify(job, credentials, redactor, supervisor, progress)
    else:
        redactor.freeze()
        result = await _check(job, credentials, redactor, supervisor, progress)
    result = dataclasses.replace(result, context=job.context)
    return await _notify(job, result, redactor, supervisor, progress)


async def _secrets(job: Job, supervisor: Supervisor, progress: Progress) -> Mapping[str, str]:
    """The environment, with each ``sm://`` reference in a secret's variable read."""
    from gate.cloud.secrets import reference

    env = dict(job.env)
    wanted: dict[str, str] = {}
    for target in job.targets:
        token = target.settings.token
        for variable in (token.token_env, token.jwt_secret_env):
            found = reference(env.get(variable, ""))
            if found is not None:
                wanted[variable] = found
    if not wanted:
        return env
    from gate.cloud.calls import Budget
    from gate.cloud.secrets import fetch

    progress(SECRETS_PHASE)
    names = sorted(set(wanted.values()))
    work = fetch(names, Budget(supervisor.deadline), job.endpoints.secretmanager)
    values = await supervisor.phase(SECRETS_PHASE, work, supervisor.deadline)
    env.update({variable: values[name] for variable, name in wanted.items()})
    return env


async def _known_secrets(
    job: Job,
    credentials: list[Credential | None],
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress,
) -> None:
    """Teach ``redactor`` every secret of the run before the first probe: the headers, the
    tokens, and the negative tokens of ``ws.auth_enforced``, forged now (an RSA key takes a
    moment: in a worker thread, within the deadline). What a probe records is then redacted
    from its first byte; only a renewed ID token of ``--iam`` joins later, before any request
    carries it."""
    from gate.run.check import socket_tokens
    from gate.run.plans import register_secrets
    from gate.threads import blocking

    forging = []
    for target, credential in zip(job.targets, credentials, strict=True):
        register_secrets(redactor, target.settings, credential, {})
        redactor.add(*socket_tokens(target.settings, credential))
        if credential is not None and target.settings.check_auth:
            forging.append(credential)
    if not forging:
        return
    progress("forging the negative tokens")

    async def forge() -> None:
        async with asyncio.timeout(supervisor.deadline.remaining()):
            for credential in forging:
                negatives = await blocking(_negatives_of, credential)
                redactor.add(*(token for _label, token in negatives.labelled()))

    with contextlib.suppress(TimeoutError):  # the probes then judge what the deadline left
        await supervisor.phase(FORGING_PHASE, forge(), supervisor.deadline)


def _negatives_of(credential: Credential) -> Negatives:
    return credential.negatives


async def _check(
    job: Job,
    credentials: list[Credential | None],
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress,
) -> Result:
    from gate.run.check import check_targets

    targets = [(t.name, t.settings, c) for t, c in zip(job.targets, credentials, strict=True)]
    if job.many:
        progress(f"checking {len(targets)} targets")
    else:
        settings = job.targets[0].settings
        progress(f"checking {settings.url} (deadline {settings.deadline:g} s)")
    multi = await check_targets(targets, redactor, supervisor, progress, job.many)
    return _shaped(job, multi)


async def _verify(
    job: Job,
    credentials: list[Credential | None],
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress,
) -> Result:
    from gate.run.verify import verify_targets

    targets = [
        (t.name, t.settings, c, t.cloud)
        for t, c in zip(job.targets, credentials, strict=True)
        if t.cloud is not None
    ]
    multi = await verify_targets(targets, redactor, supervisor, progress, job.many)
    return _shaped(job, multi)


def _shaped(job: Job, multi: MultiResult) -> Result:
    """A ``[[targets]]`` run's result as it is; a single target's, its one result."""
    if job.many:
        return multi
    only: RunResult = multi.results[0][1]
    return only


async def _notify(
    job: Job, result: Result, redactor: Redactor, supervisor: Supervisor, progress: Progress
) -> Result:
    """Post ``--notify`` when wanted, within the notifications' own budget; a failed post is
    a warning added to the result."""
    from gate.report.notify import wanted
    from gate.report.redaction import redacted

    result = redacted(result, redactor)
    if not job.hooks or not wanted(result, job.notify_on):
        return result
    from gate.run.notify import notify

    progress(f"notifying {plural(len(job.hooks), 'webhook')}")
    notices = await notify(result, job.hooks, redactor)
    return dataclasses.replace(result, notices=(*result.notices, *notices))
