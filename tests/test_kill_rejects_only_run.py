"""A run whose only outcomes are rejects commits no Delta transaction. Killed after it replaced the rejects
file but before its manifest commit, the next run drops it (no commit of it is in the log), rewrites the
rejects file from the manifest and redoes it: the end equals a fresh run."""

from __future__ import annotations

import signal
import subprocess

from helpers_pipeline import (REPO, cli_command, cli_env, comparable, copy_samples, manifest, read_articles,
                              read_rejects, run_ingest, write_raw)
from jobs.lake.table import ArticlesTable
from jobs.run.events import KILL_AT_VARIABLE


def test_a_rejects_only_run_killed_before_its_manifest_commit_is_redone(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    assert run_ingest(raw, out).exit_code == 0
    version = ArticlesTable(out).open().version()
    write_raw(raw, "bad/no_front_matter.md", "only a body\n")
    done = subprocess.run(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1",
                                      "--max-reject-ratio", "1", "--log-json"),
                          cwd=REPO, env=cli_env() | {KILL_AT_VARIABLE: "rejects_written"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert '"replaced": true' in done.stderr and '"table_committed"' not in done.stderr
    assert ArticlesTable(out).open().version() == version  # no Delta transaction
    assert [r["raw_path"] for r in read_rejects(out)] == ["bad/no_front_matter.md"]  # ahead of the manifest
    with manifest(out) as db:
        assert db.execute("SELECT count(*) FROM files WHERE status = 'reject'").fetchone() == (0,)
    db.close()

    report = run_ingest(raw, out, max_reject_ratio=1.0)
    assert report.exit_code == 0 and report.rejects == 1  # dropped, then parsed again
    fresh = tmp_path / "fresh"
    assert run_ingest(raw, fresh, max_reject_ratio=1.0).exit_code == 0
    assert comparable(read_articles(out)) == comparable(read_articles(fresh))
    assert [(r["raw_path"], r["reason"]) for r in read_rejects(out)] == [(r["raw_path"], r["reason"]) for r in read_rejects(fresh)]
    assert ArticlesTable(out).open().version() == version
