"""Exit codes, through Typer's CliRunner and through a real subprocess:
0 ok, 2 usage error, 3 output locked, 4 too many rejects."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import NamedTuple

import pytest

from helpers_cli import invoke
from helpers_pipeline import REPO, article_text, cli_env, copy_samples, read_articles, run_cli, write_raw
from jobs.lake.lock import OutputLock


class Outcome(NamedTuple):
    code: int
    stdout: str
    stderr: str


def via_cli_runner(*args: str) -> Outcome:
    result = invoke(*args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def via_subprocess(*args: str) -> Outcome:
    done = run_cli(*args)
    return Outcome(done.returncode, done.stdout, done.stderr)


@pytest.fixture(params=["cli_runner", "subprocess"])
def articles(request):
    return via_cli_runner if request.param == "cli_runner" else via_subprocess


@pytest.fixture
def raw(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    return raw


def test_ok_is_0_with_a_one_line_summary(articles, raw, tmp_path):
    outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), "--workers", "1")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.count("\n") == 1 and outcome.stdout.startswith("ingest ok: 26 files seen")


def test_missing_raw_dir_is_2(articles, tmp_path):
    outcome = articles("ingest", "--raw-dir", str(tmp_path / "nope"), "--out-dir", str(tmp_path / "out"))
    assert outcome.code == 2
    assert "nope does not exist" in outcome.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", [["--bogus"], ["--workers", "many"], ["--workers", "0"], ["--max-bytes", "-x"]])
def test_bad_option_is_2(articles, raw, tmp_path, bad):
    outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), *bad)
    assert outcome.code == 2, outcome
    assert not (tmp_path / "out" / "articles").exists()


def test_bad_reprocess_selection_is_2(articles, raw, tmp_path):
    assert articles("reprocess", "--raw-dir", str(raw), "--out-dir", str(tmp_path)).code == 2
    assert articles("reprocess", "--raw-dir", str(raw), "--out-dir", str(tmp_path), "--from", "08/01/2022").code == 2


def test_bad_sql_is_2(articles, raw, tmp_path):
    out = tmp_path / "out"
    assert via_cli_runner("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1").code == 0
    outcome = articles("query", "--out-dir", str(out), "SELEKT * FROM articles")
    assert outcome.code == 2 and "SQL error" in outcome.stderr
    outcome = articles("query", "--out-dir", str(out), "SELECT no_such_column FROM articles")
    assert outcome.code == 2 and "SQL error" in outcome.stderr
    assert articles("query", "--out-dir", str(out), "--format", "xml", "SELECT 1").code == 2


def test_locked_output_is_3_and_names_the_holder(articles, raw, tmp_path):
    out = tmp_path / "out"
    with OutputLock(out):
        outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1")
    assert outcome.code == 3
    assert f"pid {os.getpid()}" in outcome.stderr and "locked" in outcome.stderr
    assert not (out / "articles").exists()


def test_a_refusal_names_the_holder_even_before_it_wrote_its_pid(raw, tmp_path):
    """The instant between a run taking the lock and writing its pid into the lock file."""
    out = tmp_path / "out"
    lock_file = out / "_state" / "lock"
    lock_file.parent.mkdir(parents=True)
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        writer = threading.Timer(0.2, lambda: (handle.write(json.dumps({"pid": 4242, "started_at": "now"})), handle.flush()))
        writer.start()
        outcome = via_cli_runner("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1")
        writer.join()
    assert outcome.code == 3
    assert "locked by pid 4242" in outcome.stderr


def test_wait_waits_for_the_lock_then_succeeds(articles, raw, tmp_path):
    out = tmp_path / "out"
    lock = OutputLock(out).__enter__()
    releaser = threading.Timer(1.5, lock.__exit__, (None, None, None))
    started = time.monotonic()
    releaser.start()
    try:
        outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", "--wait", "60")
    finally:
        releaser.join()
    assert outcome.code == 0, outcome.stderr
    assert time.monotonic() - started >= 1.4
    assert len(read_articles(out)) == 26


def test_a_lock_left_by_a_sigkilled_run_is_taken_over(articles, raw, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom jobs.lake.lock import OutputLock\n"
         "with OutputLock(sys.argv[1]):\n    print('locked', flush=True)\n    time.sleep(120)\n", str(out)],
        cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1")
        assert refused.code == 3 and f"pid {holder.pid}" in refused.stderr
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert holder.returncode == -signal.SIGKILL
    assert (out / "_state" / "lock").exists()  # the file stays; the kernel dropped the flock
    outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1")
    assert outcome.code == 0, outcome.stderr


def test_too_many_rejects_is_4(articles, tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "good.md", article_text("好的", "2022-08-01 10:00:00"))
    write_raw(raw, "bad1.md", "no front matter\n")
    write_raw(raw, "bad2.md", b"")
    outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1",
                       "--max-reject-ratio", "0.5")
    assert outcome.code == 4
    assert "too_many_rejects" in outcome.stdout and "2 rejects" in outcome.stdout
    assert [r["raw_path"] for r in read_articles(out)] == ["good.md"]  # the run still committed its work
    # At or under the ratio it is a success.
    write_raw(raw, "good2.md", article_text("也好", "2022-08-01 11:00:00"))
    write_raw(raw, "bad1.md", article_text("修好", "2022-08-01 12:00:00"))
    outcome = articles("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1",
                       "--max-reject-ratio", "0.5")
    assert outcome.code == 0, outcome
