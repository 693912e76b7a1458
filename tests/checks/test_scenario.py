"""``gate.checks.scenario``: a chat turn's event stream judged step by step, on hand-built records.

The field reports' chat turn: five event kinds must all arrive, in order (pattern 5: the
socket opened, the message was sent, and no events came back).
"""

from __future__ import annotations

import pytest

from gate.checks.scenario import ScenarioRun, judge_scenario
from gate.probes.transcript import (
    Handshake,
    ProbeError,
    StepOutcome,
    StepRecord,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
OPEN = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(101, {}, ""))
SESSION = WsSession("scenario", "wss://api/ws", ("chat.v1",), None, (OPEN,), 5.0, "chat.v1", 0)


def _message(kind: str) -> WsMessage:
    return WsMessage(1.0, f'{{"type": "{kind}"}}', 20, False, True, False)


def _step(outcome: StepOutcome, matched: int, **more: object) -> StepRecord:
    messages = tuple(_message(kind) for kind in EVENTS[:matched])
    return StepRecord(0, '{"type": "chat"}', EVENTS, matched, messages, 0, outcome, 900.0,
                      30.0, **more)  # type: ignore[arg-type]  # fmt: skip


def _run(*steps: StepRecord, total: int = 1) -> ScenarioRun:
    return ScenarioRun(SESSION, steps, total, 1000.0)


@pytest.mark.parametrize(
    ("run", "status", "diagnosis", "words"),
    [
        (_run(_step("done", 5)), "pass", None, "1 step completed in order; 5 messages"),
        (_run(_step("timeout", 0)), "fail", "scenario_step_timeout",
         "step 1 of 1: no agent_started within 30 s (0 of 5 expected arrived)"),
        (_run(_step("timeout", 2, ahead="agent_completed")), "fail", "scenario_step_timeout",
         "agent_completed arrived without it"),
        (_run(_step("out_of_order", 1, out_of_order="tool_completed")), "fail",
         "scenario_out_of_order", "tool_completed arrived before agent_thinking"),
        (_run(_step("closed", 1, close=WsClose(1011, "", "server"))), "fail",
         "server_error_close", "while waiting for agent_thinking"),
        (_run(_step("deadline", 3)), "fail", "deadline_exceeded", "run's deadline"),
        (_run(_step("error", 0, error=ProbeError("message_too_large", "2 MiB"))), "fail",
         "message_too_large", "2 MiB"),
    ],
    ids=["complete", "silent", "missing-event", "out-of-order", "crash", "deadline", "huge"],
)  # fmt: skip
def test_scenarios(run: ScenarioRun, status: str, diagnosis: str | None, words: str) -> None:
    result = judge_scenario(run)
    assert (result.status, result.diagnosis) == (status, diagnosis)
    assert words in result.summary
    if status == "fail":
        assert result.hint


def test_not_run_says_why() -> None:
    assert judge_scenario(None, "no [scenario] configured").summary == "no [scenario] configured"
    assert judge_scenario(_run()).summary == "not run: the upgrade failed"


def _on(socket: str, outcome: StepOutcome, sent: str | None, index: int) -> StepRecord:
    return StepRecord(index, sent, ('{"type": "said"}',), 0, (), 0, outcome, 2000.0, 2.0,
                      socket=socket)  # fmt: skip


def test_a_message_that_never_reaches_the_other_socket_names_both() -> None:
    run = ScenarioRun(SESSION, (_on("main", "done", '{"type": "say"}', 0),
                                _on("bob", "timeout", None, 1)), 2, 2100.0,
                      {"bob": SESSION})  # fmt: skip
    result = judge_scenario(run)
    assert (result.status, result.diagnosis) == ("fail", "scenario_not_delivered")
    assert "what socket 'main' sent never arrived on socket 'bob' within 2 s" in result.summary
    assert result.hint is not None
    assert "Memorystore for Redis" in result.hint
    assert result.evidence["sockets"] == ["main", "bob"]


def test_a_wait_after_a_send_on_the_same_socket_is_an_ordinary_timeout() -> None:
    same = ScenarioRun(SESSION, (_on("bob", "done", '{"type": "say"}', 0),
                                 _on("bob", "timeout", None, 1)), 2, 2100.0)  # fmt: skip
    assert judge_scenario(same).diagnosis == "scenario_step_timeout"
    silent = ScenarioRun(SESSION, (_on("main", "done", None, 0), _on("bob", "timeout", None, 1)),
                         2, 2100.0)  # fmt: skip
    assert judge_scenario(silent).diagnosis == "scenario_step_timeout"


def test_a_socket_that_did_not_open_skips_the_scenario_saying_why() -> None:
    refused = WsSession("scenario socket bob", "wss://api/ws", ("chat.v1",), None,
                        (WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(403, {}, ""),
                                   error=ProbeError("upgrade_status", "HTTP 403")),), 5.0)  # fmt: skip
    run = ScenarioRun(SESSION, (_on("main", "done", None, 0), _on("bob", "not_opened", None, 1)),
                      2, 100.0, {"bob": refused})  # fmt: skip
    result = judge_scenario(run)
    assert (result.status, result.summary) == (
        "skip",
        "not run: socket 'bob' did not open (upgrade_status: HTTP 403)",
    )
    unknown = ScenarioRun(SESSION, (_on("carol", "not_opened", None, 0),), 1, 1.0)
    assert judge_scenario(unknown).summary == "not run: socket 'carol' did not open"
