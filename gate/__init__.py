"""smoke-gate: a post-deploy gate for Cloud Run services.

The package is layered so that each layer can be tested on its own:
``probes`` do network I/O and return frozen transcripts, ``cloud`` talks to the
Google APIs, ``checks`` judge transcripts as pure functions, ``run`` schedules
everything under one supervisor and deadline, ``report`` renders results, and
``cli`` is the only place that prints or exits (README, "Layout").
"""

__version__ = "0.3.0"
