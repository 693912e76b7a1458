"""The options as the user gave them, typed: one field per row of the options table.

:class:`Inputs` is the one place each option's default is declared: the options table
(:mod:`gate.cli.table`) takes its click defaults from :data:`DEFAULTS`, and
:class:`~gate.config.settings.Settings` and
:class:`~gate.config.settings.VerifyOptions` take theirs from it too. Whatever the
source of a value (a flag, a ``GATE_*`` or ``CLOUD_RUN_*`` variable, a ``gate.toml``
key, a ``[[targets]]`` table), it reaches the validators as a field of an
:class:`Inputs`, checked against the field's type at the edge
(:func:`inputs_from`), never as an untyped mapping.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.errors import ConfigError

DEFAULT_SEND = '{"type":"ping"}'


@dataclass(frozen=True)
class Inputs:
    """Every option of every gate command (see :mod:`gate.cli.table` for what each means)."""

    url: str | None = None
    health_path: tuple[str, ...] = ()
    expect_status: int = 200
    expect_body: str | None = None
    ws_path: str = "/ws"
    subprotocol_template: str = "jwt.{token_b64url}"
    subprotocol: tuple[str, ...] = ()
    expect_subprotocol: str | None = None
    send: str = DEFAULT_SEND
    no_send: bool = False
    expect: str | None = None
    message_timeout: float = 10.0
    max_message_size: int = 1 << 20
    check_auth: bool = True
    token_env: str = "GATE_TOKEN"  # noqa: S105 (a variable's name)
    jwt_secret_env: str = "GATE_JWT_SECRET"  # noqa: S105 (a variable's name)
    jwt_key_file: str | None = None
    jwt_algorithm: str | None = None
    jwt_subject: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_claim: tuple[str, ...] = ()
    jwt_ttl: float = 300.0
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    deadline: float = 60.0
    retry_budget: float = 30.0
    ca_bundle: str | None = None
    header: tuple[str, ...] = ()
    connections: int = 0
    samples: int = 0
    hold: float = 0.0
    hold_send: str | None = None
    hold_interval: float = 25.0
    budget: tuple[str, ...] = ()
    strict: bool = False
    report_json: str | None = None
    junit: str | None = None
    report_html: str | None = None
    notify: tuple[str, ...] = ()
    notify_on: str = "fail"
    project: str | None = None
    region: str | None = None
    service: str | None = None
    revision: str | None = None
    tag: str | None = None
    on_failure: str = "fail"
    promote: bool = False
    remove_tag: bool = False
    dry_run: bool = False
    restore: str | None = None
    iam: bool = False
    impersonate_service_account: str | None = None
    id_token_env: str = "GATE_ID_TOKEN"  # noqa: S105 (a variable's name)
    log_settle: float = 15.0
    ignore_log: tuple[str, ...] = ()
    max_log_errors: int = 0
    no_logs: bool = False
    action_timeout: float = 120.0
    canary: str | None = None
    baseline_tag: str | None = None
    step_bake: float = 60.0
    probe_interval: float = 10.0
    watch: float = 0.0
    metrics: bool = True
    max_error_rate: float = 0.01
    max_latency_ratio: float = 1.5
    min_requests: int = 100
    require_metrics: bool = False
    metrics_delay: float = 180.0
    metrics_period: float = 60.0
    session_length: float = 3600.0
    expected_sessions: int | None = None
    config_fail_on: str = "failure"
    out: str | None = None
    to: str | None = None
    cloud_deploy: bool = False
    """Not an option: set when a Cloud Deploy verify job runs the gate (CLOUD_DEPLOY_* set)."""


DEFAULTS = Inputs()
FIELDS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(Inputs))


def _kinds(annotation: object) -> tuple[type, ...]:
    """The runtime types a field's annotation allows (``float`` takes an ``int`` too)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(k for arg in typing.get_args(annotation) for k in _kinds(arg))
    if origin is tuple:
        return (tuple,)
    if annotation is type(None):
        return (type(None),)
    if annotation is float:
        return (float, int)
    assert isinstance(annotation, type), annotation
    return (annotation,)


_HINTS = typing.get_type_hints(Inputs)
_SPELLED = {f.name: str(f.type) for f in dataclasses.fields(Inputs)}  # as written above
_KINDS: dict[str, tuple[type, ...]] = {name: _kinds(hint) for name, hint in _HINTS.items()}


def inputs_from(values: Mapping[str, object], base: Inputs = DEFAULTS) -> Inputs:
    """``base`` with ``values`` (option names to what click converted), each checked
    against its field's type; a list is taken as a tuple."""
    # Each value is checked against its field's type just below: past this loop, Any is true.
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name not in FIELDS:
            raise ConfigError(f"{name}: not an option of the gate")
        value = tuple(value) if isinstance(value, list) else value
        kinds = _KINDS[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ConfigError(f"{name} = {value!r}: expected {_SPELLED[name]}")
        checked[name] = value
    return dataclasses.replace(base, **checked)
