"""PromQL through Cloud Monitoring's Prometheus API: one instant query, its value summed.

Google Cloud Managed Service for Prometheus answers the Prometheus HTTP API at
``https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus/api/v1/query``
(``query`` and ``time``; a JSON answer with ``status`` ``success`` and ``data.result``, or
``error`` with ``errorType`` and ``error``: the Prometheus HTTP API's shapes). The call is
authorised with Application Default Credentials (scope ``monitoring.read``) through
google-auth's ``AuthorizedSession``; an emulator (``GATE_PROMETHEUS_ENDPOINT``, a base URL) is
called without credentials, like every emulated API. HTTP errors become google-api-core's
exceptions (``from_http_response``), so the one error boundary (:mod:`gate.cloud.errors`)
maps and retries them as every other read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gate.cloud.calls import Budget
from gate.cloud.monitoring import VIEWER

GOOGLE = "https://monitoring.googleapis.com"
_SCOPE = "https://www.googleapis.com/auth/monitoring.read"


class PromQLRejected(Exception):
    """The API refused the query itself (HTTP 400, ``bad_data``): its message."""


def _session(endpoint: str | None) -> Any:
    if endpoint:
        import requests

        return requests.Session()
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _project = google.auth.default(scopes=[_SCOPE])
    return AuthorizedSession(credentials)  # type: ignore[no-untyped-call]


def _value(answer: dict[str, Any]) -> float | None:
    """The sum of an instant query's values; ``None`` for an empty result (no data)."""
    data = answer.get("data", {})
    result = data.get("result", [])
    if data.get("resultType") == "scalar":
        return float(result[1])
    values = [float(item["value"][1]) for item in result]
    return sum(values) if values else None


async def instant_query(
    project: str, query: str, at: datetime, budget: Budget, endpoint: str | None
) -> float | None:
    """``query`` evaluated at ``at``: the sum of its values, or ``None`` (no data).

    Raises :class:`PromQLRejected` when the API refuses the query (its syntax, or a name it
    does not know), and the gate's own errors for the rest.
    """
    from google.api_core import exceptions as gexc

    url = (f"{endpoint or GOOGLE}/v1/projects/{project}/location/global/prometheus/api/v1/"
           "query")  # fmt: skip

    def read() -> float | None:
        import requests

        session = _session(endpoint)
        try:
            response = session.post(
                url, data={"query": query, "time": f"{at.timestamp():.3f}"},
                timeout=budget.timeout(),
            )  # fmt: skip
        except requests.RequestException as exc:
            raise gexc.ServiceUnavailable(type(exc).__name__) from None  # type: ignore[no-untyped-call]
        finally:
            session.close()
        if response.status_code == 400:
            answer = response.json() if response.content else {}
            raise PromQLRejected(str(answer.get("error", response.text))[:300])
        if response.status_code >= 300:
            raise gexc.from_http_response(response)  # type: ignore[no-untyped-call]
        return _value(response.json())

    return await budget.read(read, "run a PromQL query through Cloud Monitoring", VIEWER)
