"""Which revision ``gate verify`` gates, and the URL that reaches it alone.

The revision under test is ``--revision``, the revision carrying ``--tag``
(looked up in the service's traffic status and, for a revision that never
became ready, in its traffic as requested), or by default the latest
*created* revision: the latest ready one may be the previous release, still
serving while the new one failed to start. A revision Cloud Run is still
deploying is waited for, within ``--retry-budget``, and the service is read
again after that wait; a service that is still reconciling is waited for
before anything is resolved from it (:meth:`gate.cloud.run.CloudRun.service`).

Only a Ready revision gets a URL: the service URL when its traffic status
gives the revision 100% of it, else the revision's tag URL; a revision with
part of the traffic and no tag is refused (exit 2), naming what serves, rather
than gated through a URL that may answer from another revision.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gate.cloud.model import RevisionInfo, RunApi, ServiceState
from gate.config.settings import VerifyOptions
from gate.errors import ConfigError
from gate.timing import Deadline, Stopwatch
from gate.traffic.actions import revision_of_tag

_PENDING_POLL_S = 2.0


@dataclass(frozen=True)
class Target:
    """The revision under test, and the URL that reaches it alone (``None``: not Ready)."""

    state: ServiceState
    info: RevisionInfo
    url: str | None
    tag: str | None
    waited_s: float

    @property
    def revision(self) -> str:
        """The revision's short name."""
        return self.info.name


async def _settled(
    cloud: RunApi, revision: str, patience_s: float, deadline: Deadline
) -> tuple[RevisionInfo, float]:
    """The revision once Cloud Run has decided its readiness, or when patience runs out."""
    watch = Stopwatch()
    info = await cloud.revision(revision)
    while info.state == "pending":
        left = min(patience_s - watch.ms() / 1000.0, deadline.remaining() - _PENDING_POLL_S)
        if left <= 0:
            break
        await asyncio.sleep(min(_PENDING_POLL_S, left))
        info = await cloud.revision(revision)
    return info, watch.ms() / 1000.0


async def resolve(
    cloud: RunApi, options: VerifyOptions, patience_s: float, deadline: Deadline
) -> Target:
    """Find the revision under test, how ready it is, and a URL that reaches it alone."""
    state = await cloud.service()
    if options.tag is not None:
        revision = revision_of_tag(state, options.tag)
        if options.revision is not None and options.revision != revision:
            raise ConfigError(
                f"--tag {options.tag} points at {revision}, not --revision "
                f"{options.revision}: give one of them"
            )
    else:
        revision = options.revision or state.latest_created or state.latest_ready
        if not revision:
            raise ConfigError(f"service {state.short_name} has no revision yet: deploy first")
    info, waited = await _settled(cloud, revision, patience_s, deadline)
    if waited > 0:
        # What was read before the wait may be stale (the tag URL, the shares).
        state = await cloud.service()
    if not info.ready:
        return Target(state, info, None, options.tag, waited)
    if options.tag is not None:
        status = next((s for s in state.statuses if s.tag == options.tag), None)
        if status is None or not status.uri:
            raise ConfigError(
                f"--tag {options.tag}: the traffic status of {state.short_name} has no URL for "
                "that tag yet: wait for the deploy to finish and re-run"
            )
        return Target(state, info, status.uri, options.tag, waited)
    share = state.percent_of(revision)
    if share == 100:
        return Target(state, info, state.uri, None, waited)
    tagged = state.tag_of(revision)
    if tagged is not None and tagged.uri:
        return Target(state, info, tagged.uri, tagged.tag, waited)
    fix = (
        "in the Cloud Deploy pipeline, give the canary a tag (strategy.canary.runtimeConfig."
        "cloudRun.canaryRevisionTags) so that it has a URL of its own"
        if options.cloud_deploy
        else "deploy it with --tag and run `gate verify --tag TAG`"
    )
    raise ConfigError(
        f"revision {revision} receives {share}% of traffic (serving: {state.serving()}) and has "
        f"no tag, so the gate cannot reach it alone: {fix}"
    )
