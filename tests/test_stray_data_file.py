"""A stray, valid-looking Parquet file copied under articles/ (written by no run) is invisible to every reader
of the table, `verify` names it with the repair `articles vacuum`, and vacuum removes it (issue 17, point 7).
Before the table it was never cleaned: readers counted its rows beside the real ones, and `verify` suggested
a reprocess that changed nothing."""

from __future__ import annotations

import shutil
import subprocess

import duckdb

from helpers_pipeline import REPO, article_files, cli_command, cli_env, copy_samples, read_articles, run_ingest
from jobs.analyst.query import connect
from jobs.analyst.verify import verify_dataset
from jobs.lake.table import ArticlesTable
from jobs.run.vacuum import vacuum_table


def _lake_with_a_stray(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    assert run_ingest(raw, out).exit_code == 0
    biggest = max(article_files(out), key=lambda p: p.stat().st_size)
    # In another partition's folder, under a name a run could have written: only the log tells it apart.
    other = next(p for p in article_files(out) if p.parent != biggest.parent)
    stray = other.parent / "part-20990101T000000000000Z-1-000000-0000.parquet"
    shutil.copy(biggest, stray)
    return raw, out, stray


def test_a_stray_file_is_invisible_to_readers_named_by_verify_and_removed_by_vacuum(tmp_path):
    raw, out, stray = _lake_with_a_stray(tmp_path)
    rows = len(read_articles(out))
    assert connect(out).execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (rows, rows)
    views = subprocess.run(cli_command("views", "--out-dir", str(out)), cwd=REPO, env=cli_env(), capture_output=True,
                           text=True, timeout=120)
    assert views.returncode == 0, views.stderr
    db = duckdb.connect()
    db.execute(views.stdout)
    assert db.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (rows, rows)

    problems = verify_dataset(out).problems
    assert [(p.path, p.repair) for p in problems] == [(stray, f"articles vacuum --out-dir {out}")]

    removed = vacuum_table(ArticlesTable(out), retention_hours=168)
    assert stray.relative_to(out / "articles").as_posix() in removed and not stray.exists()
    assert verify_dataset(out).problems == []
    assert len(read_articles(out)) == rows


def test_the_next_run_vacuums_a_stray_file(tmp_path):
    raw, out, stray = _lake_with_a_stray(tmp_path)
    assert run_ingest(raw, out).exit_code == 0  # nothing to parse; vacuum still runs
    assert not stray.exists() and verify_dataset(out).problems == []
