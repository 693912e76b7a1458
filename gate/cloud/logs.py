"""Cloud Logging v2: read what went wrong in one revision.

The generated ``LoggingServiceV2Client`` is used directly: the high-level
client probes the metadata server on every call. This module only reads;
polling until the logs settle is orchestration (:mod:`gate.run.logs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from gate.cloud.clients import ProjectClient, build
from gate.cloud.model import CONTAINER_LOGS, REQUEST_LOG, SEVERITIES, SYSTEM_LOG, LogRecord
from gate.stacks import LINE_PATTERN

VIEWER = "roles/logging.viewer"
_NO_TEXT = "(no text payload)"
_PAGE_SIZE = 1000
MAX_ENTRIES = 5000
_SEVERITY_NAMES = {100 * rank: name for rank, name in enumerate(SEVERITIES)}  # 0, 100, ... 800


@dataclass(frozen=True)
class LogScope:
    """One revision's entries since a moment: what one target reads."""

    service: str
    revision: str
    region: str
    since: datetime

    def clause(self) -> str:
        """The scope as a filter clause."""
        stamp = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return (
            f'(resource.labels.service_name="{self.service}"'
            f' AND resource.labels.revision_name="{self.revision}"'
            f' AND resource.labels.location="{self.region}"'
            f' AND timestamp>="{stamp}")'
        )

    def covers(self, entry: LogRecord) -> bool:
        """True when ``entry`` is in the scope (to share one query's answer out)."""
        return (entry.service, entry.revision, entry.location) == (
            self.service,
            self.revision,
            self.region,
        ) and entry.timestamp >= self.since


def scopes_filter(project: str, scopes: Sequence[LogScope]) -> str:
    """The Logging filter for what went wrong in each scope's revision since its moment.

    Entries at ERROR and above; Cloud Run's request log at WARNING and above
    with a status of 400 or more (the front end logs capacity and IAM refusals
    at WARNING only); Cloud Run's system log whatever its severity (startup
    probe failures of a revision that never became ready); and the container's
    stdout and stderr lines of any severity whose text has the shape of an
    uncaught-exception report (:data:`gate.stacks.LINE_PATTERN`, a regular
    expression searched with ``=~``): plain text arrives at ``DEFAULT``, so a
    crash printed by uvicorn, Node.js or a Go panic has no ERROR severity to be
    found by. Several scopes (targets of one project) are read with one query,
    their clauses joined by ``OR``.
    """
    requests = f"projects/{project}/logs/{quote(REQUEST_LOG, safe='')}"
    system = f"projects/{project}/logs/{quote(SYSTEM_LOG, safe='')}"
    container = " OR ".join(
        f'logName="projects/{project}/logs/{quote(log, safe="")}"' for log in CONTAINER_LOGS
    )
    where = " OR ".join(scope.clause() for scope in scopes)
    return (
        'resource.type="cloud_run_revision"'
        f" AND ({where})"
        " AND (severity>=ERROR"
        f' OR (logName="{requests}" AND severity>=WARNING AND httpRequest.status>=400)'
        f' OR logName="{system}"'
        f' OR (({container}) AND textPayload=~"{LINE_PATTERN}"))'
    )


def _audit(entry: Any) -> str:
    """A Cloud Audit entry's method and status message, or ``""`` for any other payload."""
    payload = entry.proto_payload
    if not payload.type_url.endswith("/google.cloud.audit.AuditLog"):
        return ""
    from google.cloud.audit import audit_log_pb2

    audit = audit_log_pb2.AuditLog()
    payload.Unpack(audit)
    status = audit.status.message or f"status code {audit.status.code}"
    return f"{audit.method_name}: {status}" if audit.method_name else status


def _message(entry: Any) -> str:
    text = getattr(entry, "text_payload", "")
    if text:
        return str(text)
    if "proto_payload" in entry:
        return _audit(entry) or _NO_TEXT
    payload = getattr(entry, "json_payload", None)
    if payload:
        for key in ("message", "msg", "error"):
            if key in payload:
                return str(payload[key])
        return str(dict(payload))
    return _NO_TEXT


def _record(entry: Any) -> LogRecord:
    request = entry.http_request
    status = int(request.status) if request and request.status else None
    message = _message(entry)
    if status is not None and message == _NO_TEXT:
        message = f"HTTP {status} {request.request_method} {request.request_url}".strip()
    labels = entry.resource.labels
    return LogRecord(
        timestamp=entry.timestamp,
        severity=_SEVERITY_NAMES.get(int(entry.severity), str(entry.severity)),
        message=message,
        trace=entry.trace,
        insert_id=entry.insert_id,
        log=unquote(entry.log_name.partition("/logs/")[2]),
        status=status,
        instance=entry.labels.get("instanceId", ""),
        service=labels.get("service_name", ""),
        revision=labels.get("revision_name", ""),
        location=labels.get("location", ""),
    )


class CloudLogs(ProjectClient):
    """Reads one project's log entries, implementing :class:`~gate.cloud.model.LogsApi`."""

    API, ROLE = "Cloud Logging", VIEWER

    @staticmethod
    def build_client(endpoint: str | None) -> Any:
        """The generated Logging v2 client."""
        from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
        from google.cloud.logging_v2.services.logging_service_v2.transports import (
            LoggingServiceV2GrpcTransport,
        )

        return build(LoggingServiceV2Client, LoggingServiceV2GrpcTransport, endpoint)

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
            pager = self._client.list_log_entries(request=request, timeout=b.timeout(), retry=None)
            for page in pager.pages:
                calls += 1
                found.extend(_record(entry) for entry in page.entries)
                if len(found) >= MAX_ENTRIES:
                    return found, calls, True
            return found, calls, False

        return await b.read(every_page, "read Cloud Logging entries", VIEWER)
