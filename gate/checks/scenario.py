"""``ws.scenario``: judge a scenario run on one socket.

A scenario failure names the step, what was expected next and the messages
seen: ``scenario_step_timeout`` when the next expected message did not come in
time, ``scenario_out_of_order`` when a later one came first. A close during
the scenario keeps the close diagnoses of ``ws.first_message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.checks.network import network_failure
from gate.checks.websocket import describe_received, judge_close
from gate.model import CheckId, CheckResult, failure, skipped
from gate.probes.transcript import ProbeError, StepRecord, WsSession
from gate.text import plural

SCENARIO: CheckId = "ws.scenario"


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario's run: the main socket's transcript, the steps' records, and the
    transcripts of the other sockets it opened (by name)."""

    session: WsSession
    steps: tuple[StepRecord, ...]
    total_steps: int
    duration_ms: float
    others: dict[str, WsSession] = field(default_factory=dict)


PUBSUB_HINT = (
    "on Cloud Run the sockets of one service land on different instances, which share no "
    "memory: a broadcast kept in one instance's memory reaches only its own sockets; "
    "synchronise the instances through a shared pub/sub (Memorystore for Redis, Firestore), "
    "as Cloud Run's WebSockets guide says (https://cloud.google.com/run/docs/triggering/"
    "websockets)"
)


def _sender(run: ScenarioRun, last: StepRecord) -> str | None:
    """The other socket that sent the last message before ``last`` waited in vain."""
    for step in reversed(run.steps[:-1]):
        if step.sent is not None:
            return step.socket if step.socket != last.socket else None
    return None


def _seen(step: StepRecord) -> str:
    return describe_received(step.messages, step.messages_not_kept, "message")


def _evidence(run: ScenarioRun) -> dict[str, object]:
    return {
        "url": run.session.url,
        "steps": [
            {
                "step": s.index + 1,
                "sent": s.sent,
                "expected": list(s.expected),
                "matched": s.matched,
                "outcome": s.outcome,
                "duration_ms": s.duration_ms,
                "messages": [
                    {"at_ms": m.at_ms, "matched": m.matched, "text": m.text} for m in s.messages
                ],
                "messages_not_kept": s.messages_not_kept,
                "socket": s.socket,
            }
            for s in run.steps
        ],
        "sockets": [name for name in ("main", *run.others)],
    }


def judge_scenario(run: ScenarioRun | None, skip_reason: str = "") -> CheckResult:
    """Pass when every step completed in order."""
    if run is None:
        return skipped(SCENARIO, skip_reason or "not run")
    if not run.session.upgraded or not run.steps:
        return skipped(SCENARIO, "not run: the upgrade failed")
    evidence = _evidence(run)
    last = run.steps[-1]
    where = f"step {last.index + 1} of {run.total_steps}"
    pending = last.expected[last.matched] if last.matched < len(last.expected) else "the reply"
    if last.outcome == "done" and len(run.steps) == run.total_steps:
        received = sum(len(s.messages) + s.messages_not_kept for s in run.steps)
        return CheckResult(
            SCENARIO,
            "pass",
            f"{plural(run.total_steps, 'step')} completed in order; {plural(received, 'message')}",
            run.duration_ms,
            evidence=evidence,
        )
    if last.outcome == "out_of_order":
        return failure(
            SCENARIO,
            "scenario_out_of_order",
            f"{where}: {last.out_of_order} arrived before {pending}; {_seen(last)}",
            "the server emits the events in another order than the contract says: check the "
            "order in which its handler sends them",
            run.duration_ms,
            evidence,
        )
    sender = _sender(run, last)
    if last.outcome == "timeout" and last.sent is None and sender is not None:
        return failure(
            SCENARIO,
            "scenario_not_delivered",
            f"{where}: what socket {sender!r} sent never arrived on socket {last.socket!r} "
            f"within {last.timeout:g} s (no {pending}); {_seen(last)}",
            PUBSUB_HINT,
            run.duration_ms,
            evidence,
        )
    if last.outcome == "not_opened":
        opened = run.others.get(last.socket)
        error = opened.final.error if opened is not None else None
        detail = f" ({error.kind}: {error.message})" if error is not None else ""
        return skipped(SCENARIO, f"not run: socket {last.socket!r} did not open{detail}")
    if last.outcome == "timeout":
        ahead = f"; {last.ahead} arrived without it" if last.ahead else ""
        return failure(
            SCENARIO,
            "scenario_step_timeout",
            f"{where}: no {pending} within {last.timeout:g} s "
            f"({last.matched} of {len(last.expected)} expected arrived{ahead}); {_seen(last)}",
            "the stream stopped before this event: look at the server's logs for the stage "
            "that emits it",
            run.duration_ms,
            evidence,
        )
    if last.close is not None and last.error is None:
        diagnosis, what, hint = judge_close(last.close)
        return failure(
            SCENARIO,
            diagnosis,
            f"{where}: {what} while waiting for {pending}; {_seen(last)}",
            hint,
            run.duration_ms,
            evidence,
        )
    if last.outcome == "deadline":
        error = ProbeError("deadline", f"{where} was still running at the run's deadline")
        return network_failure(SCENARIO, error, where, run.duration_ms, 1, evidence)
    assert last.error is not None
    return network_failure(SCENARIO, last.error, where, run.duration_ms, 1, evidence)
