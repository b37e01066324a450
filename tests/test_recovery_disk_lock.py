"""A full disk, a deleted lock file, another run's staging: real processes, a real small disk.

- On a full disk the run exits 1 with the real error ("No space left on device") first and once,
  and leaves no staging file; after space is freed the rerun finishes.
- Deleting `_state/lock` while a run holds it lets no second run in.
- Cleaning staging removes only folders no live run holds.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from helpers_pipeline import REPO, cli_command, cli_env, generate_corpus, read_articles
from helpers_recovery import mount_namespace_prefix
from jobs.lake.lock import remove_abandoned_staging

pytestmark = pytest.mark.slow  # real processes on a real small disk

FILES = 600
LONG_FILES = 4000


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("disk") / "raw"
    generate_corpus(raw, FILES, days=30, salt="满盘")
    return raw


def test_a_full_disk_reports_its_real_error_once_and_leaves_no_staging(raw, tmp_path):
    prefix = mount_namespace_prefix()
    disk, logs = tmp_path / "disk", tmp_path / "logs"
    disk.mkdir()
    logs.mkdir()
    ingest = " ".join(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(disk / "out"), "--workers", "1"))
    script = f"""
set -u
mount -t tmpfs -o size=400k tmpfs {disk}
{ingest} >{logs}/out1 2>{logs}/err1; echo $? >{logs}/rc1
find {disk}/out >{logs}/find1
mount -o remount,size=64m {disk}
{ingest} >{logs}/out2 2>{logs}/err2; echo $? >{logs}/rc2
find {disk}/out -name '*.parquet' -path '*articles*' | wc -l >{logs}/partitions2
"""
    done = subprocess.run(prefix + ["sh", "-c", script], cwd=REPO, env=cli_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    read = lambda name: (logs / name).read_text()
    assert read("rc1").strip() == "1"
    err = read("err1")
    assert err.startswith("error: No space left on device"), err
    assert err.count("No space left on device") <= 2 and len(err.strip().splitlines()) == 1  # (the errno text, once quoted)
    assert "Traceback" not in err and "During handling" not in err
    assert "_staging" not in read("find1"), read("find1")
    assert read("rc2").strip() == "0", read("err2")
    assert f"{FILES} parsed" in read("out2")
    assert int(read("partitions2")) > 0


@pytest.fixture(scope="module")
def long_raw(tmp_path_factory):
    """Enough files that a run outlasts a second process's start-up (several seconds)."""
    raw = tmp_path_factory.mktemp("lock") / "raw"
    generate_corpus(raw, LONG_FILES, days=40, salt="锁")
    return raw


def test_deleting_the_lock_file_mid_run_lets_no_second_run_in(long_raw, tmp_path):
    raw, out = long_raw, tmp_path / "out"
    args = cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", "--log-json")
    log = tmp_path / "first.log"
    with open(log, "wb") as err:
        first = subprocess.Popen(args, cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while '"event": "run_started"' not in log.read_text(errors="replace"):
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        (out / "_state" / "lock").unlink()
        second = subprocess.run(args[:-1], cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=120)
        assert second.returncode == 3, second.stdout + second.stderr
        assert first.poll() is None, "the first run ended before the second tried: nothing was tested"
        assert "is locked by" in second.stderr
        assert first.wait(timeout=120) == 0, log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
    rows = read_articles(out)
    assert len(rows) == LONG_FILES == len({r["article_id"] for r in rows})
    assert not (out / "_staging").exists()


HOLD = """
import sys, time
from pathlib import Path
from jobs.lake.lock import StagingFolder
folder = StagingFolder(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(120)
"""


def test_cleaning_staging_never_removes_a_live_runs_folder(tmp_path):
    root = tmp_path / "_staging"
    live, abandoned = root / "live-run", root / "killed-run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(live)], cwd=REPO, env=cli_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (live / "1.parquet.tmp").write_bytes(b"a live run's staged file")
        abandoned.mkdir()
        (abandoned / "1.parquet.tmp").write_bytes(b"left by a killed run")
        assert remove_abandoned_staging(root) == ["killed-run"]
        assert (live / "1.parquet.tmp").exists() and not abandoned.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_abandoned_staging(root) == ["live-run"]  # its run is gone: now it is abandoned
    assert not root.exists()
