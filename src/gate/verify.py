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

The run exits 1 when the release failed, even after a successful rollback.
An API failure during an action (an etag conflict included) exits 3, with the
report still written.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gate.checks.logs import LogsInput, from_gate, is_ignored, judge_logs
from gate.checks.result import CheckResult
from gate.cloud.model import LogRecord, ServiceState
from gate.config import Settings, validate_url
from gate.errors import ConfigError, GateError
from gate.runner import MultiResult, Runner, RunResult, checks_failed, run_checks
from gate.timing import Deadline, Stopwatch
from gate.tokens import Credential
from gate.traffic import (
    Plan,
    action_block,
    apply,
    load_snapshot,
    promote,
    restore,
    rollback_to,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VerifyOptions:
    """The Cloud-facing options of ``gate verify``."""

    project: str
    region: str
    service: str
    revision: str | None = None
    tag: str | None = None
    on_failure: Literal["fail", "rollback"] = "fail"
    promote: bool = False
    dry_run: bool = False
    iam: bool = False
    logs: bool = True
    log_settle: float = 15.0
    ignore_log: tuple[str, ...] = ()
    max_log_errors: int = 0
    restore: Path | None = None


@dataclass(frozen=True)
class Target:
    """The revision under test and how to reach it."""

    state: ServiceState
    revision: str
    created: datetime
    url: str
    tag: str | None


def compile_ignores(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    """Compile ``--ignore-log`` patterns; a bad one is a configuration error."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"--ignore-log {pattern!r} is not a valid regex ({exc})") from None
    return compiled


def trace_headers(trace_id: str) -> dict[str, str]:
    """One trace for the run, in Google's and W3C's header formats."""
    span = secrets.randbits(63) or 1
    return {
        "X-Cloud-Trace-Context": f"{trace_id}/{span};o=1",
        "traceparent": f"00-{trace_id}-{span:016x}-01",
    }


def resolve(cloud: Any, options: VerifyOptions) -> Target:
    """Find the revision under test and a URL that reaches it alone."""
    state: ServiceState = cloud.service()
    if options.tag is not None:
        status = next((s for s in state.statuses if s.tag == options.tag), None)
        if status is None or not status.uri:
            raise ConfigError(
                f"--tag {options.tag}: service {state.short_name} has no traffic target with "
                f"that tag: deploy with `gcloud run deploy --no-traffic --tag {options.tag}`"
            )
        if options.revision is not None and options.revision != status.revision:
            raise ConfigError(
                f"--tag {options.tag} points at {status.revision}, not --revision "
                f"{options.revision}: give one of them"
            )
        info = cloud.revision(status.revision)
        return Target(state, status.revision, info.created, status.uri, options.tag)
    revision = options.revision or state.latest_ready
    if not revision:
        raise ConfigError(f"service {state.short_name} has no ready revision yet: deploy first")
    info = cloud.revision(revision)
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


def _logs_input(
    options: VerifyOptions, target: Target, trace_id: str, ignores: list[re.Pattern[str]],
    deadline: Deadline, progress: Progress, failed: bool,
) -> LogsInput:  # fmt: skip
    """Poll the revision's errors until they settle.

    Polling stops early once the verdict cannot change (more entries than
    allowed) and, when a check failed, once an entry logged while serving the
    gate's own probes has arrived: that entry is the most useful evidence, and
    it may be ingested after unrelated ones.
    """
    from gate.cloud.logs import CloudLogs, revision_filter

    watch = Stopwatch()
    logs = CloudLogs(options.project)
    log_filter = revision_filter(options.service, target.revision, options.region, target.created)
    settle = max(0.0, min(options.log_settle, deadline.remaining() - 1.0))

    def enough(entries: list[LogRecord]) -> bool:
        kept = [e for e in entries if not is_ignored(e, ignores)]
        explained = not failed or any(from_gate(e, trace_id) for e in kept)
        return len(kept) > options.max_log_errors and explained

    fetch = logs.settle(
        log_filter,
        settle,
        enough,
        on_wait=lambda s: progress(f"waiting {s:.1f} s for Cloud Logging to settle"),
    )
    return LogsInput(
        filter=fetch.filter,
        entries=fetch.entries,
        calls=fetch.calls,
        settle_s=settle,
        truncated=fetch.truncated,
        duration_ms=watch.ms(),
        revision=target.revision,
    )


def _check_summary(checks: tuple[CheckResult, ...]) -> list[dict[str, Any]]:
    return [{"id": c.id, "status": c.status, "diagnosis": c.diagnosis} for c in checks]


class Verifier:
    """One ``gate verify`` run."""

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
        self.ignores = compile_ignores(options.ignore_log)
        self.trace_id = uuid.uuid4().hex
        self.run_id = uuid.uuid4().hex
        self.secret_headers: dict[str, str] = {}

    def _iam_headers(self, audience: str) -> dict[str, str]:
        """``X-Serverless-Authorization`` with an ID token for the service URL (``--iam``)."""
        if not self.options.iam:
            return {}
        from gate.cloud.iam import fetch_id_token

        return {"X-Serverless-Authorization": f"Bearer {fetch_id_token(audience)}"}

    def _runner(self, url: str) -> Runner:
        settings = replace(self.settings, url=validate_url(url))
        headers = trace_headers(self.trace_id)
        return Runner(
            settings, self.credential, headers, self.secret_headers, self.run_id, self.trace_id
        )

    def _act(self, cloud: Any, target: Target, failed: bool) -> tuple[Plan | None, str]:
        options = self.options
        if failed and options.on_failure == "rollback":
            if options.restore is not None:
                return restore(target.state, load_snapshot(options.restore, target.state.name)), ""
            previous = cloud.previous_ready(target.revision)
            if previous is None:
                return None, f"no ready revision older than {target.revision} to roll back to"
            return rollback_to(target.state, previous.name), ""
        if failed:
            return None, "the release failed; --on-failure fail leaves traffic as it is"
        if options.promote:
            return promote(target.state, target.revision), ""
        return None, "passed; --promote not given"

    def run(self) -> RunResult:
        """Resolve, check, read logs, act; always return a result for the report."""
        from gate.cloud.run import CloudRun

        started_at = datetime.now(UTC)
        deadline = Deadline(self.settings.deadline)
        options = self.options
        cloud = CloudRun(options.project, options.region, options.service)
        target = resolve(cloud, options)
        # The service URL is the audience Cloud Run accepts for its tag URLs too.
        self.secret_headers = self._iam_headers(target.state.uri)
        self.progress(f"checking {target.revision} at {target.url}")
        runner = self._runner(target.url)
        checks = run_checks(runner, deadline)
        error: str | None = None
        if options.logs:
            self.progress("reading the revision's errors from Cloud Logging")
            try:
                data = _logs_input(
                    options, target, self.trace_id, self.ignores, deadline, self.progress,
                    checks_failed(checks, strict=False),
                )  # fmt: skip
            except GateError as exc:
                error = exc.message
                logs_check, logs_block = judge_logs(None, None, (), 0, f"not run: {exc.message}")
            else:
                logs_check, logs_block = judge_logs(
                    data, self.trace_id, self.ignores, options.max_log_errors
                )
        else:
            logs_check, logs_block = judge_logs(None, None, (), 0, "turned off with --no-logs")
        checks = (*checks, logs_check)
        failed = checks_failed(checks, self.settings.strict)
        action, action_error = self._perform(cloud, target, failed)
        target_block = {
            **runner.target(),
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
            error=action_error or error,
            error_overrides_failure=action_error is not None,
        )

    def _perform(
        self, cloud: Any, target: Target, failed: bool
    ) -> tuple[dict[str, Any], str | None]:
        try:
            plan, reason = self._act(cloud, target, failed)
        except GateError as exc:
            return action_block(None, "failed", exc.message), exc.message
        if plan is None:
            if failed and self.options.on_failure == "rollback":
                return action_block(None, "failed", reason), reason
            return action_block(None, "skipped", reason), None
        self.progress(f"{plan.kind}: {plan.source} -> {plan.target}")
        try:
            status, reason, after = apply(cloud, target.state, plan, self.options.dry_run)
        except GateError as exc:
            return action_block(plan, "failed", exc.message), exc.message
        if after is None or plan.kind != "rollback":
            return action_block(plan, status, reason), None
        self.progress(f"verifying the rollback at {after.uri}")
        recheck = run_checks(self._runner(after.uri), Deadline(self.settings.deadline))
        healthy = not any(c.status == "fail" for c in recheck)
        return action_block(plan, "done", verified=healthy, checks=_check_summary(recheck)), None


def run_verify_targets(
    targets: list[tuple[str, Settings, Credential | None, VerifyOptions]],
    progress: Progress = lambda _message: None,
) -> MultiResult:
    """Verify every target concurrently, each in its own thread with its own clients.

    A target that cannot even be resolved (a missing service, a denied
    permission) becomes a result with that error; the others go on.
    """
    from concurrent.futures import ThreadPoolExecutor

    started_at = datetime.now(UTC)
    watch = Stopwatch()

    def one(item: tuple[str, Settings, Credential | None, VerifyOptions]) -> RunResult:
        name, settings, credential, options = item
        try:
            return Verifier(settings, credential, options, lambda m: progress(f"{name}: {m}")).run()
        except GateError as exc:
            return RunResult(
                run_id=uuid.uuid4().hex,
                started_at=datetime.now(UTC),
                duration_ms=0.0,
                target={"project": options.project, "region": options.region,
                        "service": options.service},
                checks=(),
                error=exc.message,
                error_overrides_failure=True,
            )  # fmt: skip

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        results = list(pool.map(one, targets))
    return MultiResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=watch.ms(),
        results=tuple((t[0], r) for t, r in zip(targets, results, strict=True)),
    )
