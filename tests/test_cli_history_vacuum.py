"""`articles history`, `articles vacuum`, `articles migrate` and `articles query --as-of` on a real table."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers_cli import invoke
from helpers_pipeline import article_text, write_raw
from jobs.lake.table import ArticlesTable


def ingest(raw, out, *args):
    result = invoke("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def two_versions(tmp_path):
    """An ingest of three articles over two months, then one of them edited: (raw, out)."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("一", "2022-07-01 10:00:00", author="甲"))
    write_raw(raw, "b.md", article_text("二", "2022-07-02 10:00:00", author="甲"))
    write_raw(raw, "c.md", article_text("三", "2022-08-01 10:00:00", author="甲"))
    ingest(raw, out)
    write_raw(raw, "b.md", article_text("二 改", "2022-07-02 10:00:00", author="甲"))
    ingest(raw, out)
    return raw, out


def test_history_lists_each_version_with_its_run_command_files_and_rows(two_versions):
    raw, out = two_versions
    result = invoke("history", "--out-dir", str(out), "--json")
    assert result.exit_code == 0, result.output
    versions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["version"] for v in versions] == [2, 1, 0]
    edit, first, create = versions
    assert (first["command"], first["files_added"], first["rows_added"], first["files_removed"], first["rows_removed"]) == ("ingest", 2, 3, 0, 0)
    # The edit rewrote July's file (two rows) and left August's alone.
    assert (edit["command"], edit["files_added"], edit["rows_added"], edit["files_removed"], edit["rows_removed"]) == ("ingest", 1, 2, 1, 2)
    assert edit["run_id"] and edit["run_id"] != first["run_id"] and edit["committed_at"]
    text = invoke("history", "--out-dir", str(out), "--limit", "1")
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 2 and edit["run_id"] in text.stdout


def test_history_of_a_folder_without_a_table_says_so(tmp_path):
    result = invoke("history", "--out-dir", str(tmp_path))
    assert result.exit_code == 0 and "no table" in result.stdout


def test_query_as_of_an_older_version_shows_what_a_run_changed(two_versions):
    raw, out = two_versions
    sql = "SELECT title FROM articles WHERE raw_path = 'b.md'"
    assert invoke("query", "--out-dir", str(out), "--format", "csv", "--as-of", "1", sql).stdout == "title\n二\n"
    assert invoke("query", "--out-dir", str(out), "--format", "csv", sql).stdout == "title\n二 改\n"
    assert invoke("query", "--out-dir", str(out), "--format", "csv", "--as-of", "2", sql).stdout == "title\n二 改\n"
    when = json.loads(invoke("history", "--out-dir", str(out), "--json").stdout.splitlines()[1])["committed_at"]
    assert invoke("query", "--out-dir", str(out), "--format", "csv", "--as-of", when, sql).stdout == "title\n二\n"


@pytest.mark.parametrize("as_of, message", [
    ("7", "no such version of the table (latest: 2"),
    ("1999-01-01", "before the table's first version"),
    ("yesterday", "give a version number"),
])
def test_query_as_of_a_version_that_is_not_there_is_one_line(two_versions, as_of, message):
    raw, out = two_versions
    result = invoke("query", "--out-dir", str(out), "--as-of", as_of, "SELECT count(*) FROM articles")
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_vacuum_keeps_older_versions_within_the_retention_and_as_of_says_when_one_is_gone(two_versions):
    raw, out = two_versions
    files = sorted(p.relative_to(out).as_posix() for p in (out / "articles").rglob("*.parquet"))
    kept = invoke("vacuum", "--out-dir", str(out))  # default retention: a week
    assert kept.exit_code == 0 and "removed 0 data files" in kept.stdout
    dry = invoke("vacuum", "--out-dir", str(out), "--retention", "0", "--dry-run")
    assert dry.exit_code == 0 and "would remove 1 data files" in dry.stdout
    assert sorted(p.relative_to(out).as_posix() for p in (out / "articles").rglob("*.parquet")) == files
    done = invoke("vacuum", "--out-dir", str(out), "--retention", "0")
    assert done.exit_code == 0 and "removed 1 data files" in done.stdout
    superseded = done.stdout.splitlines()[1].strip()
    assert not (out / "articles" / superseded).exists()
    gone = invoke("query", "--out-dir", str(out), "--as-of", "1", "SELECT count(*) FROM articles")
    assert gone.exit_code == 2 and "older than what vacuum kept" in gone.output and "Traceback" not in gone.output
    assert invoke("query", "--out-dir", str(out), "--format", "csv", "SELECT count(*) AS n FROM articles").stdout == "n\n3\n"


def test_vacuum_removes_a_stray_file_no_version_names(two_versions):
    raw, out = two_versions
    live = ArticlesTable(out).live_files()
    stray = out / "articles" / "source=甲" / "month=2022-07" / "copied-in.parquet"
    shutil.copy(out / "articles" / live[0].relative, stray)
    result = invoke("vacuum", "--out-dir", str(out))
    assert result.exit_code == 0 and "source=甲/month=2022-07/copied-in.parquet" in result.stdout and not stray.exists()


def test_vacuum_waits_for_no_run_it_refuses_while_one_holds_the_lock(two_versions):
    from jobs.lake.lock import OutputLock
    raw, out = two_versions
    with OutputLock(out):
        result = invoke("vacuum", "--out-dir", str(out))
    assert result.exit_code == 3 and "locked" in result.output


def test_negative_retention_and_missing_dataset_are_usage_errors(tmp_path, two_versions):
    raw, out = two_versions
    assert invoke("vacuum", "--out-dir", str(out), "--retention", "-1").exit_code == 2
    assert invoke("vacuum", "--out-dir", str(tmp_path / "none")).exit_code == 2
    assert invoke("migrate", "--out-dir", str(tmp_path / "none")).exit_code == 2


def test_migrate_on_a_table_says_there_is_nothing_to_do(two_versions):
    raw, out = two_versions
    result = invoke("migrate", "--out-dir", str(out))
    assert result.exit_code == 0 and "nothing to migrate" in result.stdout
    assert json.loads(invoke("history", "--out-dir", str(out), "--json").stdout.splitlines()[0])["version"] == 2


def test_ingest_with_a_zero_retention_removes_the_file_it_superseded(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("一", "2022-07-01 10:00:00", author="甲"))
    ingest(raw, out)
    first = {p.name for p in (out / "articles").rglob("*.parquet")}
    write_raw(raw, "a.md", article_text("一 改", "2022-07-01 10:00:00", author="甲"))
    ingest(raw, out, "--retention", "0")
    now = {p.name for p in (out / "articles").rglob("*.parquet")}
    assert len(now) == 1 and not (first & now)
