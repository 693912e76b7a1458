"""The emulated Cloud Monitoring: Cloud Run's request metrics from recorded requests.

``ListTimeSeries`` is answered for exactly what the gate asks
(:mod:`gate.cloud.monitoring`): a filter of ``AND``-ed ``key = "value"`` (or
``!=``) clauses on ``metric.type`` (``run.googleapis.com/request_count`` or
``request_latencies``, or a user metric a test registered: a log-based counter
``logging.googleapis.com/user/NAME`` or a custom counter, whose labels may be
filtered as ``metric.labels.KEY``), ``resource.type`` (``cloud_run_revision``),
``resource.labels.service_name``, ``resource.labels.revision_name``,
``resource.labels.location`` and ``metric.labels.response_code_class``; the
aggregation ``ALIGN_DELTA`` summed with ``REDUCE_SUM`` and grouped by revision
and/or response class. Anything else raises ``ValueError`` (INVALID_ARGUMENT
for the client), never a silent answer to a question the emulator did not
understand. Latencies are distributions over exponential buckets, as Cloud
Run's are.

Time is modelled on Google's documentation, with the two numbers configurable
so that tests can run it faster (:class:`~gate.sandbox.emulator.CloudEmulator`):

* Cloud Run's metrics are sampled per period (60 s, "Sampled every 60
  seconds" on the Cloud Run metrics list) and a sample is "not visible for up
  to 180 seconds" after it: each request becomes visible at the end of its
  sampling period plus a random share of the visibility delay, so a read soon
  after a window finds part of its counts, and later reads find more;
* the alignment period must be at least the sampling period ("The value must
  be at least 60 seconds", ``Aggregation.alignment_period`` in
  google/monitoring/v3/common.proto); the periods are counted back from the
  interval's end time, and an aligned point's interval ends at the end of its
  period;
* ``cloud_run_revision`` has a ``location`` label: the same service and
  revision names in two regions are two series.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

REQUEST_COUNT = "run.googleapis.com/request_count"
REQUEST_LATENCIES = "run.googleapis.com/request_latencies"
_CLAUSE = re.compile(r'^\s*([a-z_.]+)\s*(!?=)\s*"([^"]*)"\s*$')
_KEYS = {
    "metric.type",
    "resource.type",
    "resource.labels.service_name",
    "resource.labels.revision_name",
    "resource.labels.location",
    "metric.labels.response_code_class",
}
_GROUPS = {"resource.labels.revision_name", "metric.labels.response_code_class"}
USER_PREFIXES = ("logging.googleapis.com/user/", "custom.googleapis.com/",
                 "workload.googleapis.com/")  # fmt: skip
_BUCKETS = 60
_GROWTH = 1.4
_SCALE = 1.0  # milliseconds


@dataclass(frozen=True)
class RequestRecord:
    """One request as Cloud Run's metrics count it (a WebSocket once closed, status 101)."""

    at: datetime
    service: str
    revision: str
    status: int
    latency_ms: float
    location: str = "europe-west1"
    visible_at: datetime | None = None  # when Cloud Monitoring shows it (None: at once)
    metric: str = ""  # a user metric's type; "" for Cloud Run's request metrics
    labels: tuple[tuple[str, str], ...] = ()  # a user metric's labels
    value: int = 1  # a user counter's increment

    @property
    def code_class(self) -> str:
        """``1xx`` to ``5xx``."""
        return f"{self.status // 100}xx"

    def label(self, key: str) -> str:
        """The value of a filter or grouping key for this record."""
        if key.startswith("metric.labels.") and key != "metric.labels.response_code_class":
            return dict(self.labels).get(key.removeprefix("metric.labels."), "")
        return {
            "resource.type": "cloud_run_revision",
            "resource.labels.service_name": self.service,
            "resource.labels.revision_name": self.revision,
            "resource.labels.location": self.location,
            "metric.labels.response_code_class": self.code_class,
        }[key]


def parse_filter(text: str) -> list[tuple[str, str, str]]:
    """``[(key, operator, value)]`` of an ``AND`` of clauses, or ``ValueError``."""
    clauses = []
    for part in text.split(" AND "):
        match = _CLAUSE.match(part)
        if match is None or not (match[1] in _KEYS or match[1].startswith("metric.labels.")):
            raise ValueError(f"the emulator does not understand the filter clause {part.strip()!r}")
        clauses.append((match[1], match[2], match[3]))
    return clauses


def _bucket(latency_ms: float) -> int:
    """The bucket index of a latency: 0 underflow, 1..N finite, N+1 overflow."""
    if latency_ms < _SCALE:
        return 0
    bound, index = _SCALE, 0
    while index < _BUCKETS and latency_ms >= bound * _GROWTH:
        bound *= _GROWTH
        index += 1
    return min(index + 1, _BUCKETS + 1)


def _distribution(latencies: Sequence[float]) -> Any:
    from google.api import distribution_pb2

    counts = [0] * (_BUCKETS + 2)
    for value in latencies:
        counts[_bucket(value)] += 1
    found = distribution_pb2.Distribution(
        count=len(latencies), mean=sum(latencies) / len(latencies), bucket_counts=counts
    )
    exponential = found.bucket_options.exponential_buckets
    exponential.num_finite_buckets = _BUCKETS
    exponential.growth_factor = _GROWTH
    exponential.scale = _SCALE
    return found


def time_series(
    request: Any,
    records: Sequence[RequestRecord],
    project: str,
    min_period_s: float,
    now: datetime,
) -> list[Any]:
    """The ``TimeSeries`` answering ``request`` (a ``ListTimeSeriesRequest``) at ``now``.

    One point per alignment period that holds a visible request, periods
    counted back from the interval's end.
    """
    from google.api import metric_pb2, monitored_resource_pb2
    from google.cloud import monitoring_v3

    if request.name != f"projects/{project}":
        raise ValueError(f"unknown project {request.name!r}")
    clauses = parse_filter(request.filter)
    metrics = [value for key, op, value in clauses if key == "metric.type" and op == "="]
    user = len(metrics) == 1 and metrics[0].startswith(USER_PREFIXES)
    if len(metrics) != 1 or not (user or metrics[0] in (REQUEST_COUNT, REQUEST_LATENCIES)):
        raise ValueError(
            f"the emulator serves {REQUEST_COUNT}, {REQUEST_LATENCIES} and registered user metrics"
        )
    aggregation = request.aggregation
    aligner = monitoring_v3.Aggregation.Aligner
    reducer = monitoring_v3.Aggregation.Reducer
    if aggregation.per_series_aligner != aligner.ALIGN_DELTA or (
        aggregation.cross_series_reducer != reducer.REDUCE_SUM
    ):
        raise ValueError("the emulator aggregates with ALIGN_DELTA and REDUCE_SUM only")
    groups = list(aggregation.group_by_fields)
    if not set(groups) <= _GROUPS:
        raise ValueError(f"the emulator groups by {sorted(_GROUPS)} only, not {groups}")
    period = aggregation.alignment_period.total_seconds()
    if period < min_period_s:
        raise ValueError(
            f"The alignment period must be at least {min_period_s:g} seconds, not {period:g}"
        )
    start = request.interval.start_time
    end = request.interval.end_time
    chosen = [
        r
        for r in records
        if start <= r.at < end
        and r.metric == (metrics[0] if user else "")
        and (r.visible_at is None or r.visible_at <= now)
        and all((r.label(k) == v) == (op == "=") for k, op, v in clauses if k != "metric.type")
    ]
    grouped: dict[tuple[str, int], list[RequestRecord]] = {}
    labelled: dict[tuple[str, int], tuple[str, ...]] = {}
    for record in chosen:
        values = tuple(record.label(g) for g in groups)
        back = int((end - record.at).total_seconds() // period)  # 0: the period ending at `end`
        grouped.setdefault(("\0".join(values), back), []).append(record)
        labelled[("\0".join(values), back)] = values
    points: dict[tuple[str, ...], list[tuple[int, list[RequestRecord]]]] = {}
    for key, members in grouped.items():
        points.setdefault(labelled[key], []).append((key[1], members))
    found = []
    for values, periods in sorted(points.items()):
        labels = dict(zip(groups, values, strict=True))
        resource = {k.rsplit(".", 1)[1]: v for k, v in labels.items() if k.startswith("resource.")}
        metric = {k.rsplit(".", 1)[1]: v for k, v in labels.items() if k.startswith("metric.")}
        series_points = []
        for back, members in sorted(periods, key=lambda p: p[0]):  # newest first, as listed
            period_end = end - timedelta(seconds=back * period)
            interval = monitoring_v3.TimeInterval(
                start_time=period_end - timedelta(seconds=period), end_time=period_end
            )
            if user:
                value = monitoring_v3.TypedValue(int64_value=sum(m.value for m in members))
            elif metrics[0] == REQUEST_COUNT:
                value = monitoring_v3.TypedValue(int64_value=len(members))
            else:
                value = monitoring_v3.TypedValue(
                    distribution_value=_distribution([m.latency_ms for m in members])
                )
            series_points.append(monitoring_v3.Point(interval=interval, value=value))
        found.append(
            monitoring_v3.TimeSeries(
                metric=metric_pb2.Metric(type=metrics[0], labels=metric),
                resource=monitored_resource_pb2.MonitoredResource(
                    type="cloud_run_revision", labels=resource
                ),
                points=series_points,
            )
        )
    return found
