"""Migration of a dataset of the day-partitioned layout (articles/source=<s>/date=<d>/part-0.parquet,
before the Delta table) into the Delta table by source and month. Runs once, under the run lock, at
the start of the first run of this code (or `articles migrate`).

Every row is kept as it was in every data column (`date`, a folder key before, becomes a column of the
files; `month` is derived from it). A run of the old code killed mid-swap left an in-flight record: its
raw paths' rows are left out and those paths forgotten in the manifest, so they are parsed again as
new, as the old recovery did. The Delta commit comes first; then those paths are forgotten and the old
files deleted (a kill in between: the next start finds the commit, forgets the paths the still-present
in-flight record names, and deletes what is left of the old layout).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc

from jobs.lake.damaged import read_parquet, repair_partition_command
from jobs.lake.paths import Layout, month_of, partition_order
from jobs.lake.store import write_file_list
from jobs.lake.table import ArticlesTable, write_partition_file
from jobs.run.merge import deduplicate
from jobs.run.options import EventSink
from schemas.article import ARTICLE_FILE_SCHEMA, conform
from schemas.hive import HIVE_NULL

MIGRATION_RUN = "migrate-day-layout"


def migrate_if_needed(out_dir: str | Path, emit: EventSink) -> dict[str, int] | None:
    """Migrate when the old layout is there; the counts, or None when there was nothing to do."""
    layout = Layout(out_dir)
    legacy = layout.legacy_partition_files()
    if not legacy:
        return None
    table = ArticlesTable(out_dir)
    table.open()
    if not table.committed(MIGRATION_RUN):
        counts = _migrate(layout, table, legacy)
        emit("migrated", counts)
    else:
        counts = {"files": 0, "rows": 0, "partitions": 0}
    # After the commit, and again after a kill that came between the commit and here: the killed old
    # run's record is still in the manifest until this forgets its paths (their rows are not in the table).
    unfinished = _unfinished_paths(layout.manifest)
    if unfinished:
        _forget(layout.manifest, unfinished)
    write_file_list(layout, table.open().version(), table.live_files())
    for path in legacy:  # after the commit: the table holds their rows now
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            try:
                folder.rmdir()
            except OSError:
                break
    return counts


def _migrate(layout: Layout, table: ArticlesTable, legacy: list[Path]) -> dict[str, int]:
    unfinished = _unfinished_paths(layout.manifest)
    by_partition: dict[tuple[str, str | None], list[pa.Table]] = {}
    rows = 0
    for path in legacy:
        source, date = _legacy_key(path)
        data = conform(read_parquet(path, repair_partition_command(source, month_of(date))), ARTICLE_FILE_SCHEMA)
        data = data.set_column(data.schema.get_field_index("date"), "date", pa.array([date] * data.num_rows, pa.date32()))
        if unfinished:
            data = data.filter(pc.invert(pc.is_in(data.column("raw_path"), value_set=pa.array(sorted(unfinished)))))
        rows += data.num_rows
        by_partition.setdefault((source, month_of(date)), []).append(data)
    adds = []
    for task, key in enumerate(sorted(by_partition, key=partition_order)):
        merged = deduplicate(pa.concat_tables(by_partition[key]))
        if not merged.num_rows:
            continue
        adds.append(write_partition_file(layout, merged, key[0], key[1], MIGRATION_RUN, task, 0))
    table.commit(adds, [], MIGRATION_RUN, {"command": "migrate", "legacy_files": len(legacy), "rows": rows})
    return {"files": len(legacy), "rows": rows, "partitions": len(adds), "forgotten": len(unfinished)}


def _legacy_key(path: Path) -> tuple[str, dt.date | None]:
    source = unquote(path.parent.parent.name.removeprefix("source="))
    date_text = path.parent.name.removeprefix("date=")
    return source, None if date_text == HIVE_NULL else dt.date.fromisoformat(date_text)


def _unfinished_paths(manifest: Path) -> set[str]:
    """Raw paths of a run of the old code killed between its first swap and its commit."""
    if not manifest.exists():
        return set()
    db = sqlite3.connect(manifest)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "inflight_partitions" not in tables:
            return set()
        runs = [row[0] for row in db.execute("SELECT DISTINCT run_id FROM inflight_partitions WHERE date IS 'marker'")]
        if not runs:
            return set()
        marks = ",".join("?" * len(runs))
        paths = {row[0] for row in db.execute(f"SELECT raw_path FROM pending WHERE run_id IN ({marks})", runs)}
        ids = {row[0] for row in db.execute(
            f"SELECT article_id FROM files WHERE status='article' AND raw_path IN ({','.join('?' * len(paths))})",
            sorted(paths))} if paths else set()
        if ids:
            paths |= {row[0] for row in db.execute(
                f"SELECT raw_path FROM files WHERE article_id IN ({','.join('?' * len(ids))})", sorted(ids))}
        return paths
    finally:
        db.close()


def _forget(manifest: Path, paths: set[str]) -> None:
    db = sqlite3.connect(manifest, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("DELETE FROM files WHERE raw_path=?", [(p,) for p in sorted(paths)])
        db.execute("DELETE FROM pending")
        db.execute("DELETE FROM inflight_partitions")
        db.execute("COMMIT")
    finally:
        db.close()
