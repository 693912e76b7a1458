"""Where the Google APIs are: Google's own endpoints, or an emulator's, read once from the
environment at the edge.

Each ``GATE_*_ENDPOINT`` variable (host:port) points one API at an emulator: its real client
library then talks plaintext gRPC (REST for IAM Credentials) to that address without
credentials. The CLI reads the variables once (:meth:`Endpoints.from_env`) into the settings;
nothing below the CLI and the configuration reads the environment, and nothing writes it (the
demo hands the local Cloud Run's endpoints over in the same object).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

VARIABLES = {
    "run": "GATE_RUN_ENDPOINT",
    "logging": "GATE_LOGGING_ENDPOINT",
    "monitoring": "GATE_MONITORING_ENDPOINT",
    "secretmanager": "GATE_SECRETMANAGER_ENDPOINT",
    "iamcredentials": "GATE_IAMCREDENTIALS_ENDPOINT",
    "prometheus": "GATE_PROMETHEUS_ENDPOINT",
}


@dataclass(frozen=True)
class Endpoints:
    """The emulator address of each API, or ``None`` for Google's own endpoint."""

    run: str | None = None
    logging: str | None = None
    monitoring: str | None = None
    secretmanager: str | None = None
    iamcredentials: str | None = None
    prometheus: str | None = None  # a base URL: the Prometheus API is HTTP, not gRPC

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Endpoints:
        """The endpoints the ``GATE_*_ENDPOINT`` variables name (empty means unset)."""
        return cls(**{f.name: env.get(VARIABLES[f.name]) or None for f in fields(cls)})
