"""`gate demo` runs as a user runs it: a subprocess, a pass then the named failure."""

from __future__ import annotations

import subprocess
import sys


def test_demo_shows_a_pass_then_the_named_failure() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gate", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "verdict: PASS (exit 0)" in done.stdout
    assert "closed_by_server" in done.stdout
    assert "Traceback" not in done.stderr
