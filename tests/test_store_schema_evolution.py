"""A data file written by an older schema (a column missing) sits in the table beside new ones: every
reader gives the missing column as NULL, and a merge of its partition rewrites it in today's schema.

Data files of a Delta table never change once committed, so the older file is committed the way older
code would have: written without the column and named by a commit (replacing the partition's file).
"""

from __future__ import annotations

import os

import duckdb
import polars as pl
import pyarrow.parquet as pq

from helpers_cli import invoke
from helpers_pipeline import article_text, run_ingest, write_raw
from jobs.analyst.query import connect
from jobs.lake.paths import Layout
from jobs.lake.store import write_file_list
from jobs.lake.table import ArticlesTable, DataFile, file_stats
from schemas.article import ARTICLE_FILE_SCHEMA, SCHEMA_VERSION
from schemas.views import VIEWS_FILE

OLD_MONTH = "2022-07"


def commit_as_schema_1(out) -> str:
    """Replace the OLD_MONTH file with one as schema version 1 wrote it: no `editor` column. Its path."""
    table = ArticlesTable(out)
    old, = [f for f in table.live_files() if f.month == OLD_MONTH]
    data = pq.read_table(table.layout.data_file(old.relative)).drop_columns(["editor"])
    data = data.replace_schema_metadata({"article_lake.schema_version": "1"})
    relative = old.relative.replace("/part-", "/part-v1-")
    pq.write_table(data, table.layout.data_file(relative), compression="zstd")
    stat = os.stat(table.layout.data_file(relative))
    added = DataFile(relative, old.source, old.month, stat.st_size, data.num_rows, file_stats(data), int(stat.st_mtime * 1000))
    version = table.commit([added], [old.relative], "schema-1-writer", {"command": "test"})
    write_file_list(table.layout, version, table.live_files())
    return relative


def editors_through_every_reader(out) -> list[dict]:
    """raw_path -> editor, as articles query, the views (Python and CLI) and Polars scan_delta give them."""
    found = [dict(connect(out).execute("SELECT raw_path, editor FROM articles").fetchall())]
    views = invoke("views", "--out-dir", str(out)).stdout
    connection = duckdb.connect()
    connection.execute(views)
    found.append(dict(connection.execute("SELECT raw_path, editor FROM articles").fetchall()))
    found.append(dict(pl.scan_delta(str(out / "articles")).select("raw_path", "editor").collect().iter_rows()))
    return found


def test_every_reader_reads_an_older_file_without_a_column_as_null_and_a_merge_upgrades_it(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    editor_body = "<p>正文一段。</p><p>责任编辑：张三</p>"
    write_raw(raw, "old/1.md", article_text("旧的", f"{OLD_MONTH}-01 10:00:00", author="新浪财经", body=editor_body))
    write_raw(raw, "new/1.md", article_text("新的", "2022-08-02 10:00:00", author="新浪财经", body=editor_body))
    run_ingest(raw, out)
    old = commit_as_schema_1(out)
    assert "editor" not in pq.read_schema(out / "articles" / old).names

    # The older file sorts first in the list: without union_by_name DuckDB would take its schema for all.
    for editors in editors_through_every_reader(out):
        assert editors == {"new/1.md": "张三", "old/1.md": None}
    connection = duckdb.connect()
    connection.execute("SET VARIABLE article_lake_root = ?", [str(out)])
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    assert connection.execute("SELECT getvariable('article_lake_articles_union')").fetchone()[0] is True
    assert connection.execute("SELECT count(*) FROM articles WHERE date = DATE '2022-07-01'").fetchone()[0] == 1

    # A new article lands in the old partition: the merged file is written in today's schema.
    write_raw(raw, "old/2.md", article_text("又一篇", f"{OLD_MONTH}-01 12:00:00", author="新浪财经", body=editor_body))
    report = run_ingest(raw, out)
    assert report.partitions_written == 1
    merged, = [f for f in ArticlesTable(out).live_files() if f.month == OLD_MONTH]
    schema = pq.read_schema(out / "articles" / merged.relative)
    assert schema.equals(ARTICLE_FILE_SCHEMA, check_metadata=False)
    assert schema.metadata[b"article_lake.schema_version"] == str(SCHEMA_VERSION).encode()
    for editors in editors_through_every_reader(out):
        assert editors == {"new/1.md": "张三", "old/1.md": None, "old/2.md": "张三"}
    # Every file has today's columns again: the views read without union_by_name (cheaper).
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    assert connection.execute("SELECT getvariable('article_lake_articles_union')").fetchone()[0] is False


def test_a_file_list_written_before_it_recorded_column_sets_makes_the_views_union_by_name(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a/1.md", article_text("一", "2022-08-02 10:00:00", author="新浪财经"))
    run_ingest(raw, out)
    current = Layout(out).current_articles_list()
    listed = pq.read_table(current)
    pq.write_table(listed.drop_columns(["column_set"]), current)
    connection = duckdb.connect()
    connection.execute("SET VARIABLE article_lake_root = ?", [str(out)])
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    assert connection.execute("SELECT getvariable('article_lake_articles_union'), count(*) FROM articles").fetchone() == (True, 1)
