"""An undated article (no date, `Invalid Date`) is kept: published_at and date NULL, written to the Hive
null partition `month=__HIVE_DEFAULT_PARTITION__` (their `date` column NULL), which DuckDB and Polars both
read back as NULL."""

from __future__ import annotations

import duckdb
import polars as pl

from helpers_pipeline import article_files, current_article_files, read_articles, run_ingest, write_raw
from jobs.analyst.query import connect
from jobs.analyst.status import dataset_status


def _undated(title: str, date_line: str, body: str = "<p>正文。</p>") -> str:
    return f"\n---\ntitle: {title}\nauthor: 无日期源\n{date_line}---\n\n<div>{body}</div>"


def test_undated_articles_land_in_the_hive_null_partition_and_read_back_as_null(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a/undated-invalid.md", _undated("一", "date: Invalid Date\n"))
    write_raw(raw, "a/undated-missing.md", _undated("二", ""))
    write_raw(raw, "a/dated.md", _undated("三", "date: 2022-08-01 10:00:00\n"))
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.rejects == 0 and report.articles_written == 3
    folders = sorted(p.parent.name for p in article_files(out))
    assert folders == ["month=2022-08", "month=__HIVE_DEFAULT_PARTITION__"]

    files = current_article_files(out)
    rows = duckdb.sql(f"SELECT title, date, month, published_at FROM read_parquet({files!r}, hive_partitioning = true,"
                      " hive_types = {'source': 'VARCHAR', 'month': 'VARCHAR'}) ORDER BY title").fetchall()
    assert [(t, d is None, m, p is None) for t, d, m, p in rows] == [
        ("一", True, None, True), ("三", False, "2022-08", False), ("二", True, None, True)]
    frame = pl.scan_parquet(files, hive_partitioning=True,
                            hive_schema={"source": pl.String, "month": pl.String}).select(
                                "title", "date", "month", "published_at").collect()
    assert frame.schema["date"] == pl.Date
    assert sorted(frame.filter(pl.col("month").is_null())["title"].to_list()) == ["一", "二"]
    assert sorted(frame.filter(pl.col("date").is_null())["title"].to_list()) == ["一", "二"]
    assert frame.filter(pl.col("published_at").is_null()).height == 2

    # The project's own views agree, and status counts undated rows per source.
    assert connect(out).execute("SELECT count(*) FROM articles WHERE date IS NULL").fetchone()[0] == 2
    status = dataset_status(out)
    assert status["rows_per_source"] == [{"source": "无日期源", "rows": 3, "first_date": "2022-08-01",
                                          "last_date": "2022-08-01", "undated": 2}]


def test_a_rerun_and_a_change_of_an_undated_file_keep_one_row(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    path = write_raw(raw, "a/undated.md", _undated("一", "date: Invalid Date\n", "<p>旧。</p>"))
    run_ingest(raw, out)
    assert run_ingest(raw, out).articles_written == 0  # idempotent
    path.write_text(_undated("一", "date: Invalid Date\n", "<p>新的正文。</p>"), encoding="utf-8")
    again = run_ingest(raw, out)
    assert again.exit_code == 0
    assert [(row["text"], row["month"]) for row in read_articles(out)] == [("新的正文。", None)]
