"""``gate demo`` as a user runs it: every fault, as a process, with its stderr read.

Shutting the sandbox and the local Cloud Run down is silent on every fault: a traceback
after the verdict reads as the gate crashing (the field's "CancelledError" reports). The
demo also says what it shortens, and rides out its own cold start as a real run would.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gate.sandbox.faults import DEMO_FAULTS, FAULTS

_AT_ONCE = 6  # the demos mostly wait: several at a time keep the suite's time down


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", "demo", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def every_demo() -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    runs = [("--fault", name) for name in sorted({*FAULTS, *DEMO_FAULTS})]
    runs += [("--canary",), ("--canary", "--fault", "none")]
    with ThreadPoolExecutor(_AT_ONCE) as pool:
        return dict(zip(runs, pool.map(lambda args: _demo(*args), runs), strict=True))


def test_every_demo_ends_without_a_traceback(
    every_demo: dict[tuple[str, ...], subprocess.CompletedProcess[str]],
) -> None:
    for args, done in every_demo.items():
        assert done.stderr == "", f"gate demo {' '.join(args)} wrote to stderr:\n{done.stderr}"
        assert done.returncode in (0, 1), f"gate demo {' '.join(args)}: exit {done.returncode}"
        assert "verdict: " in done.stdout


def test_the_demo_names_what_it_shortens(
    every_demo: dict[tuple[str, ...], subprocess.CompletedProcess[str]],
) -> None:
    first = " ".join(every_demo[("--fault", "none")].stdout.split("\n\n")[0].split())
    assert first.startswith("demo: shortened for a quick run: --deadline 20s (default 60s),")
    assert "--retry-budget 6s (default 30s)" in first
    canary = " ".join(every_demo[("--canary",)].stdout.split("\n\n")[0].split())
    assert "--step-bake 3s (default 60s)" in canary
    assert "--min-requests 30 (default 100)" in canary


def test_the_demo_rides_out_its_cold_start(
    every_demo: dict[tuple[str, ...], subprocess.CompletedProcess[str]],
) -> None:
    done = every_demo[("--fault", "cold-start")]
    assert done.returncode == 0, done.stdout
    assert "PASS  http.health" in done.stdout


def test_sandbox_serve_stops_silently_on_sigterm_with_connections_open() -> None:
    import signal
    import socket
    import time

    server = subprocess.Popen(
        [sys.executable, "-m", "gate", "sandbox", "serve", "--fault", "hang", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    line = server.stdout.readline()
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    for sock in held:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)  # the connections are accepted and their handlers hang
    server.send_signal(signal.SIGTERM)
    _out, err = server.communicate(timeout=10)
    for sock in held:
        sock.close()
    assert err == ""
    assert server.returncode == 0


def test_the_demo_canary_writes_its_html_report(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = _demo("--canary", "--report-html", str(page))
    assert done.returncode == 1, done.stdout
    text = page.read_text()
    assert text.count('<figure class="metric">') == 2  # the failed first step: 5xx and p95
    assert '<svg class="share"' in text
    assert "<script" not in text
