"""``gate.report.notify``: what a Slack or Chat message says, for one target and for many."""

from __future__ import annotations

from gate.model import MultiResult
from gate.report.notify import chat_messages, json_payload, slack_message, wanted
from tests.report.build import FAILED, STARTED, group, logs, result


def test_the_log_group_the_gate_caused_is_quoted() -> None:
    caused = logs(group(), group(caused_by_gate=True, sample="ValueError: bad frame", count=1))
    message = slack_message(result(FAILED, logs=caused))
    body = message["blocks"][1]["text"]["text"]
    assert "• logs: 1 x ERROR ValueError: bad frame" in body
    assert "KeyError" not in body  # only the group the gate's probe caused


def test_many_targets_get_a_message_part_each() -> None:
    many = MultiResult("m1", STARTED, 20.0, (("eu", result(FAILED)), ("us", result())))
    message = slack_message(many)
    assert message["text"] == "smoke-gate FAIL: 2 targets"
    headers = [b["text"]["text"] for b in message["blocks"] if b["type"] == "header"]
    assert headers == [
        "smoke-gate FAIL: eu: chat chat-00002-new",
        "smoke-gate PASS: us: chat chat-00002-new",
    ]
    assert [key for key, _body in chat_messages(many)] == ["smoke-gate-chat-chat-00002-new"] * 2


def test_the_traffic_action_is_a_line_of_its_own() -> None:
    action = {
        "kind": "rollback", "from": "chat-00002-new", "to": "chat-00001-old", "status": "done",
        "verified": True, "reason": "", "traffic": [], "checks": [], "changes": [],
    }  # fmt: skip
    body = slack_message(result(FAILED, action=action))["blocks"][1]["text"]["text"]
    assert "• action: rollback chat-00002-new -> chat-00001-old: done, verified healthy" in body


def test_the_error_and_a_url_target_and_the_json_payload() -> None:
    run = result(target={"url": "https://api"}, error="Cloud Logging could not be read")
    body = slack_message(run)["blocks"][1]["text"]["text"]
    assert body == "• error: Cloud Logging could not be read"
    assert slack_message(run)["text"] == "smoke-gate ERROR: https://api"
    assert json_payload(run)["error"] == "Cloud Logging could not be read"
    assert wanted(run, "fail")
    assert not wanted(result(), "fail")
    assert wanted(result(), "always")
