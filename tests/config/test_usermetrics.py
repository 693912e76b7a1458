"""``gate.config.usermetrics``: ``[[canary_metrics]]`` validated, one line per mistake."""

from __future__ import annotations

import pytest

from gate.config.usermetrics import parse_user_metrics
from gate.errors import ConfigError
from gate.model import UserMetric

GOOD = {"name": "drops", "metric": "logging.googleapis.com/user/drops"}


def test_a_promql_metric_fills_its_placeholders() -> None:
    [metric] = parse_user_metrics([{"name": "errors",
                                    "promql": 'rate(e{revision="{revision}",s="{service}"}[{window}])'}])  # fmt: skip
    assert metric.metric is None
    assert metric.query("svc-2", "svc", 120.4) == 'rate(e{revision="svc-2",s="svc"}[120s])'


def test_a_metric_with_its_defaults_and_one_with_everything() -> None:
    assert parse_user_metrics(None) == ()
    assert parse_user_metrics([GOOD]) == (UserMetric("drops", GOOD["metric"]),)
    full = parse_user_metrics([{**GOOD, "labels": {"reason": "x"}, "direction": "decrease",
                                "threshold": 0.5, "relative": True, "critical": True}])  # fmt: skip
    assert full[0].labels == (("reason", "x"),)
    assert (full[0].direction, full[0].threshold, full[0].relative, full[0].critical) == (
        "decrease", 0.5, True, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"canary_metrics": 1}, "must be an array of tables"),
        ([{**GOOD, "query": "x"}], "canary metric 'drops': unknown key 'query'"),
        ([{**GOOD, "promql": "x"}], "give metric (a Cloud Monitoring type) or promql, one"),
        ([{"name": "drops"}], "give metric (a Cloud Monitoring type) or promql, one"),
        ([{"name": "drops", "promql": "sum(x)"}], "promql must be a query string naming"),
        ([{"metric": GOOD["metric"]}], "canary metric 1: name must be a plain name"),
        ([GOOD, GOOD], "the name is used twice"),
        ([{**GOOD, "metric": "drops"}], "metric must be a Cloud Monitoring metric type"),
        ([{**GOOD, "labels": {"a": 1}}], "labels must be a table of strings"),
        ([{**GOOD, "direction": "up"}], "direction 'up': give increase or decrease"),
        ([{**GOOD, "threshold": "high"}], "threshold 'high' is not a number"),
        ([{**GOOD, "threshold": True}], "threshold True is not a number"),
        ([{**GOOD, "critical": "yes"}], "critical must be true or false"),
    ],
    ids=["not-array", "unknown-key", "both", "neither", "no-revision", "no-name", "twice", "not-a-type", "labels", "direction",
         "threshold", "threshold-bool", "critical"],
)  # fmt: skip
def test_each_mistake_names_the_metric_and_its_key(raw: object, message: str) -> None:
    given = raw["canary_metrics"] if isinstance(raw, dict) else raw
    with pytest.raises(ConfigError) as caught:
        parse_user_metrics(given)
    assert message in caught.value.message
