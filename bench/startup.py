"""Start-up: `gate --help` and `gate check --help` against a bare `python -c "import click"`.

    python bench/startup.py --repeat 20

Each command runs as a whole process, the pairs interleaved (A, B, A, B...) so that a busy
machine slows both alike; the median of each and their ratio are printed. The goal is a
ratio of at most 2: help must not pay for the event loop, TLS or the Google libraries.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GATE = str(Path(sys.executable).with_name("gate"))
BASE = [sys.executable, "-c", "import click"]
COMMANDS = {"gate --help": [GATE, "--help"], "gate check --help": [GATE, "check", "--help"]}


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for argv in (BASE, *COMMANDS.values()):  # warm the file cache and the bytecode
        timed(argv)
    print(f"{'command':<20} {'median ms':>10} {'vs import click':>16}")
    for name, argv in COMMANDS.items():
        base, gate = [], []
        for _ in range(args.repeat):
            base.append(timed(BASE))
            gate.append(timed(argv))
        b, g = statistics.median(base), statistics.median(gate)
        print(f"{'import click':<20} {b * 1000:>10.1f}")
        print(f"{name:<20} {g * 1000:>10.1f} {g / b:>15.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
