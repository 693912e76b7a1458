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
list call per 30 s of bake (at least one), two Monitoring calls (README,
"Canary steps").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gate.checks.canary import Limits, judge, side
from gate.checks.logs import Expected, judge_logs
from gate.cloud.calls import Budget
from gate.cloud.logs import CloudLogs, revision_filter
from gate.cloud.model import (
    REQUEST_LOG,
    LogFetch,
    ServiceState,
    Traffic,
    TrafficEntry,
    combine,
)
from gate.cloud.monitoring import CloudMonitoring
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
from gate.run.resolve import Target
from gate.run.supervisor import Supervisor
from gate.timing import Deadline, Stopwatch
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

Progress = Callable[[str], None]


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


class Canary:
    """One progressive rollout of ``target`` (a tagged candidate with no traffic)."""

    def __init__(
        self,
        settings: Settings,
        options: VerifyOptions,
        cloud: CloudRun,
        target: Target,
        checks_at: Callable[[str], CheckRun],
        supervisor: Supervisor,
        progress: Progress,
        trace_id: str,
    ) -> None:
        self.settings = settings
        self.options = options
        self.cloud = cloud
        self.target = target
        self.checks_at = checks_at
        self.supervisor = supervisor
        self.progress = progress
        self.trace_id = trace_id
        self.steps: list[StepBlock] = []
        self.changes: list[TrafficChange] = []
        self.logs: CloudLogs | None = None  # connected on first use
        self.metrics: CloudMonitoring | None = None
        # The restore point, LATEST resolved as `gate snapshot` records it.
        self.recorded = snapshot_dict(target.state)["traffic"]
        self.restore_point = tuple(TrafficEntry.from_dict(t) for t in self.recorded)
        self.stable = sorted({s.revision for s in self.restore_point if s.percent > 0})

    @property
    def candidate(self) -> str:
        """The revision under test."""
        return self.target.revision

    def _budget(self) -> Budget:
        return Budget(Deadline(self.options.action_timeout))

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
        try:
            for percent in options.canary:
                last = canary_step(self.restore_point, self.candidate, tag, percent, state.etag)
                self.progress(f"{percent}% to {self.candidate}")
                state = await self._apply(f"{percent}%", last)
                step = await self.supervisor.phase(
                    f"the {percent}% step",
                    self._bake(f"{percent}%", percent, self.target.url or "", options.step_bake),
                )
                self.steps.append(step)
                if step["verdict"] == "fail":
                    return await self._restore(state, f"the {percent}% step failed")
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
        return promoted, None

    def _planned(self) -> ActionBlock:
        """``--dry-run``: every step and the promotion, planned, none made."""
        tag, etag = self.target.tag or "", self.target.state.etag
        plans = [
            canary_step(self.restore_point, self.candidate, tag, p, etag)
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

    async def _restore(self, state: ServiceState, why: str) -> tuple[ActionBlock, str | None]:
        """Back to the restore point (from ``state``, the last change's), then re-checked."""
        plan = restore(state, self.recorded)
        self.progress(f"{why}: restoring {plan.target}")
        try:
            after = await self._apply("restore", plan)
        except GateError as exc:
            return self._stopped(plan, exc), exc.message
        actions = Deadline(self.options.action_timeout)
        recheck = await self.supervisor.phase(
            "verifying the rollback", self.checks_at(after.uri).run(actions)
        )
        healthy = not any(c.status == "fail" for c in recheck)
        block = action_block(
            plan,
            "done",
            why,
            verified=healthy,
            checks=check_summaries(recheck),
            changes=self.changes,
        )
        return block, None

    async def _bake(self, name: str, percent: int, url: str, seconds: float) -> StepBlock:
        """Judge ``url`` for ``seconds``: probe rounds, logs since the start, metrics."""
        started = datetime.now(UTC)
        watch = Stopwatch()
        bake = Deadline(seconds)
        judged = Judged()
        last_poll = 0.0
        while True:
            left = bake.remaining()
            self.progress(
                f"{name} step: round {len(judged.rounds) + 1}, {left:.0f} s of {seconds:g} s left"
            )
            run = self.checks_at(url)
            results = await run.run(Deadline(self.settings.deadline))
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
            if watch.ms() / 1000 - last_poll >= LOG_POLL_S and bake.remaining() > 0:
                last_poll = watch.ms() / 1000
                if await self._logs_fail(started, judged):
                    break
            if bake.expired():
                break
            await self._wait(name, min(self.options.probe_interval, bake.remaining()), bake)
            if bake.expired():
                break
        metrics = None
        if judged.verdict == "pass" and not await self._logs_fail(started, judged):
            metrics = await self._metrics(started, percent, judged)
        if judged.verdict == "pass":
            judged.summary = f"{len(judged.rounds)} rounds passed, {judged.log_errors} log errors"
            if metrics is not None:
                judged.summary += f"; metrics: {metrics['summary']}"
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
        }

    async def _wait(self, name: str, seconds: float, bake: Deadline) -> None:
        """Sleep until the next round, the countdown of the bake on the progress line."""
        until = Deadline(seconds)
        while not until.expired():
            self.progress(f"{name} step: baking, {bake.remaining():.0f} s left")
            await asyncio.sleep(min(1.0, until.remaining()))

    async def _logs_fail(self, since: datetime, judged: Judged) -> bool:
        """Read the candidate's logs since ``since``; True (and ``judged`` failed) when too many."""
        options = self.options
        if not options.logs:
            return False
        budget = self._budget()
        if self.logs is None:
            self.logs = await CloudLogs.connect(options.project, budget)
        log_filter = revision_filter(
            options.project, options.service, self.candidate, options.region, since
        )
        entries, calls, truncated = await self.logs.within(budget).fetch(log_filter)
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

    async def _metrics(self, started: datetime, percent: int, judged: Judged) -> StepMetrics | None:
        """Cloud Monitoring's view of the step's window, judged; ``judged`` failed if it fails."""
        options = self.options
        if not options.metrics:
            return None
        budget = self._budget()
        if self.metrics is None:
            self.metrics = await CloudMonitoring.connect(options.project, budget)
        end = datetime.now(UTC) - timedelta(seconds=options.metrics_delay)
        start = min(started, end)
        found = await self.metrics.within(budget).traffic(options.service, start, end)
        candidate = found.get(self.candidate, Traffic())
        stable_revisions = [r for r in self.stable if r != self.candidate] if percent < 100 else []
        stable = combine(found.get(r, Traffic()) for r in stable_revisions)
        limits = Limits(
            options.max_error_rate, options.max_latency_ratio, options.min_requests,
            options.require_metrics,
        )  # fmt: skip
        verdict, diagnosis, summary = judge(candidate, stable, limits)
        if verdict == "fail":
            judged.fail(diagnosis, f"metrics: {summary}")
        return {
            "window_start": utc_text(start),
            "window_end": utc_text(end),
            "candidate": side([self.candidate], candidate),
            "stable": side(stable_revisions, stable),
            "verdict": verdict,
            "summary": summary,
        }

    def close(self) -> None:
        """Close the Logging and Monitoring clients' channels."""
        if self.logs is not None:
            self.logs.close()
        if self.metrics is not None:
            self.metrics.close()
