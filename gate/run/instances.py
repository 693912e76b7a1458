"""Which instance served each socket of a scenario, from Cloud Run's request log.

Cloud Run writes one request-log entry per WebSocket, status 101, when it closes; each of the
scenario's sockets carries a trace of its own, so its entry is found by its trace, and the
entry's ``labels.instanceId`` names the instance (Google's logging page documents the label on
container logs; whether request-log entries carry it is not stated, so a socket whose entry has
none, or whose entry is not there yet, is reported as unknown, never guessed).
"""

from __future__ import annotations

from collections.abc import Mapping

from gate.cloud.calls import Budget
from gate.cloud.logs import CloudLogs
from gate.cloud.model import REQUEST_LOG
from gate.errors import GateError


def request_filter(project: str, traces: Mapping[str, str]) -> str:
    """The request-log entries of the sockets' traces."""
    name = f"projects/{project}/logs/{REQUEST_LOG.replace('/', '%2F')}"
    wanted = " OR ".join(f'trace="projects/{project}/traces/{t}"' for t in traces.values())
    return f'logName="{name}" AND ({wanted})'


async def socket_instances(
    project: str, traces: Mapping[str, str], budget: Budget, endpoint: str | None
) -> dict[str, str | None]:
    """Each socket's instance id, or ``None`` when the request log does not say (yet)."""
    try:
        logs = await CloudLogs.connect(project, budget, endpoint)
    except GateError:
        return dict.fromkeys(traces)
    try:
        entries, _calls, _cut = await logs.within(budget).fetch(request_filter(project, traces))
    except GateError:
        return dict.fromkeys(traces)
    finally:
        logs.close()
    by_trace = {e.trace.rpartition("/")[2]: e.instance for e in entries if e.instance}
    return {name: by_trace.get(trace) for name, trace in traces.items()}


def instances_sentence(found: Mapping[str, str | None]) -> str:
    """Whether the sockets were on different instances, as the report says it."""
    if any(instance is None for instance in found.values()):
        return "Cloud Logging did not say which instance served each socket"
    names = " and ".join(found)
    if len(set(found.values())) == len(found):
        return f"sockets {names} were on different instances"
    return (
        f"sockets {names} shared an instance, so the path between instances was not tested: "
        "run with more than one instance"
    )
