"""``--notify URL``: which webhook a URL is, validated before any network call.

A URL is a Slack incoming webhook when its host is ``hooks.slack.com`` or its
path has Slack's shape (``/services/T.../B.../...``); a Google Chat webhook when
its host is ``chat.googleapis.com`` or its path has Chat's shape
(``/v1/spaces/.../messages``); anything else receives the JSON report. Webhook
URLs carry their credential (Slack's last path segment, Chat's ``key`` and
``token``), so each URL, and each of those parts, is a secret: :func:`secrets_of`
gives what the redactor must know. Plain ``http://`` is refused except to a
loopback address, where a local relay or a test receiver listens: over the
network it would send the credential in clear.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from gate.errors import ConfigError

WebhookKind = Literal["slack", "chat", "json"]

_SLACK_PATH = re.compile(r"^/services/[^/]+/[^/]+/[^/]+/?$")
_CHAT_PATH = re.compile(r"^/v1/spaces/[^/]+/messages/?$")
_LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class Webhook:
    """One ``--notify`` URL and the message format it takes."""

    url: str
    kind: WebhookKind


def _kind(host: str, path: str) -> WebhookKind:
    if host == "hooks.slack.com" or _SLACK_PATH.match(path):
        return "slack"
    if host == "chat.googleapis.com" or _CHAT_PATH.match(path):
        return "chat"
    return "json"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in _LOOPBACK_NAMES


def parse_webhook(url: str) -> Webhook:
    """A webhook from ``--notify URL``; a configuration error naming what is wrong.

    The error never quotes the URL itself (it holds a credential), only its host.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise ConfigError("--notify: a URL is malformed: check the webhook URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError("--notify: each value must be an https:// webhook URL")
    if parts.scheme == "http" and not _loopback(host):
        raise ConfigError(
            f"--notify: the webhook on {host} is http://: webhook URLs carry their credential, "
            "use https:// (plain http is accepted only to a loopback relay)"
        )
    return Webhook(url.strip(), _kind(host, parts.path))


def parse_webhooks(urls: tuple[str, ...]) -> tuple[Webhook, ...]:
    """Every ``--notify`` URL, validated (empty lines, from the environment, skipped)."""
    return tuple(parse_webhook(url) for url in urls if url.strip())


_PART = 8  # a part shorter than this is no credential (an id, a flag): left readable


def secrets_of(hook: Webhook) -> list[str]:
    """What the redactor must mask for ``hook``: the URL, its path and query, their parts.

    Parts (path segments, query values) count from eight characters on: the
    credentials of Slack and Chat are far longer, and masking every short value
    (``?v=1``) would blank unrelated text.
    """
    parts = urlsplit(hook.url)
    found = [hook.url, parts.path, parts.query]
    found += [s for s in parts.path.split("/") if len(s) >= _PART and s not in _KNOWN_SEGMENTS]
    found += [value for _name, value in parse_qsl(parts.query) if len(value) >= _PART]
    return [f for f in found if len(f) >= _PART]


_KNOWN_SEGMENTS = {"services", "messages"}
