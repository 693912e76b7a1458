"""Cloud Run's request metrics from Cloud Monitoring, per revision, for a canary window.

Two ``ListTimeSeries`` calls per window (google-cloud-monitoring's
``MetricServiceClient``, imported lazily), each aligned as deltas over the
window and summed across series:

* ``run.googleapis.com/request_count`` grouped by revision and
  ``response_code_class``: requests and 5xx per revision;
* ``run.googleapis.com/request_latencies`` without ``1xx`` (WebSockets count
  when they close, their lifetime as latency) grouped by revision: one merged
  distribution per revision, whose buckets give the p95.

The window is read as given, in whole alignment periods (``--metrics-period``,
60 s: Cloud Run samples its metrics per minute and the API's minimum alignment is
60 s, google/monitoring/v3/common.proto); the points of every period are
summed. :func:`aligned` rounds a window out to whole periods counted from the
epoch, so that the periods Monitoring counts back from the end line up with
Cloud Run's own samples. The filter names the service's region
(``resource.labels.location``): the same service and revision names in two
regions are two series and must not be summed. ``GATE_MONITORING_ENDPOINT``
(host:port) selects an emulator.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from gate.cloud.clients import ProjectClient, build
from gate.cloud.model import Latency, Traffic

VIEWER = "roles/monitoring.viewer"
REQUEST_COUNT = "run.googleapis.com/request_count"
REQUEST_LATENCIES = "run.googleapis.com/request_latencies"


def aligned(start: datetime, end: datetime, period_s: float) -> tuple[datetime, datetime]:
    """``[start, end]`` rounded out to whole periods of ``period_s`` counted from the epoch."""
    first = math.floor(start.timestamp() / period_s) * period_s
    last = max(math.ceil(end.timestamp() / period_s) * period_s, first + period_s)
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)


def metric_filter(metric: str, service: str, region: str, http_only: bool = False) -> str:
    """The filter of one metric of one service's revisions (the emulator parses this subset)."""
    parts = [
        f'metric.type = "{metric}"',
        'resource.type = "cloud_run_revision"',
        f'resource.labels.service_name = "{service}"',
        f'resource.labels.location = "{region}"',
    ]
    if http_only:
        parts.append('metric.labels.response_code_class != "1xx"')
    return " AND ".join(parts)


def bucket_bounds(options: Any) -> tuple[float, ...]:
    """The finite buckets' boundaries of a distribution, whichever way they are given."""
    if options.explicit_buckets.bounds:
        return tuple(float(b) for b in options.explicit_buckets.bounds)
    linear = options.linear_buckets
    if linear.num_finite_buckets:
        n = linear.num_finite_buckets
        return tuple(linear.offset + linear.width * i for i in range(n + 1))
    exponential = options.exponential_buckets
    n = exponential.num_finite_buckets
    return tuple(exponential.scale * exponential.growth_factor**i for i in range(n + 1))


def _latency(distribution: Any) -> Latency:
    bounds = bucket_bounds(distribution.bucket_options)
    counts = [int(c) for c in distribution.bucket_counts]
    counts += [0] * (len(bounds) + 1 - len(counts))  # trailing empty buckets may be left out
    return Latency(bounds, tuple(counts[: len(bounds) + 1]))


class CloudMonitoring(ProjectClient):
    """Reads one project's Cloud Run request metrics, per revision."""

    API, ROLE = "Cloud Monitoring", VIEWER

    @staticmethod
    def build_client(endpoint: str | None) -> Any:
        """google-cloud-monitoring's ``MetricServiceClient``."""
        from google.cloud import monitoring_v3
        from google.cloud.monitoring_v3.services.metric_service.transports import (
            MetricServiceGrpcTransport,
        )

        return build(monitoring_v3.MetricServiceClient, MetricServiceGrpcTransport, endpoint)

    def _series(
        self,
        metric_filter: str,
        start: datetime,
        end: datetime,
        period_s: float,
        group_by: list[str],
    ) -> list[Any]:
        from google.cloud import monitoring_v3
        from google.protobuf import duration_pb2, timestamp_pb2

        begin, finish = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
        begin.FromDatetime(start)
        finish.FromDatetime(end)
        seconds = max(1, round(period_s))
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}",
            filter=metric_filter,
            interval=monitoring_v3.TimeInterval(start_time=begin, end_time=finish),
            aggregation=monitoring_v3.Aggregation(
                alignment_period=duration_pb2.Duration(seconds=seconds),
                per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_DELTA,
                cross_series_reducer=monitoring_v3.Aggregation.Reducer.REDUCE_SUM,
                group_by_fields=group_by,
            ),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
        b = self.budget
        pager = self._client.list_time_series(request=request, timeout=b.timeout(), retry=None)
        return list(pager)

    async def counter(
        self,
        metric: str,
        labels: tuple[tuple[str, str], ...],
        service: str,
        region: str,
        window: tuple[datetime, datetime, float],
    ) -> dict[str, float]:
        """A user counter's total in the window, per revision of ``service`` (``ALIGN_DELTA``
        turns a CUMULATIVE counter into deltas too); a revision with no point is absent."""
        start, end, period_s = window
        wanted = [
            f'metric.type = "{metric}"',
            'resource.type = "cloud_run_revision"',
            f'resource.labels.service_name = "{service}"',
            f'resource.labels.location = "{region}"',
            *(f'metric.labels.{key} = "{value}"' for key, value in labels),
        ]

        def read() -> dict[str, float]:
            totals: dict[str, float] = {}
            for series in self._series(
                " AND ".join(wanted), start, end, period_s, ["resource.labels.revision_name"]
            ):
                revision = series.resource.labels.get("revision_name", "")
                value = sum(
                    float(p.value.int64_value) + float(p.value.double_value) for p in series.points
                )
                totals[revision] = totals.get(revision, 0.0) + value
            return totals

        return await self.budget.read(read, f"read the metric {metric} of {service}", VIEWER)

    async def traffic(
        self, service: str, region: str, start: datetime, end: datetime, period_s: float
    ) -> dict[str, Traffic]:
        """Requests, 5xx and the latency distribution of each revision of ``service``.

        ``start`` and ``end`` should be whole periods (:func:`aligned`).
        """
        revision_field = "resource.labels.revision_name"

        def read() -> dict[str, Traffic]:
            counts: dict[str, Traffic] = {}
            group = [revision_field, "metric.labels.response_code_class"]
            counted = metric_filter(REQUEST_COUNT, service, region)
            for series in self._series(counted, start, end, period_s, group):
                revision = series.resource.labels.get("revision_name", "")
                code_class = series.metric.labels.get("response_code_class", "")
                total = sum(int(p.value.int64_value) for p in series.points)
                errors = total if code_class == "5xx" else 0
                counts[revision] = counts.get(revision, Traffic()) + Traffic(total, errors)
            latencies = self._series(
                metric_filter(REQUEST_LATENCIES, service, region, http_only=True), start, end,
                period_s, [revision_field],
            )  # fmt: skip
            for series in latencies:
                revision = series.resource.labels.get("revision_name", "")
                for point in series.points:
                    latency = _latency(point.value.distribution_value)
                    counts[revision] = counts.get(revision, Traffic()) + Traffic(0, 0, latency)
            return counts

        return await self.budget.read(read, f"read the request metrics of {service}", VIEWER)
