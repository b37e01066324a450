"""Files no commit names are found (and only those), even once delta-rs has cleaned up old commit files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

from helpers_pipeline import article_text, read_articles, run_ingest, write_raw
from jobs.lake.paths import Layout
from jobs.lake.table import untracked_files
from jobs.run.vacuum import vacuum_table
from jobs.lake.table import ArticlesTable


def _ingest_three_nights(raw: Path, out: Path) -> None:
    for night in range(3):
        # The first night's month is never touched again: its file stays live, added by the first commit.
        month = "07" if night == 0 else "08"
        write_raw(raw, f"源甲/频道/{night}.md", article_text(f"标题{night}", f"2022-{month}-0{night + 1} 10:00:00"))
        run_ingest(raw, out)


def test_live_files_of_cleaned_up_commits_are_not_taken_for_strays(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _ingest_three_nights(raw, out)
    table = DeltaTable(str(out / "articles"))
    table.create_checkpoint()
    log = out / "articles" / "_delta_log"
    for commit in sorted(log.glob("*.json"))[:-1]:  # what log cleanup does once a checkpoint holds them
        commit.unlink()
    live = {Path(uri).relative_to((out / "articles").resolve()).as_posix() for uri in DeltaTable(str(out / "articles")).file_uris()}
    assert live and not set(untracked_files(Layout(out))) & live
    before = read_articles(out)
    vacuum_table(ArticlesTable(out), retention_hours=0)
    assert read_articles(out) == before and len(before) == 3


def test_a_stray_and_a_killed_runs_file_are_untracked_and_vacuum_removes_them_at_once(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _ingest_three_nights(raw, out)
    rows = read_articles(out)
    live = sorted((out / "articles").rglob("part-*.parquet"))
    stray = live[0].parent / "copied.parquet"
    stray.write_bytes(live[0].read_bytes())
    killed = out / "articles" / "source=源乙" / "month=2022-09" / "part-20990101T000000000000Z-1-000000-0000.parquet"
    killed.parent.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), killed)
    assert untracked_files(Layout(out)) == sorted([stray.relative_to(out / "articles").as_posix(),
                                                   killed.relative_to(out / "articles").as_posix()])
    assert read_articles(out) == rows  # invisible to readers of the table
    removed = vacuum_table(ArticlesTable(out), retention_hours=168)
    assert not stray.exists() and not killed.exists() and len(removed) >= 2
    assert read_articles(out) == rows
