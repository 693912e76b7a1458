"""A canary step's request metrics: Cloud Monitoring's view of its window, read until it
settles, then judged candidate against stable (:mod:`gate.checks.canary`).

The window asked for is rounded out to whole alignment periods. It is read when
``--metrics-delay`` has passed since its end (the caller waited), then again every
``metrics_settle`` seconds while its counts still change, for at most another
``--metrics-delay``: a sample Google is late to show is still counted, and the judgement is
made on counts that stopped moving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gate.checks.canary import (
    Limits,
    judge,
    metric_tests,
    side,
    user_outcome,
    with_user_metrics,
)
from gate.cloud.calls import Budget
from gate.cloud.model import Traffic, combine
from gate.cloud.monitoring import CloudMonitoring, aligned
from gate.config.settings import VerifyOptions
from gate.errors import ConfigError
from gate.model import Diagnosis, StepMetrics, UserMetric, UserMetricBlock, utc_text
from gate.status import Countdown, Progress
from gate.text import plural


class StepMetricsReader:
    """Reads and judges the steps' metrics of one candidate; one Monitoring client for all."""

    def __init__(
        self,
        options: VerifyOptions,
        candidate: str,
        budget: Callable[[], Budget],
        progress: Progress,
    ) -> None:
        """``budget`` gives each read its time limit (``--action-timeout``)."""
        self.options = options
        self.candidate = candidate
        self._budget = budget
        self.progress = progress
        self.client: CloudMonitoring | None = None

    async def read(
        self, name: str, asked: tuple[datetime, datetime], stable_revisions: list[str]
    ) -> tuple[StepMetrics | None, tuple[Diagnosis | None, str] | None]:
        """The step's metrics block (``None`` with ``--no-metrics``), and its failure if any:
        the diagnosis and the summary."""
        options = self.options
        if not options.metrics:
            return None, None
        if self.client is None:
            self.client = await CloudMonitoring.connect(
                options.project, self._budget(), options.endpoints.monitoring
            )
        start, end = aligned(*asked, options.metrics_period)
        give_up = end + timedelta(seconds=2 * options.metrics_delay)
        reads, previous = 0, None
        while True:
            found = await self.client.within(self._budget()).traffic(
                options.service, options.region, start, end, options.metrics_period
            )
            reads += 1
            candidate = found.get(self.candidate, Traffic())
            stable = combine(found.get(r, Traffic()) for r in stable_revisions)
            counts = (candidate, stable)
            if counts == previous or datetime.now(UTC) >= give_up:
                break
            previous = counts
            interim = _interim(candidate, stable)
            self.progress(
                Countdown(f"step {name}: metrics read {reads} ({interim}), re-read in {{left}} s",
                          options.metrics_settle)
            )  # fmt: skip
            await asyncio.sleep(options.metrics_settle)
        limits = Limits(
            options.max_error_rate, options.max_latency_ratio, options.min_requests,
            options.require_metrics,
        )  # fmt: skip
        verdict, diagnosis, summary = judge(candidate, stable, limits)
        user = await self._user(start, end, stable_revisions, candidate, stable)
        verdict, diagnosis, summary = with_user_metrics(
            verdict, diagnosis, summary, user, options.require_metrics
        )
        block: StepMetrics = {
            "window_start": utc_text(start),
            "window_end": utc_text(end),
            "asked_start": utc_text(asked[0]),
            "asked_end": utc_text(asked[1]),
            "reads": reads,
            "settled": counts == previous,
            "candidate": side([self.candidate], candidate),
            "stable": side(stable_revisions, stable),
            "verdict": verdict,
            "summary": summary,
            "tests": metric_tests(candidate, stable),
            "user": user,
            "limits": {
                "max_error_rate": options.max_error_rate,
                "max_latency_ratio": options.max_latency_ratio,
                "min_requests": options.min_requests,
            },
        }
        return block, ((diagnosis, f"metrics: {summary}") if verdict == "fail" else None)

    async def _user(
        self,
        start: datetime,
        end: datetime,
        stable_revisions: list[str],
        candidate: Traffic,
        stable: Traffic,
    ) -> list[UserMetricBlock]:
        """Each ``[[canary_metrics]]`` metric, read once the window's counts have settled."""
        options = self.options
        judged = []
        assert self.client is not None
        for metric in options.user_metrics:
            if metric.metric is not None:
                totals = await self.client.within(self._budget()).counter(
                    metric.metric, metric.labels, options.service, options.region,
                    (start, end, options.metrics_period),
                )  # fmt: skip
            else:
                window = (end - start).total_seconds()
                totals = await self._promql(metric, [self.candidate, *stable_revisions], end,
                                            window)  # fmt: skip
            theirs = [totals[r] for r in stable_revisions if r in totals]
            judged.append(
                user_outcome(
                    metric, (totals.get(self.candidate), sum(theirs) if theirs else None),
                    (candidate.requests, stable.requests), options.min_requests,
                )
            )  # fmt: skip
        return judged

    async def _promql(
        self, metric: UserMetric, revisions: list[str], at: datetime, window_s: float
    ) -> dict[str, float]:
        """A PromQL metric's value for each revision that has one (none: no data)."""
        from gate.cloud.prometheus import PromQLRejected, instant_query

        found: dict[str, float] = {}
        for revision in revisions:
            query = metric.query(revision, self.options.service, window_s)
            try:
                value = await instant_query(
                    self.options.project, query, at, self._budget(),
                    self.options.endpoints.prometheus,
                )  # fmt: skip
            except PromQLRejected as exc:
                raise ConfigError(
                    f"gate.toml: canary metric {metric.name!r}: promql: the Prometheus API "
                    f"refused {query!r} ({exc}): fix the query"
                ) from None
            if value is not None:
                found[revision] = value
        return found

    async def check_queries(self) -> None:
        """Read each PromQL metric once for the candidate, before any traffic moves: a query
        the API refuses is a configuration error (exit 2), named with its metric."""
        now = datetime.now(UTC)
        for metric in self.options.user_metrics:
            if metric.promql is not None:
                await self._promql(metric, [self.candidate], now, self.options.metrics_period)

    def close(self) -> None:
        """Close the Monitoring client's channel, if one was opened."""
        if self.client is not None:
            self.client.close()


def _interim(candidate: Traffic, stable: Traffic) -> str:
    """A step's counts as read so far, for the live line."""

    def ratio(side: Traffic) -> str:
        return "n/a" if side.error_ratio is None else f"{side.error_ratio:.2%}"

    return (
        f"candidate {plural(candidate.requests, 'request')}, 5xx {ratio(candidate)}; "
        f"stable {plural(stable.requests, 'request')}, 5xx {ratio(stable)}"
    )
