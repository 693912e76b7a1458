"""``logs.errors`` for ``gate verify``: the revision's entries polled until the logs settle,
then judged (:mod:`gate.checks.logs`).

Polling stops early once the verdict cannot change, and, when a check failed, once the entry
that explains it has arrived. What the revision logged is redacted before anything is grouped,
cut or shown: it may quote a secret (a token it refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from gate.checks.logs import Expected, counts, from_gate, is_ignored, judge_logs, kind_of
from gate.checks.uncaught import fold
from gate.cloud.calls import Budget
from gate.cloud.model import LogRecord
from gate.config.settings import VerifyOptions
from gate.errors import GateError
from gate.model import CheckResult, LogsBlock
from gate.redact import Redactor
from gate.run.logs import SharedLogs, poll_logs
from gate.run.resolve import Target
from gate.status import Countdown, Progress


@dataclass(frozen=True)
class LogsCheck:
    """Reads and judges one revision's logs; ``shared``: the Logging reads of the targets of
    its project (``None``: a reader of its own)."""

    options: VerifyOptions
    trace_id: str
    redactor: Redactor
    progress: Progress
    shared: SharedLogs | None = None

    async def read(
        self, target: Target, budget: Budget, failed: bool, expected: Expected
    ) -> tuple[CheckResult, LogsBlock | None, str | None]:
        """``logs.errors``, the report's ``logs`` block, and an error when Logging failed.

        Polling stops early once the verdict cannot change (more entries than
        allowed) and, when a check failed, once the entry that explains it has
        arrived (one logged while serving the gate's own probes, or Cloud Run's
        startup-probe line): it may be ingested after unrelated ones.
        """
        from gate.cloud.logs import LogScope, scopes_filter

        options = self.options
        if not options.logs:
            result, block = judge_logs(None, None, (), 0, "turned off with --no-logs")
            return result, block, None

        def enough(entries: Sequence[LogRecord]) -> bool:
            kept = [e for e in fold(entries) if not is_ignored(e, options.ignore_log)]
            explained = not failed or any(
                from_gate(e, self.trace_id) or kind_of(e) == "startup" for e in kept
            )
            counted = [e for e in kept if counts(e, expected)]
            return len(counted) > options.max_log_errors and explained

        self.progress("reading the revision's errors from Cloud Logging")
        settle = max(0.0, min(options.log_settle, budget.deadline.remaining() - 1.0))
        scope = LogScope(options.service, target.revision, options.region, target.info.created)
        log_filter = scopes_filter(options.project, [scope])
        shared = self.shared or SharedLogs(
            options.project, lambda: budget, 0.0, options.endpoints.logging
        )
        try:
            try:
                waiting = Countdown("log settle {left} s (reading Cloud Logging)", settle)
                fetched = await poll_logs(
                    lambda: shared.fetch(scope), log_filter, target.revision, settle, enough,
                    lambda _s: self.progress(waiting),
                )  # fmt: skip
            finally:
                if shared is not self.shared:
                    shared.close()
        except GateError as exc:
            result, block = judge_logs(None, None, (), 0, f"not run: {exc.message}")
            return result, block, exc.message
        # What the revision logged may quote a secret (a token it refused): redacted
        # before anything is grouped, cut to a sample or shown.
        entries = tuple(
            replace(e, message=self.redactor.record(e.message)) for e in fetched.entries
        )
        result, block = judge_logs(
            replace(fetched, entries=entries), self.trace_id, options.ignore_log,
            options.max_log_errors, expected=expected,
        )  # fmt: skip
        return result, block, None
