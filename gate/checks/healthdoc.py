"""Reading health documents: the three common JSON formats of health endpoints.

* a top-level ``status`` with ``checks`` as a map of objects or strings
  (``{"status": "healthy", "checks": {"redis": {"status": "healthy"}}}``);
* Spring Boot Actuator (``{"status": "UP", "components": {...}}``, nested);
* the IETF health+json draft (``{"status": "pass", "checks": {"db:responseTime": [{...}]}}``).

Status words are compared case-insensitively. ``healthy ok up pass passing
green ready alive serving available`` are healthy; ``warn warning degraded``
are degraded; anything else (``unhealthy``, ``DOWN``, ``fail``,
``OUT_OF_SERVICE``, ``UNKNOWN``...) is unhealthy, because a gate that passes a
broken release is worse than one that asks a question. Pure code: used by the
health check to judge and by the HTTP probe to tell an application's own 503
from a cold start's.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.matching import Json

_HEALTHY = {"healthy", "ok", "up", "pass", "passing", "green", "ready", "alive", "serving"}
_HEALTHY |= {"available"}
_DEGRADED = {"warn", "warning", "degraded"}


@dataclass(frozen=True)
class Dependency:
    """One dependency named in a health body."""

    name: str
    status: str

    @property
    def state(self) -> str:
        """``healthy``, ``degraded`` or ``unhealthy``."""
        return state_of(self.status)


@dataclass(frozen=True)
class HealthReading:
    """What a health body says: its format, top-level status and dependencies."""

    format: str
    status: str | None
    dependencies: tuple[Dependency, ...]


def state_of(status: str) -> str:
    word = status.strip().lower()
    if word in _HEALTHY:
        return "healthy"
    if word in _DEGRADED:
        return "degraded"
    return "unhealthy"


def _status_of(value: Json) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("status"), str):
        return str(value["status"])
    return None


def _spring(components: dict[str, Json], prefix: str = "") -> list[Dependency]:
    found: list[Dependency] = []
    for name, value in components.items():
        status = _status_of(value)
        if status is not None:
            found.append(Dependency(prefix + name, status))
        nested = value.get("components") if isinstance(value, dict) else None
        if isinstance(nested, dict):
            found.extend(_spring(nested, f"{prefix}{name}/"))
    return found


def _checks(checks: dict[str, Json]) -> tuple[str, list[Dependency]]:
    found: list[Dependency] = []
    ietf = False
    for name, value in checks.items():
        if isinstance(value, list):
            ietf = True
            for item in value:
                status = _status_of(item)
                if status is None:
                    continue
                component = item.get("componentId") if isinstance(item, dict) else None
                label = f"{name} ({component})" if isinstance(component, str) else name
                found.append(Dependency(label, status))
        else:
            status = _status_of(value)
            if status is not None:
                found.append(Dependency(name, status))
    return ("health+json" if ietf else "status"), found


def read_health(body: Json, content_type: str = "") -> HealthReading | None:
    """Interpret a parsed JSON health body; ``None`` when it is not a health document."""
    if not isinstance(body, dict):
        return None
    status = body.get("status")
    status = status if isinstance(status, str) else None
    dependencies: list[Dependency] = []
    fmt = "status"
    components, checks = body.get("components"), body.get("checks")
    if isinstance(components, dict):
        fmt, dependencies = "spring", _spring(components)
    elif isinstance(checks, dict):
        fmt, dependencies = _checks(checks)
    if content_type == "application/health+json":
        fmt = "health+json"
    if status is None and not dependencies:
        return None
    return HealthReading(fmt, status, tuple(dependencies))
