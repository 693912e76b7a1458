"""``gate.checks.revision``: readiness judged first, on hand-built Cloud Run records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gate.checks.revision import judge_ready
from gate.cloud.model import ReadyState, RevisionInfo, ServiceState, TrafficEntry

SERVING = ServiceState(
    name="projects/p/locations/r/services/svc", uri="https://svc.a.run.app", etag='"e"',
    latest_ready="svc-1", traffic=(TrafficEntry("LATEST", "", 100),),
    statuses=(TrafficEntry("LATEST", "svc-1", 100),), latest_created="svc-2",
)  # fmt: skip


def _revision(state: ReadyState, reason: str = "", message: str = "") -> RevisionInfo:
    return RevisionInfo("svc-2", datetime(2026, 12, 2, tzinfo=UTC), state, reason, message)


@pytest.mark.parametrize(
    ("info", "status", "summary"),
    [
        (_revision("ready"), "pass", "svc-2 is Ready"),
        (
            _revision("failed", "HEALTH_CHECK_CONTAINER_ERROR", "did not listen on PORT=8080"),
            "fail",
            "svc-2 is not Ready: HEALTH_CHECK_CONTAINER_ERROR: did not listen on PORT=8080",
        ),
        (_revision("failed"), "fail", "svc-2 is not Ready: its Ready condition failed"),
        (_revision("pending"), "fail", "svc-2 is still not Ready after 12 s"),
    ],
)
def test_readiness(info: RevisionInfo, status: str, summary: str) -> None:
    result = judge_ready(info, SERVING, 12.0)
    assert result.status == status
    assert summary in result.summary
    assert result.evidence["serving"] == "svc-1 (100%)"
    if status == "fail":
        assert result.diagnosis == "revision_not_ready"
        assert result.hint is not None
        assert "keeps serving svc-1 (100%)" in result.hint
        assert "$PORT" in result.hint
