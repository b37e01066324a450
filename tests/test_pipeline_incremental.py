"""Incremental ingest: only new and changed files are parsed, rows are replaced, history is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.run.pipeline import RunOptions, ingest
from helpers_pipeline import (article_files, article_text, copy_samples, read_articles, read_rejects, run_ingest,
                              snapshot, write_raw)


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """Samples plus one reject, ingested once."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    write_raw(raw, "bad/no_front_matter.md", "just words, no front matter\n")
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.rejects == 1
    return raw, out


def rows_by_path(out: Path) -> dict[str, dict]:
    return {row["raw_path"]: row for row in read_articles(out)}


def test_second_run_without_changes_parses_and_writes_nothing(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = snapshot(out)
    assert any(p.startswith("rejects/") for p in before) and any(p.startswith("articles/") for p in before)
    report = run_ingest(raw, out)
    assert (report.files_parsed, report.partitions_written, report.articles_written) == (0, 0, 0)
    assert report.files_seen == len(list(raw.rglob("*.md")))
    assert snapshot(out) == before  # same bytes, same mtimes: nothing rewritten


def test_touching_a_file_without_changing_it_rewrites_nothing(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = snapshot(out)
    for path in raw.rglob("*.md"):
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))
    report = run_ingest(raw, out)
    assert report.files_parsed == 0 and report.unchanged == report.files_seen
    assert snapshot(out) == before
    events = []
    again = ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1), lambda name, data: events.append((name, data)))
    assert again.unchanged == again.files_seen
    assert [data["to_parse"] for name, data in events if name == "planned"] == [0]  # new mtimes recorded: not even hashed again


def test_a_changed_file_replaces_its_row(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    path = next(raw.rglob("*36kr/快讯/A股*.md"))
    relative = path.relative_to(raw).as_posix()
    old = rows_by_path(out)[relative]
    path.write_text(path.read_text(encoding="utf-8").replace("</div>", "<p>追加的一段。</p></div>"), encoding="utf-8")
    report = run_ingest(raw, out)
    assert report.files_parsed == 1
    rows = rows_by_path(out)
    assert len(rows) == len(read_articles(out))  # still one row per path
    assert rows[relative]["text"].endswith("追加的一段。") and rows[relative]["article_id"] == old["article_id"]
    assert rows[relative]["raw_sha256"] != old["raw_sha256"]


def test_a_file_whose_date_moves_leaves_its_old_partition(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("移动", "2022-08-01 10:00:00", author="源"))
    write_raw(raw, "b.md", article_text("留下", "2022-08-01 12:00:00", author="源"))
    write_raw(raw, "c.md", article_text("独占", "2022-10-03 10:00:00", author="源"))
    write_raw(raw, "d.md", article_text("同月", "2022-12-03 10:00:00", author="源"))
    run_ingest(raw, out)
    # a moves out of a shared month; c out of a month it had alone; d to another day of its month.
    write_raw(raw, "a.md", article_text("移动", "2022-09-02 10:00:00", author="源"))
    write_raw(raw, "c.md", article_text("独占", "2022-11-04 10:00:00", author="源"))
    write_raw(raw, "d.md", article_text("同月", "2022-12-20 10:00:00", author="源"))
    report = run_ingest(raw, out)
    assert report.files_parsed == 3
    rows = read_articles(out)
    assert sorted((r["raw_path"], r["date"].isoformat(), r["month"]) for r in rows) == [
        ("a.md", "2022-09-02", "2022-09"), ("b.md", "2022-08-01", "2022-08"), ("c.md", "2022-11-04", "2022-11"),
        ("d.md", "2022-12-20", "2022-12")]
    # The month c left has no file in the current version (the log removed it); its old file stays on
    # disk for readers of older versions until vacuum.
    files = {p.parent.name: pq.ParquetFile(p).metadata.num_rows for p in article_files(out)}
    assert files == {"month=2022-08": 1, "month=2022-09": 1, "month=2022-11": 1, "month=2022-12": 1}
    assert list((out / "articles" / "source=源" / "month=2022-10").glob("*.parquet"))


def test_a_new_file_adds_one_row(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = len(read_articles(out))
    write_raw(raw, "new/one.md", article_text("新文章", "2022-08-05 10:00:00", author="新源"))
    report = run_ingest(raw, out)
    assert (report.files_parsed, report.articles_written) == (1, 1)
    rows = read_articles(out)
    assert len(rows) == before + 1 and [r["title"] for r in rows if r["raw_path"] == "new/one.md"] == ["新文章"]


def test_a_deleted_raw_file_keeps_its_row(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = read_articles(out)
    victim = before[0]["raw_path"]
    (raw / victim).unlink()
    report = run_ingest(raw, out)
    assert report.files_parsed == 0
    assert read_articles(out) == before


def test_the_same_article_in_two_files_appears_once_smallest_path_wins(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    text = article_text("同一篇", "2022-08-01 10:00:00", author="源", body="<p>甲</p>")
    write_raw(raw, "b/copy.md", text)
    report = run_ingest(raw, out)
    assert report.duplicates == 0
    # The copy arriving later has the smaller path: it wins, whatever the order files were seen in.
    write_raw(raw, "a/copy.md", text.replace("<p>甲</p>", "<p>乙</p>"))
    report = run_ingest(raw, out)
    assert report.duplicates == 1
    rows = read_articles(out)
    assert [(r["raw_path"], r["text"]) for r in rows] == [("a/copy.md", "乙")]
    # And from scratch, both at once.
    report = run_ingest(raw, tmp_path / "fresh")
    assert report.duplicates == 1 and report.articles_written == 1
    assert [r["raw_path"] for r in read_articles(tmp_path / "fresh")] == ["a/copy.md"]


def test_when_the_winner_becomes_another_article_the_other_copy_wins(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    text = article_text("同一篇", "2022-08-01 10:00:00", author="源")
    write_raw(raw, "a.md", text)
    write_raw(raw, "b.md", text)
    run_ingest(raw, out)
    assert [r["raw_path"] for r in read_articles(out)] == ["a.md"]
    write_raw(raw, "a.md", article_text("另一篇", "2022-08-01 10:00:00", author="源"))
    report = run_ingest(raw, out)
    assert report.exit_code == 0
    rows = read_articles(out)
    assert sorted((r["raw_path"], r["title"]) for r in rows) == [("a.md", "另一篇"), ("b.md", "同一篇")]
    assert len({r["article_id"] for r in rows}) == 2
    assert read_rejects(out) == []


def test_a_failed_run_swaps_nothing_in_and_reports_failure(tmp_path):
    """A file the store cannot write (its partition folder is a file) fails the run: nothing half-done lands."""
    import pytest

    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("第一篇", "2022-08-01 10:00:00", author="甲"))
    write_raw(raw, "b.md", article_text("第二篇", "2022-08-02 10:00:00", author="乙"))
    blocker = out / "articles" / "source=乙"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        run_ingest(raw, out)
    assert not list((out / "articles").glob("*/*/*.parquet"))
    assert not (out / "_staging").exists()
    blocker.unlink()
    report = run_ingest(raw, out)  # nothing was committed: the rerun does all the work
    assert report.files_parsed == 2 and len(list((out / "articles").glob("*/*/*.parquet"))) == 2
    import sqlite3
    with sqlite3.connect(out / "_state" / "manifest.sqlite") as db:
        assert db.execute("SELECT status, exit_code FROM runs ORDER BY started_at").fetchall() == [("failed", 1), ("ok", 0)]
