"""Validators: each turns one raw user value into a checked one, or a one-line ConfigError.

Every message names the option and the value (never a secret value: header
values are not echoed) and ends with what to do.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from gate.config.file import read_limited
from gate.errors import ConfigError
from gate.matching import Json

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
BUDGET_METRICS = ("health", "handshake", "first_message")
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s)$")


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
    _validate_host(url, parts.hostname)
    return url.rstrip("/") if parts.path not in ("", "/") else f"{parts.scheme}://{parts.netloc}"


_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def _validate_host(url: str, host: str) -> None:
    """A host must be an IP address or a name of valid labels (IDNA names included)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(
            f"URL {url!r}: host {host!r} is not a valid host name (empty or overlong label): "
            "check the URL"
        ) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ConfigError(f"URL {url!r}: host {host!r} is not a valid host name: check the URL")


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
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError(
            f"--header {name}: the value has characters HTTP headers cannot carry "
            "(only Latin-1): percent-encode them"
        ) from None
    return name, value


def parse_json_option(option: str, raw: str | None) -> Json:
    """Parse a JSON-valued option; the error names the option and where parsing failed."""
    if raw is None:
        return None
    try:
        value: Json = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{option} is not valid JSON ({exc.msg} at column {exc.colno}): quote it, "
            f'e.g. {option} \'{{"status": "healthy"}}\''
        ) from None
    except RecursionError:
        raise ConfigError(f"{option}: the JSON is nested too deeply: simplify it") from None
    return value


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


def validate_ca_bundle(path: Path | None) -> str | None:
    """The CA bundle must be a readable PEM file of certificates; returns its text."""
    if path is None:
        return None
    import ssl  # lazily: `gate --help` starts without the TLS stack

    data = read_limited(path, "--ca-bundle")
    try:
        text = data.decode("ascii")
        ssl.create_default_context().load_verify_locations(cadata=text)
    except (UnicodeDecodeError, ssl.SSLError, ValueError):
        raise ConfigError(
            f"--ca-bundle {path}: not PEM certificates: give a PEM file of CA certificates"
        ) from None
    return text


def parse_budget(item: str) -> tuple[str, float]:
    """``--budget health=100ms`` -> ``("health", 100.0)`` (milliseconds)."""
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep or name not in BUDGET_METRICS:
        raise ConfigError(
            f"--budget {item!r}: expected NAME=DURATION with NAME one of "
            f"{', '.join(BUDGET_METRICS)}, e.g. --budget health=100ms"
        )
    match = _DURATION.match(raw.strip())
    if match is None:
        raise ConfigError(f"--budget {item!r}: the duration needs a unit, e.g. 100ms or 0.2s")
    value = float(match["value"])
    return name, value if match["unit"] == "ms" else value * 1000.0


def compile_ignores(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """Compile ``--ignore-log`` patterns; a bad one is a configuration error."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"--ignore-log {pattern!r} is not a valid regex ({exc})") from None
    return tuple(compiled)


_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$")


def validate_account(email: str) -> str:
    """``email`` if it is a service account's address; otherwise a one-line usage error."""
    if not _ACCOUNT.match(email):
        raise ConfigError(
            f"--impersonate-service-account {email!r} is not a service account's email: give "
            "one like gate@PROJECT.iam.gserviceaccount.com"
        )
    return email


def ready_id_token(variable: str, env: Mapping[str, str], explicit: bool) -> str | None:
    """The ready ID token in ``variable``; ``None`` when unset and not named explicitly.

    A variable that is set but empty, or named with ``--id-token-env`` but unset,
    is a usage error: a pipeline step that was meant to hand the token over failed.
    """
    value = env.get(variable)
    if value is None and not explicit:
        return None
    if not (value or "").strip():
        state = "is empty" if value is not None else "is not set"
        raise ConfigError(
            f"--id-token-env: {variable} {state}: give it an ID token (google-github-actions/"
            "auth with token_format: id_token, or `gcloud auth print-identity-token`), or "
            "unset it to mint one"
        )
    return (value or "").strip()
