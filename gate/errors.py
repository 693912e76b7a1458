"""The gate's exception tree and its one table of exit codes.

Failures of the *target* are never exceptions: probes record them as data in
transcripts and checks turn them into diagnoses. The exceptions below stop a
run before or outside that flow::

    GateError                 base; a one-line message that ends with what to do
    ├── ConfigError           bad input from the user: exit code 2
    └── GateFailure           the gate could not complete its own work: exit code 3

A bug in the gate is none of these: it still crashes with a traceback, and the
command line's top-level net turns it into exit code 3 (never 1, which a
pipeline reads as "the release failed"). Messages never contain secret values:
callers name the variable or file that holds a secret, never its content.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Every exit code the gate uses: a contract (README, "Exit codes")."""

    PASS = 0
    """The release passed (warnings allowed unless ``--strict``)."""
    FAIL = 1
    """The release failed: a check failed (or warned, with ``--strict``)."""
    USAGE = 2
    """Bad input: one line on stderr names the value and what to do."""
    GATE = 3
    """The gate could not finish its own work, or hit a bug of its own."""
    INTERRUPTED = 130
    """SIGINT (Ctrl-C) stopped the run; the reports say what was interrupted."""
    TERMINATED = 143
    """SIGTERM stopped the run (a CI job cancelled); the reports say what was interrupted."""


class GateError(Exception):
    """Base class for errors the CLI reports as one line and an exit code."""

    exit_code = ExitCode.GATE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GateError):
    """The user's input is unusable (malformed URL, missing variable, unreadable file)."""

    exit_code = ExitCode.USAGE


class GateFailure(GateError):
    """The gate could not finish its own work (e.g. a Cloud API refused or is unreachable)."""

    exit_code = ExitCode.GATE
