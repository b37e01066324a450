"""Broken state is never a dead end: a damaged partition file is named with the command that repairs
it, and `reprocess` rebuilds it from the raw files; a manifest that is missing, empty or damaged is
rebuilt from the dataset with a message, and never duplicates a row (files that moved partition
since the last run included)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers_pipeline import (article_files, article_text, comparable, copy_samples, manifest, read_articles,
                              read_rejects, run_cli, run_ingest, write_raw)

SOURCE, DAY, MONTH = "损坏源", "2022-08-03", "2022-08"
MONTH_RANGE = ("2022-08-01", "2022-08-31")  # a partition is a source's month: its repair names the whole month


def partition(out: Path, source: str = SOURCE, month: str = MONTH) -> Path:
    """The partition's one data file in the table's current version."""
    (path,) = [p for p in article_files(out) if p.parent.as_posix().endswith(f"source={source}/month={month}")]
    return path


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """Samples plus three articles of one partition (one of whose raw files is later deleted), ingested."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    for name in ("a", "b", "gone"):
        write_raw(raw, f"damage/{name}.md", article_text(f"文章 {name}", f"{DAY} 0{len(name)}:00:00", author=SOURCE))
    write_raw(raw, "bad/empty.md", "")
    assert run_ingest(raw, out, max_reject_ratio=1.0).exit_code == 0
    return raw, out


def fresh(raw: Path, tmp_path: Path) -> list[dict]:
    """What an uninterrupted run over these raw files gives."""
    out = tmp_path / "fresh"
    shutil.rmtree(out, ignore_errors=True)
    run_ingest(raw, out, max_reject_ratio=1.0)
    return comparable(read_articles(out))


def cli(raw: Path, out: Path, *args: str):
    return run_cli(*args, "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def scramble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 200: middle + 200] = b"\xff" * 400  # bad bytes inside the pages, footer intact
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, scramble])
def test_an_ingest_touching_a_damaged_partition_names_the_file_and_the_repair(raw_and_ingested_out, damage):
    raw, out = raw_and_ingested_out
    damage(partition(out))
    write_raw(raw, "damage/new.md", article_text("新来的", f"{DAY} 09:00:00", author=SOURCE))
    result = cli(raw, out, "ingest")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(partition(out)) in line
    assert f"articles reprocess --source {SOURCE} --from {MONTH_RANGE[0]} --to {MONTH_RANGE[1]} --yes" in line
    assert not (out / "_staging").exists()


@pytest.mark.parametrize("damage", [truncate, scramble])
def test_reprocess_rebuilds_an_unreadable_partition_from_the_raw_files(raw_and_ingested_out, damage, tmp_path):
    raw, out = raw_and_ingested_out
    (raw / "damage" / "gone.md").unlink()  # its row was only in the damaged file: lost, and said so
    damaged = partition(out)
    damage(damaged)
    plan = cli(raw, out, "reprocess", "--source", SOURCE, "--from", DAY, "--to", DAY)
    assert plan.returncode == 0, plan.stderr
    assert f"unreadable, rebuilt from the raw files alone: source={SOURCE} month={MONTH}" in plan.stdout
    result = cli(raw, out, "reprocess", "--source", SOURCE, "--from", DAY, "--to", DAY, "--yes")
    assert result.returncode == 0, result.stderr
    assert str(damaged) in result.stdout and "damage/gone.md" in result.stdout and "are lost" in result.stdout
    assert partition(out) != damaged  # a new file in a new version
    assert comparable(read_articles(out)) == fresh(raw, tmp_path)  # readable again, and as a fresh run
    with manifest(out) as db:  # the manifest no longer claims the lost row
        assert db.execute("SELECT count(*) FROM files WHERE raw_path = 'damage/gone.md'").fetchone() == (0,)
    db.close()
    again = cli(raw, out, "ingest")
    assert again.returncode == 0 and " 0 parsed" in again.stdout


def test_a_damaged_rejects_file_is_rewritten_by_the_next_run_that_changes_rejects(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    truncate(out / "rejects" / "part-0.parquet")
    write_raw(raw, "bad/also_empty.md", "")
    result = cli(raw, out, "ingest", "--max-reject-ratio", "1")
    assert result.returncode == 0, result.stderr
    assert {r["raw_path"] for r in read_rejects(out)} == {"bad/empty.md", "bad/also_empty.md"}


# -- the manifest ------------------------------------------------------------------
def move_partitions(raw: Path) -> None:
    """Re-date two files: their rows belong in another partition now."""
    for name, day in (("a", "2022-08-05"), ("b", "2022-08-06")):
        write_raw(raw, f"damage/{name}.md", article_text(f"文章 {name}", f"{day} 01:00:00", author=SOURCE))


def garbage_header(path: Path) -> None:
    path.write_bytes(b"this is not a database at all" * 40 + path.read_bytes()[1200:])


def garbage_pages(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:4096] + bytes((i * 37) % 251 for i in range(len(data) - 4096)))


def zero_length(path: Path) -> None:
    path.write_bytes(b"")


def deleted(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize("breakage, problem", [(deleted, "missing"), (zero_length, "empty"),
                                               (garbage_header, "damaged"), (garbage_pages, "damaged")])
def test_a_broken_manifest_is_rebuilt_from_the_dataset_without_duplicating_rows(raw_and_ingested_out, tmp_path, breakage, problem):
    raw, out = raw_and_ingested_out
    path = out / "_state" / "manifest.sqlite"
    with sqlite3.connect(path) as db:  # fold the WAL in, so that the damage hits the data
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    move_partitions(raw)
    breakage(path)
    result = cli(raw, out, "ingest", "--log-json", "--max-reject-ratio", "1")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert f"manifest {path} was {problem}" in summary and "rebuilt from the dataset" in summary
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e["event"] == "warning" and "rebuilt from the dataset" in e["message"] for e in events)
    rows = read_articles(out)
    assert len({r["raw_path"] for r in rows}) == len(rows)  # the moved files are in one partition each
    assert comparable(rows) == fresh(raw, tmp_path)
    assert {r["raw_path"] for r in read_rejects(out)} == {"bad/empty.md"}
    if problem == "damaged":
        assert list((out / "_state").glob("manifest.sqlite.damaged-*"))
    with manifest(out) as db:  # the run log came back from runs.parquet: the first run is still listed
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    db.close()
    again = cli(raw, out, "ingest")
    assert again.returncode == 0 and " 0 parsed" in again.stdout and "warning" not in again.stdout


def test_a_raw_path_found_in_two_partitions_resolves_to_one_row(raw_and_ingested_out, tmp_path):
    raw, out = raw_and_ingested_out
    from jobs.lake.table import ArticlesTable, DataFile, file_stats
    # Every row of the partition, a second time in another month, committed there by the log.
    relative = f"{partition(out).parent.parent.name}/month=2022-09/part-copy-000000-0000.parquet"
    copy = out / "articles" / relative
    copy.parent.mkdir(parents=True)
    shutil.copy(partition(out), copy)
    rows = pq.read_table(copy)
    ArticlesTable(out).commit([DataFile(relative, SOURCE, "2022-09", copy.stat().st_size, rows.num_rows,
                                        file_stats(rows), 0)], [], "copy", {"command": "test"})
    (out / "_state" / "manifest.sqlite").unlink()
    result = cli(raw, out, "ingest", "--max-reject-ratio", "1")
    assert result.returncode == 0, result.stderr
    assert "3 raw files had more than one row in the dataset" in result.stdout
    assert copy not in article_files(out)  # removed from the current version (on disk until vacuum)
    assert comparable(read_articles(out)) == fresh(raw, tmp_path)


def test_a_dry_run_plan_never_rebuilds_the_manifest(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    path = out / "_state" / "manifest.sqlite"
    path.unlink()
    plan = cli(raw, out, "reprocess", "--all")
    assert plan.returncode == 1 and "Traceback" not in plan.stderr
    assert str(path) in plan.stderr and "rebuilds the manifest" in plan.stderr
    assert not path.exists()
