"""The gate's own exception hierarchy.

Failures of the *target* are never exceptions: probes record them as data in
transcripts and checks turn them into diagnoses. The exceptions below are for
the two things that stop a run before or outside that flow::

    GateError                 base; carries a one-line message that ends with what to do
    ├── ConfigError           bad input from the user: exit code 2
    └── GateFailure           the gate could not complete its own work: exit code 3

A bug in the gate is none of these and still crashes with a traceback.
Messages never contain secret values: callers name the variable or file that
holds a secret, never its content.
"""

from __future__ import annotations


class GateError(Exception):
    """Base class for errors the CLI reports as one line and an exit code."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GateError):
    """The user's input is unusable (malformed URL, missing variable, unreadable file)."""

    exit_code = 2


class GateFailure(GateError):
    """The gate could not finish its own work (e.g. a local resource is unavailable)."""

    exit_code = 3
