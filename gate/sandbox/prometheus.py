"""The emulated Prometheus API of Cloud Monitoring: the PromQL queries a test registers.

It serves ``POST /v1/projects/PROJECT/location/global/prometheus/api/v1/query`` (form fields
``query`` and ``time``, as the Prometheus HTTP API takes them) and answers a registered query,
after the gate filled its placeholders, with a one-sample vector in the Prometheus API's JSON
(``{"status": "success", "data": {"resultType": "vector", "result": [...]}}``), or with no
sample at all for a query registered as ``None`` (no data). Any other query gets Prometheus's
refusal, HTTP 400 with ``errorType`` ``bad_data``: the emulator evaluates no PromQL, and never
answers a question it was not given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from gate.sandbox.jsonhttp import JsonServer, Served


@dataclass
class PrometheusService(Served):
    """The registered queries, the calls made, and the HTTP server."""

    project: str = "demo-project"
    answers: dict[str, float | None] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: JsonServer | None = None
    url: str = ""

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer of one request."""
        wanted = f"/v1/projects/{self.project}/location/global/prometheus/api/v1/query"
        if path != wanted:
            return 404, {"status": "error", "errorType": "not_found", "error": path}
        query = form.get("query", "")
        with self._lock:
            self.queries.append(query)
            known = query in self.answers
            value = self.answers.get(query)
        if not known:
            refusal = f'invalid parameter "query": 1:1: parse error: {query!r}'
            return 400, {"status": "error", "errorType": "bad_data", "error": refusal}
        result = [] if value is None else [
            {"metric": {}, "value": [float(form.get("time", "0")), f"{value}"]}
        ]  # fmt: skip
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}

    def start(self) -> str:
        """Serve on 127.0.0.1; returns the base URL."""
        return self._serve(lambda path, _headers, body: self.answer(path, body))
