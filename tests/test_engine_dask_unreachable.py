"""`--engine dask --scheduler ADDRESS` with no scheduler there: one line and exit 2 within seconds, nothing written."""

from __future__ import annotations

import socket
import time

import pytest

from helpers_pipeline import copy_samples, run_cli
from jobs.run.engine import CONNECT_SECONDS

pytestmark = pytest.mark.slow  # imports distributed and waits CONNECT_SECONDS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", [("ingest",), ("reprocess", "--all", "--yes")], ids=" ".join)
def test_no_scheduler_at_the_address_is_one_line_and_exit_2(tmp_path, command):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = run_cli(*command, "--raw-dir", str(raw), "--out-dir", str(out), "--engine", "dask", "--scheduler", address)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: no Dask scheduler answered at {address}"), done.stderr[-3000:]
    assert elapsed < CONNECT_SECONDS + 20  # start-up included; it took 31 s and 245 lines before
    assert not out.exists()
