"""The sandbox: a reference service that fails on demand, for tests, demos and users.

``gate sandbox serve --fault NAME`` starts it; ``faults.py`` lists what each
fault reproduces. Nothing in the gate's own check path imports this package.
"""
