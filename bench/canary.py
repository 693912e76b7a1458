"""What a canary step costs besides its bake: API calls, and seconds outside the bake.

    .venv/bin/python bench/canary.py [--bake 2] [--repeat 3]

Runs ``gate verify --tag candidate --canary ... --promote`` as a separate process
against the project's local Cloud Run (emulator, router, sandbox revisions),
served from a loop thread of this process with synthetic users calling the
service URL, once with one step and once with three, ``--repeat`` times each.
It reports, per step:

* API calls (the three-step run's calls minus the one-step run's, halved), by
  method: the traffic update and its operation polls, Logging list calls,
  Monitoring ``ListTimeSeries``;
* seconds after the bake (the wait for the window's metrics to be visible,
  here a 1 s period and a 1 s delay, the last round's overrun, the logs and
  metrics reads) and between steps (the traffic change and its operation), from the
  report's step timestamps.

It prints a table. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gate.sandbox.localrun import LocalCloudRun
from gate.sandbox.traffic import UserTraffic

GATE = [sys.executable, "-m", "gate"]
OLD, NEW = "svc-00001-old", "svc-00002-new"


class Cloud:
    """A local Cloud Run served from a loop thread, with synthetic users."""

    def __init__(self, secret: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        # Google's metric clock (per 60 s, visible up to 180 s later), run faster.
        self.local = LocalCloudRun(
            "svc", jwt_secret=secret, log_delay_s=0.1, metric_clock=(1.0, 1.0)
        )
        self.secret = secret
        self.users: UserTraffic | None = None

    def call(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def __enter__(self) -> Cloud:
        self.thread.start()
        self.call(self.local.__aenter__())
        self.call(self.local.deploy(OLD, created=datetime.now(UTC) - timedelta(hours=1)))
        self.call(self.local.deploy(NEW, traffic=False, tag="candidate"))
        self.users = UserTraffic(self.local.url, self.secret, 150)

        async def start() -> None:
            assert self.users is not None
            self.users.start()

        self.call(start())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.users is not None:
            self.call(self.users.stop())
        self.call(self.local.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)

    def reset(self) -> None:
        """Traffic back to the old revision, the candidate tagged, the call log empty."""
        self.local.emulator.request_traffic("svc", [(OLD, 100), (NEW, 0, "candidate")])
        self.local.emulator.calls.clear()


def run(cloud: Cloud, steps: str, bake: float, folder: Path) -> tuple[Counter[str], dict[str, Any]]:
    """One rollout; the calls it made by method, and its report."""
    cloud.reset()
    report = folder / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    env.update(cloud.local.env)
    env.update({"GATE_JWT_SECRET": cloud.secret, "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent",
                "GRPC_VERBOSITY": "ERROR"})  # fmt: skip
    args = [
        "verify", "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        "--tag", "candidate", "--canary", steps, "--promote", "--subprotocol", "chat.v1",
        "--step-bake", str(bake), "--probe-interval", "1", "--metrics-delay", "1",
        "--metrics-period", "1",
        "--min-requests", "20", "--log-settle", "0.2", "--report-json", str(report),
    ]  # fmt: skip
    subprocess.run([*GATE, *args], env=env, capture_output=True, check=False, timeout=300)
    calls = Counter(c.method for c in cloud.local.emulator.calls)
    return calls, json.loads(report.read_text())


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bake", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    after: list[float] = []
    between: list[float] = []
    per_step: Counter[str] = Counter()
    with Cloud(secrets.token_urlsafe(32)) as cloud, tempfile.TemporaryDirectory() as tmp:
        for _ in range(options.repeat):
            one, _report = run(cloud, "50", options.bake, Path(tmp))
            three, report = run(cloud, "10,25,50", options.bake, Path(tmp))
            for method in set(one) | set(three):
                per_step[method] += (three[method] - one[method]) / 2 / options.repeat
            steps = report["steps"]
            after += [s["duration_ms"] / 1000 - options.bake for s in steps]
            between += [
                _seconds(b["started_at"]) - _seconds(a["started_at"]) - a["duration_ms"] / 1000
                for a, b in itertools.pairwise(steps)
            ]
    print(f"smoke-gate canary step overhead · bake {options.bake:g} s · {options.repeat} runs")
    for method, count in sorted(per_step.items()):
        if count > 0:
            print(f"  {method:<22} {count:5.1f} calls per step")
    print(f"  {'after the bake':<22} {statistics.median(after) * 1000:5.0f} ms per step (median)")
    print(f"  {'between steps':<22} {statistics.median(between) * 1000:5.0f} ms per step (median)")


if __name__ == "__main__":
    main()
