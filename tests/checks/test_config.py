"""``gate.checks.config``: ``revision.config`` on hand-built revision settings."""

from __future__ import annotations

import pytest

from gate.checks.config import Needs, judge_config
from gate.cloud.model import RevisionConfig

SUITED = RevisionConfig(timeout_s=3600, cpu_idle=False, startup_cpu_boost=True)


def _codes(
    config: RevisionConfig, ports: tuple[str, ...] = ("http1",), **needs: object
) -> list[str]:
    _check, block = judge_config("svc-00002", config, ports, Needs(**needs))  # type: ignore[arg-type]
    return [f["code"] for f in block["findings"]]


def test_a_revision_set_up_for_websockets_passes_with_its_numbers() -> None:
    check, block = judge_config("svc-00002", SUITED, ("http1",), Needs())
    assert check.status == "pass"
    assert check.summary == (
        "svc-00002: timeout 3600 s, concurrency 80 x 100 instances = 8000 sockets, CPU always "
        "on; 1 note in the report"
    )
    assert block["capacity"] == 8000
    assert [f["severity"] for f in block["findings"]] == ["note"]


@pytest.mark.parametrize(
    ("config", "ports", "needs", "codes"),
    [
        (SUITED, ("h2c",), {}, ["config_h2c_breaks_websocket", "config_no_session_affinity"]),
        (RevisionConfig(), ("http1",), {},
         ["config_timeout_cuts_sessions", "config_cpu_throttled", "config_no_session_affinity",
          "config_cold_start_unboosted"]),
        (RevisionConfig(timeout_s=3600, cpu_idle=False, concurrency=5, max_instances=2,
                        session_affinity=True, startup_cpu_boost=True), ("http1",),
         {"connections": 20}, ["config_capacity_below"]),
        (RevisionConfig(timeout_s=3600, cpu_idle=False, cpu=0.5, max_instances=1,
                        min_instances=1), ("http1",), {"expected_sessions": 2},
         ["config_capacity_below"]),
        (RevisionConfig(timeout_s=600, cpu_idle=False, max_instances=1, min_instances=1), (),
         {"session_length_s": 300.0}, []),
    ],
    ids=["h2c", "google-defaults", "capacity-connections", "capacity-expected-below-1-cpu",
         "short-sessions"],
)  # fmt: skip
def test_each_setting_that_hurts_is_one_finding(
    config: RevisionConfig, ports: tuple[str, ...], needs: dict[str, object], codes: list[str]
) -> None:
    assert _codes(config, ports, **needs) == codes


def test_a_finding_names_the_field_its_value_what_users_see_and_the_fix() -> None:
    config = RevisionConfig(timeout_s=300, cpu_idle=False, concurrency=5, max_instances=2,
                            session_affinity=True, startup_cpu_boost=True)  # fmt: skip
    check, block = judge_config("svc", config, ("http1",), Needs(expected_sessions=40))
    assert check.status == "warn"
    timeout, capacity = block["findings"]
    assert (timeout["field"], timeout["value"]) == ("timeout", "300s")
    assert (
        "every socket is cut at 5 min, before the 60 min of --session-length" in timeout["effect"]
    )
    assert timeout["fix"].startswith("gcloud run deploy --timeout=3600")
    assert capacity["value"] == "5 x 2 = 10"
    assert "fewer than the 40 of --expected-sessions" in capacity["effect"]
    assert [w.code for w in check.warnings] == ["config_timeout_cuts_sessions",
                                                 "config_capacity_below"]  # fmt: skip


def test_h2c_fails_and_warnings_fail_only_when_asked() -> None:
    check, _block = judge_config("svc", SUITED, ("h2c",), Needs())
    assert (check.status, check.diagnosis) == ("fail", "config_h2c_breaks_websocket")
    assert check.hint is not None
    assert "gcloud run deploy --no-use-http2" in check.hint
    asked = judge_config("svc", RevisionConfig(), ("http1",), Needs(fail_on="warning"))[0]
    assert (asked.status, asked.diagnosis) == ("fail", "config_unsuited")
    assert asked.summary == (
        "svc: config_timeout_cuts_sessions, config_cpu_throttled (--config-fail-on warning)"
    )


def test_the_platform_defaults_fill_what_the_revision_leaves_unset() -> None:
    assert RevisionConfig().effective_concurrency == 80
    assert RevisionConfig(cpu=0.25).effective_concurrency == 1
    assert RevisionConfig().effective_max_instances == 100
    assert RevisionConfig(concurrency=10, max_instances=3).capacity == 30
