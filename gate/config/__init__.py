"""User input to frozen settings: options, ``GATE_*`` variables, ``gate.toml``, credentials.

Everything the user gives is checked here, before any network I/O; a bad
value is a :class:`~gate.errors.ConfigError` naming the value and what to do.
"""
