"""``[[canary_metrics]]`` of ``gate.toml``: your own metrics, judged at every canary step.

.. code-block:: toml

    [[canary_metrics]]
    name = "ws_disconnects"
    metric = "logging.googleapis.com/user/ws_disconnects"   # a log-based counter
    labels = { reason = "server" }                          # metric.labels filters
    direction = "increase"      # fail when the candidate's rate is higher (or "decrease")
    threshold = 1.5             # relative: at most 1.5 x the comparison side's rate
    relative = true
    critical = true             # a failure fails the step alone

Each metric is a Cloud Monitoring counter (DELTA or CUMULATIVE: a log-based counter, or a
custom counter the app writes), read for the candidate and for the comparison side (the
stable revisions, or the baseline) in the step's window, summed, and divided by that side's
requests (so that sides with different shares of traffic compare); or a PromQL query
(``promql = 'sum(rate(ws_errors_total{revision="{revision}"}[{window}]))'``) through Cloud
Monitoring's Prometheus API, evaluated at the window's end once per revision, its value taken
as it is (the query computes its own rate). ``{revision}``, ``{service}`` and ``{window}`` (the
window's length, as ``120s``) are filled in. The table is
``canary_metrics``, not ``canary.metrics``: ``canary`` and ``metrics`` are option keys of
the same file (``--canary``, ``--metrics``).
"""

from __future__ import annotations

import re

from gate.errors import ConfigError
from gate.model import UserMetric

_KEYS = {"name", "metric", "promql", "labels", "direction", "threshold", "relative", "critical"}
PLACEHOLDERS = ("{revision}", "{service}", "{window}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
_TYPE = re.compile(r"[a-z0-9.-]+\.googleapis\.com/[A-Za-z0-9_./-]+")


def parse_user_metrics(raw: object) -> tuple[UserMetric, ...]:
    """Validate the ``canary_metrics`` array; each mistake names the metric and its key."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise ConfigError(
            "gate.toml: canary_metrics must be an array of tables, [[canary_metrics]]"
        )
    found: list[UserMetric] = []
    for number, item in enumerate(raw, 1):
        name = item.get("name")
        where = (
            f"gate.toml: canary metric {name!r}" if name else f"gate.toml: canary metric {number}"
        )
        unknown = set(item) - _KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {sorted(unknown)[0]!r} ({', '.join(sorted(_KEYS))})"
            )
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(f'{where}: name must be a plain name, e.g. name = "ws_disconnects"')
        if any(m.name == name for m in found):
            raise ConfigError(f"{where}: the name is used twice; give each metric its own")
        metric, promql = item.get("metric"), item.get("promql")
        if (metric is None) == (promql is None):
            raise ConfigError(f"{where}: give metric (a Cloud Monitoring type) or promql, one")
        if metric is not None and (not isinstance(metric, str) or not _TYPE.fullmatch(metric)):
            raise ConfigError(
                f"{where}: metric must be a Cloud Monitoring metric type, e.g. "
                '"logging.googleapis.com/user/ws_disconnects"'
            )
        if promql is not None and (not isinstance(promql, str) or "{revision}" not in promql):
            raise ConfigError(
                f"{where}: promql must be a query string naming {{revision}}, e.g. "
                "'sum(rate(ws_errors_total{revision=\"{revision}\"}[{window}]))'"
            )
        labels = item.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigError(
                f'{where}: labels must be a table of strings, e.g. {{ reason = "x" }}'
            )
        direction = item.get("direction", "increase")
        if direction not in ("increase", "decrease"):
            raise ConfigError(f"{where}: direction {direction!r}: give increase or decrease")
        threshold = item.get("threshold", 0.0)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0:
            raise ConfigError(f"{where}: threshold {threshold!r} is not a number of 0 or more")
        flags = {key: item.get(key, False) for key in ("relative", "critical")}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
        found.append(
            UserMetric(
                name, metric, tuple(sorted(labels.items())), direction, float(threshold),
                flags["relative"], flags["critical"], promql,
            )
        )  # fmt: skip
    return tuple(found)
