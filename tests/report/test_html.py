"""``gate.report.html``: one self-contained page, its charts, and everything in it escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from gate.model import CheckResult, MultiResult, StepBlock, StepMetrics
from gate.report.html import render_html
from tests.report.build import STARTED, result, step


def _metrics(candidate_ratio: float, stable_ratio: float) -> StepMetrics:
    def one(ratio: float) -> dict[str, object]:
        return {"revisions": [], "requests": 400, "errors": int(400 * ratio),
                "error_ratio": ratio, "http_requests": 400, "p95_ms": 120.0}  # fmt: skip

    return {"window_start": "", "window_end": "", "asked_start": "", "asked_end": "",
            "reads": 1, "settled": True, "candidate": one(candidate_ratio),
            "stable": one(stable_ratio), "verdict": "pass", "summary": "",
            "limits": {"max_error_rate": 0.01, "max_latency_ratio": 1.5,
                       "min_requests": 100}}  # type: ignore[typeddict-item]  # fmt: skip


def _step(name: str, percent: int, ratio: float) -> StepBlock:
    return {**step("pass"), "name": name, "percent": percent, "metrics": _metrics(ratio, 0.0)}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parsed(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_the_page_needs_no_network_and_runs_no_script() -> None:
    page = render_html(result(steps=(_step("20%", 20, 0.02),)))
    tags = _parsed(page)
    assert not [t for t, _a in tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _t, a in tags if any(k in a for k in ("src", "href"))]
    assert page.startswith("<!DOCTYPE html>")


def test_one_chart_per_metric_per_step_and_the_share_over_time() -> None:
    steps = (_step("20%", 20, 0.02), _step("50%", 50, 0.0))
    tags = _parsed(render_html(result(steps=steps)))
    charts = [a for t, a in tags if t == "figure" and a.get("class") == "metric"]
    assert len(charts) == 2 * len(steps)  # 5xx ratio and p95, for each step
    assert [a for t, a in tags if t == "svg" and a.get("class") == "share"]


def test_the_waterfall_shows_each_probe_s_phases() -> None:
    upgrade = CheckResult("ws.upgrade", "pass", "101", 12.0, evidence={
        "attempts": [{"started_ms": 0.0, "duration_ms": 12.0, "connect_ms": 3.0,
                      "dns_ms": 1.0}]})  # fmt: skip
    first = CheckResult("ws.first_message", "pass", "reply", 4.0, evidence={
        "attempts": [{"started_ms": 0.0, "duration_ms": 12.0, "connect_ms": 3.0}]})  # fmt: skip
    page = render_html(result(upgrade, first))
    assert '<svg class="waterfall"' in page
    assert "<title>DNS: 1.0 ms</title>" in page
    assert "<title>TCP connect: 2.0 ms</title>" in page  # after the name was resolved
    assert "<title>TLS + upgrade: 9.0 ms</title>" in page
    assert "<title>TCP connect: 3.0 ms</title>" in page  # no DNS recorded: from the start
    assert "<title>first message: 4.0 ms</title>" in page


def test_what_a_server_sent_is_escaped() -> None:
    hostile = CheckResult("http.health", "fail", "<script>alert(1)</script>", 1.0,
                          diagnosis="http_status", hint="<b>x</b>",
                          evidence={"body_excerpt": "<img src=x>"})  # fmt: skip
    page = render_html(result(hostile))
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_many_targets_get_one_section_each() -> None:
    multi = MultiResult(run_id="m", started_at=STARTED, duration_ms=1.0,
                        results=(("eu", result()), ("us", result())))  # fmt: skip
    assert re.findall(r"<h1>target (\w+):", render_html(multi)) == ["eu", "us"]


def test_what_is_missing_is_left_out_and_the_logs_and_error_are_shown() -> None:
    from tests.report.build import group, logs

    odd = CheckResult("ws.upgrade", "pass", "101", 1.0, evidence={"attempts": ["not a dict"]})
    unjudged = {**step("inconclusive"), "metrics": None}
    no_p95 = _step("20%", 20, 0.0)
    assert no_p95["metrics"] is not None
    no_p95["metrics"]["stable"]["p95_ms"] = None
    page = render_html(result(odd, steps=(unjudged, no_p95), logs=logs(group(sample="KeyError")),
                              error="Cloud Logging could not be read"))  # fmt: skip
    assert '<svg class="waterfall"' not in page
    assert "<h2>Cloud Logging</h2>" in page
    assert "KeyError" in page
    assert "<strong>error:</strong> Cloud Logging could not be read" in page
    assert page.count('<figure class="metric">') == 2  # the judged step's two charts only
