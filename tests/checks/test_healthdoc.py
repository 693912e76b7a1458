"""``gate.checks.healthdoc``: the health documents the gate reads, on hand-built bodies."""

from __future__ import annotations

import pytest

from gate.checks.healthdoc import Dependency, HealthReading, read_health, state_of
from gate.matching import Json

NETRA: Json = {
    "status": "healthy", "service": "netra-ai-platform", "version": "1.0.0",
    "checks": {"postgresql": {"status": "healthy", "response_time_ms": 107.58},
               "redis": {"status": "healthy"}, "clickhouse": {"status": "degraded"}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "reading"),
    [
        (
            NETRA,
            "application/json",
            HealthReading("status", "healthy", (
                Dependency("postgresql", "healthy"), Dependency("redis", "healthy"),
                Dependency("clickhouse", "degraded"),
            )),
        ),
        (
            {"status": "UP", "components": {"db": {"status": "UP", "components": {
                "primary": {"status": "DOWN"}}}}},
            "application/vnd.spring-boot.actuator.v3+json",
            HealthReading("spring", "UP", (
                Dependency("db", "UP"), Dependency("db/primary", "DOWN"),
            )),
        ),
        (
            {"status": "pass", "checks": {"db:responseTime": [
                {"componentId": "primary", "status": "warn"}, {"componentId": "x"}]}},
            "application/health+json",
            HealthReading("health+json", "pass", (Dependency("db:responseTime (primary)", "warn"),)),
        ),
        ({"ok": True}, "application/json", None),
        (["healthy"], "application/json", None),
        ("healthy", "text/plain", None),
    ],
    ids=["netra", "spring", "ietf", "no-status", "a-list", "text"],
)  # fmt: skip
def test_readings(body: Json, content_type: str, reading: HealthReading | None) -> None:
    assert read_health(body, content_type) == reading


@pytest.mark.parametrize(
    ("status", "state"),
    [("healthy", "healthy"), ("UP", "healthy"), (" ok ", "healthy"), ("pass", "healthy"),
     ("warn", "degraded"), ("DEGRADED", "degraded"), ("DOWN", "unhealthy"), ("", "unhealthy")],
)  # fmt: skip
def test_states(status: str, state: str) -> None:
    assert state_of(status) == state


def test_parts_without_a_status_are_left_out() -> None:
    spring = {
        "status": "UP",
        "components": {"db": {"details": {"size": 3}}, "ping": {"status": "UP"}},
    }
    assert read_health(spring, "application/vnd.spring-boot.actuator.v3+json") == HealthReading(
        "spring", "UP", (Dependency("ping", "UP"),)
    )
    checks = {"status": "healthy", "checks": {"uptime": 5, "redis": {"status": "healthy"}}}
    assert read_health(checks, "application/json") == HealthReading(
        "status", "healthy", (Dependency("redis", "healthy"),)
    )
