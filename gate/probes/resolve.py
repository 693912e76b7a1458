"""Name resolution for the probes: the system resolver, in a thread, bounded in time.

Python cannot interrupt ``getaddrinfo``: a resolver that never answers would
hold a request (or the process) for as long as it likes. So both probes
resolve the host first through :data:`RESOLVER`, in a daemon thread, under
``--connect-timeout``: a lookup that does not answer in time is a
``connect_timeout`` naming the resolver, and the run (and the process, whose
exit does not wait for daemon threads) moves on. :data:`RESOLVER` is the hook
through which a resolver is swapped for a stand-in (tests make one that never
answers).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any

from gate.probes.errors import from_os
from gate.probes.transcript import ProbeError
from gate.redact import Redactor
from gate.threads import blocking
from gate.timing import Deadline

# (family, type, proto, canonname, sockaddr), as socket.getaddrinfo gives them.
Address = tuple[int, int, int, str, tuple[Any, ...]]
Resolver = Callable[[str, int], Sequence[Address]]


def system_resolver(host: str, port: int) -> Sequence[Address]:
    """The system's resolver (``getaddrinfo``), TCP addresses only."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


RESOLVER: Resolver = system_resolver
"""The resolver every probe uses; see the module docstring."""


async def resolve(
    host: str, port: int, limit_s: float, deadline: Deadline, redactor: Redactor
) -> Sequence[Address] | ProbeError:
    """The addresses of ``host`` (an IP literal as it is), or why there are none in time."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 0, "", (host, port))]
    resolver = RESOLVER
    try:
        async with asyncio.timeout(deadline.clip(limit_s)):
            return await blocking(resolver, host, port)
    except TimeoutError:
        if deadline.expired():
            return ProbeError("deadline", f"resolving {host} was still pending at the deadline")
        return ProbeError(
            "connect_timeout", f"the resolver did not answer for {host} within --connect-timeout"
        )
    except OSError as exc:
        return from_os(exc, "resolve", redactor)
