"""The live progress line on a terminal: read from a pseudo-terminal, as a user sees it.

It names the phase and counts down what it waits for; it is drawn only on a terminal, cut
to its width, and cleared before the report.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from typing import Any

from tests.conftest import SECRET

_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _on_a_terminal(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``gate ARGS`` with stderr on a pseudo-terminal; its exit code, stdout, and every
    state the live line went through (one per redraw)."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    full_env.update({"COLUMNS": "120", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "gate", *args], stdout=subprocess.PIPE, stderr=follower,
        env=full_env, text=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    ends = time.monotonic() + 90
    while time.monotonic() < ends:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout, _ = process.communicate(timeout=30)
    live = _ESCAPES.sub("", seen.decode("utf-8", "replace"))
    return process.returncode, stdout, live


def _states(live: str) -> list[str]:
    return [part.strip() for part in live.split("\r") if part.strip()]


def test_the_first_message_wait_counts_up_to_its_limit(sandbox: Any) -> None:
    server = sandbox(fault="silent")
    code, stdout, live = _on_a_terminal(
        ["check", server.url, "--subprotocol", "chat.v1", "--no-check-auth",
         "--message-timeout", "3"],
        {"GATE_JWT_SECRET": SECRET},
    )  # fmt: skip
    assert code == 1, stdout
    states = _states(live)
    counts = [s for s in states if s.startswith("... waiting for the first message ")]
    assert counts, states
    assert {
        "... waiting for the first message 1/3 s",
        "... waiting for the first message 2/3 s",
    } <= set(counts)
    assert all(len(s) <= 119 for s in states)  # cut to the terminal, never wrapped
    assert "\r" not in stdout  # the report itself has no live line in it


def test_the_demo_shows_its_progress(sandbox: Any) -> None:
    code, stdout, live = _on_a_terminal(["demo", "--fault", "crash"])
    assert code == 1, stdout
    states = _states(live)
    assert "... deploying the revisions to the local Cloud Run" in states
    assert any(s.startswith("... log settle ") and s.endswith(" s (reading Cloud Logging)")
               for s in states), states  # fmt: skip


def test_nothing_is_drawn_when_stderr_is_no_terminal(sandbox: Any) -> None:
    server = sandbox()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "check", server.url, "--no-check-auth"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GATE_")}},
    )  # fmt: skip
    assert done.stderr == ""


def test_a_canary_step_counts_down_its_bake_with_the_rounds_so_far() -> None:
    code, stdout, live = _on_a_terminal(["demo", "--canary"])
    assert code == 1, stdout
    states = _states(live)
    bakes = [s for s in states if re.fullmatch(r"\.\.\. step 20%: bake \d+ s left, \d+ probe "
                                              r"rounds? passed so far", s)]  # fmt: skip
    assert bakes, states
    assert any(s.startswith("... step 20%: probe round 1") for s in states)
