"""Checks: pure functions from transcripts to :class:`~gate.model.CheckResult`.

No module here imports a network library or does I/O; every check can be
tested on hand-built transcripts. A check never reports work it did not do:
when its probe could not run, it reports ``skip`` with the reason.
"""
