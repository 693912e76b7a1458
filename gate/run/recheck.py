"""The re-check after traffic went back: the checks at the service URL, once it serves the
restore point, to record whether the rollback is healthy.

``gate verify --on-failure rollback`` and a canary that restores its restore point both end
with it; it runs as the supervisor's phase "verifying the rollback", within the actions'
budget (``--action-timeout``), never the run's deadline, which may be spent.
"""

from __future__ import annotations

from collections.abc import Callable

from gate.model import CheckSummary, check_summaries
from gate.run.check import CheckRun
from gate.run.supervisor import Supervisor
from gate.timing import Deadline


async def verify_rollback(
    supervisor: Supervisor, checks_at: Callable[[str], CheckRun], uri: str, budget: Deadline
) -> tuple[bool, list[CheckSummary]]:
    """Run the checks at ``uri`` within ``budget``: healthy (no check failed), and each
    check's status in one line for the report's ``action`` block."""
    recheck = await supervisor.phase("verifying the rollback", checks_at(uri).run(budget))
    return not any(c.status == "fail" for c in recheck), check_summaries(recheck)
