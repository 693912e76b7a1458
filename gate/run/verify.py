"""``gate verify``: gate one Cloud Run revision, pull its errors, then roll back or promote.

The order of a run:

1. read the service and resolve the revision under test (by default the latest
   created one) and the URL that reaches it alone (:mod:`gate.run.resolve`);
2. ``revision.ready``: judge its Ready condition first. A revision that never
   became Ready fails the run without any probe (it serves nothing);
3. run the checks of ``gate check`` against that URL, every request carrying
   one trace id in ``X-Cloud-Trace-Context`` and ``traceparent``, each
   negative-credential session a trace of its own;
4. ``logs.errors``: poll the revision's entries until the logs settle (ERROR
   and above, Cloud Run's request-log refusals at WARNING, its system log);
   what the negative sessions caused is reported as expected, never counted;
5. on a failure with ``--on-failure rollback``: move 100% of traffic back
   (snapshot or previous ready revision) and re-run the checks against the
   service URL to record whether the rollback is healthy (a revision that
   never became Ready took no traffic: nothing is moved unless traffic was
   pinned to it); on a pass with ``--promote``: give the revision 100%.
   ``--dry-run`` decides and reports without changing anything.

The probes and the log polling share ``--deadline``; the actions after the
verdict (the traffic update, its operation, the re-check) have their own
budget, ``--action-timeout`` (default 120 s), so a rollback is never skipped because the
probes used the deadline up. The run exits 1 when the release failed, even
after a successful rollback. An API failure during an action (an etag conflict
included) exits 3, with the report still written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gate.checks.config import Needs, judge_config
from gate.checks.frontend import UNKNOWN_PLATFORM, Platform
from gate.checks.logs import Expected
from gate.checks.revision import judge_ready
from gate.cloud.calls import Budget
from gate.cloud.model import RunApi
from gate.config.settings import Settings, VerifyOptions
from gate.config.tokens import Credential
from gate.config.validate import validate_url
from gate.errors import ConfigError, GateError
from gate.model import (
    CHECK_IDS,
    VERIFY_CHECK_IDS,
    ActionBlock,
    CheckResult,
    ConfigBlock,
    LogsBlock,
    MultiResult,
    RunResult,
    StepBlock,
    TargetBlock,
    checks_failed,
    skipped,
)
from gate.redact import Redactor
from gate.run.act import Actor, act
from gate.run.check import CheckRun
from gate.run.logcheck import LogsCheck
from gate.run.logs import ROUND_WINDOW_S, SharedLogs
from gate.run.plans import register_secrets
from gate.run.resolve import Target, resolve
from gate.run.supervisor import Interrupted, Supervisor
from gate.status import Progress, prefixed, quiet
from gate.timing import Deadline, Stopwatch
from gate.traffic.plan import action_block

if TYPE_CHECKING:
    from gate.cloud.iam import IdToken, IdTokens
    from gate.cloud.run import CloudRun


@dataclass
class _Record:
    """What a ``verify`` run has found and done so far, kept when a signal stops it."""

    started_at: datetime
    deadline: Deadline
    target: Target | None = None
    run: CheckRun | None = None
    checks: list[CheckResult] = field(default_factory=list)
    logs: LogsBlock | None = None
    logs_error: str | None = None
    action: ActionBlock | None = None
    action_error: str | None = None
    steps: list[StepBlock] = field(default_factory=list)
    revision_config: ConfigBlock | None = None

    def act(self, action: ActionBlock, error: str | None = None) -> None:
        """Record the traffic action (and the error that stopped it)."""
        self.action, self.action_error = action, error

    def done(self) -> str:
        """What the run had done when it stopped, for the report's error."""
        if self.action is not None and self.action["changes"] and self.action["kind"] == "none":
            where = self.action["changes"][-1]["step"]
            return f"traffic was left as the {where} change set it (restore point in the report)"
        if self.action is not None and self.action["status"] == "done":
            return f"the {self.action['kind']} was done; it was not verified"
        if self.action is not None:
            return "traffic was left as it is"
        return "traffic was left as it is; nothing was acted upon"


def _serverless_authorization(found: IdToken) -> dict[str, str]:
    """The header Cloud Run's IAM reads an ID token from (the app's own stays free)."""
    return {"X-Serverless-Authorization": f"Bearer {found.token}"}


class SecretsKnown:
    """The moment every target has registered its secrets (its ID token included): the
    redactor is frozen then, and only then do the probes of any target begin.

    Each target arrives once: when it is ready to probe, or when it leaves early (an
    error, a signal, a revision that is not Ready), so that no target waits for one that
    will never come.
    """

    def __init__(self, parties: int, redactor: Redactor) -> None:
        self._left = parties
        self._arrived: set[int] = set()
        self._all = asyncio.Event()
        self._redactor = redactor

    def arrive(self, who: object) -> None:
        """``who`` has registered everything it will send."""
        if id(who) in self._arrived:
            return
        self._arrived.add(id(who))
        self._left -= 1
        if self._left <= 0:
            self._redactor.freeze()
            self._all.set()

    async def ready(self, who: object) -> None:
        """Arrive, then wait for every other target."""
        self.arrive(who)
        await self._all.wait()


class Verifier:
    """One ``gate verify`` run against one service."""

    def __init__(
        self,
        settings: Settings,
        credential: Credential | None,
        options: VerifyOptions,
        redactor: Redactor,
        supervisor: Supervisor,
        progress: Progress = quiet,
        shared_logs: SharedLogs | None = None,
        step_logs: SharedLogs | None = None,
        known: SecretsKnown | None = None,
    ) -> None:
        """``shared_logs``, ``step_logs``: the Logging reads of the checks and of the canary
        steps, shared by the targets of the same project."""
        self.shared_logs = shared_logs
        self.step_logs = step_logs
        self.known = known or SecretsKnown(1, redactor)
        register_secrets(redactor, settings, credential, {})  # a no-op after the run's own
        self.settings = settings
        self.credential = credential
        self.options = options
        self.redactor = redactor
        self.supervisor = supervisor
        self.progress = progress
        self.trace_id = uuid.uuid4().hex
        self.run_id = uuid.uuid4().hex
        self.secret_headers: dict[str, str] = {}
        self.id_tokens: IdTokens | None = None

    async def _iam_headers(self, audience: str, budget: Budget) -> dict[str, str]:
        """``X-Serverless-Authorization`` with an ID token for the service URL (``--iam``)."""
        if not self.options.iam:
            return {}
        from gate.cloud.iam import IdTokens

        options = self.options
        self.id_tokens = IdTokens(
            audience, options.impersonate, options.id_token,
            endpoint=options.endpoints.iamcredentials,
        )  # fmt: skip
        return _serverless_authorization(await self.id_tokens.token(budget))

    async def renew_iam(self) -> None:
        """Renew the ID token before it expires (a canary with a watch can outlast an hour)."""
        tokens = self.id_tokens
        if tokens is None or tokens.fresh():
            return
        found = await tokens.token(Budget(self.supervisor.budget(self.options.action_timeout)))
        headers = _serverless_authorization(found)
        for value in headers.values():  # known before any request carries it
            self.redactor.add_header(value, renewal=True)
        self.secret_headers = headers

    def _checks(self, url: str, platform: Platform = UNKNOWN_PLATFORM) -> CheckRun:
        settings = replace(self.settings, url=validate_url(url))
        return CheckRun(
            settings, self.credential, self.secret_headers, self.run_id, self.trace_id, platform,
            self.redactor, self.progress,
        )  # fmt: skip

    async def run(self) -> RunResult:
        """Resolve, judge readiness, check, read logs, act; always return a result.

        Errors before the checks (a missing service, a denied read) propagate as
        :class:`~gate.errors.GateError`: there is nothing to report yet. A signal
        ends the run with a result that says what it interrupted.
        """
        try:
            return await self._run()
        finally:
            self.known.arrive(self)  # whatever ended it, no other target waits for this one

    async def _run(self) -> RunResult:
        from gate.cloud.run import CloudRun

        record = _Record(datetime.now(UTC), self.supervisor.deadline.within(self.settings.deadline))
        options = self.options
        budget = Budget(record.deadline)
        try:
            cloud = await self.supervisor.phase(
                "connecting to Cloud Run",
                CloudRun.connect(
                    options.project, options.region, options.service, budget,
                    options.endpoints.run,
                ),
                record.deadline,
            )  # fmt: skip
        except Interrupted as stop:
            return self._result(record, stop)
        cloud.on_wait = self.progress
        try:
            await self._gate(cloud, record, budget)
        except Interrupted as stop:
            return self._result(record, stop)
        finally:
            cloud.close()
        return self._result(record)

    async def _gate(self, cloud: CloudRun, record: _Record, budget: Budget) -> None:
        """The run's phases, recording what each gives, so an interruption keeps it."""
        options, deadline = self.options, record.deadline
        phase = self.supervisor.phase
        target = await phase(
            "resolving the revision",
            resolve(cloud, options, self.settings.retry_budget, deadline),
            deadline,
        )
        record.target = target
        if options.progressive and target.info.ready and target.state.percent_of(target.revision):
            raise ConfigError(
                f"--canary/--watch: {target.revision} already receives "
                f"{target.state.percent_of(target.revision)}% of traffic; the candidate must be "
                "deployed with --no-traffic --tag"
            )
        ready = judge_ready(target.info, target.state, target.waited_s)
        needs = Needs(
            options.session_length, options.expected_sessions, self.settings.connections,
            options.config_fail_on,
        )  # fmt: skip
        settings_check, record.revision_config = judge_config(
            target.revision, target.info.config, target.info.ports, needs
        )
        record.checks = [ready, settings_check]
        if target.url is not None:
            # The service URL is the audience Cloud Run accepts for its tag URLs too.
            self.secret_headers = await phase(
                "fetching an ID token", self._iam_headers(target.state.uri, budget), deadline
            )
            for value in self.secret_headers.values():
                self.redactor.add_header(value)
            await phase("waiting for every target's credentials", self.known.ready(self))
            self.progress(f"checking {target.revision} at {target.url}")
            platform = Platform(
                options.iam, "h2c" in target.info.ports, target.info.config.timeout_s
            )
            run = self._checks(target.url, platform)
            record.run = run
            record.checks += await phase("the probes", run.run(deadline), deadline)
        else:
            self.known.arrive(self)  # it sends nothing
            record.run = self._checks(target.state.uri)
            reason = f"not run: revision {target.revision} is not Ready, so it serves nothing"
            record.checks += [skipped(check_id, reason) for check_id in CHECK_IDS]
        expected = Expected(
            frozenset(record.run.negative_traces.values()), self.trace_id if options.iam else None
        )
        logs_check, record.logs, record.logs_error = await phase(
            "reading Cloud Logging",
            LogsCheck(options, self.trace_id, self.redactor, self.progress, self.shared_logs).read(
                target, budget, checks_failed(record.checks, strict=False), expected
            ),
            deadline,
        )
        record.checks.append(logs_check)
        if len(record.run.socket_traces) > 1:
            record.checks = await phase(
                "reading which instance served each socket",
                self._instances(record.run.socket_traces, record.checks, budget),
                deadline,
            )
        failed = checks_failed(record.checks, self.settings.strict)
        if options.progressive:
            await self._progressive(cloud, target, failed, record)
            return
        # The actions' own budget: the update, its operation and the re-check share it.
        actions = self.supervisor.budget(options.action_timeout)
        await self._perform(cloud.within(Budget(actions)), target, failed, record, actions)

    async def _instances(
        self, traces: dict[str, str], checks: list[CheckResult], budget: Budget
    ) -> list[CheckResult]:
        """``checks`` with ``ws.scenario`` saying whether its sockets were on different
        instances (:mod:`gate.run.instances`)."""
        from gate.run.instances import instances_sentence, socket_instances

        found = await socket_instances(
            self.options.project, traces, budget, self.options.endpoints.logging
        )
        sentence = instances_sentence(found)

        def told(check: CheckResult) -> CheckResult:
            if check.id != "ws.scenario":
                return check
            evidence = {**check.evidence, "instances": found}
            return replace(check, summary=f"{check.summary}; {sentence}", evidence=evidence)

        return [told(c) for c in checks]

    async def _progressive(
        self, cloud: CloudRun, target: Target, failed: bool, record: _Record
    ) -> None:
        """``--canary`` / ``--watch``: steps, promotion and watch (see :mod:`gate.run.canary`)."""
        from gate.run.canary import Canary, Rollout

        if failed or record.logs_error is not None or not target.info.ready:
            why = (
                "Cloud Logging could not be read"
                if not failed and record.logs_error is not None
                else "it failed at its tag URL"
            )
            record.act(action_block(None, "skipped", f"{why}: the candidate never got traffic"))
            return
        options = self.options
        steps = self.step_logs or SharedLogs(
            options.project,
            lambda: Budget(self.supervisor.budget(options.action_timeout)),
            0.0,
            options.endpoints.logging,
        )
        rollout = Rollout(
            self.settings, self.options, cloud, target, self._checks, self.trace_id, steps,
            self.renew_iam,
        )  # fmt: skip
        canary = Canary(rollout, self.supervisor, self.progress)
        record.steps = canary.steps
        try:
            action, error = await canary.run()
        except Interrupted:
            record.act(
                {
                    **action_block(
                        None,
                        "skipped",
                        "a signal stopped the rollout before its end",
                        changes=canary.changes,
                    ),
                    "traffic": list(canary.recorded),
                }
            )
            raise
        finally:
            canary.close()
            if steps is not self.step_logs:
                steps.close()
        record.act(action, error)

    def _result(self, record: _Record, stop: Interrupted | None = None) -> RunResult:
        """The run's result from what it recorded (and, when a signal stopped it, what was not)."""
        options = self.options
        target: TargetBlock = {
            "project": options.project,
            "region": options.region,
            "service": options.service,
        }
        if record.run is not None and record.target is not None:
            target = {
                **record.run.target(),
                **target,
                "revision": record.target.revision,
                "tag": record.target.tag,
            }
        checks = list(record.checks)
        if (
            stop is not None
            and record.run is not None
            and "http.health" not in (c.id for c in checks)
        ):  # stopped during the probes: what they had finished is judged all the same
            checks += record.run.judged(stop)
        if stop is not None:
            judged = {c.id for c in checks}
            checks += [
                skipped(check_id, f"not finished: {stop}")
                for check_id in VERIFY_CHECK_IDS
                if check_id not in judged
            ]
        # A phase the deadline cut explains a Logging read that failed for want of time.
        cut = self.supervisor.cut_message(record.deadline)
        error = record.action_error or cut or record.logs_error
        if stop is not None:
            error = f"{stop}: {record.done()}"
        return RunResult(
            run_id=self.run_id,
            started_at=record.started_at,
            duration_ms=round(record.deadline.elapsed_ms(), 1),
            target=target,
            checks=tuple(checks),
            strict=self.settings.strict,
            trace_id=self.trace_id,
            logs=record.logs,
            action=record.action,
            error=error,
            error_overrides_failure=record.action_error is not None,
            interrupted=stop.name if stop is not None else None,
            steps=tuple(record.steps),
            revision_config=record.revision_config,
        )

    async def _perform(
        self, cloud: RunApi, target: Target, failed: bool, record: _Record, actions: Deadline
    ) -> None:
        """Decide, carry out, and (after a rollback) re-check; the result goes in ``record``."""
        actor = Actor(self.options, self.supervisor, self._checks, self.progress)
        await act(actor, cloud, target, failed, record.logs_error, actions, record.act)


def _unresolved(options: VerifyOptions, error: GateError) -> RunResult:
    """The result of a target that could not even be resolved."""
    return RunResult(
        run_id=uuid.uuid4().hex,
        started_at=datetime.now(UTC),
        duration_ms=0.0,
        target={"project": options.project, "region": options.region, "service": options.service},
        checks=(),
        error=error.message,
        error_overrides_failure=True,
    )


async def verify_targets(
    targets: Sequence[tuple[str, Settings, Credential | None, VerifyOptions]],
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress = quiet,
    many: bool = True,
) -> MultiResult:
    """Verify every target concurrently, in this event loop, each with its own Run client.

    The targets of one project read Cloud Logging together, one query per
    polling round (:class:`~gate.run.logs.SharedLogs`). With ``many`` (the
    ``[[targets]]`` of a config file), a target that cannot even be resolved (a
    missing service, a denied permission) becomes a result with that error and the
    others go on, and progress lines name their target; a single target's error
    propagates: there is nothing to report.
    """
    started_at = datetime.now(UTC)
    watch = Stopwatch()
    longest = Budget(supervisor.deadline)
    endpoints = {t[3].project: t[3].endpoints.logging for t in targets}
    window = ROUND_WINDOW_S if len(targets) > 1 else 0.0
    shared = {p: SharedLogs(p, lambda: longest, window, e) for p, e in endpoints.items()}
    # A canary step's reads come after the probes: each round gets a budget of its own.
    actions = max(options.action_timeout for *_rest, options in targets)
    steps = {
        p: SharedLogs(p, lambda: Budget(supervisor.budget(actions)), window, e)
        for p, e in endpoints.items()
    }

    known = SecretsKnown(len(targets), redactor)

    async def one(
        name: str, settings: Settings, credential: Credential | None, options: VerifyOptions
    ) -> RunResult:
        named = prefixed(progress, f"{name}: ") if many else progress
        verifier = Verifier(
            settings, credential, options, redactor, supervisor, named,
            shared[options.project], steps[options.project], known,
        )  # fmt: skip
        try:
            return await verifier.run()
        except GateError as exc:
            if not many:
                raise
            return _unresolved(options, exc)

    try:
        results = await asyncio.gather(*(one(*target) for target in targets))
    finally:
        for logs in (*shared.values(), *steps.values()):
            logs.close()
    return MultiResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=watch.ms(),
        results=tuple((t[0], r) for t, r in zip(targets, results, strict=True)),
    )
