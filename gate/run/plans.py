"""From settings to the probes' plans: what each probe sends, offers and may retry.

The probes know nothing of settings or judgements; this module gives them
concrete plans, with the retry decisions of :mod:`gate.checks.retry` and the
matcher of ``--expect``, and the one redactor that knows every secret of the run.
"""

from __future__ import annotations

import functools
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from gate.checks.frontend import Platform
from gate.checks.retry import http_retry_delay, ws_retry_delay
from gate.config.settings import Settings
from gate.config.tokens import Credential, b64url
from gate.matching import message_matcher
from gate.probes.http import HttpPlan
from gate.probes.retry import RetryPolicy
from gate.probes.transcript import HttpAttempt, WsAttempt
from gate.probes.ws import WsPlan
from gate.redact import Redactor


def offered_subprotocols(
    settings: Settings, token: str | None
) -> tuple[tuple[str, ...], int | None]:
    """The subprotocols to offer, credential-bearing first, and the index of that one."""
    plain = tuple(settings.subprotocols)
    if token is None:
        return plain, None
    rendered = settings.subprotocol_template.format(token=token, token_b64url=b64url(token))
    return (rendered, *plain), 0


def trace_headers(trace_id: str) -> dict[str, str]:
    """One trace, in Google's and W3C's header formats (the span is Cloud Run's to replace)."""
    span = secrets.randbits(63) or 1
    return {
        "X-Cloud-Trace-Context": f"{trace_id}/{span};o=1",
        "traceparent": f"00-{trace_id}-{span:016x}-01",
    }


def register_secrets(
    redactor: Redactor,
    settings: Settings,
    credential: Credential | None,
    more: Mapping[str, str],
) -> Redactor:
    """Teach ``redactor`` the secrets of this run: header values, the token, their forms.

    The run registers them all, and forges the negative tokens, before the first probe
    (:mod:`gate.run.execute`); a check run registers its own again (a no-op then).
    """
    for value in (*(v for _name, v in settings.headers), *more.values()):
        redactor.add_header(value)
    if credential is not None:
        redactor.add(*credential.secrets)
    return redactor


@dataclass(frozen=True)
class Plans:
    """Builds the plans of one target's probes."""

    settings: Settings
    headers: Mapping[str, str]
    ssl_context: ssl.SSLContext | None
    platform: Platform

    @classmethod
    def of(cls, settings: Settings, headers: Mapping[str, str], platform: Platform) -> Plans:
        """Plans sending ``headers`` (the user's, trace and IAM headers) with every request."""
        merged = {**dict(settings.headers), **headers}
        return cls(settings, merged, settings.ssl_context(), platform)

    def http_retry(self) -> RetryPolicy[HttpAttempt]:
        """Cold-start retries of HTTP probes within ``--retry-budget``."""
        decide = functools.partial(http_retry_delay, iam=self.platform.iam)
        return RetryPolicy(self.settings.retry_budget, decide)

    def ws_retry(self) -> RetryPolicy[WsAttempt]:
        """Cold-start retries of upgrades within ``--retry-budget``."""
        decide = functools.partial(ws_retry_delay, iam=self.platform.iam)
        return RetryPolicy(self.settings.retry_budget, decide)

    def health(self) -> list[HttpPlan]:
        """One GET per ``--health-path``."""
        s = self.settings
        return [
            HttpPlan(
                url=s.http_url(path),
                headers=self.headers,
                connect_timeout=s.connect_timeout,
                read_timeout=s.read_timeout,
                ssl_context=self.ssl_context,
                retry=self.http_retry(),
            )
            for path in s.health_paths
        ]

    def socket(
        self, label: str, token: str | None, headers: Mapping[str, str] | None = None
    ) -> WsPlan:
        """A WebSocket session offering ``token`` (``None``: no credential), with ``headers``."""
        s = self.settings
        offered, credential_at = offered_subprotocols(s, token)
        return WsPlan(
            label=label,
            url=s.ws_url,
            offered=offered,
            credential_at=credential_at,
            headers={**self.headers, **(headers or {})},
            send=s.send,
            matcher=message_matcher(s.expect),
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            message_timeout=s.message_timeout,
            max_size=s.max_message_size,
            ssl_context=self.ssl_context,
            retry=self.ws_retry(),
        )
