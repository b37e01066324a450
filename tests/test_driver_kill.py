"""No worker outlives its driver: SIGKILL `articles ingest --workers 2` mid-run and its whole process tree goes."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from helpers_pipeline import cli_command, cli_env, generate_corpus
from paths import REPO


def _tree_once_workers_run(driver: psutil.Process, timeout: float = 60) -> list[psutil.Process]:
    """The driver's descendants once both workers, the forkserver and the resource tracker exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = driver.children(recursive=True)
        if len(tree) >= 4:
            return tree
        time.sleep(0.05)
    raise AssertionError(f"no workers after {timeout} s: {driver.children(recursive=True)}")


@pytest.mark.slow
@pytest.mark.parametrize("reaped", [False, True], ids=["driver-not-yet-reaped", "driver-reaped"])
def test_killing_the_driver_leaves_no_process_of_its_tree(tmp_path: Path, reaped: bool):
    """Not reaped: a dead driver stays a zombie until its parent waits, and kill(pid, 0) still
    answers for a zombie (the old watch kept the workers, forkserver and tracker alive then)."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    generate_corpus(raw, 3000)
    for delay in (0.2, 1.0):
        driver = subprocess.Popen(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "2"),
                                  cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            tree = _tree_once_workers_run(psutil.Process(driver.pid))
            time.sleep(delay)
            tree = psutil.Process(driver.pid).children(recursive=True) or tree
            assert driver.poll() is None, "the run ended before the kill: make the corpus bigger"
            driver.send_signal(signal.SIGKILL)
            if reaped:
                driver.wait()
            deadline = time.monotonic() + 5
            alive = tree
            while alive and time.monotonic() < deadline:
                time.sleep(0.1)
                alive = [p for p in tree if _running(p)]
            assert not alive, [(p.pid, p.cmdline()[-1][:60]) for p in alive]
        finally:
            driver.kill()
            driver.wait()


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
