"""Cloud Logging and Cloud Monitoring reads per run, for 1, 10 and 50 targets in one project.

    .venv/bin/python bench/reads.py [--targets 1,10,50]

Logging reads share one quota per project (about 60 list calls a minute) with
every reader of the project, so what a run costs in reads decides how many runs
a project can take at once. For each count it deploys that many services to the
project's local Cloud Run (one emulator: one project), each with a tagged
candidate, and runs ``gate verify --config targets.toml`` as a separate process
twice: a plain verify (``--log-settle 2``), and a one-step canary (``--canary
50``, metrics sampled per second and visible within a second). It counts the
``ListLogEntries`` and ``ListTimeSeries`` calls the emulator answered.

It prints a table. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gate.sandbox.localrun import LocalCloudRun

GATE = [sys.executable, "-m", "gate"]
COMMON = 'project = "demo-project"\nregion = "europe-west1"\nsubprotocol = ["chat.v1"]\n'


def call(loop: asyncio.AbstractEventLoop, work: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(work, loop).result(120)


def measure(count: int, secret: str, folder: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Reads by method of a plain verify and of a one-step canary, over ``count`` targets."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    first = LocalCloudRun("svc0", jwt_secret=secret, log_delay_s=0.1, metric_clock=(1.0, 1.0))
    clouds = [first] + [
        LocalCloudRun(f"svc{i}", jwt_secret=secret, emulator=first.emulator)
        for i in range(1, count)
    ]
    earlier = datetime.now(UTC) - timedelta(hours=1)
    try:
        for cloud in clouds:
            call(loop, cloud.__aenter__())
            call(loop, cloud.deploy(f"{cloud.service}-1", created=earlier))
            call(loop, cloud.deploy(f"{cloud.service}-2", traffic=False, tag="candidate"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
        env.update(first.env)
        env.update({"GATE_JWT_SECRET": secret, "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent",
                    "GRPC_VERBOSITY": "ERROR"})  # fmt: skip
        targets = "".join(
            f'[[targets]]\nname = "{c.service}"\nservice = "{c.service}"\n' for c in clouds
        )
        runs = {
            "verify": 'log_settle = 2\ntag = "candidate"\n',
            "canary": 'log_settle = 0.2\ntag = "candidate"\ncanary = "50"\nstep_bake = 1\n'
            "probe_interval = 1\nmetrics_period = 1\nmetrics_delay = 1\n",
        }
        found = []
        for name, extra in runs.items():
            config = folder / f"{name}-{count}.toml"
            config.write_text(COMMON + extra + targets)
            first.emulator.calls.clear()
            subprocess.run(
                [*GATE, "verify", "--config", str(config)], env=env, capture_output=True,
                check=False, timeout=600,
            )  # fmt: skip
            methods = [c.method for c in first.emulator.calls]
            found.append({m: methods.count(m) for m in ("ListLogEntries", "ListTimeSeries")})
        return found[0], found[1]
    finally:
        for cloud in clouds:
            with contextlib.suppress(Exception):
                call(loop, cloud.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="1,10,50")
    options = parser.parse_args()
    counts = [int(c) for c in options.targets.split(",")]
    print("smoke-gate reads per run, every target in one project")
    print(f"  {'targets':>7}  {'verify: Logging':>15}  {'canary: Logging':>15}  "
          f"{'canary: Monitoring':>18}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            plain, canary = measure(count, secrets.token_urlsafe(32), Path(tmp))
            print(f"  {count:>7}  {plain['ListLogEntries']:>15}  {canary['ListLogEntries']:>15}  "
                  f"{canary['ListTimeSeries']:>18}")  # fmt: skip


if __name__ == "__main__":
    main()
