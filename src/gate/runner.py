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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from gate.checks.auth import judge_auth
from gate.checks.health import judge_health
from gate.checks.latency import judge_latency
from gate.checks.result import CheckResult, Warning
from gate.checks.scenario import ScenarioRun, judge_concurrency, judge_scenario
from gate.checks.websocket import judge_first_message, judge_subprotocol, judge_upgrade
from gate.config import Settings
from gate.matching import message_matcher
from gate.probes.http import HttpPlan, probe_http
from gate.probes.retry import RetryPolicy
from gate.probes.scenario import run_steps
from gate.probes.transcript import (
    AuthProbe,
    HttpAttempt,
    HttpTranscript,
    ProbeError,
    WsAttempt,
    WsSession,
)
from gate.probes.ws import (
    WsPlan,
    close_socket,
    exchange,
    open_socket,
    probe_ws,
    record_session,
)
from gate.redact import Redactor
from gate.timing import Deadline, Stopwatch
from gate.tokens import Credential, b64url

_GUARD_S = 0.5
T = TypeVar("T")

Verdict = Literal["pass", "fail", "error"]


def checks_failed(checks: Sequence[CheckResult], strict: bool) -> bool:
    """The release failed: a check failed, or with ``--strict`` a check warned."""
    return any(c.status == "fail" for c in checks) or (strict and any(c.warnings for c in checks))


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
        return checks_failed(self.checks, self.strict)

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


@dataclass(frozen=True)
class MultiResult:
    """One run over several targets: a result per target; the worst verdict wins."""

    run_id: str
    started_at: datetime
    duration_ms: float
    results: tuple[tuple[str, RunResult], ...]

    @property
    def exit_code(self) -> int:
        """The worst exit code of all targets (3 > 1 > 0)."""
        return max(r.exit_code for _name, r in self.results)

    @property
    def verdict(self) -> Verdict:
        """The verdict that goes with :attr:`exit_code`."""
        return {0: "pass", 1: "fail"}.get(self.exit_code, "error")  # type: ignore[return-value]

    @property
    def error(self) -> str | None:
        """The first target's error, if any, prefixed with its name."""
        return next((f"{n}: {r.error}" for n, r in self.results if r.error), None)


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
        run_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.run_id = run_id or uuid.uuid4().hex
        self.placeholders = {"run_id": self.run_id, "trace_id": trace_id or ""}
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
        health, main, auth, scenario = await asyncio.gather(
            health_work,
            main_work,
            self._auth_probe(negative, deadline) if negative else _none(),
            self._scenario(main_plan, deadline) if s.scenario else _none(),
        )
        checks = [
            judge_health(list(health), list(s.health_paths), s.expect_status, s.expect_body),
            judge_upgrade(main, credential=self.credential is not None),
            judge_subprotocol(main, s.expect_subprotocol),
            judge_first_message(main, s.expect, s.message_timeout),
            judge_auth(main, auth, s.expect is not None, skip_reason),
        ]
        if s.scenario is not None:
            checks.append(judge_scenario(scenario))
        # Load-like checks run after the others, so that they measure the service alone.
        if s.connections:
            checks.append(await self._concurrency(main_plan, deadline))
        if s.samples:
            checks.append(await self._latency(health_plans[0], main_plan, deadline))
        return tuple(checks)

    async def _one_scenario(
        self, plan: WsPlan, connected: Any, deadline: Deadline, watch: Stopwatch
    ) -> ScenarioRun:
        scenario = self.settings.scenario
        assert scenario is not None
        steps: tuple[Any, ...] = ()
        if connected.connection is not None:
            steps = await run_steps(
                connected.connection, scenario, self.placeholders, deadline, self.redactor
            )
        session = record_session(plan, connected, None, self.redactor, watch.ms())
        return ScenarioRun(session, steps, len(scenario.steps), watch.ms())

    async def _scenario(self, plan: WsPlan, deadline: Deadline) -> ScenarioRun:
        """The scenario on its own authenticated socket."""
        watch = Stopwatch()
        connected = await open_socket(plan, deadline, self.redactor)
        try:
            return await self._one_scenario(plan, connected, deadline, watch)
        finally:
            await close_socket(connected, deadline)

    async def _concurrency(self, plan: WsPlan, deadline: Deadline) -> CheckResult:
        """Open N sockets at once, then run the exchange (or scenario) on all, then close."""
        watch = Stopwatch()
        count = self.settings.connections
        opened = await asyncio.gather(
            *(open_socket(plan, deadline, self.redactor) for _ in range(count))
        )
        try:
            if self.settings.scenario is not None:
                items: list[Any] = list(
                    await asyncio.gather(
                        *(self._one_scenario(plan, c, deadline, watch) for c in opened)
                    )
                )
            else:
                exchanges = await asyncio.gather(
                    *(
                        exchange(c.connection, plan, deadline, self.redactor)
                        if c.connection is not None
                        else _none()
                        for c in opened
                    )
                )
                items = [
                    record_session(plan, c, e, self.redactor, watch.ms())
                    for c, e in zip(opened, exchanges, strict=True)
                ]
        finally:
            await asyncio.gather(*(close_socket(c, deadline) for c in opened))
        return judge_concurrency(items, self.settings.expect, watch.ms())

    async def _latency(
        self, health_plan: HttpPlan, ws_plan: WsPlan, deadline: Deadline
    ) -> CheckResult:
        """Repeat the health request and the socket exchange; the two series run side by side."""
        watch = Stopwatch()
        s = self.settings
        once = RetryPolicy(0)
        measured: dict[str, list[float]] = {"health": [], "handshake": [], "first_message": []}
        failures: list[tuple[str, str]] = []

        async def health_series() -> None:
            plan = replace(health_plan, retry=once)
            for _ in range(s.samples):
                transcript = await probe_http(plan, deadline, self.redactor)
                verdict = judge_health([transcript], [s.health_paths[0]], s.expect_status, None)
                if verdict.diagnosis is not None:
                    failures.append(("health", verdict.diagnosis))
                else:
                    measured["health"].append(transcript.final.duration_ms)

        async def socket_series() -> None:
            plan = replace(ws_plan, retry=once)
            for _ in range(s.samples):
                session = await probe_ws(plan, deadline, self.redactor)
                diagnosis = judge_upgrade(session, credential=True).diagnosis
                diagnosis = diagnosis or judge_first_message(session, s.expect, 0).diagnosis
                if diagnosis is not None:
                    failures.append(("first_message", diagnosis))
                    continue
                measured["handshake"].append(session.final.duration_ms)
                assert session.exchange is not None
                measured["first_message"].append(session.exchange.messages[-1].at_ms)

        await asyncio.gather(health_series(), socket_series())
        return judge_latency(measured, failures, s.samples, dict(s.budgets), watch.ms())

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


async def check_one(settings: Settings, credential: Credential | None) -> RunResult:
    """One ``gate check`` run, within ``settings.deadline``, in the running event loop."""
    started_at = datetime.now(UTC)
    deadline = Deadline(settings.deadline)
    runner = Runner(settings, credential)
    checks = await runner.run(deadline)
    return RunResult(
        run_id=runner.run_id,
        started_at=started_at,
        duration_ms=round(deadline.elapsed_ms(), 1),
        target=runner.target(),
        checks=checks,
        strict=settings.strict,
    )


def run_check(settings: Settings, credential: Credential | None) -> RunResult:
    """Run ``gate check`` to completion within ``settings.deadline``."""
    return asyncio.run(check_one(settings, credential))


def run_check_targets(
    targets: list[tuple[str, Settings, Credential | None]],
) -> MultiResult:
    """Run ``gate check`` on every target concurrently, in one event loop."""
    started_at = datetime.now(UTC)
    watch = Stopwatch()

    async def every() -> list[RunResult]:
        return list(await asyncio.gather(*(check_one(s, c) for _name, s, c in targets)))

    results = asyncio.run(every())
    return MultiResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=watch.ms(),
        results=tuple((name, r) for (name, _s, _c), r in zip(targets, results, strict=True)),
    )
