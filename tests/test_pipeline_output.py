"""What `ingest` writes: layout, compression, order, schema, and how DuckDB and Polars read it back."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from helpers_cli import invoke
from helpers_pipeline import (FIXTURES_RAW, REAL_CORPUS, article_files, article_glob, article_text,
                              copy_samples, read_articles, run_ingest, write_raw)
from jobs.lake.store import SMALL_FILE_ROWS
from jobs.run.discover import discover
from jobs.parse.record import parse_article
from schemas.article import ARTICLE_FILE_SCHEMA, SCHEMA_VERSION

UTC = dt.timezone.utc
# A data file of the Delta table: under its source and month folders, named for the run, task and index.
PARTITION_FILE = re.compile(r"^articles/source=[^/]+/month=(\d{4}-\d{2}|__HIVE_DEFAULT_PARTITION__)/part-[^/]+-\d+-\d+\.parquet$")


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """data/raw plus the fixtures, ingested once; two fixtures share a partition with a sample."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    for path in FIXTURES_RAW.glob("*.md"):
        write_raw(raw, f"fixtures/{path.name}", path.read_bytes())
    # Three articles in one partition, written out of order, to check sorting inside a file.
    for hour in (9, 3, 6):
        write_raw(raw, f"same/{hour}.md", article_text(f"同一分区 {hour}", f"2022-08-10 {hour:02d}:00:00", author="排序源"))
    report = run_ingest(raw, out)
    assert report.exit_code == 0
    return raw, out


def test_layout_compression_and_sort_order(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    files = article_files(out)
    assert files, "no article file written"
    for path in files:
        assert PARTITION_FILE.match(path.relative_to(out).as_posix()), path
        metadata = pq.ParquetFile(path).metadata
        codec = "ZSTD" if metadata.num_rows >= SMALL_FILE_ROWS else "SNAPPY"  # see jobs/lake/store.py
        for group in range(metadata.num_row_groups):
            for column in range(metadata.num_columns):
                assert metadata.row_group(group).column(column).compression == codec
        rows = pq.read_table(path, columns=["date", "published_at"]).to_pylist()
        order = [(r["date"] is None, r["date"], r["published_at"] is None, r["published_at"]) for r in rows]
        assert order == sorted(order, key=lambda k: (k[0], k[1] or dt.date.min, k[2], k[3] or dt.datetime.min.replace(tzinfo=UTC))), path
        month = path.parent.name.removeprefix("month=")
        assert {r["date"].strftime("%Y-%m") for r in rows if r["date"]} <= {month}, path  # rows sit in their month
    sorted_partition, = [p for p in files if p.parent.parent.name == "source=排序源"]
    titles = pq.read_table(sorted_partition, columns=["title"]).column("title").to_pylist()
    assert titles == ["同一分区 3", "同一分区 6", "同一分区 9"]


def test_duckdb_reads_only_article_files_with_typed_columns(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    connection = duckdb.connect()
    relation = connection.sql(
        f"SELECT filename, typeof(date) AS date_type, typeof(source) AS source_type, typeof(categories) AS c,"
        f" typeof(paragraphs) AS p, typeof(image_urls) AS i, typeof(link_urls) AS l, typeof(keywords) AS k,"
        f" typeof(contributors) AS co"
        f" FROM read_parquet('{article_glob(out)}', hive_partitioning = true, filename = true)")
    rows = relation.fetchall()
    assert {Path(r[0]).resolve() for r in rows} == {p.resolve() for p in article_files(out)}
    assert len(rows) == len(list(discover(str(raw))))
    assert {r[1] for r in rows} == {"DATE"}
    assert {r[2] for r in rows} == {"VARCHAR"}
    assert {t for r in rows for t in r[3:]} == {"VARCHAR[]"}


def test_published_at_is_the_same_instant_in_a_shanghai_session(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'Asia/Shanghai'")
    relation = connection.sql(
        f"SELECT raw_path, date, published_at, epoch_us(published_at) FROM read_parquet('{article_glob(out)}',"
        f" hive_partitioning = true)")
    rows = {r[0]: r[1:] for r in relation.fetchall()}
    # Sun, 07 Aug 2022 23:12:05 GMT: already 8 August in Shanghai, still 7 August (the partition date) in UTC.
    date, published_at, epoch = rows["fixtures/sina.md"]
    expected = dt.datetime(2022, 8, 7, 23, 12, 5, tzinfo=UTC)
    assert published_at == expected  # aware datetimes compare as instants
    assert published_at.utcoffset() == dt.timedelta(hours=8)  # the session zone is really in effect
    assert epoch == int(expected.timestamp() * 1_000_000)
    assert date == dt.date(2022, 8, 7)
    for raw_path, (date, published_at, epoch) in rows.items():
        parsed = parse_article((raw / raw_path).read_bytes(), raw_path).published_at
        assert published_at == parsed and epoch == int(parsed.timestamp() * 1_000_000), raw_path
        assert date == parsed.astimezone(UTC).date(), raw_path
    filtered = connection.execute(
        f"SELECT count(*) FROM read_parquet('{article_glob(out)}', hive_partitioning = true)"
        f" WHERE published_at = TIMESTAMPTZ '2022-08-07 23:12:05+00'").fetchall()[0][0]
    assert filtered == 1


def test_polars_scan_delta_reads_the_same_rows_as_articles_query(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    frame = pl.scan_delta(str(out / "articles")).collect()
    assert frame.height == len(list(discover(str(raw))))
    assert frame.schema["date"] == pl.Date
    assert frame.schema["source"] == pl.String and frame.schema["month"] == pl.String
    assert frame.schema["categories"] == pl.List(pl.String)
    assert frame.filter(pl.col("raw_path") == "fixtures/sina.md")["source"].to_list() == ["新浪财经"]
    answer = invoke("query", "--out-dir", str(out), "--format", "parquet", "--output", str(out.parent / "q.parquet"),
                    "SELECT * FROM articles")
    assert answer.exit_code == 0, answer.output
    # DuckDB names the zone of its instants Etc/UTC, delta-rs UTC: the same instants.
    queried = pl.read_parquet(out.parent / "q.parquet").with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC"))
    assert frame.sort("article_id").select(queried.columns).equals(queried.sort("article_id"))


def test_every_file_has_exactly_the_article_schema_even_an_all_null_batch(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    # No title, no categories, no author (source from the path), empty body: every optional column is null
    # and every list is empty in this batch, yet the file must carry the declared types.
    write_raw(raw, "a/空源/chan/x.md", "---\ndate: 2022-08-01 10:00:00\n---\n\n")
    write_raw(raw, "a/空源/chan/y.md", "---\ndate: 2022-08-01 11:00:00\n---\n<div></div>\n")
    report = run_ingest(raw, out)
    assert (report.articles_written, report.rejects) == (2, 0)
    table = pq.read_table(article_files(out)[0])
    assert table.column("title").null_count == 2 and table.column("editor").null_count == 2
    for path in article_files(out):
        schema = pq.read_schema(path)
        assert schema.equals(ARTICLE_FILE_SCHEMA, check_metadata=False), schema
        assert not any(str(field.type) == "null" for field in schema)
        assert schema.metadata[b"article_lake.schema_version"] == str(SCHEMA_VERSION).encode()
        assert [f.nullable for f in schema] == [f.nullable for f in ARTICLE_FILE_SCHEMA]


# -- partition values -----------------------------------------------------------
AWKWARD_AUTHORS = ["新浪 财经", "a/b", "50%", "%2F", "..", "../../../escape", "/abs", "a=b", "line\nbreak", "100"]
AWKWARD_FOLDERS = ["new\nline", "per%cent", "空 格"]


def test_awkward_partition_values_round_trip_and_stay_inside_out(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    paths = []
    for index, author in enumerate(AWKWARD_AUTHORS):
        paths.append(f"authors/{index}.md")
        write_raw(raw, paths[-1], article_text(f"标题 {index}", f"2022-08-0{index % 9 + 1} 10:00:00", author=author))
    for index, folder in enumerate(AWKWARD_FOLDERS):  # no author, no second category: source from the folder
        paths.append(f"source/_posts/cat/{folder}/chan/{index}.md")
        write_raw(raw, paths[-1], article_text(f"目录 {index}", "2022-08-01 10:00:00", author=None, categories=()))
    expected = {p: parse_article((raw / p).read_bytes(), p).source for p in paths}
    assert "line break" in expected.values() and "new\nline" in expected.values() and ".." in expected.values()

    report = run_ingest(raw, out)
    assert (report.articles_written, report.rejects) == (len(paths), 0)

    # Nothing outside OUT/articles: every data file is exactly source=/month=/part-*.parquet below it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]
    for path in (out / "articles").rglob("*"):
        assert path.resolve().is_relative_to((out / "articles").resolve())
        if path.is_file() and "_delta_log" not in path.parts:
            assert len(path.relative_to(out / "articles").parts) == 3, path
    duck = {r["raw_path"]: r["source"] for r in read_articles(out)}
    assert duck == expected
    frame = pl.scan_delta(str(out / "articles")).select("raw_path", "source").collect()
    assert dict(frame.iter_rows()) == expected


# -- the real corpus --------------------------------------------------------------
@pytest.mark.skipif(not REAL_CORPUS.is_dir(), reason="real corpus not available")
def test_real_corpus_ingests_every_file_as_one_distinct_article(tmp_path):
    out = tmp_path / "out"
    result = invoke("ingest", "--raw-dir", REAL_CORPUS, "--out-dir", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    count, distinct = duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT article_id) FROM read_parquet('{article_glob(out)}', hive_partitioning = true)").fetchall()[0]
    assert len(list(discover(str(REAL_CORPUS)))) == 53
    assert (count, distinct) == (53, 53)
    answer = invoke("query", "--out-dir", out, "--format", "csv", "select source, count(*) from articles group by 1")
    assert answer.exit_code == 0, answer.output
    lines = answer.stdout.splitlines()
    assert lines[0] == "source,count_star()" and len(lines) - 1 == 23  # 23 sources in the sample
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == 53


