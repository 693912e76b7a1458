"""The line shapes of uncaught-exception reports, shared by the Logging query and the judge.

:mod:`gate.cloud.logs` sends :data:`LINE_PATTERN` in its Logging query (a
regular expression searched with ``=~``, RE2), so that only lines of this
shape are listed whatever their severity; :mod:`gate.checks.uncaught` reads
the same shapes to put the lines back together into reports. One table for
both, so that what is selected and what is understood never drift apart.
"""

from __future__ import annotations

# The line shapes travel in a Logging query, so they are written without a backslash or a
# quote (``[(]`` for ``\(``, ``[0-9]`` for ``\d``, ``[!-~]`` for a visible character and
# ``[^!-~]`` for a blank): the same text is then one regular expression in RE2 and in Python,
# whatever escaping a query string undergoes.
HEADERS: dict[str, str] = {
    "python": "Traceback [(]most recent call last[)]:",
    "java": "Exception in thread .*",
    "go": "(?:http: )?(?:panic(?: serving [!-~]+)?|fatal error): .*",
    "ruby": "[!-~]+:[0-9]+:in .*: .* [(][A-Z][A-Za-z0-9_:]*[)]",
    "php": "(?:PHP )?(?:Fatal|Parse) error: .*",
    "dotnet": "Unhandled [Ee]xception[.:] .*",
}
EXCEPTION = "(?:[A-Za-z_$][A-Za-z0-9_.$]*)?(?:Error|Exception|Exit|Interrupt)[A-Za-z0-9_]*(?::.*)?"
FRAMES: dict[str, str] = {
    "python": "[^!-~]+File .*, line [0-9]+.*",
    "at": "[^!-~]+at [!-~].*",
    "go_file": "[^!-~]+[!-~]+[.]go:[0-9]+.*",
    "go_func": "[A-Za-z0-9_./*()-]+[(].*[)]",
    "ruby": "[^!-~]+from [!-~]+:[0-9]+:in .*",
    "php": "PHP[^!-~]+[0-9]+[.] .*",
}
OTHER = (
    "Caused by: .*",
    "[^!-~]+[.][.][.] [0-9]+ more",
    "goroutine [0-9]+ .*:",
    "PHP Stack trace:",
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
LINE_PATTERN = (
    "(?m)^(?:" + "|".join((*HEADERS.values(), EXCEPTION, *FRAMES.values(), *OTHER)) + ")$"
)
"""Every line of an uncaught-exception report, as one RE2 (and Python) expression."""
