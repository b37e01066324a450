"""Stage 3: a run: plan, the unit of work, the engine that runs it, merge, swap, commit.

Imports `jobs.parse`, `jobs.lake`, `schemas` and `jobs.errors`.
"""
