"""Progressive delivery: traffic moved to a candidate in steps, each judged; then a watch.

After the candidate passed its checks and its logs at its tag URL (the plain
``verify``), :class:`Canary` walks ``--canary`` steps. For each percentage it
moves that share to the candidate (:func:`gate.traffic.plan.canary_step`),
then bakes for ``--step-bake`` seconds: a round of the checks at the tag URL
every ``--probe-interval``, the candidate's logs since the step began (Cloud
Run's request-log entries are left to the metrics, which count the same
events), and Cloud Monitoring's request metrics of the candidate against the
stable revisions (:mod:`gate.checks.canary`). A step passes only if every round
passed and logs and metrics are within bounds.

Every traffic change carries the etag of the one before, from the restore
point (the service as read before the checks) on: a change by someone else
makes the next update fail, and the rollout stops there (exit 3) having
overwritten nothing. A failed step sends traffic back to the restore point and
re-checks the service URL; after the last step the candidate is promoted (its
tag removed with ``--remove-tag``) and, with ``--watch``, the service URL is
judged the same way for that long, with a rollback to the restore point if it
degrades. ``--dry-run`` plans every change and makes none.

API calls per step: one traffic update and its operation polls, one Logging
list call per 30 s of bake (at least one), two Monitoring calls per read of
the step's window, two reads when its counts have settled (README, "Canary steps").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from gate.checks.canary import StepPlace, step_hint
from gate.checks.logs import Expected, judge_logs
from gate.cloud.calls import Budget
from gate.cloud.logs import LogScope, scopes_filter
from gate.cloud.model import (
    REQUEST_LOG,
    LogFetch,
    ServiceState,
    TrafficEntry,
)
from gate.cloud.monitoring import aligned
from gate.cloud.run import CloudRun
from gate.config.settings import Settings, VerifyOptions
from gate.errors import GateError
from gate.model import (
    ActionBlock,
    Diagnosis,
    ProbeRound,
    StepBlock,
    StepMetrics,
    StepVerdict,
    TrafficChange,
    check_summaries,
    utc_text,
)
from gate.run.check import CheckRun
from gate.run.logs import SharedLogs
from gate.run.recheck import verify_rollback
from gate.run.resolve import Target
from gate.run.stepmetrics import StepMetricsReader
from gate.run.supervisor import Supervisor
from gate.status import Countdown, Progress, Status, prefixed
from gate.text import plural
from gate.timing import Stopwatch
from gate.traffic.actions import revision_of_tag
from gate.traffic.plan import (
    Plan,
    action_block,
    canary_step,
    change,
    promote,
    restore,
)
from gate.traffic.snapshot import snapshot_dict

LOG_POLL_S = 30.0
"""At most one Logging list call per this many seconds of bake (the read quota is 60/min)."""

T = TypeVar("T")


@dataclass
class Judged:
    """What a bake found so far."""

    rounds: list[ProbeRound] = field(default_factory=list)
    traces: set[str] = field(default_factory=set)
    log_errors: int = 0
    verdict: StepVerdict = "pass"
    diagnosis: Diagnosis | None = None
    summary: str = ""

    def fail(self, diagnosis: Diagnosis | None, summary: str) -> None:
        """Record the failure that ends the bake."""
        self.verdict, self.diagnosis, self.summary = "fail", diagnosis, summary

    def unjudged(self, error: GateError) -> None:
        """A read the step is judged on failed for good: the step is an error, not a verdict."""
        self.verdict, self.diagnosis, self.summary = "error", None, error.message


@dataclass(frozen=True)
class Rollout:
    """What a rollout is given: the candidate, its service, and how to check a URL.

    ``logs`` are the Logging reads shared by the steps of every target of the project;
    ``renew`` runs before every round of checks (the ID token of ``--iam``).
    """

    settings: Settings
    options: VerifyOptions
    cloud: CloudRun
    target: Target
    checks_at: Callable[[str], CheckRun]
    trace_id: str
    logs: SharedLogs
    renew: Callable[[], Awaitable[None]] = lambda: asyncio.sleep(0)


class Canary:
    """One progressive rollout of a tagged candidate with no traffic, under ``supervisor``."""

    def __init__(self, rollout: Rollout, supervisor: Supervisor, progress: Progress) -> None:
        self.renew = rollout.renew
        self.settings = rollout.settings
        self.options = options = rollout.options
        self.cloud = rollout.cloud
        self.target = target = rollout.target
        self.checks_at = rollout.checks_at
        self.supervisor = supervisor
        self.progress = progress
        self.trace_id = rollout.trace_id
        self.logs = rollout.logs
        self.steps: list[StepBlock] = []
        self.changes: list[TrafficChange] = []
        self.metrics = StepMetricsReader(options, target.revision, self._budget, progress)
        # The restore point, LATEST resolved as `gate snapshot` records it.
        self.recorded = snapshot_dict(target.state)["traffic"]
        self.restore_point = tuple(TrafficEntry.from_dict(t) for t in self.recorded)
        self.stable = sorted({s.revision for s in self.restore_point if s.percent > 0})
        self.baseline: tuple[str, str] | None = None
        if options.baseline_tag is not None:  # resolved before any traffic moves
            revision = revision_of_tag(target.state, options.baseline_tag)
            self.baseline = (revision, options.baseline_tag)

    @property
    def candidate(self) -> str:
        """The revision under test."""
        return self.target.revision

    def _budget(self) -> Budget:
        return Budget(self.supervisor.budget(self.options.action_timeout))

    async def _apply(self, label: str, plan: Plan) -> ServiceState:
        """One traffic change, never cut by a signal; recorded in ``changes``."""
        cloud = self.cloud.within(self._budget())
        after = await self.supervisor.action(
            f"the traffic change ({label})", lambda: cloud.set_traffic(plan.etag, plan.traffic)
        )
        self.changes.append(change(label, "done", plan))
        return after

    async def run(self) -> tuple[ActionBlock, str | None]:
        """Walk the steps, then promote (and watch) or restore; the action and any error."""
        options, tag = self.options, self.target.tag or ""
        state = self.target.state  # the restore point: each change carries the etag before it
        if options.dry_run:
            return self._planned(), None
        last: Plan | None = None
        await self.metrics.check_queries()  # a refused PromQL query stops the run here
        try:
            for percent in options.canary:
                last = canary_step(
                    self.restore_point, self.candidate, tag, percent, state.etag, self.baseline
                )
                self.progress(f"{percent}% to {self.candidate}")
                state = await self._apply(f"{percent}%", last)
                step = await self.supervisor.phase(
                    f"the {percent}% step",
                    self._bake(f"{percent}%", percent, self.target.url or "", options.step_bake),
                )
                self.steps.append(step)
                if step["verdict"] == "fail":
                    return await self._restore(state, f"the {percent}% step failed")
                if step["verdict"] == "error":
                    return await self._unjudged(state, f"the {percent}% step", step)
            last = promote(state, self.candidate, tag if options.remove_tag else None)
            state = await self._apply("promote", last)
        except GateError as exc:
            return self._stopped(last, exc), exc.message
        promoted = action_block(last, "done", changes=self.changes)
        if options.watch <= 0:
            return promoted, None
        watched = await self.supervisor.phase(
            "the watch", self._bake("watch", 100, state.uri, options.watch)
        )
        self.steps.append(watched)
        if watched["verdict"] == "fail":
            return await self._restore(state, "the promoted revision degraded during the watch")
        if watched["verdict"] == "error":
            return await self._unjudged(state, "the watch", watched)
        return promoted, None

    def _planned(self) -> ActionBlock:
        """``--dry-run``: every step and the promotion, planned, none made."""
        tag, etag = self.target.tag or "", self.target.state.etag
        plans = [
            canary_step(self.restore_point, self.candidate, tag, p, etag, self.baseline)
            for p in self.options.canary
        ]
        for percent, plan in zip(self.options.canary, plans, strict=True):
            self.changes.append(change(f"{percent}%", "dry-run", plan))
        final = promote(self.target.state, self.candidate, tag if self.options.remove_tag else None)
        self.changes.append(change("promote", "dry-run", final))
        return action_block(final, "dry-run", "--dry-run: nothing changed", changes=self.changes)

    def _stopped(self, plan: Plan | None, exc: GateError) -> ActionBlock:
        """A traffic change failed (an etag conflict, a refused call): stop, overwrite nothing."""
        where = self.changes[-1]["step"] if self.changes else "the restore point"
        reason = f"{exc.message}; traffic left as {where} set it"
        return action_block(plan, "failed", reason, changes=self.changes)

    async def _unjudged(
        self, state: ServiceState, name: str, step: StepBlock
    ) -> tuple[ActionBlock, str | None]:
        """A read failed for good during ``name``: restore (never leave traffic mid-canary).

        The run then exits 3: neither the candidate nor the release was judged.
        """
        why = f"{name} could not be judged ({step['summary']})"
        block, error = await self._restore(state, why)
        if error is not None:
            return block, error
        return block, f"{why}; traffic was restored to the restore point"

    async def _restore(self, state: ServiceState, why: str) -> tuple[ActionBlock, str | None]:
        """Back to the restore point (from ``state``, the last change's), then re-checked."""
        plan = restore(state, self.recorded)
        self.progress(f"{why}: restoring {plan.target}")
        try:
            after = await self._apply("restore", plan)
        except GateError as exc:
            return self._stopped(plan, exc), exc.message
        budget = self.supervisor.budget(self.options.action_timeout)
        healthy, checks = await verify_rollback(self.supervisor, self.checks_at, after.uri, budget)
        block = action_block(
            plan, "done", why, verified=healthy, checks=checks, changes=self.changes
        )
        return block, None

    async def _bake(self, name: str, percent: int, url: str, seconds: float) -> StepBlock:
        """Judge ``url`` for ``seconds``: probe rounds, logs since the start, then its metrics.

        The step's window is from the moment its traffic change applied to the end
        of its bake. Its metrics are read once Cloud Monitoring shows all of it
        (the window rounded out to whole periods, plus ``--metrics-delay``);
        probe rounds go on until then, so the step's real length is its bake and
        that wait.
        """
        options = self.options
        started = datetime.now(UTC)
        watch = Stopwatch()
        ended = started + timedelta(seconds=seconds)
        window = aligned(started, ended, options.metrics_period)
        visible = window[1] + timedelta(seconds=options.metrics_delay)
        until = self.supervisor.budget(
            (visible - started).total_seconds() if options.metrics else seconds
        )
        judged = Judged()
        last_poll = 0.0
        while True:
            round_name = f"step {name}: probe round {len(judged.rounds) + 1}"
            self.progress(round_name)
            await self._read(self.renew(), judged)  # the ID token of --iam, before it expires
            if judged.verdict == "error":
                break
            run = self.checks_at(url)
            run.progress = prefixed(self.progress, f"{round_name}: ")
            results = await run.run(self.supervisor.budget(self.settings.deadline))
            judged.traces |= set(run.negative_traces.values())
            failed = [c for c in results if c.status == "fail"]
            judged.rounds.append(
                {
                    "at_ms": round(watch.ms(), 1),
                    "passed": not failed,
                    "failed": check_summaries(failed),
                }
            )
            if failed:
                first = failed[0]
                judged.fail(
                    first.diagnosis,
                    f"round {len(judged.rounds)}: {first.id} {first.diagnosis}: {first.summary}",
                )
                break
            if watch.ms() / 1000 - last_poll >= LOG_POLL_S and until.remaining() > 0:
                last_poll = watch.ms() / 1000
                if await self._read(self._logs_fail(started, judged), judged) is not False:
                    break  # too many errors, or the read failed for good
            if until.expired():
                break
            pause = min(options.probe_interval, until.remaining())
            await self._wait(name, pause, ended, visible, len(judged.rounds))
            if until.expired():
                break
        metrics = None
        if judged.verdict == "pass":
            await self._read(self._logs_fail(started, judged), judged)
        if judged.verdict == "pass":
            asked = (started, min(ended, datetime.now(UTC)))
            metrics = await self._read(self._metrics(name, asked, percent, judged), judged)
        if judged.verdict == "pass":
            judged.summary = (
                f"{plural(len(judged.rounds), 'round')} passed, "
                f"{plural(judged.log_errors, 'log error')}"
            )
            if metrics is not None:
                judged.summary += f"; metrics: {metrics['summary']}"
                if metrics["verdict"] == "insufficient":
                    judged.verdict = "inconclusive"
        # A query to paste into Logs Explorer (the gate's own reads also match uncaught
        # tracebacks at DEFAULT severity: too long for a hint).
        query = (
            f'resource.type="cloud_run_revision" resource.labels.service_name='
            f'"{self.options.service}" resource.labels.revision_name="{self.candidate}" '
            f'severity>=ERROR timestamp>="{utc_text(started)}"'
        )
        place = StepPlace(self.candidate, url, query)
        failed_step = judged.verdict == "fail"
        return {
            "name": name,
            "percent": percent,
            "url": url,
            "started_at": utc_text(started),
            "duration_ms": round(watch.ms(), 1),
            "rounds": judged.rounds,
            "log_errors": judged.log_errors,
            "metrics": metrics,
            "verdict": judged.verdict,
            "diagnosis": judged.diagnosis,
            "summary": judged.summary,
            "hint": step_hint(judged.diagnosis, metrics, place) if failed_step else None,
        }

    @staticmethod
    async def _read(work: Awaitable[T], judged: Judged) -> T | None:
        """``work`` (a Logging or Monitoring read); ``None`` and the step unjudged if it failed."""
        try:
            return await work
        except GateError as exc:
            judged.unjudged(exc)
            return None

    def _left(self, name: str, ended: datetime, visible: datetime, rounds: int) -> Status:
        """What the step still waits for, counting down: its bake (with the probe rounds that
        passed so far), or its metrics to be visible in Cloud Monitoring."""
        now = datetime.now(UTC)
        passed = f"{plural(rounds, 'probe round')} passed so far"
        if now < ended:
            bake = (ended - now).total_seconds()
            return Countdown(f"step {name}: bake {{left}} s left", bake, lambda: passed)
        if self.options.metrics and now < visible:
            wait = (visible - now).total_seconds()
            return Countdown(f"step {name}: waiting for metrics to be visible {{left}} s", wait)
        return f"step {name}: judging"

    async def _wait(
        self, name: str, seconds: float, ended: datetime, visible: datetime, rounds: int
    ) -> None:
        """Sleep until the next round, the live line counting down what the step waits for."""
        self.progress(self._left(name, ended, visible, rounds))
        await asyncio.sleep(seconds)

    async def _logs_fail(self, since: datetime, judged: Judged) -> bool:
        """Read the candidate's logs since ``since``; True (and ``judged`` failed) when too many."""
        options = self.options
        if not options.logs:
            return False
        scope = LogScope(options.service, self.candidate, options.region, since)
        log_filter = scopes_filter(options.project, [scope])
        entries, calls, truncated = await self.logs.fetch(scope)
        # Cloud Run's request-log entries are the events the metrics count: judged there.
        kept = tuple(e for e in entries if e.log != REQUEST_LOG)
        fetched = LogFetch(log_filter, kept, calls, 0.0, truncated, 0.0, self.candidate)
        expected = Expected(frozenset(judged.traces))
        result, block = judge_logs(
            fetched, self.trace_id, options.ignore_log, options.max_log_errors, expected=expected
        )
        judged.log_errors = block["count"] if block is not None else 0
        if result.status == "fail":
            judged.fail(result.diagnosis, f"logs: {result.summary}")
            return True
        return False

    async def _metrics(
        self, name: str, asked: tuple[datetime, datetime], percent: int, judged: Judged
    ) -> StepMetrics | None:
        """The step's metrics (:mod:`gate.run.stepmetrics`); ``judged`` failed if they fail."""
        stable = [r for r in self.stable if r != self.candidate] if percent < 100 else []
        if self.baseline is not None and percent < 100:
            stable = [self.baseline[0]]  # compared with the baseline started beside it
        found, failure = await self.metrics.read(name, asked, stable)
        if failure is not None:
            judged.fail(*failure)
        return found

    def close(self) -> None:
        """Close the Monitoring client's channel (the shared Logging reads have their owner)."""
        self.metrics.close()
