"""A dry-run `reprocess` while a run holds the dataset says it is locked (exit 3, naming the holder)
instead of previewing a half-done run ("would rebuild 0 partitions", exit 0); and options that could
only plan nothing or reject everything are usage errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from helpers_pipeline import article_text, cli_env, run_ingest, write_raw
from jobs.cli import app
from jobs.errors import OutputLocked
from paths import REPO

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from jobs.lake.lock import OutputLock
    with OutputLock(sys.argv[1]):
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes our stdin
""")


@pytest.fixture
def raw_and_out(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "src/a.md", article_text("一", "2022-08-01 10:00:00", author="源"))
    write_raw(raw, "src/b.md", article_text("二", "Invalid Date", author="源"))
    assert run_ingest(raw, out).exit_code == 0
    return raw, out


def _dry_run(raw, out, *args):
    return CliRunner().invoke(app, ["reprocess", "--raw-dir", str(raw), "--out-dir", str(out), *args])


def test_a_dry_run_during_a_run_says_the_dataset_is_locked(raw_and_out):
    raw, out = raw_and_out
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], cwd=REPO, env=cli_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = _dry_run(raw, out, "--all")
        assert result.exit_code == 3, result.output
        assert f"locked by pid {holder.pid}" in result.stderr and "would rebuild" not in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    after = _dry_run(raw, out, "--all")  # the run is over: the plan is shown
    assert after.exit_code == 0 and after.output.startswith("would rebuild 2 partitions")


def test_dry_runs_do_not_exclude_each_other_and_leave_no_trace(raw_and_out):
    raw, out = raw_and_out
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK.replace("OutputLock(sys.argv[1])",
                                                                        "OutputLock(sys.argv[1], shared=True)"),
                               str(out)], cwd=REPO, env=cli_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert _dry_run(raw, out, "--all").exit_code == 0
        with pytest.raises(OutputLocked):  # ...but a run waits for them (here: --wait 0, so it is refused)
            run_ingest(raw, out)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert sorted(p.relative_to(out) for p in out.rglob("*") if "_staging" not in p.parts) == before


@pytest.mark.parametrize("args, message", [
    (["--from", "2022-08-02", "--to", "2022-08-01"], "--from 2022-08-02 is after --to 2022-08-01"),
    (["--from", "2022-08-02", "--to", "2022-08-01", "--yes"], "--from 2022-08-02 is after --to 2022-08-01"),
])
def test_an_inverted_date_range_is_a_usage_error(raw_and_out, args, message):
    raw, out = raw_and_out
    result = _dry_run(raw, out, *args)
    assert result.exit_code == 2 and message in result.stderr, result.output


@pytest.mark.parametrize("value", ["-5", "0"])
def test_max_bytes_below_one_is_a_usage_error(raw_and_out, value):
    raw, out = raw_and_out
    result = CliRunner().invoke(app, ["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--max-bytes", value])
    assert result.exit_code == 2 and f"--max-bytes must be at least 1, not {value}" in result.stderr, result.output
