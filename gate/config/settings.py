"""The frozen settings of a run, built from the options once they are validated.

Everything the user types is checked before any network I/O (the validators
are in :mod:`gate.config.validate`), and a bad value becomes a
:class:`~gate.errors.ConfigError` naming the option, the value and what to do
(exit code 2). Secrets never reach this module as values: it only holds the
*names* of variables and files that contain them.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import SplitResult, urlsplit

from gate.config.endpoints import Endpoints
from gate.config.inputs import DEFAULTS, Inputs
from gate.config.scenario import Scenario, parse_scenario
from gate.config.snapshot import load_snapshot
from gate.config.tokens import TokenSpec, parse_claim
from gate.config.validate import (
    compile_ignores,
    parse_budget,
    parse_header,
    parse_json_option,
    ready_id_token,
    validate_account,
    validate_ca_bundle,
    validate_path,
    validate_subprotocols,
    validate_url,
)
from gate.errors import ConfigError
from gate.matching import Json
from gate.model import TrafficBlock, UserMetric

if TYPE_CHECKING:
    import ssl

D = DEFAULTS  # each default is declared once, on Inputs


@dataclass(frozen=True)
class Settings:
    """Everything one ``gate check`` run needs, validated."""

    url: str
    health_paths: tuple[str, ...] = ("/health",)
    expect_status: int = D.expect_status
    expect_body: Json = None
    ws_path: str = D.ws_path
    subprotocol_template: str = D.subprotocol_template
    subprotocols: tuple[str, ...] = ()
    expect_subprotocol: str | None = None
    send: str | None = D.send
    expect: str | None = None
    message_timeout: float = D.message_timeout
    max_message_size: int = D.max_message_size
    check_auth: bool = D.check_auth
    token: TokenSpec = field(default_factory=TokenSpec)
    connect_timeout: float = D.connect_timeout
    read_timeout: float = D.read_timeout
    deadline: float = D.deadline
    retry_budget: float = D.retry_budget
    ca_bundle: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    strict: bool = False
    scenario: Scenario | None = None
    connections: int = 0
    samples: int = 0
    budgets: tuple[tuple[str, float], ...] = ()
    hold: float = 0.0
    hold_send: str | None = None  # None: the --send message
    hold_interval: float = D.hold_interval

    @property
    def hold_message(self) -> str | None:
        """What each ping of ``--hold`` sends."""
        return self.hold_send if self.hold_send is not None else self.send

    @property
    def base(self) -> SplitResult:
        """The parsed target URL."""
        return urlsplit(self.url)

    def http_url(self, path: str) -> str:
        """The URL of ``path`` under the target (the target's own path is a prefix)."""
        base = self.base
        return f"{base.scheme}://{base.netloc}{_join(base.path, path)}"

    @property
    def ws_url(self) -> str:
        """The WebSocket URL: ws/wss on the same host, at ``ws_path``."""
        base = self.base
        scheme = "wss" if base.scheme == "https" else "ws"
        return f"{scheme}://{base.netloc}{_join(base.path, self.ws_path)}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context (system CAs plus ``--ca-bundle``); ``None`` for http://."""
        if self.base.scheme != "https":
            return None
        return _tls_context(self.ca_bundle)


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    # Loading the system's CA store costs ~20 ms; one context per bundle serves every
    # target of the process (an SSLContext is safe to share).
    import ssl  # lazily: `gate --help` starts without the TLS stack

    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cadata=ca_bundle)
    return context


def _join(prefix: str, path: str) -> str:
    head = prefix.rstrip("/")
    tail = path if path.startswith("/") else "/" + path
    return head + tail


def _url(url: str | None) -> str:
    if url is None:
        raise ConfigError("give the service URL, or [[targets]] in gate.toml")
    return url


def build_settings(
    options: Inputs,
    explicit: frozenset[str] = frozenset(),
    scenario: object = None,
) -> Settings:
    """Validate the options of ``gate check`` into :class:`Settings`.

    ``explicit`` names the options the user set (a variable named explicitly must
    exist); ``scenario``: the ``[scenario]`` table of the config file.
    """
    validate_subprotocols(options.subprotocol_template, options.subprotocol)
    expect_subprotocol = options.expect_subprotocol
    if expect_subprotocol is not None and expect_subprotocol not in options.subprotocol:
        raise ConfigError(
            f"--expect-subprotocol {expect_subprotocol!r} is not offered: add "
            f"--subprotocol {expect_subprotocol}"
        )
    if options.no_send and options.send != D.send:
        raise ConfigError("--send and --no-send contradict each other: keep one")
    key_file = options.jwt_key_file
    token = TokenSpec(
        token_env=options.token_env,
        token_env_explicit="token_env" in explicit,
        jwt_secret_env=options.jwt_secret_env,
        jwt_secret_env_explicit="jwt_secret_env" in explicit,
        jwt_key_file=Path(key_file) if key_file else None,
        jwt_algorithm=options.jwt_algorithm,
        subject=options.jwt_subject,
        audience=options.jwt_audience,
        issuer=options.jwt_issuer,
        claims=dict(parse_claim(item) for item in options.jwt_claim),
        ttl_s=options.jwt_ttl,
    )
    ca_bundle = options.ca_bundle
    return Settings(
        url=validate_url(_url(options.url)),
        health_paths=tuple(
            validate_path("--health-path", p) for p in options.health_path or ("/health",)
        ),
        expect_status=options.expect_status,
        expect_body=parse_json_option("--expect-body", options.expect_body),
        ws_path=validate_path("--ws-path", options.ws_path),
        subprotocol_template=options.subprotocol_template,
        subprotocols=tuple(options.subprotocol),
        expect_subprotocol=expect_subprotocol,
        send=None if options.no_send else options.send,
        expect=options.expect,
        message_timeout=options.message_timeout,
        max_message_size=options.max_message_size,
        check_auth=options.check_auth,
        token=token,
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        deadline=options.deadline,
        retry_budget=options.retry_budget,
        ca_bundle=validate_ca_bundle(Path(ca_bundle) if ca_bundle else None),
        headers=tuple(parse_header(h) for h in options.header),
        strict=options.strict,
        scenario=parse_scenario(scenario, options.message_timeout) if scenario else None,
        connections=options.connections,
        samples=options.samples or (5 if options.budget else 0),
        budgets=tuple(parse_budget(b) for b in options.budget),
        **_hold(options),
    )


def _hold(options: Inputs) -> dict[str, Any]:
    """``--hold``, ``--hold-send`` and ``--hold-interval``, checked before any probe."""
    if not options.hold:
        return {}
    if options.hold > options.deadline:
        raise ConfigError(
            f"--hold {options.hold:g}: longer than --deadline {options.deadline:g}; raise "
            "--deadline above it (the held socket counts toward the deadline)"
        )
    if options.hold_interval <= 0:
        raise ConfigError(
            f"--hold-interval {options.hold_interval:g}: give a positive number of seconds"
        )
    if options.no_send and options.hold_send is None:
        raise ConfigError("--hold with --no-send: give --hold-send, the ping the socket sends")
    return {"hold": options.hold, "hold_send": options.hold_send,
            "hold_interval": options.hold_interval}  # fmt: skip


@dataclass(frozen=True)
class VerifyOptions:
    """The Cloud-facing options of ``gate verify``, validated."""

    project: str
    region: str
    service: str
    revision: str | None = None
    tag: str | None = None
    on_failure: Literal["fail", "rollback"] = "fail"
    promote: bool = False
    dry_run: bool = False
    iam: bool = False
    impersonate: str | None = None  # --impersonate-service-account, for --iam
    id_token: str | None = field(default=None, repr=False)  # a ready one, from --id-token-env
    logs: bool = True
    log_settle: float = D.log_settle
    ignore_log: tuple[re.Pattern[str], ...] = ()
    max_log_errors: int = D.max_log_errors
    restore: tuple[TrafficBlock, ...] | None = None
    action_timeout: float = D.action_timeout
    remove_tag: bool = False
    cloud_deploy: bool = False  # run by a Cloud Deploy verify job (CLOUD_DEPLOY_* set)
    canary: tuple[int, ...] = ()
    baseline_tag: str | None = None
    step_bake: float = D.step_bake
    probe_interval: float = D.probe_interval
    watch: float = D.watch
    metrics: bool = D.metrics
    max_error_rate: float = D.max_error_rate
    max_latency_ratio: float = D.max_latency_ratio
    min_requests: int = D.min_requests
    require_metrics: bool = False
    metrics_delay: float = D.metrics_delay
    metrics_period: float = D.metrics_period
    session_length: float = D.session_length
    expected_sessions: int | None = None
    user_metrics: tuple[UserMetric, ...] = ()  # [[canary_metrics]] of gate.toml
    config_fail_on: str = D.config_fail_on
    endpoints: Endpoints = field(default_factory=Endpoints)  # Google's, or an emulator's

    @property
    def metrics_settle(self) -> float:
        """Seconds between two reads of a window whose counts may still be filling in."""
        return max(1.0, self.metrics_period / 4)

    @property
    def metrics_wait(self) -> float:
        """The longest a step waits for its metrics after its bake (0 without them).

        The window's end is rounded up to a whole period, then Cloud Monitoring
        is given ``--metrics-delay`` to show all of it; while the counts still
        change it is read again every :attr:`metrics_settle`, for at most another
        ``--metrics-delay``.
        """
        if not self.metrics:
            return 0.0
        return self.metrics_period + 2 * self.metrics_delay + self.metrics_settle

    def time_limit(self, deadline: float) -> float:
        """The longest a run may take: its checks, its actions, and each step and the watch.

        A step is its bake, its last round of checks (bounded by ``--deadline``),
        the wait for its metrics, its traffic change and its Logging and
        Monitoring reads (each bounded by ``--action-timeout``); the watch
        likewise; then the final change and re-check.
        """
        step = self.step_bake + self.metrics_wait + deadline + 3 * self.action_timeout
        watch = (
            self.watch + self.metrics_wait + deadline + 3 * self.action_timeout
            if self.watch
            else 0.0
        )
        return deadline + self.action_timeout + len(self.canary) * step + watch

    @property
    def progressive(self) -> bool:
        """True when traffic moves in steps or is watched after the promotion."""
        return bool(self.canary) or self.watch > 0

    @property
    def service_name(self) -> str:
        """The service's full resource name."""
        return service_path(self.project, self.region, self.service)


def parse_percentages(text: str) -> tuple[int, ...]:
    """``--canary 10,50``: whole percents from 1 to 99, each above the one before."""
    parts = [p for p in text.strip().strip("[]").replace(",", " ").split() if p]
    try:
        steps = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"--canary {text!r}: give whole percents separated by commas, e.g. 10,50"
        ) from None
    if not steps or any(not 1 <= s <= 99 for s in steps):
        raise ConfigError(f"--canary {text!r}: each step is a percent from 1 to 99")
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise ConfigError(f"--canary {text!r}: each step must be larger than the one before")
    return steps


def _canary_steps(options: Inputs) -> tuple[int, ...]:
    """The validated ``--canary`` steps, once the canary and watch options agree."""
    canary = parse_percentages(str(options.canary)) if options.canary else ()
    if canary and not options.tag:
        raise ConfigError("--canary needs --tag: the candidate deployed with --no-traffic --tag")
    if canary and options.restore:
        raise ConfigError(
            "--canary takes its own restore point (the traffic before the first step): "
            "drop --restore"
        )
    if options.watch and not (options.promote and options.tag):
        raise ConfigError(
            "--watch needs --promote and --tag: it watches the candidate deployed with "
            "--no-traffic --tag once promoted, and restores the traffic from before"
        )
    if options.require_metrics and not options.metrics:
        raise ConfigError("--require-metrics and --no-metrics contradict each other")
    if options.baseline_tag is not None:
        if not canary:
            raise ConfigError("--baseline-tag needs --canary: the baseline shares its steps")
        if options.baseline_tag == options.tag:
            raise ConfigError("--baseline-tag names the candidate's own --tag: tag the baseline")
        if any(2 * p > 100 for p in canary):
            raise ConfigError(
                f"--canary {options.canary} with --baseline-tag: the baseline gets each step's "
                "share too, so no step may be above 50%"
            )
    return canary


def service_path(project: str, region: str, service: str) -> str:
    """``projects/P/locations/R/services/S``: a service's full resource name."""
    return f"projects/{project}/locations/{region}/services/{service}"


def _required(value: str | None, name: str) -> str:
    if not value:
        raise ConfigError(f"--{name} is required (a flag, GATE_{name.upper()}, or a gate.toml key)")
    return value


def build_verify_options(
    options: Inputs, env: Mapping[str, str], explicit: frozenset[str] = frozenset()
) -> VerifyOptions:
    """Validate the Cloud-facing options of one ``gate verify`` target.

    ``env`` holds the environment as the CLI read it: the ready ID token of
    ``--id-token-env`` and the APIs' endpoints come from it; ``explicit`` names the
    options the user set.
    """
    project, region, service = (
        _required(getattr(options, name), name) for name in ("project", "region", "service")
    )
    on_failure: Literal["fail", "rollback"] = "fail"
    if options.on_failure == "rollback":
        on_failure = "rollback"
    elif options.on_failure != "fail":
        raise ConfigError(f"--on-failure {options.on_failure!r}: choose fail or rollback")
    restore = options.restore
    if restore and options.on_failure != "rollback":
        raise ConfigError("--restore needs --on-failure rollback")
    if options.remove_tag and not (options.promote and options.tag):
        raise ConfigError("--remove-tag needs --promote and --tag: the tag to remove")
    name = service_path(project, region, service)
    impersonate = options.impersonate_service_account
    id_token = None
    if options.iam:
        id_token = ready_id_token(
            options.id_token_env or "GATE_ID_TOKEN",
            env,
            "id_token_env" in explicit,
        )
    elif impersonate or "id_token_env" in explicit:
        raise ConfigError("--impersonate-service-account and --id-token-env need --iam")
    return VerifyOptions(
        project=project,
        region=region,
        service=service,
        revision=options.revision,
        tag=options.tag,
        on_failure=on_failure,
        promote=options.promote,
        dry_run=options.dry_run,
        iam=options.iam,
        impersonate=validate_account(impersonate) if impersonate else None,
        id_token=id_token,
        logs=not options.no_logs,
        log_settle=options.log_settle,
        ignore_log=compile_ignores(options.ignore_log),
        max_log_errors=options.max_log_errors,
        restore=load_snapshot(Path(restore), name) if restore else None,
        action_timeout=options.action_timeout,
        remove_tag=options.remove_tag,
        cloud_deploy=options.cloud_deploy,
        canary=_canary_steps(options),
        baseline_tag=options.baseline_tag,
        step_bake=options.step_bake,
        probe_interval=options.probe_interval,
        watch=options.watch,
        metrics=options.metrics,
        max_error_rate=options.max_error_rate,
        max_latency_ratio=options.max_latency_ratio,
        min_requests=options.min_requests,
        require_metrics=options.require_metrics,
        metrics_delay=options.metrics_delay,
        metrics_period=options.metrics_period,
        session_length=options.session_length,
        expected_sessions=options.expected_sessions,
        config_fail_on=options.config_fail_on,
        endpoints=Endpoints.from_env(env),
    )
