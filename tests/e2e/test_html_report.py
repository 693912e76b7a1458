"""The HTML report in a real browser: Debian's headless Chromium opens ``--report-html`` with
the network off (every host unresolvable, a proxy that accepts nothing) and finds one chart per
metric per step.

CI installs Chromium (``.ci/run``, Debian's package) and sets ``GATE_REQUIRE_CHROMIUM``, so
there the test runs or fails; on a machine without it the test says how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_OFFLINE = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
]  # fmt: skip


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("GATE_REQUIRE_CHROMIUM"):
            pytest.fail("GATE_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    return CHROMIUM


def test_chromium_renders_one_chart_per_metric_per_step_offline(tmp_path: Path) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    demo = subprocess.run(
        [sys.executable, "-m", "gate", "demo", "--canary", "--fault", "none",
         "--report-html", str(page)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    shown = subprocess.run(
        [browser, *_OFFLINE, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = shown.stdout
    steps = len(re.findall(r"<circle ", dom))  # one mark per step on the share chart
    assert steps == 2  # 20% and 50%
    assert len(re.findall(r'<figure class="metric">', dom)) == 2 * steps  # 5xx and p95 each
    assert '<svg class="waterfall"' in dom
