"""Run the checks of ``gate check``: plans built, probes run concurrently, transcripts judged.

Independent probes run at the same time (every health path, the main
WebSocket session, each negative-credential session, the scenario), so a
verdict costs about one round of the slowest dependent chain, not the sum.
Every probe clips its own steps to the run's deadline; each is also wrapped in
a guard slightly past the deadline, so that even a probe that forgets a
timeout cannot hold the run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from gate.checks.auth import judge_auth
from gate.checks.frontend import UNKNOWN_PLATFORM, Platform
from gate.checks.health import judge_health
from gate.checks.hold import judge_hold
from gate.checks.scenario import ScenarioRun, judge_scenario
from gate.checks.websocket import judge_first_message, judge_subprotocol, judge_upgrade
from gate.config.scenario import MAIN
from gate.config.settings import Settings
from gate.config.tokens import Credential, Negatives
from gate.errors import ConfigError
from gate.model import CHECK_IDS, CheckId, CheckResult, MultiResult, RunResult, TargetBlock, skipped
from gate.probes.context import Probing
from gate.probes.hold import probe_hold
from gate.probes.http import probe_http
from gate.probes.transcript import (
    AuthProbe,
    HoldRecord,
    HttpAttempt,
    HttpTranscript,
    ProbeError,
    WsAttempt,
    WsSession,
)
from gate.probes.ws import WsPlan, probe_ws
from gate.redact import Redactor
from gate.run.load import concurrency, latency
from gate.run.plans import Plans, register_secrets, trace_headers
from gate.run.scenario import run_scenario
from gate.run.supervisor import Interrupted, Supervisor
from gate.status import Countdown, Progress, prefixed, quiet
from gate.text import plural, were
from gate.threads import blocking
from gate.timing import Deadline, Stopwatch

_GUARD_S = 0.5
_LATE = ProbeError("deadline", "did not finish before the run's deadline")
T = TypeVar("T")


async def guarded(work: Awaitable[T], deadline: Deadline, fallback: Callable[[float], T]) -> T:
    """``work``, or ``fallback(elapsed_ms)`` if it is still running just past the deadline."""
    watch = Stopwatch()
    try:
        async with asyncio.timeout(deadline.remaining() + _GUARD_S):
            return await work
    except TimeoutError:
        return fallback(watch.ms())


def _http_late(url: str, started_ms: float) -> Callable[[float], HttpTranscript]:
    return lambda ms: HttpTranscript("GET", url, (HttpAttempt(started_ms, ms, error=_LATE),), ms)


def _ws_late(plan: WsPlan, started_ms: float) -> Callable[[float], WsSession]:
    return lambda ms: WsSession(
        plan.label,
        plan.url,
        plan.offered,
        plan.credential_at,
        (WsAttempt(started_ms, ms, None, error=_LATE),),
        ms,
    )


async def _nothing() -> None:
    return None


@dataclass
class Finished:
    """What the probes of one round had finished, kept as each finishes: what a run stopped by
    a signal can still judge (:meth:`CheckRun.judged`)."""

    health: tuple[HttpTranscript, ...] | None = None
    opened: WsSession | None = None  # the main socket once its upgrade was decided
    main: WsSession | None = None
    auth: AuthProbe | None = None
    hold: HoldRecord | None = None
    checks: list[CheckResult] = field(default_factory=list)  # judged already (load checks)


async def _kept(work: Awaitable[T], keep: Callable[[T], None]) -> T:
    value = await work
    keep(value)
    return value


class CheckRun:
    """The checks of ``gate check`` against one target.

    With ``trace_id`` (``gate verify``), every request and upgrade carries that
    trace, so the service's logs can be matched to the gate's probes, except
    the negative-credential sessions: each carries a trace of its own
    (:attr:`negative_traces`), so that what the app logs about a forged token
    is known as expected. ``secret_headers`` are sent with every request and
    redacted like every other secret (the ID token of ``--iam``).
    """

    def __init__(
        self,
        settings: Settings,
        credential: Credential | None,
        secret_headers: Mapping[str, str] | None = None,
        run_id: str | None = None,
        trace_id: str | None = None,
        platform: Platform = UNKNOWN_PLATFORM,
        redactor: Redactor | None = None,
        progress: Progress = quiet,
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.finished = Finished()
        self._deadline: Deadline | None = None
        self.platform = platform
        self.credential = credential
        self.run_id = run_id or uuid.uuid4().hex
        self.trace_id = trace_id
        self.placeholders = {"run_id": self.run_id, "trace_id": trace_id or ""}
        self.negative_traces: dict[str, str] = {}
        self.socket_traces: dict[str, str] = {}  # a multi-socket scenario's, in verify
        secrets = dict(secret_headers or {})
        self.redactor = register_secrets(redactor or Redactor(), settings, credential, secrets)
        traced = trace_headers(trace_id) if trace_id else {}
        self.plans = Plans.of(settings, {**traced, **secrets}, platform)

    def _auth_skip_reason(self) -> str | None:
        if not self.settings.check_auth:
            return "turned off with --no-check-auth"
        if self.credential is None:
            return "no credential configured: nothing to enforce"
        return None

    def _negative_plans(self, negatives: Negatives) -> list[WsPlan]:
        # Negative sessions start with the main one, so they get the same cold-start retries.
        sessions: list[tuple[str, str | None]] = [("no credential", None), *negatives.labelled()]
        return [self._negative(label, token) for label, token in sessions]

    def _negative(self, label: str, token: str | None) -> WsPlan:
        if self.trace_id is None:
            return self.plans.socket(label, token)
        trace = uuid.uuid4().hex
        self.negative_traces[label] = trace
        return self.plans.socket(label, token, trace_headers(trace))

    async def _socket(
        self, plan: WsPlan, deadline: Deadline, on_open: Callable[[WsSession], None] | None = None
    ) -> WsSession:
        late = _ws_late(plan, deadline.elapsed_ms())
        probe = probe_ws(plan, Probing(deadline, self.redactor), on_open)
        return await guarded(probe, deadline, late)

    def _scenario_plan(self, name: str) -> WsPlan:
        """A scenario socket's plan: the main credential, or the socket's own claims over it
        (minted, and registered as a secret, before the first probe: :func:`socket_tokens`)."""
        token = self.credential.token if self.credential else None
        scenario = self.settings.scenario
        claims = scenario.claims.get(name) if scenario is not None else None
        if claims is not None and self.credential is not None:
            token = self.credential.token_with(claims, f"[scenario.sockets.{name}]")
        if self.trace_id is None or scenario is None or len(scenario.sockets) < 2:
            return self.plans.socket(f"scenario socket {name}", token)
        # A trace of its own, so that its request-log entry names its instance (verify).
        trace = self.socket_traces.setdefault(name, uuid.uuid4().hex)
        return self.plans.socket(f"scenario socket {name}", token, trace_headers(trace))

    def _opened(self, session: WsSession) -> None:
        """The main socket's upgrade is decided: kept, and the wait for the reply shown."""
        self.finished.opened = session
        if session.upgraded:
            limit = self._clipped(self.settings.message_timeout)
            self.progress(Countdown("waiting for the first message {elapsed}/{limit} s", limit))

    def _clipped(self, seconds: float) -> float:
        """``seconds``, or what the round's deadline leaves of them."""
        return seconds if self._deadline is None else self._deadline.clip(seconds)

    async def _auth(self, credential: Credential, deadline: Deadline) -> AuthProbe:
        """The negative sessions, once their tokens are forged (in a thread: an RSA key is slow)."""
        watch = Stopwatch()
        try:
            # Bounded like every step: generating an RSA key takes a moment, never longer.
            async with asyncio.timeout(deadline.remaining()):
                negatives = await blocking(lambda: credential.negatives)
        except TimeoutError:
            late = _ws_late(self.plans.socket("token signed by a wrong key", None), 0.0)
            return AuthProbe((late(watch.ms()),), watch.ms())
        # Registered by the run before the first probe; forged here only when that was cut
        # short, and then registered before any session sends them.
        self.redactor.add(*(token for _label, token in negatives.labelled()), renewal=True)
        plans = self._negative_plans(negatives)
        sessions = await asyncio.gather(*(self._socket(plan, deadline) for plan in plans))
        return AuthProbe(tuple(sessions), watch.ms())

    async def run(self, deadline: Deadline) -> tuple[CheckResult, ...]:
        """Run every probe concurrently and judge the transcripts."""
        s = self.settings
        health_plans = self.plans.health()
        token = self.credential.token if self.credential else None
        main_plan = self.plans.socket("valid credential", token)
        skip_reason = self._auth_skip_reason()
        probing = Probing(deadline, self.redactor)  # every probe of this round
        self._deadline = deadline
        self.finished = Finished()
        kept = self.finished
        started = deadline.elapsed_ms()
        health_work = asyncio.gather(
            *(
                guarded(
                    probe_http(plan, probing),
                    deadline,
                    _http_late(plan.url, started),
                )
                for plan in health_plans
            )
        )
        scenario_work: Awaitable[ScenarioRun | None] = (
            run_scenario(
                self._scenario_plan(MAIN),
                s.scenario,
                self.placeholders,
                probing,
                self._scenario_plan,
            )
            if s.scenario is not None
            else _nothing()
        )
        auth_work: Awaitable[AuthProbe | None] = (
            self._auth(self.credential, deadline)
            if skip_reason is None and self.credential is not None
            else _nothing()
        )
        hold_work: Awaitable[HoldRecord | None] = (
            _kept(
                probe_hold(
                    main_plan, s.hold, s.hold_interval, s.hold_message, main_plan.matcher,
                    probing,
                ),
                lambda done: setattr(kept, "hold", done),
            )
            if s.hold
            else _nothing()
        )  # fmt: skip
        self.progress(f"probing {s.url}: health, upgrade and the first message")
        held_since = time.monotonic()

        async def the_others() -> tuple[
            list[HttpTranscript], WsSession, AuthProbe | None, ScenarioRun | None
        ]:
            done = await asyncio.gather(
                _kept(health_work, lambda found: setattr(kept, "health", tuple(found))),
                _kept(
                    self._socket(main_plan, deadline, self._opened),
                    lambda found: setattr(kept, "main", found),
                ),
                _kept(auth_work, lambda found: setattr(kept, "auth", found)),
                scenario_work,
            )
            if s.hold:  # the held socket goes on: the live line counts it from its start
                counting = Countdown("holding one socket open {elapsed}/{limit} s", s.hold,
                                 started=held_since)  # fmt: skip
                self.progress(counting)
            return done

        # One gather: a signal or the deadline cancels the held socket with the rest.
        (health, main, auth, scenario), held = await asyncio.gather(the_others(), hold_work)
        checks = [
            judge_health(
                list(health), list(s.health_paths), s.expect_status, s.expect_body, self.platform
            ),
            judge_upgrade(main, self.credential is not None, self.platform),
            judge_subprotocol(main, s.expect_subprotocol),
            judge_first_message(main, s.expect, s.message_timeout),
            judge_auth(main, auth, s.expect is not None, skip_reason),
        ]
        if s.scenario is not None:
            checks.append(judge_scenario(scenario))
        hold = judge_hold(held, self.platform)
        if hold is not None:
            checks.append(hold)
        kept.checks = checks
        # Load-like checks run after the others, so that they measure the service alone.
        if s.connections:
            self.progress(f"opening {plural(s.connections, 'connection')} at once")
            checks.append(await concurrency(main_plan, s, self.placeholders, probing))
        if s.samples:
            self.progress(f"measuring latency over {plural(s.samples, 'sample')}")
            checks.append(await latency(health_plans[0], main_plan, s, probing))
        return tuple(checks)

    def judged(self, stop: Interrupted) -> tuple[CheckResult, ...]:
        """The checks whose probes had finished when ``stop`` came, judged; the rest skipped,
        saying so. The upgrade and the subprotocol are judged from the main socket once it
        opened, even while its first message was still awaited."""
        s, kept = self.settings, self.finished
        reason = f"not finished: {stop}"
        ids = self._ids()
        checks: list[CheckResult] = list(kept.checks)
        if checks:  # judged already: only the load checks after them were running
            done = {c.id for c in checks}
            return (*checks, *(skipped(i, reason) for i in ids if i not in done))
        if kept.health is not None:
            checks.append(
                judge_health(
                    list(kept.health), list(s.health_paths), s.expect_status, s.expect_body,
                    self.platform,
                )
            )  # fmt: skip
        socket = kept.main or kept.opened
        if socket is not None:
            checks.append(judge_upgrade(socket, self.credential is not None, self.platform))
            checks.append(judge_subprotocol(socket, s.expect_subprotocol))
        if kept.main is not None:
            checks.append(judge_first_message(kept.main, s.expect, s.message_timeout))
        skip_reason = self._auth_skip_reason()
        if skip_reason is not None:  # not run whatever the others did: its reason stands
            checks.append(skipped("ws.auth_enforced", skip_reason))
        elif kept.main is not None and kept.auth is not None:
            checks.append(judge_auth(kept.main, kept.auth, s.expect is not None, None))
        if kept.hold is not None:
            checks += [c for c in (judge_hold(kept.hold, self.platform),) if c is not None]
        done = {c.id for c in checks}
        every = [*checks, *(skipped(i, reason) for i in ids if i not in done)]
        return tuple(sorted(every, key=lambda c: ids.index(c.id)))  # the usual order

    def _ids(self) -> tuple[CheckId, ...]:
        """The checks this run gives, in the report's order."""
        s = self.settings
        wanted: list[CheckId] = list(CHECK_IDS)
        wanted += ["ws.scenario"] if s.scenario else []
        wanted += ["ws.hold"] if s.hold else []
        wanted += ["ws.concurrency"] if s.connections else []
        wanted += ["latency"] if s.samples else []
        return tuple(wanted)

    def target(self) -> TargetBlock:
        """The report's ``target`` block (no secrets: the credential is described, not shown)."""
        s = self.settings
        return {
            "url": s.url,
            "ws_url": s.ws_url,
            "health_urls": [s.http_url(p) for p in s.health_paths],
            "credential": self.credential.source if self.credential else None,
        }


def socket_tokens(settings: Settings, credential: Credential | None) -> tuple[str, ...]:
    """The tokens of the scenario's sockets that have claims of their own, minted now.

    A ``ConfigError`` (exit 2, before any probe) when there is no token to mint them from.
    """
    scenario = settings.scenario
    if scenario is None or not scenario.claims:
        return ()
    if credential is None:
        first = next(iter(scenario.claims))
        raise ConfigError(
            f"[scenario.sockets.{first}]: claims need a credential to mint from: set "
            "--jwt-secret-env or --jwt-key-file"
        )
    return tuple(
        credential.token_with(claims, f"[scenario.sockets.{name}]")
        for name, claims in scenario.claims.items()
    )


def interrupted_error(stop: Interrupted, checks: Sequence[CheckResult]) -> str:
    """The report's sentence for a run a signal stopped: what it kept, and what it did not."""
    unfinished = sum(c.status == "skip" and c.summary.startswith("not finished") for c in checks)
    kept = len(checks) - unfinished
    if kept == 0:
        return f"{stop}: nothing was judged"
    return (
        f"{stop}: {plural(kept, 'check')} had finished and {were(kept)} judged, "
        f"{plural(unfinished, 'check')} had not"
    )


async def check_one(
    settings: Settings,
    credential: Credential | None,
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress = quiet,
) -> RunResult:
    """One ``gate check`` run, within ``settings.deadline``; ``redactor`` learns its secrets."""
    started_at = datetime.now(UTC)
    deadline = supervisor.deadline.within(settings.deadline)
    run = CheckRun(settings, credential, redactor=redactor, progress=progress)
    error = interrupted = None
    try:
        checks = await supervisor.phase("the probes", run.run(deadline), deadline)
        error = supervisor.cut_message(deadline)
    except Interrupted as stop:
        checks = run.judged(stop)
        error, interrupted = interrupted_error(stop, checks), stop.name
    return RunResult(
        run_id=run.run_id,
        started_at=started_at,
        duration_ms=round(deadline.elapsed_ms(), 1),
        target=run.target(),
        checks=checks,
        strict=settings.strict,
        error=error,
        interrupted=interrupted,
    )


async def check_targets(
    targets: Sequence[tuple[str, Settings, Credential | None]],
    redactor: Redactor,
    supervisor: Supervisor,
    progress: Progress = quiet,
    many: bool = False,
) -> MultiResult:
    """``gate check`` on every target concurrently (each named on the live line if ``many``)."""
    started_at = datetime.now(UTC)
    watch = Stopwatch()
    results = await asyncio.gather(
        *(
            check_one(
                s, c, redactor, supervisor, prefixed(progress, f"{name}: ") if many else progress
            )
            for name, s, c in targets
        )
    )
    return MultiResult(
        run_id=uuid.uuid4().hex,
        started_at=started_at,
        duration_ms=watch.ms(),
        results=tuple((name, r) for (name, _s, _c), r in zip(targets, results, strict=True)),
    )
