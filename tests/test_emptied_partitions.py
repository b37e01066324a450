"""A partition a run empties stays a zero-row file (a query may have listed it); a later run removes it
once it has been empty longer than the grace period, and never removes one that was refilled."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pyarrow.parquet as pq

from helpers_pipeline import article_text, read_articles, run_ingest, write_raw
from jobs.lake.paths import manifest_file, partition_file
from jobs.run.options import RunOptions
from jobs.run.pipeline import ingest

OLD_DAY, NEW_DAY = dt.date(2022, 8, 1), dt.date(2022, 8, 5)


def _emptied_records(out):
    with sqlite3.connect(manifest_file(out)) as db:
        return db.execute("SELECT source, date FROM emptied_partitions").fetchall()


def test_an_emptied_partition_is_kept_through_the_grace_period_then_removed(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("甲", "2022-08-01 10:00:00"))
    write_raw(raw, "b.md", article_text("乙", "2022-08-03 10:00:00"))
    run_ingest(raw, out)
    write_raw(raw, "a.md", article_text("甲", "2022-08-05 10:00:00"))  # re-dated: its old partition empties
    run_ingest(raw, out)
    emptied = partition_file(out, "测试源", OLD_DAY)
    assert pq.read_metadata(emptied).num_rows == 0
    assert _emptied_records(out) == [("测试源", OLD_DAY.isoformat())]

    run_ingest(raw, out)  # within the grace period: still there for readers that listed it
    assert emptied.exists()

    report = run_ingest(raw, out, emptied_grace_s=0)
    assert report.exit_code == 0
    assert not emptied.exists() and not emptied.parent.exists()
    assert _emptied_records(out) == []
    assert sorted(r["raw_path"] for r in read_articles(out)) == ["a.md", "b.md"]


def test_a_partition_refilled_before_the_cleanup_keeps_its_file(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "a.md", article_text("甲", "2022-08-01 10:00:00"))
    run_ingest(raw, out)
    write_raw(raw, "a.md", article_text("甲", "2022-08-05 10:00:00"))
    run_ingest(raw, out)
    write_raw(raw, "a.md", article_text("甲", "2022-08-01 10:00:00"))  # back: the emptied partition refills
    write_raw(raw, "c.md", article_text("丙", "2022-08-01 11:00:00"))
    run_ingest(raw, out)
    events = []
    ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1, emptied_grace_s=0), lambda name, data: events.append((name, data)))
    assert pq.read_metadata(partition_file(out, "测试源", OLD_DAY)).num_rows == 2
    assert not partition_file(out, "测试源", NEW_DAY).exists()  # emptied by the third run: removed now
    assert ("emptied_removed", {"partitions": 1}) in events
    assert _emptied_records(out) == []
