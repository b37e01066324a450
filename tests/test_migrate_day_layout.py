"""A dataset written by the code before the Delta table (commit c07289c: source/date folders, one file each,
its manifest, rejects and run log) is converted by the first run of the new code, or by `articles migrate`
(jobs.run.migrate.migrate_if_needed, then a run), with no row lost or changed in any data column (DuckDB
EXCEPT ALL both ways over every column but the new `month`), its manifest, rejects and run log kept.
A run of the old code killed mid-swap (its in-flight record) is handled as jobs/run/migrate.py says: the
rows of its raw files are left out and those files parsed again, so the result equals a fresh run.

The old code is taken from git (`git archive`) and run with this venv; skipped without git or the commit.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from jobs.parse.templates import reinsert

from helpers_pipeline import (REPO, article_text, code_at, generate_corpus, read_articles, read_rejects, retitle,
                              run_ingest, write_raw)
from jobs.analyst.verify import verify_dataset
from jobs.run.migrate import migrate_if_needed
from schemas.article import ARTICLE_COLUMNS

pytestmark = pytest.mark.slow  # runs the old code as a subprocess

OLD = "c07289c"
# A run after the migration cleans rows with the sources' learned templates (a change of this version, like
# a parser change): the columns it rewrites are compared through the paragraphs as parsed instead.
TEMPLATE_COLUMNS = ("text", "paragraphs", "char_count", "paragraph_count", "template_removed")
DATA_COLUMNS = [c.name for c in ARTICLE_COLUMNS if c.name != "month" and c.name not in TEMPLATE_COLUMNS]


@pytest.fixture(scope="module")
def old_code(tmp_path_factory) -> Path:
    return code_at(OLD, tmp_path_factory.mktemp("old-code"), "the code before the Delta table")


def old_ingest(old_code: Path, raw: Path, out: Path, log: Path | None = None, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(old_code)}
    stderr = open(log, "wb") if log else subprocess.DEVNULL  # never a pipe nobody reads: --log-json fills it
    return subprocess.Popen([sys.executable, "-m", "jobs.cli", "ingest", "--raw-dir", str(raw), "--out-dir", str(out),
                             "--workers", "1", "--max-reject-ratio", "1", "--log-json"],
                            cwd=old_code, env=env, stdout=subprocess.DEVNULL, stderr=stderr, **popen)


def corpus(raw: Path, files: int) -> None:
    generate_corpus(raw, files, days=50, salt="迁移")
    write_raw(raw, "undated/a.md", article_text("无日期", "Invalid Date", author="无日期源"))
    write_raw(raw, "bad/empty.md", "")
    write_raw(raw, "bad/no_front_matter.md", "only a body\n")


def old_rows_sql(out: Path) -> str:
    glob = out / "articles" / "source=*" / "date=*" / "part-0.parquet"
    columns = ", ".join(DATA_COLUMNS)
    return (f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true,"
            f" hive_types = {{'source': 'VARCHAR', 'date': 'DATE'}})")


def new_rows_sql(out: Path) -> str:
    from helpers_pipeline import current_article_files
    return (f"SELECT {', '.join(DATA_COLUMNS)} FROM read_parquet({current_article_files(out)!r}, hive_partitioning = true,"
            f" hive_types = {{'source': 'VARCHAR', 'month': 'VARCHAR'}})")


def manifest_rows(out: Path, table: str, columns: str = "*") -> list[tuple]:
    db = sqlite3.connect(out / "_state" / "manifest.sqlite")
    try:
        return sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
    finally:
        db.close()


@pytest.mark.parametrize("how", ["first_run", "migrate_then_ingest"])
def test_a_dataset_of_the_old_layout_migrates_without_a_changed_row(old_code, tmp_path, how):
    raw, out = tmp_path / "raw", tmp_path / "out"
    corpus(raw, 300)
    old = old_ingest(old_code, raw, out, tmp_path / "old.log")
    assert old.wait(timeout=300) == 0, (tmp_path / "old.log").read_text()[-2000:]
    before = tmp_path / "before"
    shutil.copytree(out, before)
    old_files = manifest_rows(before, "files")
    old_runs = manifest_rows(before, "runs", "run_id, command, status")
    assert len(list((before / "articles").glob("source=*/date=*/part-0.parquet"))) > 50

    if how == "migrate_then_ingest":
        events = []
        counts = migrate_if_needed(out, lambda name, data: events.append((name, data)))
        assert counts is not None and counts["rows"] == 301 and counts["forgotten"] == 0
        assert [name for name, _ in events] == ["migrated"]
        # The migration alone changes no row in any column (templates are applied by the next run).
        migrated = {row["raw_path"]: row for row in read_articles(out)}
        assert all(not row["template_removed"] for row in migrated.values())
    old_rejects = len(read_rejects(before))
    report = run_ingest(raw, out, max_reject_ratio=1.0)
    # Nothing reparsed but the old rejects, which every parser version change retries: the manifest was kept.
    assert report.exit_code == 0 and report.files_parsed == old_rejects

    db = duckdb.connect()
    assert db.execute(f"SELECT count(*) FROM ({old_rows_sql(before)})").fetchone() == (301,)
    assert db.execute(f"SELECT count(*) FROM ({new_rows_sql(out)})").fetchone() == (301,)
    for first, second in ((old_rows_sql(before), new_rows_sql(out)), (new_rows_sql(out), old_rows_sql(before))):
        assert db.execute(f"SELECT count(*) FROM ({first} EXCEPT ALL {second})").fetchone() == (0,)
    assert all(row["month"] == (row["date"].isoformat()[:7] if row["date"] else None) for row in read_articles(out))
    old_paragraphs = dict(db.execute(f"SELECT raw_path, paragraphs FROM read_parquet('{before}/articles/*/*/*.parquet')").fetchall())
    assert {row["raw_path"]: reinsert(row["paragraphs"], [(r["position"], r["text"]) for r in row["template_removed"]])
            for row in read_articles(out)} == old_paragraphs  # the paragraphs as parsed are kept whole
    assert not list((out / "articles").glob("source=*/date=*"))  # the old folders are gone

    # Article rows of the manifest kept as they were; rejects retried by the new parser version, same verdicts.
    # (the columns the old manifest had: the run added `edge_hashes`, seeded from the rows)
    assert [row[:len(old_files[0])] for row in manifest_rows(out, "files") if row[4] == "article"] == \
        [row for row in old_files if row[4] == "article"]
    assert all(row[-1] is not None for row in manifest_rows(out, "files") if row[4] == "article")
    assert [row[:1] + row[8:9] for row in manifest_rows(out, "files") if row[4] == "reject"] == \
        [row[:1] + row[8:9] for row in old_files if row[4] == "reject"]
    new_runs = manifest_rows(out, "runs", "run_id, command, status")
    assert set(old_runs) <= set(new_runs) and len(new_runs) == len(old_runs) + 1
    assert [(r["raw_path"], r["reason"]) for r in read_rejects(out)] == [(r["raw_path"], r["reason"]) for r in read_rejects(before)]
    assert verify_dataset(out).problems == []


@pytest.mark.parametrize("new_run_killed", [False, True], ids=["migrated", "migration_killed_after_its_commit"])
def test_an_old_run_killed_mid_swap_is_redone_by_the_new_code(old_code, tmp_path, new_run_killed):
    raw, out = tmp_path / "raw", tmp_path / "out"
    corpus(raw, 1500)
    first = old_ingest(old_code, raw, out, tmp_path / "first.log")
    assert first.wait(timeout=300) == 0
    changed = sorted(raw.glob("gen/*/*.md"))[::4]
    originals = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in changed}
    for index, path in enumerate(changed):  # re-dated into other days: rows leave their old partitions
        path.write_text(retitle(path.read_text(encoding="utf-8"), f"改过 {index}",
                                __import__("datetime").datetime(2021, 3, 1 + index % 28, 9, 0)), encoding="utf-8")
    log = tmp_path / "killed.log"
    killed = old_ingest(old_code, raw, out, log, start_new_session=True)
    deadline = time.monotonic() + 240
    while '"partitions_swapped"' not in log.read_text(errors="replace"):
        assert killed.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.001)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    markers = manifest_rows(out, "inflight_partitions", "run_id, date")
    if not any(date == "marker" for _, date in markers):
        pytest.skip("the old run was not killed between its swaps (too fast here)")
    from jobs.run.migrate import _unfinished_paths
    assert _unfinished_paths(out / "_state" / "manifest.sqlite") >= {p.relative_to(raw).as_posix() for p in changed}

    for path, (data, mtime) in originals.items():  # the feed reverts: the bytes (size, mtime) the manifest knows
        path.write_bytes(data)
        os.utime(path, ns=(mtime, mtime))
    if new_run_killed:  # the first new run dies right after the migration's Delta commit
        from helpers_pipeline import cli_command, cli_env
        from jobs.run.events import KILL_AT_VARIABLE
        done = subprocess.run(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1"),
                              cwd=REPO, env=cli_env() | {KILL_AT_VARIABLE: "migrated"}, capture_output=True, timeout=300)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert list((out / "articles").glob("source=*/date=*/part-0.parquet")), "the old layout was already gone"
    report = run_ingest(raw, out, max_reject_ratio=1.0)
    assert report.exit_code == 0
    fresh = tmp_path / "fresh"
    assert run_ingest(raw, fresh, max_reject_ratio=1.0).exit_code == 0
    # The rows of the old code's parser stay as they were (only reprocess reparses them), so compare what
    # recovery decides (which files have a row, where, from which bytes), not what the parser made of them.
    stable = ("article_id", "raw_path", "source", "month", "date", "published_at", "title", "raw_sha256")
    assert [{k: row[k] for k in stable} for row in read_articles(out)] == \
        [{k: row[k] for k in stable} for row in read_articles(fresh)]
    assert [(r["raw_path"], r["reason"]) for r in read_rejects(out)] == \
        [(r["raw_path"], r["reason"]) for r in read_rejects(fresh)]
    assert manifest_rows(out, "pending") == []
    tables = {row[0] for row in manifest_rows(out, "sqlite_master", "name")}
    assert "inflight_partitions" not in tables or manifest_rows(out, "inflight_partitions") == []
    assert verify_dataset(out).problems == []
