"""Google Cloud access: the only package that imports Google libraries, always lazily.

``gate check`` and ``gate --help`` never import this package. Everything it
returns is a plain dataclass of :mod:`gate.cloud.model`; every Google API
error is mapped to a :class:`~gate.errors.GateError` in :mod:`gate.cloud.errors`.
When ``GATE_RUN_ENDPOINT`` / ``GATE_LOGGING_ENDPOINT`` (host:port) are set, the
real clients talk plaintext gRPC to that address without credentials; nothing
else knows it may be talking to an emulator.
"""
