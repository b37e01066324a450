"""Dask worker preload for tests: the worker drops to user `nobody`, like a worker on another machine
that does not share the raw dir's permissions (tests/test_engine_dask.py)."""

import os


def dask_setup(worker) -> None:
    os.setgid(65534)
    os.setuid(65534)
