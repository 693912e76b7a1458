"""Cloud Logging v2: the ERROR entries of one revision, polled until the logs settle.

The generated ``LoggingServiceV2Client`` is used directly: the high-level
client probes the metadata server on every call. Cloud Logging is not
instantly consistent, so entries are polled for ``settle`` seconds after the
last probe, with as few list calls as that takes (the read quota is about 60
calls a minute per project): one at once, one half-way, one at the end; it
stops early once more entries than allowed are found, since the verdict can
no longer change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gate.cloud.errors import api_call
from gate.cloud.model import LogRecord

VIEWER = "roles/logging.viewer"
_CALL_TIMEOUT_S = 20.0
_PAGE_SIZE = 1000
_MAX_ENTRIES = 5000
_TICK_S = 1.0  # how often a waiting countdown is reported
_SEVERITY_NAMES = {
    0: "DEFAULT",
    100: "DEBUG",
    200: "INFO",
    300: "NOTICE",
    400: "WARNING",
    500: "ERROR",
    600: "CRITICAL",
    700: "ALERT",
    800: "EMERGENCY",
}


def revision_filter(service: str, revision: str, region: str, since: datetime) -> str:
    """The Logging filter for a revision's ERROR-or-worse entries since ``since``."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        'resource.type="cloud_run_revision"'
        f' AND resource.labels.service_name="{service}"'
        f' AND resource.labels.revision_name="{revision}"'
        f' AND resource.labels.location="{region}"'
        " AND severity>=ERROR"
        f' AND timestamp>="{stamp}"'
    )


@dataclass(frozen=True)
class LogFetch:
    """What the polling found: the entries, the filter, and how many calls it took."""

    filter: str
    entries: tuple[LogRecord, ...]
    calls: int
    settle_s: float
    truncated: bool


def _message(entry: object) -> str:
    text = getattr(entry, "text_payload", "")
    if text:
        return str(text)
    payload = getattr(entry, "json_payload", None)
    if payload:
        for key in ("message", "msg", "error"):
            if key in payload:
                return str(payload[key])
        return str(dict(payload))
    return "(no text payload)"


class CloudLogs:
    """Reads one project's log entries."""

    def __init__(self, project: str) -> None:
        from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client

        self.project = project
        endpoint = os.environ.get("GATE_LOGGING_ENDPOINT")
        with api_call("connect to the Cloud Logging API", VIEWER):
            if endpoint:
                import grpc
                from google.cloud.logging_v2.services.logging_service_v2.transports import (
                    LoggingServiceV2GrpcTransport,
                )

                transport = LoggingServiceV2GrpcTransport(channel=grpc.insecure_channel(endpoint))
                self._client = LoggingServiceV2Client(transport=transport)
            else:
                self._client = LoggingServiceV2Client()

    def fetch(self, log_filter: str) -> tuple[list[LogRecord], int, bool]:
        """All matching entries (every page); returns entries, calls made, truncated."""
        from google.cloud.logging_v2.types import ListLogEntriesRequest

        request = ListLogEntriesRequest(
            resource_names=[f"projects/{self.project}"],
            filter=log_filter,
            order_by="timestamp asc",
            page_size=_PAGE_SIZE,
        )
        found: list[LogRecord] = []
        calls = 0
        with api_call("read Cloud Logging entries", VIEWER):
            pager = self._client.list_log_entries(request=request, timeout=_CALL_TIMEOUT_S)
            for page in pager.pages:
                calls += 1
                for entry in page.entries:
                    found.append(
                        LogRecord(
                            timestamp=entry.timestamp,
                            severity=_SEVERITY_NAMES.get(int(entry.severity), str(entry.severity)),
                            message=_message(entry),
                            trace=entry.trace,
                            insert_id=entry.insert_id,
                        )
                    )
                if len(found) >= _MAX_ENTRIES:
                    return found, calls, True
        return found, calls, False

    def settle(
        self,
        log_filter: str,
        settle_s: float,
        enough: Callable[[list[LogRecord]], bool],
        on_wait: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LogFetch:
        """Poll at 0, settle/2 and settle seconds; stop early once ``enough`` holds."""
        seen: dict[str, LogRecord] = {}
        calls = 0
        truncated = False
        started = time.monotonic()
        for at in (0.0, settle_s / 2, settle_s):
            wait = at - (time.monotonic() - started)
            while wait > 0:
                if on_wait is not None:
                    on_wait(wait)
                step = min(wait, _TICK_S)
                sleep(step)
                wait -= step
            entries, made, truncated = self.fetch(log_filter)
            calls += made
            for entry in entries:
                seen.setdefault(entry.insert_id or f"{entry.timestamp}{entry.message}", entry)
            if truncated or enough(list(seen.values())) or settle_s <= 0:
                break
        ordered = tuple(sorted(seen.values(), key=lambda e: e.timestamp))
        return LogFetch(log_filter, ordered, calls, settle_s, truncated)
