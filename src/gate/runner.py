"""Run the checks of ``gate check``: build the probes' plans, run them concurrently, judge.

Independent probes run at the same time (every health path, the main
WebSocket session, each negative-credential session), so a verdict costs about
one round of the slowest dependent chain, not the sum. Every probe clips its
own steps to the run's deadline; each is also wrapped in a guard slightly past
the deadline, so that even a probe that forgets a timeout cannot hold the run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from gate.checks.auth import judge_auth
from gate.checks.health import judge_health
from gate.checks.result import CheckResult, Warning
from gate.checks.websocket import judge_first_message, judge_subprotocol, judge_upgrade
from gate.config import Settings
from gate.matching import message_matcher
from gate.probes.http import HttpPlan, probe_http
from gate.probes.retry import RetryPolicy
from gate.probes.transcript import (
    AuthProbe,
    HttpAttempt,
    HttpTranscript,
    ProbeError,
    WsAttempt,
    WsSession,
)
from gate.probes.ws import WsPlan, probe_ws
from gate.redact import Redactor
from gate.timing import Deadline, Stopwatch
from gate.tokens import Credential, b64url

_GUARD_S = 0.5
T = TypeVar("T")

Verdict = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class RunResult:
    """Everything a renderer needs: the checks, the warnings, the verdict."""

    run_id: str
    started_at: datetime
    duration_ms: float
    target: Mapping[str, Any]
    checks: tuple[CheckResult, ...]
    strict: bool = False
    trace_id: str | None = None
    logs: Mapping[str, Any] | None = None
    action: Mapping[str, Any] | None = None
    error: str | None = None
    error_overrides_failure: bool = False

    @property
    def warnings(self) -> tuple[Warning, ...]:
        """Every warning of every check."""
        return tuple(w for c in self.checks for w in c.warnings)

    @property
    def failed(self) -> bool:
        """True when a check failed (or, with ``--strict``, warned)."""
        return any(c.status == "fail" for c in self.checks) or bool(self.strict and self.warnings)

    @property
    def verdict(self) -> Verdict:
        """``error`` when the gate could not finish and the failure is not certain."""
        if self.error is not None and (self.error_overrides_failure or not self.failed):
            return "error"
        return "fail" if self.failed else "pass"

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 3 error (see README: exit codes)."""
        return {"pass": 0, "fail": 1, "error": 3}[self.verdict]


def offered_subprotocols(
    settings: Settings, token: str | None
) -> tuple[tuple[str, ...], int | None]:
    """The subprotocols to offer, credential-bearing first, and the index of that one."""
    plain = tuple(settings.subprotocols)
    if token is None:
        return plain, None
    rendered = settings.subprotocol_template.format(token=token, token_b64url=b64url(token))
    return (rendered, *plain), 0


def build_redactor(settings: Settings, credential: Credential | None) -> Redactor:
    """A redactor that knows every secret of this run."""
    redactor = Redactor(value for _name, value in settings.headers)
    if credential is not None:
        redactor.add(*credential.secrets)
        for token in (credential.wrong_key_token, credential.expired_token):
            if token is not None:
                redactor.add(token, b64url(token))
    return redactor


async def _guarded(work: Awaitable[T], deadline: Deadline, fallback: Callable[[float], T]) -> T:
    watch = Stopwatch()
    try:
        async with asyncio.timeout(deadline.remaining() + _GUARD_S):
            return await work
    except TimeoutError:
        return fallback(watch.ms())


_LATE = ProbeError("deadline", "did not finish before the run's deadline")


def _http_fallback(url: str, started_ms: float) -> Callable[[float], HttpTranscript]:
    return lambda ms: HttpTranscript("GET", url, (HttpAttempt(started_ms, ms, error=_LATE),), ms)


def _ws_fallback(plan: WsPlan, started_ms: float) -> Callable[[float], WsSession]:
    return lambda ms: WsSession(
        plan.label,
        plan.url,
        plan.offered,
        plan.credential_at,
        (WsAttempt(started_ms, ms, None, error=_LATE),),
        ms,
    )


class Runner:
    """One run of ``gate check`` against one target."""

    def __init__(
        self,
        settings: Settings,
        credential: Credential | None,
        headers: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.credential = credential
        self.headers = {**dict(settings.headers), **(headers or {}), **(secret_headers or {})}
        self.redactor = build_redactor(settings, credential)
        self.redactor.add(*(secret_headers or {}).values())
        self.ssl_context = settings.ssl_context()
        self.retry = RetryPolicy(settings.retry_budget)

    def _ws_plan(self, label: str, token: str | None, retry: RetryPolicy) -> WsPlan:
        s = self.settings
        offered, credential_at = offered_subprotocols(s, token)
        return WsPlan(
            label=label,
            url=s.ws_url,
            offered=offered,
            credential_at=credential_at,
            headers=self.headers,
            send=s.send,
            matcher=message_matcher(s.expect),
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            message_timeout=s.message_timeout,
            max_size=s.max_message_size,
            ssl_context=self.ssl_context,
            retry=retry,
        )

    def _auth_skip_reason(self) -> str | None:
        if not self.settings.check_auth:
            return "turned off with --no-check-auth"
        if self.credential is None:
            return "no credential configured: nothing to enforce"
        return None

    def _negative_plans(self) -> list[WsPlan]:
        credential = self.credential
        assert credential is not None
        # Cold starts are absorbed by the main session; negative sessions start
        # with it, so they get the same retries.
        plans = [
            self._ws_plan("no credential", None, self.retry),
            self._ws_plan("token signed by a wrong key", credential.wrong_key_token, self.retry),
        ]
        if credential.expired_token is not None:
            plans.append(self._ws_plan("expired token", credential.expired_token, self.retry))
        return plans

    async def _auth_probe(self, plans: list[WsPlan], deadline: Deadline) -> AuthProbe:
        watch = Stopwatch()
        sessions = await asyncio.gather(
            *(
                _guarded(
                    probe_ws(plan, deadline, self.redactor),
                    deadline,
                    _ws_fallback(plan, deadline.elapsed_ms()),
                )
                for plan in plans
            )
        )
        return AuthProbe(tuple(sessions), watch.ms())

    async def run(self, deadline: Deadline) -> tuple[CheckResult, ...]:
        """Run every probe concurrently and judge the transcripts."""
        s = self.settings
        health_plans = [
            HttpPlan(
                url=s.http_url(path),
                headers=self.headers,
                connect_timeout=s.connect_timeout,
                read_timeout=s.read_timeout,
                ssl_context=self.ssl_context,
                retry=self.retry,
            )
            for path in s.health_paths
        ]
        token = self.credential.token if self.credential else None
        main_plan = self._ws_plan("valid credential", token, self.retry)
        skip_reason = self._auth_skip_reason()
        negative = self._negative_plans() if skip_reason is None else []
        started = deadline.elapsed_ms()

        health_work = asyncio.gather(
            *(
                _guarded(
                    probe_http(plan, deadline, self.redactor),
                    deadline,
                    _http_fallback(plan.url, started),
                )
                for plan in health_plans
            )
        )
        main_work = _guarded(
            probe_ws(main_plan, deadline, self.redactor), deadline, _ws_fallback(main_plan, started)
        )
        health, main, auth = await asyncio.gather(
            health_work,
            main_work,
            self._auth_probe(negative, deadline) if negative else _none(),
        )
        return (
            judge_health(list(health), list(s.health_paths), s.expect_status, s.expect_body),
            judge_upgrade(main, credential=self.credential is not None),
            judge_subprotocol(main, s.expect_subprotocol),
            judge_first_message(main, s.expect, s.message_timeout),
            judge_auth(main, auth, s.expect is not None, skip_reason),
        )

    def target(self) -> dict[str, Any]:
        """The report's ``target`` block (no secrets: the credential is described, not shown)."""
        s = self.settings
        return {
            "url": s.url,
            "ws_url": s.ws_url,
            "health_urls": [s.http_url(p) for p in s.health_paths],
            "credential": self.credential.source if self.credential else None,
        }


async def _none() -> None:
    return None


def run_checks(runner: Runner, deadline: Deadline) -> tuple[CheckResult, ...]:
    """Run the checks of ``gate check`` with ``runner`` under ``deadline``."""
    return asyncio.run(runner.run(deadline))


def run_check(settings: Settings, credential: Credential | None) -> RunResult:
    """Run ``gate check`` to completion within ``settings.deadline``."""
    started_at = datetime.now(UTC)
    deadline = Deadline(settings.deadline)
    runner = Runner(settings, credential)
    checks = run_checks(runner, deadline)
    return RunResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=round(deadline.elapsed_ms(), 1),
        target=runner.target(),
        checks=checks,
        strict=settings.strict,
    )
