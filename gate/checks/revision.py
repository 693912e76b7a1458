"""``revision.ready``: the revision under test must be Ready before anything else is judged.

A deploy whose container never listens leaves a revision whose Ready condition
failed while Cloud Run keeps serving the last ready one; probing the service
then answers from the old revision and would pass a release that never served.
So readiness is judged first, from the revision itself (its Ready condition,
not the service's latest-ready field), and a revision that is not Ready fails
the run, with the condition's reason and message.
"""

from __future__ import annotations

from gate.cloud.model import RevisionInfo, ServiceState
from gate.model import CheckId, CheckResult, failure

CHECK_ID: CheckId = "revision.ready"


def judge_ready(info: RevisionInfo, state: ServiceState, waited_s: float) -> CheckResult:
    """Pass when the revision's Ready condition succeeded."""
    evidence: dict[str, object] = {
        "revision": info.name,
        "state": info.state,
        "reason": info.reason,
        "message": info.message,
        "ports": list(info.ports),
        "latest_created": state.latest_created,
        "latest_ready": state.latest_ready,
        "serving": state.serving(),
        "waited_s": round(waited_s, 1),
    }
    if info.ready:
        return CheckResult(
            CHECK_ID, "pass", f"{info.name} is Ready", round(waited_s * 1000, 1),
            evidence=evidence,
        )  # fmt: skip
    if info.state == "pending":
        seen = f"{info.name} is still not Ready after {waited_s:.0f} s (Cloud Run is deploying it)"
    else:
        condition = ": ".join(part for part in (info.reason, info.message) if part)
        seen = f"{info.name} is not Ready: {condition or 'its Ready condition failed'}"
    return failure(
        CHECK_ID,
        "revision_not_ready",
        seen,
        f"the revision never served; Cloud Run keeps serving {state.serving()}. Its system log "
        "(in the logs below) says why the container did not start: it must listen on $PORT "
        "within the startup probe's time",
        round(waited_s * 1000, 1),
        evidence,
    )
