"""``gate.sandbox.service``: the faults are data, each table naming only faults that exist, and
no fault in two tables that answer the same moment."""

from __future__ import annotations

from gate.sandbox import service
from gate.sandbox.faults import FAULTS

TABLES = {
    "FRONT_END": service.FRONT_END,
    "ON_MESSAGE": service.ON_MESSAGE,
    "SELECT": service.SELECT,
    "AUTH_RULES": service.AUTH_RULES,
    "HEALTH": service.HEALTH,
    "RAW": service.RAW,
}


def test_every_table_names_known_faults() -> None:
    unknown = {name: set(table) - set(FAULTS) for name, table in TABLES.items()}
    assert all(not faults for faults in unknown.values()), unknown


def test_a_fault_answers_in_one_place() -> None:
    first_answer = ("FRONT_END", "RAW", "HEALTH")
    seen: dict[str, str] = {}
    for name in first_answer:
        for fault in TABLES[name]:
            assert fault not in seen, f"{fault} is in {seen.get(fault)} and {name}"
            seen[fault] = name


def test_the_health_table_breaks_what_its_fault_says() -> None:
    config = service.SandboxConfig(fault="dependency-unhealthy")
    code, body = service.SandboxService(config).health_body()
    assert code == 503
    assert body["checks"]["redis"]["status"] == "unhealthy"
    healthy = service.SandboxService(service.SandboxConfig()).health_body()
    assert healthy[0] == 200
    assert healthy[1]["status"] == "healthy"
