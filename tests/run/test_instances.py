"""``gate.run.instances``: the request-log query of the sockets' traces, and the sentence."""

from __future__ import annotations

from gate.run.instances import instances_sentence, request_filter


def test_the_query_asks_for_the_request_log_entries_of_each_trace() -> None:
    assert request_filter("p", {"main": "a1", "bob": "b2"}) == (
        'logName="projects/p/logs/run.googleapis.com%2Frequests" AND '
        '(trace="projects/p/traces/a1" OR trace="projects/p/traces/b2")'
    )


def test_the_sentence_says_apart_together_or_unknown() -> None:
    assert instances_sentence({"main": "i1", "bob": "i2"}) == (
        "sockets main and bob were on different instances"
    )
    assert instances_sentence({"main": "i1", "bob": "i1"}).startswith(
        "sockets main and bob shared an instance, so the path between instances was not tested"
    )
    assert instances_sentence({"main": "i1", "bob": None}) == (
        "Cloud Logging did not say which instance served each socket"
    )
