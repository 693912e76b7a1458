"""smoke-gate: a post-deploy gate for Cloud Run services.

The package is layered so that each layer can be tested on its own:
``probes`` do network I/O and return frozen transcripts, ``checks`` judge
transcripts as pure functions, ``runner`` schedules probes under one deadline,
``report`` renders results, and ``cli`` is the only place that prints or exits.
"""

__version__ = "0.1.0"
