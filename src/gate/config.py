"""One frozen settings object for a run, and the validation of user input into it.

Everything the user types is checked here, before any network I/O, and a bad
value becomes a :class:`~gate.errors.ConfigError` naming the option, the value
and what to do (exit code 2). Secrets never reach this module as values: it
only holds the *names* of variables and files that contain them.
"""

from __future__ import annotations

import functools
import json
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from gate.errors import ConfigError
from gate.scenario import Scenario, parse_scenario
from gate.tokens import TokenSpec

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SUBPROTOCOL = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the WebSocket handshake owns. A hand-written Sec-WebSocket-Protocol is
# exactly the mistake behind the field reports' "no subprotocols supported".
_RESERVED_HEADERS = {
    "sec-websocket-protocol": "use --subprotocol or --subprotocol-template: the gate offers "
    "subprotocols through negotiation, never as a hand-written header",
    "sec-websocket-key": "the handshake sets it",
    "sec-websocket-version": "the handshake sets it",
    "sec-websocket-extensions": "the handshake sets it",
    "upgrade": "the handshake sets it",
    "connection": "the handshake sets it",
    "host": "put the host in the URL",
}
_PLACEHOLDERS = ("{token}", "{token_b64url}")


@dataclass(frozen=True)
class Settings:
    """Everything one ``gate check`` run needs, validated."""

    url: str
    health_paths: tuple[str, ...] = ("/health",)
    expect_status: int = 200
    expect_body: Any = None
    ws_path: str = "/ws"
    subprotocol_template: str = "jwt.{token_b64url}"
    subprotocols: tuple[str, ...] = ()
    expect_subprotocol: str | None = None
    send: str | None = '{"type":"ping"}'
    expect: str | None = None
    message_timeout: float = 10.0
    max_message_size: int = 1024 * 1024
    check_auth: bool = True
    token: TokenSpec = field(default_factory=TokenSpec)
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    deadline: float = 60.0
    retry_budget: float = 30.0
    ca_bundle: Path | None = None
    headers: tuple[tuple[str, str], ...] = ()
    strict: bool = False
    scenario: Scenario | None = None
    connections: int = 0
    samples: int = 0
    budgets: tuple[tuple[str, float], ...] = ()

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
        return _tls_context(str(self.ca_bundle) if self.ca_bundle is not None else None)


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    # Loading the system's CA store costs ~20 ms; one context per bundle serves every
    # target and thread of the process (an SSLContext is safe to share).
    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def _join(prefix: str, path: str) -> str:
    head = prefix.rstrip("/")
    tail = path if path.startswith("/") else "/" + path
    return head + tail


def validate_url(url: str) -> str:
    """Accept an absolute http(s) URL with a host; reject anything else with a hint."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(
            f"URL {url!r} is malformed ({exc}): give e.g. https://api.example.com"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"URL {url!r} must start with http:// or https:// (the WebSocket URL is derived "
            "from it): give e.g. https://api.example.com"
        )
    if not parts.hostname:
        raise ConfigError(f"URL {url!r} has no host: give e.g. https://api.example.com")
    if parts.username or parts.password:
        raise ConfigError(
            "the URL carries credentials: remove them and pass a token with --token-env"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"URL {url!r} has a query or fragment: give the service root; paths go in "
            "--health-path and --ws-path"
        )
    if port == 0:
        raise ConfigError(f"URL {url!r} has port 0: give the port the service listens on")
    return url.rstrip("/") if parts.path not in ("", "/") else f"{parts.scheme}://{parts.netloc}"


def validate_path(option: str, path: str) -> str:
    """A path option must be an absolute path without scheme or host."""
    if not path.startswith("/") or "://" in path or any(ch.isspace() for ch in path):
        raise ConfigError(f"{option} {path!r} must be a path starting with '/', e.g. /health")
    return path


def parse_header(item: str) -> tuple[str, str]:
    """Parse ``--header 'Name: value'``. The value is never echoed back: it may be a secret."""
    name, sep, value = item.partition(":")
    name = name.strip()
    if not sep or not name:
        raise ConfigError("--header needs 'Name: value', e.g. --header 'X-Env: staging'")
    if not _HEADER_NAME.match(name):
        raise ConfigError(f"--header name {name!r} is not a valid HTTP header name")
    reason = _RESERVED_HEADERS.get(name.lower())
    if reason is not None:
        raise ConfigError(f"--header {name} is not allowed: {reason}")
    value = value.strip()
    if any(ch in value for ch in "\r\n\0"):
        raise ConfigError(f"--header {name}: the value contains a line break or NUL")
    return name, value


def parse_json_option(option: str, raw: str | None) -> Any:
    """Parse a JSON-valued option; the error names the option and where parsing failed."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{option} is not valid JSON ({exc.msg} at column {exc.colno}): quote it, "
            f'e.g. {option} \'{{"status": "healthy"}}\''
        ) from None


def validate_subprotocols(template: str, names: Sequence[str]) -> None:
    """The template needs a token placeholder; plain names must be HTTP tokens."""
    if not any(p in template for p in _PLACEHOLDERS):
        raise ConfigError(
            f"--subprotocol-template {template!r} has no {{token}} or {{token_b64url}} "
            "placeholder: e.g. jwt.{token_b64url}"
        )
    try:
        rendered = template.format_map({"token": "x", "token_b64url": "x"})
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            f"--subprotocol-template {template!r}: only {{token}} and {{token_b64url}} "
            "placeholders are known"
        ) from None
    if not _SUBPROTOCOL.match(rendered):
        raise ConfigError(
            f"--subprotocol-template {template!r} renders characters a subprotocol cannot carry"
        )
    for name in names:
        if not _SUBPROTOCOL.match(name):
            raise ConfigError(f"--subprotocol {name!r} is not a valid subprotocol token")


def validate_ca_bundle(path: Path | None) -> Path | None:
    """The CA bundle must be a readable PEM file."""
    if path is None:
        return None
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM"
        raise ConfigError(
            f"--ca-bundle {path}: cannot load it ({reason}): give a PEM file of CA certificates"
        ) from None
    return path


def build_settings(
    options: dict[str, Any],
    explicit: frozenset[str] = frozenset(),
    scenario: Any = None,
) -> Settings:
    """Validate the options of ``gate check`` into :class:`Settings`.

    ``options`` uses the CLI's parameter names; ``explicit`` names the options
    the user set (a variable named explicitly must exist).
    """
    from gate.checks.latency import parse_budget
    from gate.tokens import parse_claim

    validate_subprotocols(options["subprotocol_template"], options["subprotocol"])
    expect_subprotocol = options["expect_subprotocol"]
    if expect_subprotocol is not None and expect_subprotocol not in options["subprotocol"]:
        raise ConfigError(
            f"--expect-subprotocol {expect_subprotocol!r} is not offered: add "
            f"--subprotocol {expect_subprotocol}"
        )
    if options["no_send"] and options["send"] != DEFAULT_SEND:
        raise ConfigError("--send and --no-send contradict each other: keep one")
    key_file = options["jwt_key_file"]
    token = TokenSpec(
        token_env=options["token_env"],
        token_env_explicit="token_env" in explicit,
        jwt_secret_env=options["jwt_secret_env"],
        jwt_secret_env_explicit="jwt_secret_env" in explicit,
        jwt_key_file=Path(key_file) if key_file else None,
        jwt_algorithm=options["jwt_algorithm"],
        subject=options["jwt_subject"],
        audience=options["jwt_audience"],
        issuer=options["jwt_issuer"],
        claims=dict(parse_claim(item) for item in options["jwt_claim"]),
        ttl_s=options["jwt_ttl"],
    )
    ca_bundle = options["ca_bundle"]
    return Settings(
        url=validate_url(options["url"]),
        health_paths=tuple(
            validate_path("--health-path", p) for p in options["health_path"] or ("/health",)
        ),
        expect_status=options["expect_status"],
        expect_body=parse_json_option("--expect-body", options["expect_body"]),
        ws_path=validate_path("--ws-path", options["ws_path"]),
        subprotocol_template=options["subprotocol_template"],
        subprotocols=tuple(options["subprotocol"]),
        expect_subprotocol=expect_subprotocol,
        send=None if options["no_send"] else options["send"],
        expect=options["expect"],
        message_timeout=options["message_timeout"],
        max_message_size=options["max_message_size"],
        check_auth=options["check_auth"],
        token=token,
        connect_timeout=options["connect_timeout"],
        read_timeout=options["read_timeout"],
        deadline=options["deadline"],
        retry_budget=options["retry_budget"],
        ca_bundle=validate_ca_bundle(Path(ca_bundle) if ca_bundle else None),
        headers=tuple(parse_header(h) for h in options["header"]),
        strict=options["strict"],
        scenario=parse_scenario(scenario, options["message_timeout"]) if scenario else None,
        connections=options["connections"],
        samples=options["samples"] or (5 if options["budget"] else 0),
        budgets=tuple(parse_budget(b) for b in options["budget"]),
    )


DEFAULT_SEND = '{"type":"ping"}'
