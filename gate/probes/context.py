"""What every probe of a run is handed: one immutable context instead of the same arguments
at every call.

The clock it must finish by (each step clips its own timeout to it) and the redactor that
masks what it records, whose secrets the run registered before the first probe
(:mod:`gate.run.execute`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.redact import Redactor
from gate.timing import Deadline


@dataclass(frozen=True)
class Probing:
    """The deadline a probe must finish by, and the redactor of what it records."""

    deadline: Deadline
    redactor: Redactor
