"""Secrets kept in Secret Manager: an ``sm://`` reference in a secret's variable.

A variable the gate reads a secret from (``GATE_JWT_SECRET`` and ``GATE_TOKEN``,
or those named by ``--jwt-secret-env`` / ``--token-env``) may hold a reference
instead of the value: ``sm://projects/P/secrets/S/versions/V``, or ``sm://P/S``
for the latest version. The gate reads it with google-cloud-secret-manager
before any probe (the account needs ``roles/secretmanager.secretAccessor``),
within the run's deadline. It is the way to hand the secret to a container that
only takes plain environment variables, such as Cloud Deploy's verify job.
An emulator's endpoint (``GATE_SECRETMANAGER_ENDPOINT``, read by the CLI) may be given.
"""

from __future__ import annotations

import re
from typing import Any

from gate.cloud.calls import Budget
from gate.cloud.clients import build
from gate.errors import ConfigError

REFERENCE = "sm://"
ACCESSOR = "roles/secretmanager.secretAccessor"
_FULL = re.compile(r"^projects/[^/]+/secrets/[^/]+/versions/[^/]+$")
_SHORT = re.compile(r"^([^/]+)/([^/]+)$")


def reference(value: str) -> str | None:
    """The secret version a variable's value refers to, or ``None`` for a plain value."""
    if not value.startswith(REFERENCE):
        return None
    rest = value[len(REFERENCE) :]
    if _FULL.match(rest):
        return rest
    short = _SHORT.match(rest)
    if short:
        return f"projects/{short[1]}/secrets/{short[2]}/versions/latest"
    raise ConfigError(
        f"{value}: a Secret Manager reference is sm://projects/P/secrets/S/versions/V "
        "or sm://PROJECT/SECRET"
    )


def _client(endpoint: str | None) -> Any:
    from google.cloud import secretmanager_v1
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    return build(
        secretmanager_v1.SecretManagerServiceClient, SecretManagerServiceGrpcTransport, endpoint
    )


async def fetch(names: list[str], budget: Budget, endpoint: str | None = None) -> dict[str, str]:
    """The value of each secret version in ``names`` (UTF-8 text), within ``budget``
    (``endpoint``: an emulator's host:port)."""
    client = await budget.call(
        lambda: _client(endpoint), "connect to the Secret Manager API", ACCESSOR
    )
    found: dict[str, str] = {}
    try:
        for name in names:

            def access(version: str = name) -> bytes:
                answer = client.access_secret_version(
                    name=version, timeout=budget.timeout(), retry=None
                )
                return bytes(answer.payload.data)

            data = await budget.read(
                access, f"read the secret {name}", ACCESSOR, "check the sm:// reference"
            )
            try:
                found[name] = data.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ConfigError(f"the secret {name} is not UTF-8 text") from None
    finally:
        client.transport.close()
    return found
