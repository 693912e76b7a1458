"""Orchestration: one event loop, one deadline, probes scheduled and their transcripts judged.

``check`` runs the checks of ``gate check``; ``load`` the load-like checks
(``ws.concurrency``, ``latency``); ``verify`` a whole ``gate verify`` (resolve,
check, read logs, act); ``logs`` polls Cloud Logging until it settles; ``loop``
owns the event loop and its executor.
"""
