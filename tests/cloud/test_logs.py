"""``gate.cloud.logs`` through the real google-cloud-logging client against the emulator.

The emulator answers as Cloud Logging does: container lines printed as plain
text carry no severity (``DEFAULT``) and no trace, are labelled with the
instance, and are selected by the query's ``textPayload=~`` comparison only when
their shape is an uncaught-exception report.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.checks.test_uncaught import NODE, PYTHON
from tests.conftest import NEW, GateRun
from tests.servers import CloudThread

PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1", "--log-settle", "1"]
CHATTY = [f'INFO:     10.0.0.{i}:0 - "GET /api/chat HTTP/1.1" 200 OK' for i in range(200)]


@pytest.mark.parametrize("per_line", [False, True], ids=["one entry", "per line"])
@pytest.mark.parametrize(
    ("text", "named"),
    [(PYTHON, "uncaught ValueError: unknown tool search"),
     (NODE, "uncaught TypeError: Cannot read properties of undefined")],
    ids=["python", "node"],
)  # fmt: skip
def test_a_crash_printed_as_plain_text_fails_logs_errors(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], text: str, named: str, per_line: bool
) -> None:
    """Users' requests crashed (no trace, DEFAULT severity): the gate's own probes pass."""
    cloud.deploy(NEW)
    for line in CHATTY:
        cloud.local.print_output(NEW, line, log="stdout")
    cloud.local.print_output(NEW, text, per_line=per_line)
    time.sleep(0.3)  # the emulator's ingestion delay
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 1, run.stdout + run.stderr
    logs = run.check("logs.errors")
    assert logs["status"] == "fail"
    assert named in logs["summary"]
    assert "[gate probe]" not in logs["summary"]
    assert run.report is not None
    [group] = [g for g in run.report["logs"]["groups"] if g["counted"]]
    assert (group["kind"], group["count"], group["caused_by_gate"]) == ("uncaught", 1, False)
    assert all(c["status"] == "pass" for c in run.report["checks"] if c["id"] != "logs.errors")
    request = cloud.emulator.calls_to("ListLogEntries")[0].request
    assert "textPayload=~" in request.filter
    listed = sum(len(c.answer.entries) for c in cloud.emulator.calls_to("ListLogEntries"))
    assert listed < len(CHATTY), "the chatty revision's lines were listed"


def test_an_audit_entry_shows_its_method_and_status(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW)
    cloud.emulator.write_log(
        "svc", NEW, "", log="cloudaudit.googleapis.com/system_event", severity="ERROR",
        audit=("/Services.ReplaceService", 9, "Revision 'svc-00002-new' is not ready and cannot "
               "serve traffic. The user-provided container failed to start."),
    )  # fmt: skip
    run = gate_cloud("verify", *PLAIN)
    assert run.exit_code == 1, run.stdout + run.stderr
    summary = run.check("logs.errors")["summary"]
    assert "/Services.ReplaceService: Revision 'svc-00002-new' is not ready" in summary
    assert "(no text payload)" not in summary
    assert "[startup]" in summary
