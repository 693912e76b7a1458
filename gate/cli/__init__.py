"""The command line: click only. Parse, call, render, exit; the only layer that prints or exits.

Each command lives in its own module (``check``, ``verify``, ``traffic``,
``sandbox``); their options come from the one table (``table``); what they
print and write once the work is done is ``output``. :func:`main` is the
console script: it adds the one top-level net that turns a bug of the gate
itself into a traceback, a line saying where to report it, and exit code 3,
never 1 (which a pipeline reads as "the release failed"). Exit codes are
:class:`~gate.errors.ExitCode`.
"""

from __future__ import annotations

import sys

import click

from gate import __version__
from gate.cli.check import check
from gate.cli.output import crash, leave, stopped, usage
from gate.cli.sandbox import demo, sandbox
from gate.cli.traffic import promote, rollback, snapshot
from gate.cli.verify import verify
from gate.errors import ExitCode


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="smoke-gate")
def cli() -> None:
    """smoke-gate: a post-deploy gate for HTTP + WebSocket services on Cloud Run."""


for _command in (check, verify, snapshot, rollback, promote, demo, sandbox):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point: the net for the gate's own bugs, then an immediate exit.

    Once the command has printed and written everything, the process ends at
    once (``os._exit`` after flushing stdout and stderr) instead of running the
    interpreter's finalization: a library thread still blocked somewhere (a
    resolver that never answers) cannot hold the exit, and the ~30 ms of module
    teardown is not paid by every pipeline run.
    """
    try:
        try:
            code = cli.main(prog_name="gate", standalone_mode=False)
        except click.exceptions.Abort:  # Ctrl-C before the run began: nothing to report
            stopped("SIGINT", "nothing was run")
        except click.UsageError as error:
            usage(error)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except Exception:
            crash()
        sys.exit(code if isinstance(code, int) else ExitCode.PASS)
    except SystemExit as done:
        leave(done)
