"""Probes: the only code that does network I/O for checks.

Each probe returns a frozen transcript (``transcript.py``): what was sent,
what came back, timings, and any error met, recorded as data with secrets
already redacted. Errors of requests, websockets and the OS are mapped to
:class:`~gate.probes.transcript.ProbeError` kinds in one place, ``errors.py``.
"""
