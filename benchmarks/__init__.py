"""posim's benchmark: engine speed against bare SimPy and Ciw, replications, start-up, memory.

Run it with ``python -m benchmarks`` (or ``make bench``); see ``docs/performance.md``.
It is not part of the test suite and lives outside the installed package.
"""
