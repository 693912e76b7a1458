"""``http.health``: judge the health endpoint's status code and body.

The body is read by :mod:`gate.checks.healthdoc`. A body that names unhealthy
dependencies is diagnosed by them even when the status code is also wrong (the
dependency is the more useful answer); then a top-level unhealthy status; then
the status code. Degraded states pass with warning ``health_degraded``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.checks.frontend import (
    IAM_RETRIES,
    UNKNOWN_PLATFORM,
    Platform,
    front_end_answer,
    front_end_hint,
    proxy_answer,
)
from gate.checks.healthdoc import HealthReading, read_health, state_of
from gate.checks.network import network_failure
from gate.matching import Json, json_subset, parse_json
from gate.model import CheckId, CheckResult, Diagnosis, Finding
from gate.probes.transcript import HttpResponse, HttpTranscript
from gate.text import plural

CHECK_ID: CheckId = "http.health"
_BODY_EXCERPT = 200


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _BODY_EXCERPT else flat[:_BODY_EXCERPT] + "…"


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


@dataclass(frozen=True)
class _PathVerdict:
    ok: bool
    summary: str
    diagnosis: Diagnosis | None = None
    hint: str | None = None
    warning: Finding | None = None
    reading: HealthReading | None = None


def _judge_response(
    path: str, response: HttpResponse, expect_status: int, expect_body: Json, platform: Platform
) -> _PathVerdict:
    seen = f"GET {path} → {response.status}"
    answer = front_end_answer(response.status, response.headers, response.body)
    if answer is not None:
        return _PathVerdict(
            False,
            f"{seen}: {answer.seen}, from Cloud Run's front end, not the app",
            answer.diagnosis,
            front_end_hint(answer.diagnosis, "http", platform),
        )
    if response.body_truncated:
        return _PathVerdict(
            False,
            f"{seen}: the body did not end within {response.body_bytes - 1} bytes",
            "health_body_invalid",
            "a health endpoint should answer a small document; the server streams without end",
        )
    parsed = parse_json(response.body) if response.body.strip() else None
    if parsed is None and _is_json_type(response.content_type) and response.body.strip():
        return _PathVerdict(
            False,
            f"{seen}: declared {response.content_type} but the body is not JSON: "
            f"{_excerpt(response.body)!r}",
            "health_body_invalid",
            "the health handler writes a broken body: check its serializer or an error page "
            "from a proxy",
        )
    reading = read_health(parsed, response.content_type)
    if reading is not None:
        sick = [d for d in reading.dependencies if d.state == "unhealthy"]
        if sick:
            names = ", ".join(f"{d.name} ({d.status})" for d in sick)
            one = len(sick) == 1
            noun = "dependency" if one else "dependencies"
            states = ", ".join(f"{d.name} as {d.status}" for d in sick)
            whose = "that dependency's" if one else "those dependencies'"
            return _PathVerdict(
                False,
                f"{seen}: unhealthy {noun}: {names}",
                "health_dependency_unhealthy",
                f"the service is up but reports {states}: check {whose} availability and the "
                "service's connection settings",
                reading=reading,
            )
        if reading.status is not None and state_of(reading.status) == "unhealthy":
            return _PathVerdict(
                False,
                f"{seen}: status {reading.status!r}",
                "health_status_unhealthy",
                "the service reports itself unhealthy: its logs say why",
                reading=reading,
            )
    proxy = proxy_answer(response.status, response.headers)
    if proxy is not None and response.status != expect_status:
        body = f": {_excerpt(response.body)!r}" if response.body.strip() else ""
        return _PathVerdict(
            False,
            f"{seen} {response.reason} from a proxy in front of the app{body}",
            proxy.diagnosis,
            front_end_hint(proxy.diagnosis, "http", platform),
        )
    if response.status != expect_status:
        hint = "the service answered, but not with the expected status: its request logs say why"
        if 300 <= response.status < 400:
            location = response.header("Location") or "(no Location header)"
            hint = (
                f"redirect to {location}: the gate does not follow redirects; point "
                "--health-path at the final URL, or fix the redirect (e.g. http→https)"
            )
        body = f": {_excerpt(response.body)!r}" if response.body.strip() else ""
        return _PathVerdict(
            False,
            f"{seen} {response.reason}, expected {expect_status}{body}",
            "http_status",
            hint,
        )
    if expect_body is not None and not json_subset(expect_body, parsed):
        return _PathVerdict(
            False,
            f"{seen}: body does not contain --expect-body: {_excerpt(response.body)!r}",
            "health_body_invalid",
            "the body lacks the expected fields: a different service or version answers here?",
        )
    warning = None
    if reading is not None:
        degraded = [d.name for d in reading.dependencies if d.state == "degraded"]
        if reading.status is not None and state_of(reading.status) == "degraded":
            degraded.insert(0, "service")
        if degraded:
            warning = Finding("health_degraded", f"{path} reports degraded: {', '.join(degraded)}")
    detail = ""
    if reading is not None:
        detail = f" {reading.status or ''}".rstrip()
        if reading.dependencies:
            count = len(reading.dependencies)
            detail += f" ({plural(count, 'dependency', 'dependencies')} healthy)"
    return _PathVerdict(True, f"{seen}{detail}", warning=warning, reading=reading)


def _evidence(transcript: HttpTranscript, verdict: _PathVerdict | None) -> dict[str, object]:
    final = transcript.final
    evidence: dict[str, object] = {
        "url": transcript.url,
        "attempts": [
            {
                "started_ms": round(a.started_ms, 1),
                "duration_ms": a.duration_ms,
                "status": a.response.status if a.response else None,
                "error": a.error.kind if a.error else None,
            }
            for a in transcript.attempts
        ],
    }
    if final.response is not None:
        evidence["status"] = final.response.status
        evidence["content_type"] = final.response.content_type
        evidence["server"] = final.response.header("server")
        evidence["body_excerpt"] = _excerpt(final.response.body)
    if final.error is not None:
        evidence["error"] = final.error.message
    if verdict is not None and verdict.reading is not None:
        evidence["health"] = {
            "format": verdict.reading.format,
            "status": verdict.reading.status,
            "dependencies": {d.name: d.status for d in verdict.reading.dependencies},
        }
    return evidence


def judge_health(
    transcripts: list[HttpTranscript],
    paths: list[str],
    expect_status: int,
    expect_body: Json,
    platform: Platform = UNKNOWN_PLATFORM,
) -> CheckResult:
    """Judge every health path; the first failing path decides the diagnosis."""
    duration = max(t.duration_ms for t in transcripts)
    attempts = max(len(t.attempts) for t in transcripts)
    several = len(paths) > 1
    summaries: list[str] = []
    warnings: list[Finding] = []
    requests: list[dict[str, object]] = []
    evidence: dict[str, object] = {"requests": requests}
    if platform.iam:
        evidence["retries"] = IAM_RETRIES
    failure: CheckResult | None = None
    for path, transcript in zip(paths, transcripts, strict=True):
        final = transcript.final
        verdict = None
        if final.response is not None:
            verdict = _judge_response(path, final.response, expect_status, expect_body, platform)
        requests.append(_evidence(transcript, verdict))
        if failure is not None:
            continue
        if final.error is not None:
            failure = network_failure(
                CHECK_ID, final.error, f"GET {path}", duration, attempts, evidence
            )
            continue
        assert verdict is not None
        if not verdict.ok:
            retried = f" (after {len(transcript.attempts)} attempts)" * (
                len(transcript.attempts) > 1
            )
            failure = CheckResult(
                CHECK_ID,
                "fail",
                verdict.summary + retried,
                duration,
                attempts=attempts,
                diagnosis=verdict.diagnosis,
                hint=verdict.hint,
                evidence=evidence,
            )
            continue
        summaries.append(verdict.summary)
        if verdict.warning is not None:
            warnings.append(verdict.warning)
    if failure is not None:
        return failure
    summary = "; ".join(summaries) if several else summaries[0]
    return CheckResult(
        CHECK_ID,
        "warn" if warnings else "pass",
        summary,
        duration,
        attempts=attempts,
        evidence=evidence,
        warnings=tuple(warnings),
    )
