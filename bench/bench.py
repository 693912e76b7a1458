"""Benchmark: the gate as a whole process against the cheapest process doing its chain, and scaling.

Run it with ``make bench`` (or ``.venv/bin/python bench/bench.py --delay-ms 50``). It starts
the sandbox as a separate process with an injected delay on every HTTP answer, upgrade and
reply (a stand-in for network distance), then measures, each figure the median of
``--repeat`` runs after one warm-up, with only public tools (subprocess and os.wait4):

(a) ``gate check URL`` as a whole process against ``bench/floor.py``, the cheapest process
    that walks the same dependent chain (connect, upgrade, one exchange) with its imports,
    run pair by pair (A, B, A, B ...) so the ratio holds when the machine's speed drifts;
    once with a ready token (``GATE_TOKEN``) and once minting HS256 (``GATE_JWT_SECRET``);
(b) ``gate check`` run time as its report states it, against the network floor
    (2 x delay: the upgrade, then the exchange), and a plain sequential
    requests + websockets script doing the same checks one after the other;
(c) ``gate --help`` start-up;
(d) 1 vs 50 targets and 1 vs 100 vs 1000 (the maximum) connections: wall time and peak
    memory (max RSS).

It prints a table. This is a benchmark, not a test: it asserts nothing, and CI does not run it.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

SECRET = secrets.token_urlsafe(32)
GATE = [sys.executable, "-m", "gate"]
FLOOR = [sys.executable, str(Path(__file__).parent / "floor.py")]


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


def paired(
    a: list[str], b: list[str], env: dict[str, str], repeat: int
) -> tuple[float, float, float]:
    """Median wall of A, of B, and of the ratio A/B, run A B A B ... after one warm-up pair."""
    walls_a, walls_b, ratios = [], [], []
    for index in range(repeat + 1):
        wall_a, _rss, code_a = run_process(a, env)
        wall_b, _rss, code_b = run_process(b, env)
        if code_a or code_b:
            raise SystemExit(f"a measured process failed: {a} -> {code_a}, {b} -> {code_b}")
        if index:
            walls_a.append(wall_a)
            walls_b.append(wall_b)
            ratios.append(wall_a / wall_b)
    return statistics.median(walls_a), statistics.median(walls_b), statistics.median(ratios)


def ready_token() -> str:
    return jwt.encode({"sub": "bench", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


def sequential_script(url: str, token: str) -> float:
    """The same checks, written the obvious way: one after the other."""
    started = time.perf_counter()
    forged = jwt.encode(
        {"sub": "bench", "exp": int(time.time()) + 300}, "x" * 32, algorithm="HS256"
    )

    def protocol(value: str) -> str:
        return "jwt." + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")

    assert requests.get(f"{url}/health", timeout=10).status_code == 200
    ws = url.replace("http://", "ws://") + "/ws"
    with connect(ws, subprotocols=[protocol(token), "chat.v1"], open_timeout=10) as socket_:  # type: ignore[list-item]
        socket_.send('{"type":"ping"}')
        socket_.recv(timeout=10)
    for credential in (None, forged):
        offered = [protocol(credential)] if credential else ["chat.v1"]
        try:
            with connect(ws, subprotocols=offered, open_timeout=10):  # type: ignore[arg-type]
                pass
        except InvalidStatus:
            pass
    return time.perf_counter() - started


def targets_config(url: str, count: int, folder: Path) -> Path:
    path = folder / f"targets-{count}.toml"
    body = 'subprotocol = ["chat.v1"]\n' + "".join(
        f'[[targets]]\nname = "t{i}"\nurl = "{url}"\n' for i in range(count)
    )
    path.write_text(body)
    return path


def scaling(
    label: str, args_of: dict[int, list[str]], env: dict[str, str], repeat: int
) -> list[tuple[str, str, str]]:
    rows = []
    walls = {}
    for count, args in args_of.items():
        runs = [run_process(args, env) for _ in range(repeat)]
        walls[count] = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        rows.append(
            (f"{count} {label}: wall, peak RSS", f"{walls[count] * 1000:.0f} ms", f"{rss:.0f} MiB")
        )
    low, *higher = sorted(walls)
    for high in higher:
        rows.append((f"{high} {label} vs {low}", f"{walls[high] / walls[low]:.2f}x", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=10)
    options = parser.parse_args()
    delay = options.delay_ms / 1000.0
    repeat = options.repeat
    base = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    token = ready_token()
    with_token = {**base, "GATE_TOKEN": token, "NO_COLOR": "1"}
    minting = {**base, "GATE_JWT_SECRET": SECRET, "NO_COLOR": "1"}
    rows: list[tuple[str, str, str]] = []

    with sandbox(options.delay_ms) as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = url.replace("http://", "ws://") + "/ws"
        check = [*GATE, "check", url, "--subprotocol", "chat.v1"]
        for label, env in (("ready token", with_token), ("minted HS256", minting)):
            gate_s, floor_s, ratio = paired(check, [*FLOOR, ws], env, repeat)
            rows += [
                (f"floor process ({label})", f"{floor_s * 1000:.0f} ms", "1.00x"),
                (f"gate check process ({label})", f"{gate_s * 1000:.0f} ms",
                 f"{ratio:.2f}x floor (target 1.2x)"),
            ]  # fmt: skip

        report = folder / "report.json"

        def run_ms() -> float:
            run_process([*check, "--report-json", str(report)], with_token)
            return float(json.loads(report.read_text())["duration_ms"])

        run_ms()
        gate_run = statistics.median(run_ms() for _ in range(repeat)) / 1000.0
        sequential_script(url, token)
        script = statistics.median(sequential_script(url, token) for _ in range(repeat))
        rows += [
            ("network floor (upgrade + exchange)", f"{2 * delay * 1000:.0f} ms", "1.00x"),
            ("gate check run (its report)", f"{gate_run * 1000:.0f} ms", f"{gate_run / (2 * delay):.2f}x network"),
            ("sequential requests + websockets script", f"{script * 1000:.0f} ms", f"{script / gate_run:.2f}x gate run"),
        ]  # fmt: skip

        help_s = statistics.median(run_process([*GATE, "--help"], base)[0] for _ in range(repeat))
        rows.append(("start-up: gate --help", f"{help_s * 1000:.0f} ms", ""))

        rows += scaling(
            "target(s)",
            {n: [*GATE, "check", "--config", str(targets_config(url, n, folder))] for n in (1, 50)},
            with_token,
            repeat,
        )
        rows += scaling(
            "connection(s)",
            {n: [*check, "--connections", str(n)] for n in (1, 100, 1000)},
            with_token,
            repeat,
        )

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"smoke-gate benchmark · injected delay {options.delay_ms:g} ms · median of {repeat} · {machine}"
    )
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}".rstrip())


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
