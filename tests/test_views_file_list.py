"""The views' file list is one new file per table version, never rewritten: DuckDB opens a Parquet path more
than once per read, so a list replaced in place (even by an atomic rename) was read half old, half new
("Prefetch registered for bytes outside file", "TProtocolException: Invalid data": CI saw it once in the
readers' isolation test)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb

from helpers_pipeline import copy_samples, run_ingest
from jobs.lake.paths import Layout
from jobs.lake.store import KEEP_LISTS, LIST_GRACE_SECONDS, write_file_list
from jobs.lake.table import ArticlesTable
from schemas.views import VIEWS_FILE


def test_views_read_while_lists_are_written_see_no_torn_list(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    assert run_ingest(raw, out, workers=1).exit_code == 0
    table = ArticlesTable(out)
    table.open()
    live, version = table.live_files(), table.version()
    half = live[: len(live) // 2]  # lists of two sizes: a torn read needs the file to change size

    def rows_of(files) -> int:
        return duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)",
                                        [[str(Layout(out).data_file(f.relative)) for f in files]]).fetchone()[0]

    expected = {rows_of(live), rows_of(half)}
    stop = threading.Event()

    def commits() -> None:  # as fast as runs could ever commit, each a newer version
        step = 0
        while not stop.is_set():
            step += 1
            write_file_list(Layout(out), version + step, half if step % 2 else live)

    writer = threading.Thread(target=commits)
    writer.start()
    errors, counts = [], []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            connection = duckdb.connect()
            try:
                connection.execute("SET VARIABLE article_lake_root = ?", [str(out)])
                connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
                counts.append(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
            except duckdb.Error as error:
                errors.append(str(error)[:200])
            finally:
                connection.close()
    finally:
        stop.set()
        writer.join()
    assert not errors, errors[:3]
    assert len(counts) >= 20 and set(counts) <= expected


def test_old_lists_go_after_the_grace_period_and_the_newest_stay(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    run_ingest(raw, out, workers=1)
    layout = Layout(out)
    layout.legacy_articles_files.write_bytes(b"the single list of earlier code")
    table = ArticlesTable(out)
    table.open()
    live = table.live_files()
    old = time.time() - LIST_GRACE_SECONDS - 60
    for written in layout.articles_lists.iterdir():  # the ingest's own list, aged too
        os.utime(written, (old, old))
    for version in range(100, 106):
        write_file_list(layout, version, live)
        os.utime(layout.articles_list(version), (old, old))
    write_file_list(layout, 106, live)
    names = sorted(p.name for p in layout.articles_lists.iterdir())
    # the newest KEEP_LISTS stay however old; the older ones go; the legacy file goes with the first new list
    assert names == [layout.articles_list(v).name for v in range(107 - KEEP_LISTS, 107)]
    assert layout.current_articles_list() == layout.articles_list(106)
    assert not layout.legacy_articles_files.exists()
