"""Checks: pure functions from transcripts to :class:`~gate.checks.result.CheckResult`.

No module here imports a network library; every check can be tested on
hand-built transcripts. A check never reports work it did not do: when its
probe could not run, it reports ``skip`` with the reason.
"""
