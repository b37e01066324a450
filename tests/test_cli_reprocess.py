"""`articles reprocess`: plan without --yes, rebuild exactly the selected partitions with it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers_cli import invoke
from helpers_pipeline import article_text, manifest, read_articles, run_ingest, snapshot, write_raw
from jobs.parse import PARSER_VERSION
from schemas.article import ARTICLE_FILE_SCHEMA

# (path, source, date): two sources over three dates.
FILES = [
    ("甲/1.md", "甲源", "2022-08-01"), ("甲/2.md", "甲源", "2022-08-02"), ("甲/3.md", "甲源", "2022-08-03"),
    ("乙/1.md", "乙源", "2022-08-01"), ("乙/2.md", "乙源", "2022-08-02"), ("乙/3.md", "乙源", "2022-08-03"),
]


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """(raw dir, out dir): FILES (two sources over three dates), ingested."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    for path, source, date in FILES:
        write_raw(raw, path, article_text(f"{source} {date}", f"{date} 10:00:00", author=source))
    assert run_ingest(raw, out).exit_code == 0
    return raw, out


def reprocess(raw: Path, out: Path, *args: str):
    return invoke("reprocess", "--raw-dir", raw, "--out-dir", out, "--workers", "1", *args)


def partition(source: str, date: str) -> str:
    return f"articles/source={source}/date={date}/part-0.parquet"


def changed_files(before: dict, after: dict) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def manifest_rows(out: Path) -> tuple[list, list]:
    with manifest(out) as db:
        rows = (db.execute("SELECT * FROM files ORDER BY raw_path").fetchall(),
                db.execute("SELECT * FROM runs ORDER BY run_id").fetchall())
    db.close()
    return rows


def test_without_yes_prints_the_plan_and_changes_nothing(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before, state_before = snapshot(out), manifest_rows(out)
    result = reprocess(raw, out, "--source", "甲源")
    assert result.exit_code == 0, result.output
    assert "would rebuild 3 partitions: reparse 3 files, replace 3 rows" in result.stdout
    assert "Add --yes" in result.stdout and "source=甲源 date=2022-08-02" in result.stdout
    assert snapshot(out) == before
    assert manifest_rows(out) == state_before  # not even a run is logged


def test_yes_with_from_to_and_source_rebuilds_only_those_partitions(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = snapshot(out)
    result = reprocess(raw, out, "--from", "2022-08-02", "--to", "2022-08-03", "--source", "乙源", "--yes")
    assert result.exit_code == 0, result.output
    assert "reprocess ok" in result.stdout
    assert changed_files(before, snapshot(out)) == {partition("乙源", "2022-08-02"), partition("乙源", "2022-08-03")}
    runs = {r["raw_path"]: r["run_id"] for r in read_articles(out)}
    assert runs["乙/2.md"] == runs["乙/3.md"] != runs["乙/1.md"] == runs["甲/2.md"]


def test_parser_older_than_selects_partitions_holding_old_rows(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    with manifest(out) as db:
        db.execute("UPDATE files SET parser_version = '1' WHERE raw_path = '甲/3.md'")
    db.close()
    before = snapshot(out)
    plan = reprocess(raw, out, "--parser-older-than", PARSER_VERSION)
    assert "would rebuild 1 partitions" in plan.stdout, plan.output
    result = reprocess(raw, out, "--parser-older-than", PARSER_VERSION, "--yes")
    assert result.exit_code == 0, result.output
    assert changed_files(before, snapshot(out)) == {partition("甲源", "2022-08-03")}
    with manifest(out) as db:
        versions = dict(db.execute("SELECT raw_path, parser_version FROM files").fetchall())
    db.close()
    assert set(versions.values()) == {PARSER_VERSION}


def test_rows_of_vanished_files_are_kept_without_prune_and_dropped_with_it(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    (raw / "甲/1.md").unlink()
    plan = reprocess(raw, out, "--all")
    assert "1 raw files are gone (their rows are kept)" in plan.stdout, plan.output
    result = reprocess(raw, out, "--all", "--yes")
    assert result.exit_code == 0, result.output
    assert "甲/1.md" in {r["raw_path"] for r in read_articles(out)}
    before = snapshot(out)
    result = reprocess(raw, out, "--source", "乙源", "--prune", "--yes")  # 甲/1.md is not selected
    assert result.exit_code == 0 and "甲/1.md" in {r["raw_path"] for r in read_articles(out)}
    assert not changed_files(before, snapshot(out)) & {partition("甲源", "2022-08-01")}
    result = reprocess(raw, out, "--source", "甲源", "--prune", "--yes")
    assert result.exit_code == 0, result.output
    paths = {r["raw_path"] for r in read_articles(out)}
    assert "甲/1.md" not in paths and len(paths) == len(FILES) - 1
    assert pq.ParquetFile(out / partition("甲源", "2022-08-01")).metadata.num_rows == 0  # emptied, never deleted
    with manifest(out) as db:
        assert db.execute("SELECT count(*) FROM files WHERE raw_path = '甲/1.md'").fetchone()[0] == 0
    db.close()


def test_stale_rows_in_a_selected_partition_are_gone_after_rebuild(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    # A row no raw file stands behind (left by an old bug): in a selected and in an unselected partition.
    for source in ("甲源", "乙源"):
        path = out / partition(source, "2022-08-01")
        table = pq.read_table(path)
        ghost = table.slice(0, 1).to_pylist()[0] | {"article_id": "ghost", "raw_path": "ghost.md", "title": "幽灵"}
        pq.write_table(pa.concat_tables([table, pa.Table.from_pylist([ghost], schema=table.schema)]), path)
    result = reprocess(raw, out, "--source", "甲源", "--from", "2022-08-01", "--to", "2022-08-01", "--yes")
    assert result.exit_code == 0, result.output
    ghosts = {(r["source"], r["raw_path"]) for r in read_articles(out) if r["raw_path"] == "ghost.md"}
    assert ghosts == {("乙源", "ghost.md")}
    assert pq.read_schema(out / partition("甲源", "2022-08-01")).equals(ARTICLE_FILE_SCHEMA, check_metadata=False)


def test_parser_older_than_compares_versions_as_versions(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    with manifest(out) as db:
        db.execute("UPDATE files SET parser_version = '3.11'")
        db.execute("UPDATE files SET parser_version = '3.9' WHERE raw_path = '甲/1.md'")
        db.execute("UPDATE files SET parser_version = '3.10' WHERE raw_path = '乙/1.md'")
    db.close()
    result = reprocess(raw, out, "--parser-older-than", "3.10")
    assert result.exit_code == 0, result.output
    assert "would rebuild 1 partitions" in result.stdout and "source=甲源 date=2022-08-01" in result.stdout
    # A version with letters in it is compared, not a crash (int vs str).
    result = reprocess(raw, out, "--parser-older-than", "v4")
    assert result.exit_code == 0, result.output
    assert "would rebuild" in result.stdout
