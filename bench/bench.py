"""Benchmark: the gate's own cost against the network floor, start-up, and scaling.

Run it with ``make bench`` (or ``.venv/bin/python bench/bench.py --delay-ms 50``). It starts
the sandbox as a separate process with an injected delay on every HTTP answer, upgrade and
reply (a stand-in for network distance), then measures in one run:

(a) ``gate check`` wall time against the network floor, the longest dependent chain of round
    trips (upgrade, then the first exchange: 2 x delay; TCP connect on loopback is ~0), and
    against a plain sequential script written with requests + websockets doing the same
    checks (health, upgrade + exchange, three negative-credential upgrades);
(b) CLI start-up: ``gate --help``, and ``gate check`` minus the run time its report states;
(c) 1 vs 50 targets and 1 vs 100 connections: wall time and peak memory (max RSS) of the
    whole ``gate check`` process.

Each figure is the median of ``--repeat`` runs. It prints a table of ratios. This is a
benchmark, not a test: it asserts nothing, and CI does not run it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

SECRET = secrets.token_urlsafe(32)
GATE = [sys.executable, "-m", "gate"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sandbox(delay_ms: float) -> Iterator[str]:
    """The sandbox in its own process, so that it does not share a GIL with what is measured."""
    port = free_port()
    env = {**os.environ, "GATE_JWT_SECRET": SECRET}
    process = subprocess.Popen(
        [*GATE, "sandbox", "serve", "--port", str(port), "--delay-ms", str(delay_ms)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(5)


def run_process(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB, and exit code of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def median(func: Callable[[], float], repeat: int) -> float:
    return statistics.median(func() for _ in range(repeat))


def sequential_script(url: str) -> float:
    """The same checks, written the obvious way: one after the other."""
    started = time.perf_counter()
    token = jwt.encode({"sub": "bench", "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")
    forged = jwt.encode(
        {"sub": "bench", "exp": int(time.time()) + 300}, "x" * 32, algorithm="HS256"
    )
    expired = jwt.encode({"sub": "bench", "exp": int(time.time()) - 60}, SECRET, algorithm="HS256")

    def protocol(value: str) -> str:
        return "jwt." + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")

    assert requests.get(f"{url}/health", timeout=10).status_code == 200
    ws = url.replace("http://", "ws://") + "/ws"
    with connect(ws, subprotocols=[protocol(token), "chat.v1"], open_timeout=10) as socket_:
        socket_.send('{"type":"ping"}')
        socket_.recv(timeout=10)
    for credential in (None, forged, expired):
        offered = [protocol(credential)] if credential else ["chat.v1"]
        try:
            with connect(ws, subprotocols=offered, open_timeout=10):
                pass
        except InvalidStatus:
            pass
    return time.perf_counter() - started


def gate_in_process_ms(url: str) -> float:
    """``gate check`` as a library call: the run time its report states."""
    from gate.config import Settings
    from gate.runner import run_check
    from gate.tokens import TokenSpec, load_credential

    settings = Settings(url=url, subprotocols=("chat.v1",), token=TokenSpec())
    credential = load_credential(settings.token, {"GATE_JWT_SECRET": SECRET})
    result = run_check(settings, credential)
    assert result.exit_code == 0, [c.summary for c in result.checks if c.status == "fail"]
    return result.duration_ms


def targets_config(url: str, count: int, folder: Path) -> Path:
    path = folder / f"targets-{count}.toml"
    body = 'subprotocol = ["chat.v1"]\n' + "".join(
        f'[[targets]]\nname = "t{i}"\nurl = "{url}"\n' for i in range(count)
    )
    path.write_text(body)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    delay = options.delay_ms / 1000.0
    repeat = options.repeat
    env = {**os.environ, "GATE_JWT_SECRET": SECRET, "NO_COLOR": "1"}
    rows: list[tuple[str, str, str]] = []

    with sandbox(options.delay_ms) as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gate_in_process_ms(url)  # warm-up: imports, first connections
        floor = 2 * delay
        gate_s = median(lambda: gate_in_process_ms(url) / 1000.0, repeat)
        script_s = median(lambda: sequential_script(url), repeat)
        rows += [
            ("network floor (upgrade + exchange)", f"{floor * 1000:.0f} ms", "1.00x"),
            ("gate check (in-process run)", f"{gate_s * 1000:.0f} ms", f"{gate_s / floor:.2f}x floor"),
            ("sequential requests + websockets script", f"{script_s * 1000:.0f} ms",
             f"{script_s / gate_s:.2f}x gate"),
        ]  # fmt: skip

        help_s = median(lambda: run_process([*GATE, "--help"], env)[0], repeat)
        report = folder / "report.json"

        def check_startup() -> float:
            wall, _rss, _code = run_process(
                [*GATE, "check", url, "--subprotocol", "chat.v1", "--report-json", str(report)], env
            )
            return wall - json.loads(report.read_text())["duration_ms"] / 1000.0

        check_start_s = median(check_startup, repeat)
        rows += [
            ("start-up: gate --help", f"{help_s * 1000:.0f} ms", "budget 300 ms"),
            ("start-up: gate check (process - run)", f"{check_start_s * 1000:.0f} ms", "budget 300 ms"),
        ]  # fmt: skip

        for count in (1, 50):
            config = targets_config(url, count, folder)
            runs = [
                run_process([*GATE, "check", "--config", str(config)], env) for _ in range(repeat)
            ]
            wall = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            rows.append(
                (f"{count} target(s): wall, peak RSS", f"{wall * 1000:.0f} ms", f"{rss:.0f} MiB")
            )
            if count == 1:
                one_target = wall
            else:
                rows.append(("50 targets vs 1", f"{wall / one_target:.2f}x", "budget 1.5x"))
        for count in (1, 100):
            args = [*GATE, "check", url, "--subprotocol", "chat.v1", "--connections", str(count)]
            runs = [run_process(args, env) for _ in range(repeat)]
            wall = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            rows.append(
                (
                    f"{count} connection(s): wall, peak RSS",
                    f"{wall * 1000:.0f} ms",
                    f"{rss:.0f} MiB",
                )
            )
            if count == 1:
                one_connection = wall
            else:
                rows.append(("100 connections vs 1", f"{wall / one_connection:.2f}x", ""))

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"smoke-gate benchmark · injected delay {options.delay_ms:g} ms · median of {repeat} · {machine}"
    )
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
