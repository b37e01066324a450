"""A partition written by an older schema sits beside new ones: the views read both, a merge upgrades it."""

from __future__ import annotations

import pyarrow.parquet as pq

from helpers_pipeline import article_text, run_ingest, write_raw
from jobs.analyst.query import connect
from schemas.article import ARTICLE_FILE_SCHEMA, SCHEMA_VERSION

OLD = "articles/source=新浪财经/date=2022-08-01/part-0.parquet"


def downgrade(path) -> None:
    """Rewrite a partition as schema version 1 did: no `editor` column, version 1 in the metadata."""
    table = pq.read_table(path).drop_columns(["editor"])
    table = table.replace_schema_metadata({"article_lake.schema_version": "1"})
    pq.write_table(table, path, compression="zstd")


def test_views_read_old_and_new_partitions_and_a_merge_upgrades_the_old_one(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    editor_body = "<p>正文一段。</p><p>责任编辑：张三</p>"
    write_raw(raw, "old/1.md", article_text("旧的", "2022-08-01 10:00:00", author="新浪财经", body=editor_body))
    write_raw(raw, "new/1.md", article_text("新的", "2022-08-02 10:00:00", author="新浪财经", body=editor_body))
    run_ingest(raw, out)
    downgrade(out / OLD)
    assert "editor" not in pq.read_schema(out / OLD).names

    connection = connect(out)
    rows = dict(connection.execute("SELECT raw_path, editor FROM articles ORDER BY raw_path").fetchall())
    assert set(rows) == {"new/1.md", "old/1.md"}
    assert rows["old/1.md"] is None
    assert connection.execute("SELECT count(*) FROM articles WHERE date = DATE '2022-08-01'").fetchall() == [(1,)]

    # A new article lands in the old partition: the merged file is written in today's schema.
    write_raw(raw, "old/2.md", article_text("又一篇", "2022-08-01 12:00:00", author="新浪财经", body=editor_body))
    report = run_ingest(raw, out)
    assert report.partitions_written == 1
    schema = pq.read_schema(out / OLD)
    assert schema.equals(ARTICLE_FILE_SCHEMA, check_metadata=False)
    assert schema.metadata[b"article_lake.schema_version"] == str(SCHEMA_VERSION).encode()
    rows = dict(connect(out).execute("SELECT raw_path, editor FROM articles ORDER BY raw_path").fetchall())
    assert rows == {"new/1.md": rows["new/1.md"], "old/1.md": None, "old/2.md": rows["new/1.md"]}
    assert rows["new/1.md"]  # the parser does fill editor for new rows
