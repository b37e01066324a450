"""merge_partition against an independent reference, and what write_staged puts in a file."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.lake.store import SMALL_FILE_ROWS, write_staged
from jobs.run.merge import merge_partition
from schemas.article import ARTICLE_FILE_SCHEMA, SCHEMA_VERSION

UTC = dt.timezone.utc
IDS = st.sampled_from(["a", "b", "c", "é", "Z", "a1", "ab", "中"])
PATHS = st.sampled_from(["x", "y", "ü", "Y", "x/2", "中", "a b"])
WHEN = st.sampled_from([None, dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2023, 5, 1, 12, tzinfo=UTC)])


def table(rows: list[dict]) -> pa.Table:
    """Rows with every required column filled (a file must be writable)."""
    blank = {f.name: None for f in ARTICLE_FILE_SCHEMA} | {
        "text": "", "paragraphs": [], "char_count": 0, "paragraph_count": 0, "image_count": 0, "image_urls": [],
        "link_urls": [], "keywords": [], "contributors": [], "raw_sha256": "0" * 64, "encoding": "utf-8",
        "ingested_at": dt.datetime(2024, 6, 1, tzinfo=UTC), "parser_version": "6", "run_id": "test"}
    return pa.Table.from_pylist([blank | r for r in rows], schema=ARTICLE_FILE_SCHEMA)


def rows_strategy(prefix: str):
    row = st.fixed_dictionaries({"article_id": IDS, "raw_path": PATHS, "published_at": WHEN,
                                 "title": st.text(max_size=5)})
    # One row per raw_path, as a partition file and a run's rows always have.
    return st.lists(row, max_size=7, unique_by=lambda r: r["raw_path"]).map(
        lambda rows: [r | {"raw_path": prefix + r["raw_path"]} for r in rows])


def reference(existing: list[dict], new: list[dict], replaced: set[str], keep_only: set[str] | None):
    """The merge rules in plain Python: drop replaced rows, one row per id (smallest raw_path), sort."""
    gone = replaced | {r["raw_path"] for r in new}
    old = [r for r in existing if (r["raw_path"] in keep_only if keep_only is not None else r["raw_path"] not in gone)]
    rows = old + new
    best: dict[str, dict] = {}
    for r in rows:
        if r["article_id"] not in best or r["raw_path"].encode() < best[r["article_id"]]["raw_path"].encode():
            best[r["article_id"]] = r
    far = dt.datetime.max.replace(tzinfo=UTC)
    ordered = sorted(best.values(), key=lambda r: (r["published_at"] is None, r["published_at"] or far,
                                                   r["article_id"].encode()))
    return [(r["article_id"], r["raw_path"]) for r in ordered], len(rows) - len(best)


@settings(max_examples=300, deadline=None)
@given(existing=rows_strategy("old/"), new=st.sampled_from(["old/", "new/"]).flatmap(rows_strategy),
       replaced=st.sets(st.sampled_from(["old/x", "old/y", "old/中"])),
       keep_only=st.none() | st.sets(st.sampled_from(["old/x", "old/ü", "old/Y", "old/a b"])))
def test_merge_matches_the_rules(existing, new, replaced, keep_only):
    merged, duplicates = merge_partition(table(existing) if existing else None, table(new) if new else None,
                                         replaced, keep_only)
    expected, expected_duplicates = reference(existing, new, replaced, keep_only)
    assert list(zip(merged.column("article_id").to_pylist(), merged.column("raw_path").to_pylist())) == expected
    assert duplicates == expected_duplicates
    assert merged.schema.equals(ARTICLE_FILE_SCHEMA, check_metadata=True)


def test_merge_equals_a_polars_merge_on_many_rows():
    """The same rows and order as Polars' sort (the former implementation) on a partition of 500 rows."""
    rows = [{"article_id": f"id{(i * 7919) % 450:04d}", "raw_path": f"p/{(i * 31) % 997:04d}.md",
             "published_at": None if i % 13 == 0 else dt.datetime(2024, 1, 1, i % 24, tzinfo=UTC), "title": str(i)}
            for i in range(500)]
    rows = list({r["raw_path"]: r for r in rows}.values())
    merged, duplicates = merge_partition(None, table(rows), ())
    frame = (pl.from_arrow(table(rows)).sort(["article_id", "raw_path"])
             .unique(subset="article_id", keep="first", maintain_order=True)
             .sort(["published_at", "article_id"], nulls_last=True))
    assert merged.select(["article_id", "raw_path", "title"]).to_pylist() == \
        frame.select(["article_id", "raw_path", "title"]).to_dicts()
    assert duplicates == len(rows) - frame.height > 0


def test_write_staged_codec_statistics_and_read_back(tmp_path):
    rows = [{"article_id": f"id{i}", "raw_path": f"r/{i}.md", "title": "长标题" * 50, "text": "正文" * 200,
             "published_at": dt.datetime(2024, 3, 1, i, tzinfo=UTC), "paragraphs": ["正文" * 200]} for i in range(20)]
    for count in (SMALL_FILE_ROWS - 1, SMALL_FILE_ROWS, 20):
        path = tmp_path / f"{count}.parquet"
        write_staged(table(rows[:count]), path)
        assert not list(tmp_path.glob("*.tmp"))
        metadata = pq.ParquetFile(path).metadata
        codec = "SNAPPY" if count < SMALL_FILE_ROWS else "ZSTD"
        columns = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)]
        assert {c.compression for c in columns} == {codec}
        with_statistics = {c.path_in_schema for c in columns if c.is_stats_set and c.statistics.has_min_max}
        assert {"published_at", "article_id", "raw_path"} <= with_statistics
        assert not {"title", "text"} & with_statistics  # free text: no min/max copies in the footer
        assert pq.read_schema(path).metadata == ARTICLE_FILE_SCHEMA.metadata
        back = duckdb.sql(f"SELECT article_id, title FROM read_parquet('{path}') ORDER BY published_at").fetchall()
        assert back == [(r["article_id"], r["title"]) for r in rows[:count]]
    assert str(SCHEMA_VERSION).encode() in b"".join(ARTICLE_FILE_SCHEMA.metadata.values())


def test_write_staged_creates_its_folder_and_overwrites(tmp_path):
    path = tmp_path / "a" / "b" / "part.parquet"
    write_staged(table([{"article_id": "x", "raw_path": "x.md"}]), path)
    write_staged(table([{"article_id": "y", "raw_path": "y.md"}]), path)  # a retried task
    assert pq.read_table(path).column("article_id").to_pylist() == ["y"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["part.parquet"]


def test_reduce_slices_bound_the_batches_read_at_once():
    from jobs.run.reduce import PartitionTask, _slices

    def task(batches: int) -> PartitionTask:
        return PartitionTask("s", None, (("f.arrow", tuple(range(batches))),), (), None)

    tasks = [task(n) for n in (3, 3, 0, 5, 1, 9, 2)]
    import jobs.run.reduce as work
    limit = 6
    original, work.READ_BATCHES = work.READ_BATCHES, limit
    try:
        slices = list(_slices(tasks))
    finally:
        work.READ_BATCHES = original
    assert [i for start, stop in slices for i in range(start, stop)] == list(range(len(tasks)))  # all, in order, once
    for start, stop in slices:
        total = sum(len(t.fragments[0][1]) for t in tasks[start:stop])
        assert total <= limit or stop - start == 1  # one task alone may exceed the limit
    assert slices == [(0, 3), (3, 5), (5, 6), (6, 7)]
