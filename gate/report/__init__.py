"""Reports: pure renderers from results to text, JSON, JUnit and GitHub formats; CI publishing.

Renderers take a :class:`~gate.model.RunResult` or :class:`~gate.model.MultiResult`
and return text; :mod:`gate.report.ci` decides where a CI system expects them.
"""
