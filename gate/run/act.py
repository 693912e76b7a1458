"""What ``gate verify`` does with the traffic once the verdict is in, and the re-check after.

:func:`decide` chooses (roll back, promote, or nothing, and why); :func:`act` carries the
choice out as one action of the supervisor (never cut by a signal once started), within the
actions' own budget (``--action-timeout``), then re-checks the service URL after a rollback.
Each outcome is noted as the report's ``action`` block, the error that stopped it alongside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gate.cloud.model import RunApi, ServiceState, previous_ready
from gate.config.settings import VerifyOptions
from gate.errors import GateError
from gate.model import ActionBlock
from gate.run.check import CheckRun
from gate.run.recheck import verify_rollback
from gate.run.resolve import Target
from gate.run.supervisor import Interrupted, Supervisor
from gate.status import Progress
from gate.timing import Deadline
from gate.traffic.actions import apply
from gate.traffic.plan import Plan, action_block, promote, restore, rollback_to

Note = Callable[[ActionBlock, "str | None"], None]
"""Where each outcome goes: the action block, and the error that stopped it."""


@dataclass(frozen=True)
class Actor:
    """What acting needs: the options, the supervisor, the checks at a URL, the progress line."""

    options: VerifyOptions
    supervisor: Supervisor
    checks_at: Callable[[str], CheckRun]
    progress: Progress


def _pinned_to(state: ServiceState, revision: str) -> bool:
    """True when the traffic as requested sends a share to ``revision`` by name."""
    return any(t.revision == revision and t.percent > 0 for t in state.traffic)


async def decide(
    options: VerifyOptions, cloud: RunApi, target: Target, failed: bool, unread: str | None
) -> tuple[Plan | None, str]:
    """What to do with the traffic, or why nothing; ``unread``: why the logs were not read.

    A release whose logs could not be read is never promoted: its probes
    passing is not the whole verdict (and it is not rolled back either: the
    gate, not the release, failed).
    """
    state = target.state
    if failed and options.on_failure == "rollback":
        if not target.info.ready and not _pinned_to(state, target.revision):
            return None, (
                f"traffic never left {state.serving()}: {target.revision} never became "
                "Ready, so there is nothing to roll back"
            )
        if options.restore is not None:
            return restore(state, options.restore), ""
        previous = previous_ready(await cloud.revisions(), target.revision)
        if previous is None:
            return None, f"no ready revision older than {target.revision} to roll back to"
        return rollback_to(state, previous.name), ""
    if failed:
        return None, "the release failed; --on-failure fail leaves traffic as it is"
    if options.promote and unread is not None:
        return None, "Cloud Logging could not be read, so the release is not promoted"
    if options.promote:
        return promote(state, target.revision, target.tag if options.remove_tag else None), ""
    return None, "passed; --promote not given"


async def act(
    actor: Actor,
    cloud: RunApi,
    target: Target,
    failed: bool,
    unread: str | None,
    actions: Deadline,
    note: Note,
) -> None:
    """Decide, carry out, and (after a rollback) re-check, noting each outcome."""
    options = actor.options
    try:
        plan, reason = await decide(options, cloud, target, failed, unread)
    except GateError as exc:
        note(action_block(None, "failed", exc.message), exc.message)
        return
    if plan is None:
        if failed and options.on_failure == "rollback" and target.info.ready:
            note(action_block(None, "failed", reason), reason)
        else:
            note(action_block(None, "skipped", reason), None)
        return
    actor.progress(f"{plan.kind}: {plan.source} -> {plan.target}")
    try:
        status, reason, after = await actor.supervisor.action(
            f"the {plan.kind}", lambda: apply(cloud, target.state, plan, options.dry_run)
        )
    except Interrupted:
        note(action_block(plan, "skipped", "a signal came first: traffic left as it is"), None)
        raise
    except GateError as exc:
        note(action_block(plan, "failed", exc.message), exc.message)
        return
    note(action_block(plan, status, reason), None)
    if after is None or plan.kind != "rollback":
        return
    actor.progress(f"verifying the rollback at {after.uri}")
    healthy, checks = await verify_rollback(actor.supervisor, actor.checks_at, after.uri, actions)
    note(action_block(plan, "done", verified=healthy, checks=checks), None)
