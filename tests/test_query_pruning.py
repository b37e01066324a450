"""`articles query` skips files by what the log knows of them, and never skips a file that holds a match.

Each filter's answer through `articles query` (an Arrow dataset whose fragments carry partition values
and date/published_at ranges) must equal DuckDB's over the same files read whole.
"""

from __future__ import annotations

import duckdb
import pytest

from helpers_pipeline import article_text, copy_samples, run_ingest, write_raw
from jobs.analyst.query import articles_dataset, connect
from jobs.lake.table import ArticlesTable

FILTERS = [
    "raw_path = 'same/1.md'",
    "article_id IS NOT NULL AND title LIKE '%同%'",
    "published_at <= TIMESTAMPTZ '2022-07-01 10:00:00+00'",
    "published_at = TIMESTAMPTZ '2022-07-01 10:00:00.000999+00'",
    "published_at > TIMESTAMPTZ '2022-07-01 10:00:00.000999+00'",
    "published_at IS NULL",
    "date IS NULL",
    "date = DATE '2022-08-02'",
    "date BETWEEN DATE '2022-07-01' AND DATE '2022-07-31'",
    "date < DATE '2022-07-01' OR date IS NULL",
    "month = '2022-07' AND source = '同源'",
    "month IS NULL",
    "char_count > 0",
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("pruning")
    raw, out = root / "raw", root / "out"
    copy_samples(raw)
    # Instants with microseconds (the log keeps milliseconds), a month of one source, an undated article.
    for index, when in enumerate(["2022-07-01 10:00:00.000999", "2022-07-01 10:00:00", "2022-07-15 08:00:00"]):
        write_raw(raw, f"same/{index}.md", article_text(f"同源 {index}", when, author="同源"))
    write_raw(raw, "undated/1.md", article_text("无日期", "", author="同源"))
    assert run_ingest(raw, out).exit_code == 0
    return out


@pytest.mark.parametrize("where", FILTERS)
def test_every_filter_answers_as_a_full_read_does(lake, where):
    files = [str(lake / "articles" / f.relative) for f in ArticlesTable(lake).live_files()]
    full = duckdb.connect().execute(
        f"SELECT count(*), list_sort(list(raw_path)) FROM read_parquet({files!r}, hive_partitioning = true,"
        f" hive_types = {{'source': 'VARCHAR', 'month': 'VARCHAR'}}) WHERE {where}").fetchone()
    assert connect(lake).execute(f"SELECT count(*), list_sort(list(raw_path)) FROM articles WHERE {where}").fetchone() == full


def test_the_fixture_has_what_the_filters_need(lake):
    connection = connect(lake)
    assert connection.execute("SELECT count(*) FROM articles WHERE date IS NULL").fetchone()[0] >= 1
    assert connection.execute("SELECT count(*) FROM articles WHERE microsecond(published_at) % 1000 <> 0").fetchone()[0] >= 1


def test_a_date_filter_keeps_only_the_fragments_whose_range_holds_it(lake):
    import datetime as dt

    import pyarrow.dataset as ds
    dataset = articles_dataset(lake)
    every = list(dataset.get_fragments())
    day = list(dataset.get_fragments(filter=ds.field("date") == dt.date(2022, 8, 2)))
    assert 1 <= len(day) < len(every) / 2
    assert len(list(dataset.get_fragments(filter=ds.field("raw_path") == "x"))) == len(every)  # no statistics: kept
