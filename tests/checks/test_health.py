"""``gate.checks.health``: every diagnosis of the health paths, on hand-built transcripts."""

from __future__ import annotations

import json

import pytest

from gate.checks.health import judge_health
from gate.matching import Json
from gate.probes.transcript import HttpAttempt, HttpResponse, HttpTranscript, ProbeError

NETRA = {"status": "healthy", "checks": {"postgresql": {"status": "healthy"},
                                          "redis": {"status": "healthy"}}}  # fmt: skip


def _get(status: int, body: object = "", kind: str = "application/json", *, truncated: bool = False,
         **headers: str) -> HttpTranscript:  # fmt: skip
    text = body if isinstance(body, str) else json.dumps(body)
    response = HttpResponse(status, "Reason", {"Content-Type": kind, **headers}, text,
                            len(text), truncated)  # fmt: skip
    return HttpTranscript("GET", "https://api/health", (HttpAttempt(0.0, 5.0, response),), 5.0)


@pytest.mark.parametrize(
    ("transcript", "expect_body", "status", "diagnosis", "words"),
    [
        (_get(200, NETRA), None, "pass", None, "GET /health → 200 healthy (2 dependencies healthy)"),
        (_get(200, {**NETRA, "checks": {"redis": {"status": "degraded"}}}), None, "warn", None,
         "GET /health → 200 healthy"),
        (_get(200, {"status": "healthy", "checks": {"redis": {"status": "DOWN"}}}), None, "fail",
         "health_dependency_unhealthy", "unhealthy dependency: redis (DOWN)"),
        (_get(200, {"status": "unhealthy"}), None, "fail", "health_status_unhealthy",
         "status 'unhealthy'"),
        (_get(200, "{not json"), None, "fail", "health_body_invalid", "the body is not JSON"),
        (_get(200, "x" * 64, truncated=True), None, "fail", "health_body_invalid",
         "did not end within"),
        (_get(500, {"error": "boom"}), None, "fail", "http_status", "expected 200"),
        (_get(301, "", "text/html", Location="https://api/health/"), None, "fail", "http_status",
         "301"),
        (_get(502, "bad gateway", "text/plain"), None, "fail", "upstream_unavailable",
         "from a proxy in front of the app"),
        (_get(429, "Rate exceeded.", "text/plain", server="Google Frontend"), None, "fail",
         "frontend_rate_limited", "from Cloud Run's front end, not the app"),
        (_get(200, NETRA), {"version": "2.0"}, "fail", "health_body_invalid",
         "does not contain --expect-body"),
        (_get(200, NETRA), {"status": "healthy"}, "pass", None, "200 healthy"),
    ],
    ids=["healthy", "degraded", "dependency-down", "status-unhealthy", "not-json", "endless",
         "500", "redirect", "proxy-502", "front-end-429", "expect-body-missing", "expect-body"],
)  # fmt: skip
def test_health_paths(
    transcript: HttpTranscript, expect_body: Json, status: str, diagnosis: str | None, words: str
) -> None:
    result = judge_health([transcript], ["/health"], 200, expect_body)
    assert (result.status, result.diagnosis) == (status, diagnosis)
    assert words in result.summary
    if status == "fail":
        assert result.hint
    if status == "warn":
        assert [w.code for w in result.warnings] == ["health_degraded"]


def test_a_redirect_s_hint_names_where_it_goes() -> None:
    result = judge_health([_get(301, "", Location="https://api/health/")], ["/health"], 200, None)
    assert result.hint is not None
    assert "redirect to https://api/health/" in result.hint


def test_a_connection_failure_is_judged_as_such() -> None:
    failed = HttpTranscript(
        "GET", "https://api/health",
        (HttpAttempt(0.0, 5.0, error=ProbeError("dns_failure", "no such host")),), 5.0,
    )  # fmt: skip
    result = judge_health([failed], ["/health"], 200, None)
    assert (result.status, result.diagnosis) == ("fail", "dns_failure")


def test_the_first_failing_of_several_paths_decides() -> None:
    result = judge_health([_get(200, NETRA), _get(503, {"status": "unhealthy"})],
                          ["/health", "/api/health"], 200, None)  # fmt: skip
    assert (result.status, result.diagnosis) == ("fail", "health_status_unhealthy")
    assert len(result.evidence["requests"]) == 2  # type: ignore[arg-type]


def test_after_the_first_failure_the_other_paths_are_evidence_only() -> None:
    result = judge_health([_get(500, "boom", "text/plain"), _get(503, {"status": "unhealthy"})],
                          ["/health", "/api/health"], 200, None)  # fmt: skip
    assert (result.status, result.diagnosis) == ("fail", "http_status")
    assert len(result.evidence["requests"]) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("transcript", "words"),
    [(_get(200, "ok", "text/plain"), "GET /health → 200"), (_get(200, {"status": "ok"}), "200 ok")],
    ids=["no-document", "status-only"],
)
def test_a_plain_or_bare_document_passes_as_it_is(transcript: HttpTranscript, words: str) -> None:
    result = judge_health([transcript], ["/health"], 200, None)
    assert result.status == "pass"
    assert result.summary.endswith(words)
