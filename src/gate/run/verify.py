"""``gate verify``: gate one Cloud Run revision, pull its errors, then roll back or promote.

The order of a run:

1. read the service and resolve the revision under test and the URL that
   reaches it alone (the service URL when it holds 100% of traffic, else its
   tag URL; ``--tag`` reads the tag URL from the traffic status, never guesses);
2. run the checks of ``gate check`` against that URL, every request carrying
   one trace id in ``X-Cloud-Trace-Context`` and ``traceparent``;
3. ``logs.errors``: poll the revision's ERROR entries until the logs settle;
4. on a failure with ``--on-failure rollback``: move 100% of traffic back
   (snapshot or previous ready revision) and re-run the checks against the
   service URL to record whether the rollback is healthy; on a pass with
   ``--promote``: give the revision 100%. ``--dry-run`` decides and reports
   without changing anything.

The probes and the log polling share ``--deadline``; the actions after the
verdict (the traffic update, its operation, the re-check) have their own
budget of :data:`ACTION_TIMEOUT_S`, so a rollback is never skipped because the
probes used the deadline up. The run exits 1 when the release failed, even
after a successful rollback. An API failure during an action (an etag conflict
included) exits 3, with the report still written.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gate.checks.logs import from_gate, is_ignored, judge_logs
from gate.cloud.calls import Budget
from gate.cloud.model import LogRecord, RunApi, ServiceState, previous_ready
from gate.config.settings import Settings, VerifyOptions
from gate.config.tokens import Credential
from gate.config.validate import validate_url
from gate.errors import ConfigError, GateError
from gate.model import (
    ActionBlock,
    CheckResult,
    CheckSummary,
    LogsBlock,
    MultiResult,
    RunResult,
    TargetBlock,
    checks_failed,
)
from gate.run.check import CheckRun
from gate.run.logs import poll_logs
from gate.timing import Deadline, Stopwatch
from gate.traffic.actions import apply, revision_of_tag
from gate.traffic.plan import Plan, action_block, promote, restore, rollback_to
from gate.traffic.snapshot import load_snapshot

Progress = Callable[[str], None]

ACTION_TIMEOUT_S = 120.0
"""Seconds the actions after the verdict may take: the update, its operation, the re-check."""


@dataclass(frozen=True)
class Target:
    """The revision under test and how to reach it."""

    state: ServiceState
    revision: str
    created: datetime
    url: str
    tag: str | None


def trace_headers(trace_id: str) -> dict[str, str]:
    """One trace for the run, in Google's and W3C's header formats."""
    span = secrets.randbits(63) or 1
    return {
        "X-Cloud-Trace-Context": f"{trace_id}/{span};o=1",
        "traceparent": f"00-{trace_id}-{span:016x}-01",
    }


async def resolve(cloud: RunApi, options: VerifyOptions) -> Target:
    """Find the revision under test and a URL that reaches it alone."""
    state = await cloud.service()
    if options.tag is not None:
        revision = revision_of_tag(state, options.tag)
        status = state.tagged(options.tag)
        if status is None or not status.uri:
            raise ConfigError(
                f"--tag {options.tag}: the traffic status of {state.short_name} has no URL for "
                "that tag yet: wait for the deploy to finish and re-run"
            )
        if options.revision is not None and options.revision != revision:
            raise ConfigError(
                f"--tag {options.tag} points at {revision}, not --revision "
                f"{options.revision}: give one of them"
            )
        info = await cloud.revision(revision)
        return Target(state, revision, info.created, status.uri, options.tag)
    revision = options.revision or state.latest_ready
    if not revision:
        raise ConfigError(f"service {state.short_name} has no ready revision yet: deploy first")
    info = await cloud.revision(revision)
    if not info.ready:
        raise ConfigError(
            f"revision {revision} is not ready: its deploy failed, see its conditions"
        )
    share = state.percent_of(revision)
    if share == 100:
        return Target(state, revision, info.created, state.uri, None)
    tagged = state.tag_of(revision)
    if tagged is not None and tagged.uri:
        return Target(state, revision, info.created, tagged.uri, tagged.tag)
    raise ConfigError(
        f"revision {revision} receives {share}% of traffic and has no tag, so the gate cannot "
        "reach it alone: deploy it with --tag and run `gate verify --tag TAG`"
    )


def _check_summary(checks: Sequence[CheckResult]) -> list[CheckSummary]:
    return [{"id": c.id, "status": c.status, "diagnosis": c.diagnosis} for c in checks]


class Verifier:
    """One ``gate verify`` run against one service."""

    def __init__(
        self,
        settings: Settings,
        credential: Credential | None,
        options: VerifyOptions,
        progress: Progress = lambda _message: None,
    ) -> None:
        self.settings = settings
        self.credential = credential
        self.options = options
        self.progress = progress
        self.trace_id = uuid.uuid4().hex
        self.run_id = uuid.uuid4().hex
        self.secret_headers: dict[str, str] = {}

    async def _iam_headers(self, audience: str, budget: Budget) -> dict[str, str]:
        """``X-Serverless-Authorization`` with an ID token for the service URL (``--iam``)."""
        if not self.options.iam:
            return {}
        from gate.cloud.iam import fetch_id_token

        return {"X-Serverless-Authorization": f"Bearer {await fetch_id_token(audience, budget)}"}

    def _checks(self, url: str) -> CheckRun:
        settings = replace(self.settings, url=validate_url(url))
        return CheckRun(
            settings,
            self.credential,
            trace_headers(self.trace_id),
            self.secret_headers,
            self.run_id,
            self.trace_id,
        )

    async def _logs(
        self, target: Target, budget: Budget, failed: bool
    ) -> tuple[CheckResult, LogsBlock | None, str | None]:
        """``logs.errors``, the report's ``logs`` block, and an error when Logging failed.

        Polling stops early once the verdict cannot change (more entries than
        allowed) and, when a check failed, once an entry logged while serving
        the gate's own probes has arrived: that entry is the most useful
        evidence, and it may be ingested after unrelated ones.
        """
        from gate.cloud.logs import CloudLogs, revision_filter

        options = self.options
        if not options.logs:
            result, block = judge_logs(None, None, (), 0, "turned off with --no-logs")
            return result, block, None

        def enough(entries: Sequence[LogRecord]) -> bool:
            kept = [e for e in entries if not is_ignored(e, options.ignore_log)]
            explained = not failed or any(from_gate(e, self.trace_id) for e in kept)
            return len(kept) > options.max_log_errors and explained

        self.progress("reading the revision's errors from Cloud Logging")
        settle = max(0.0, min(options.log_settle, budget.deadline.remaining() - 1.0))
        log_filter = revision_filter(
            options.service, target.revision, options.region, target.created
        )
        try:
            logs = await CloudLogs.connect(options.project, budget)
            fetched = await poll_logs(
                logs, log_filter, target.revision, settle, enough,
                lambda s: self.progress(f"waiting {s:.1f} s for Cloud Logging to settle"),
            )  # fmt: skip
        except GateError as exc:
            result, block = judge_logs(None, None, (), 0, f"not run: {exc.message}")
            return result, block, exc.message
        result, block = judge_logs(
            fetched, self.trace_id, options.ignore_log, options.max_log_errors
        )
        return result, block, None

    async def run(self) -> RunResult:
        """Resolve, check, read logs, act; always return a result for the report.

        Errors before the checks (a missing service, a denied read) propagate as
        :class:`~gate.errors.GateError`: there is nothing to report yet.
        """
        from gate.cloud.run import CloudRun

        started_at = datetime.now(UTC)
        deadline = Deadline(self.settings.deadline)
        budget = Budget(deadline)
        options = self.options
        cloud = await CloudRun.connect(options.project, options.region, options.service, budget)
        target = await resolve(cloud, options)
        # The service URL is the audience Cloud Run accepts for its tag URLs too.
        self.secret_headers = await self._iam_headers(target.state.uri, budget)
        self.progress(f"checking {target.revision} at {target.url}")
        run = self._checks(target.url)
        checks = await run.run(deadline)
        logs_check, logs_block, logs_error = await self._logs(
            target, budget, checks_failed(checks, strict=False)
        )
        checks = (*checks, logs_check)
        failed = checks_failed(checks, self.settings.strict)
        actions = cloud.within(Budget(Deadline(ACTION_TIMEOUT_S)))
        action, action_error = await self._perform(actions, target, failed)
        target_block: TargetBlock = {
            **run.target(),
            "project": options.project,
            "region": options.region,
            "service": options.service,
            "revision": target.revision,
            "tag": target.tag,
        }
        return RunResult(
            run_id=self.run_id,
            started_at=started_at,
            duration_ms=round(deadline.elapsed_ms(), 1),
            target=target_block,
            checks=checks,
            strict=self.settings.strict,
            trace_id=self.trace_id,
            logs=logs_block,
            action=action,
            error=action_error or logs_error,
            error_overrides_failure=action_error is not None,
        )

    async def _decide(self, cloud: RunApi, target: Target, failed: bool) -> tuple[Plan | None, str]:
        options = self.options
        if failed and options.on_failure == "rollback":
            if options.restore is not None:
                return restore(target.state, load_snapshot(options.restore, target.state.name)), ""
            previous = previous_ready(await cloud.revisions(), target.revision)
            if previous is None:
                return None, f"no ready revision older than {target.revision} to roll back to"
            return rollback_to(target.state, previous.name), ""
        if failed:
            return None, "the release failed; --on-failure fail leaves traffic as it is"
        if options.promote:
            return promote(target.state, target.revision), ""
        return None, "passed; --promote not given"

    async def _perform(
        self, cloud: RunApi, target: Target, failed: bool
    ) -> tuple[ActionBlock, str | None]:
        try:
            plan, reason = await self._decide(cloud, target, failed)
        except GateError as exc:
            return action_block(None, "failed", exc.message), exc.message
        if plan is None:
            if failed and self.options.on_failure == "rollback":
                return action_block(None, "failed", reason), reason
            return action_block(None, "skipped", reason), None
        self.progress(f"{plan.kind}: {plan.source} -> {plan.target}")
        try:
            status, reason, after = await apply(cloud, target.state, plan, self.options.dry_run)
        except GateError as exc:
            return action_block(plan, "failed", exc.message), exc.message
        if after is None or plan.kind != "rollback":
            return action_block(plan, status, reason), None
        self.progress(f"verifying the rollback at {after.uri}")
        recheck = await self._checks(after.uri).run(Deadline(self.settings.deadline))
        healthy = not any(c.status == "fail" for c in recheck)
        return action_block(plan, "done", verified=healthy, checks=_check_summary(recheck)), None


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
    progress: Progress = lambda _message: None,
) -> MultiResult:
    """Verify every target concurrently, in this event loop, each with its own clients.

    A target that cannot even be resolved (a missing service, a denied
    permission) becomes a result with that error; the others go on.
    """
    started_at = datetime.now(UTC)
    watch = Stopwatch()

    async def one(
        name: str, settings: Settings, credential: Credential | None, options: VerifyOptions
    ) -> RunResult:
        verifier = Verifier(settings, credential, options, lambda m: progress(f"{name}: {m}"))
        try:
            return await verifier.run()
        except GateError as exc:
            return _unresolved(options, exc)

    results = await asyncio.gather(*(one(*target) for target in targets))
    return MultiResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=watch.ms(),
        results=tuple((t[0], r) for t, r in zip(targets, results, strict=True)),
    )
