"""Cloud Logging v2: read the ERROR entries of one revision.

The generated ``LoggingServiceV2Client`` is used directly: the high-level
client probes the metadata server on every call. This module only reads;
polling until the logs settle is orchestration (:mod:`gate.run.logs`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from gate.cloud.calls import Budget
from gate.cloud.model import LogRecord

VIEWER = "roles/logging.viewer"
_PAGE_SIZE = 1000
MAX_ENTRIES = 5000
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


def _message(entry: Any) -> str:
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


def _record(entry: Any) -> LogRecord:
    return LogRecord(
        timestamp=entry.timestamp,
        severity=_SEVERITY_NAMES.get(int(entry.severity), str(entry.severity)),
        message=_message(entry),
        trace=entry.trace,
        insert_id=entry.insert_id,
    )


def _client(endpoint: str | None) -> Any:
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client

    if not endpoint:
        return LoggingServiceV2Client()
    import grpc
    from google.cloud.logging_v2.services.logging_service_v2.transports import (
        LoggingServiceV2GrpcTransport,
    )

    transport = LoggingServiceV2GrpcTransport(channel=grpc.insecure_channel(endpoint))
    return LoggingServiceV2Client(transport=transport)


class CloudLogs:
    """Reads one project's log entries, implementing :class:`~gate.cloud.model.LogsApi`."""

    def __init__(self, project: str, client: Any, budget: Budget) -> None:
        self.project = project
        self._client = client
        self.budget = budget

    @classmethod
    async def connect(cls, project: str, budget: Budget) -> CloudLogs:
        """Build the client (``GATE_LOGGING_ENDPOINT`` selects an emulator) within ``budget``."""
        endpoint = os.environ.get("GATE_LOGGING_ENDPOINT")
        client = await budget.call(
            lambda: _client(endpoint), "connect to the Cloud Logging API", VIEWER
        )
        return cls(project, client, budget)

    async def fetch(self, log_filter: str) -> tuple[list[LogRecord], int, bool]:
        """All matching entries (every page, up to ``MAX_ENTRIES``): entries, calls, truncated."""
        from google.cloud.logging_v2.types import ListLogEntriesRequest

        request = ListLogEntriesRequest(
            resource_names=[f"projects/{self.project}"],
            filter=log_filter,
            order_by="timestamp asc",
            page_size=_PAGE_SIZE,
        )
        b = self.budget

        def every_page() -> tuple[list[LogRecord], int, bool]:
            found: list[LogRecord] = []
            calls = 0
            pager = self._client.list_log_entries(
                request=request, timeout=b.timeout(), retry=b.retry()
            )
            for page in pager.pages:
                calls += 1
                found.extend(_record(entry) for entry in page.entries)
                if len(found) >= MAX_ENTRIES:
                    return found, calls, True
            return found, calls, False

        return await b.call(every_page, "read Cloud Logging entries", VIEWER)
