"""Stage 2: the dataset on disk: paths, partition files, manifest and run log, lock. I/O.

Imports only `schemas` and `jobs.errors` from the project.
"""
