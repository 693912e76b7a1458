"""Renderers: pure functions from a :class:`~gate.runner.RunResult` to text or JSON."""
