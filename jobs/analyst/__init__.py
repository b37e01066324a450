"""Stage 4: what analysts and operators read: query, output formats, status, report, inspect.

Imports `jobs.run`, `jobs.parse`, `jobs.lake`, `schemas` and `jobs.errors`; never the CLI.
"""
