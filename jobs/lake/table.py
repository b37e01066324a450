"""The `articles` Delta table (delta-rs): its snapshot, its one commit per run, history and vacuum. I/O.

Reduce tasks write uniquely named data files straight into the table's partition folders
(`write_data_file`); the driver alone commits a run's adds and removes in one Delta transaction
that carries the run id as an application transaction (`article-lake/<run_id>`), so a restarted
run can tell whether a killed run's commit happened (`committed`). A file no version names is
invisible to every reader of the log; vacuum removes it. Only the driver imports deltalake:
delta-rs may panic in forked children (delta-rs#2744), and tasks run in forked or remote workers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.lake.paths import Layout, PartitionKey, partition_order
from schemas.article import ARTICLE_COLUMNS, ARTICLE_FILE_SCHEMA, PARTITION_KEYS, arrow_schema

APP_PREFIX = "article-lake/"
# The table's full schema: the file columns plus the partition keys (which live in the log and paths).
TABLE_SCHEMA = arrow_schema(ARTICLE_COLUMNS)
DEFAULT_RETENTION_HOURS = 168  # a week: longer than any query or export an analyst keeps open

# Columns whose min/max go into the log's per-file statistics: what readers filter on besides the keys.
STATS_COLUMNS = ("date", "published_at")


@dataclass(frozen=True)
class DataFile:
    """A data file a reduce task wrote, as the commit needs it (picklable, no deltalake types)."""

    relative: str  # path under articles/, as on disk
    source: str
    month: str | None
    size: int
    rows: int
    stats: str  # Delta statistics JSON
    modified_ms: int


@dataclass(frozen=True)
class LiveFile:
    """A data file the current version names."""

    relative: str
    source: str
    month: str | None
    size: int
    rows: int | None


def write_partition_file(layout: Layout, rows: pa.Table, source: str, month: str | None, run_id: str,
                         task: int, index: int) -> DataFile:
    """Write a partition's rows as one new data file of the table (its name unique to the run, task and
    index) and describe it for the commit. Run by reduce tasks, the migration and the manifest rebuild."""
    from jobs.lake.store import encode_options
    relative = layout.data_file_relative(source, month, run_id, task, index)
    size, modified = write_data_file(rows, str(layout.data_file(relative)), *encode_options(rows.num_rows))
    return DataFile(relative, source, month, size, rows.num_rows, file_stats(rows), modified)


def write_data_file(table: pa.Table, path: str, row_group_rows: int, compression: str,
                    statistics: list[str], dictionary: list[str]) -> tuple[int, int]:
    """Write one data file in one write (encoded in memory); (size, mtime in ms).

    No temporary name: a file no commit names does not exist for readers, and a retried task rewrites it.
    """
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression=compression, row_group_size=row_group_rows,
                   write_statistics=statistics, use_dictionary=dictionary)
    data = buffer.getvalue()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        os.fsync(handle.fileno())  # durable before the driver's commit names it
    return len(data), int(os.stat(path).st_mtime * 1000)


def file_stats(table: pa.Table) -> str:
    """Delta per-file statistics (numRecords, min/max/nullCount of STATS_COLUMNS) as JSON."""
    import pyarrow.compute as pc
    minimum, maximum, nulls = {}, {}, {}
    for name in STATS_COLUMNS:
        column = table.column(name)
        nulls[name] = column.null_count
        if column.null_count == len(column):
            continue
        low, high = pc.min_max(column).values()
        minimum[name], maximum[name] = _stat_text(low.as_py()), _stat_text(high.as_py())
    return json.dumps({"numRecords": table.num_rows, "minValues": minimum, "maxValues": maximum,
                       "nullCount": nulls}, separators=(",", ":"))


def _stat_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class ArticlesTable:
    """The driver's handle on the Delta table under OUT/articles."""

    def __init__(self, out_dir: str | Path):
        self.layout = Layout(out_dir)
        self._table = None

    @property
    def uri(self) -> str:
        return str(self.layout.articles.resolve())

    def exists(self) -> bool:
        return self.layout.delta_log.is_dir() and any(self.layout.delta_log.glob("*.json"))

    def open(self, version: int | str | dt.datetime | None = None):
        """The table at its latest version (created empty when missing), or at `version`."""
        from deltalake import DeltaTable
        if version is None and not self.exists():
            self.create()
        table = DeltaTable(self.uri)
        if version is not None:
            table.load_as_version(version)
        self._table = table
        return table

    @property
    def table(self):
        return self._table if self._table is not None else self.open()

    def create(self) -> None:
        from deltalake import Schema
        from deltalake.transaction import create_table_with_add_actions
        self.layout.articles.mkdir(parents=True, exist_ok=True)
        create_table_with_add_actions(self.uri, Schema.from_arrow(TABLE_SCHEMA), [], mode="ignore",
                                      partition_by=list(PARTITION_KEYS), name="articles",
                                      description="article-lake: one row per article")

    def version(self) -> int:
        return self.table.version()

    def live_files(self) -> list[LiveFile]:
        """Every data file of the loaded version, in partition order."""
        actions = pa.table(self.table.get_add_actions(flatten=True))
        columns = {name: actions.column(name).to_pylist() if name in actions.column_names else [None] * actions.num_rows
                   for name in ("path", "partition.source", "partition.month", "size_bytes", "num_records")}
        files = [LiveFile(unquote(path), source, month, size, rows) for path, source, month, size, rows
                 in zip(*columns.values())]
        return sorted(files, key=lambda f: (partition_order((f.source, f.month)), f.relative))

    def files_by_partition(self) -> dict[PartitionKey, list[str]]:
        found: dict[PartitionKey, list[str]] = {}
        for live in self.live_files():
            found.setdefault((live.source, live.month), []).append(live.relative)
        return found

    def committed(self, run_id: str) -> bool:
        """Whether the run's commit is in the log (its application transaction is in the snapshot)."""
        if not self.exists():
            return False
        return self.open().transaction_version(APP_PREFIX + run_id) is not None

    def commit(self, adds: list[DataFile], removes: list[str], run_id: str, metadata: dict) -> int:
        """One Delta transaction: the run's adds and removes, with the run id; the new version."""
        from deltalake.transaction import AddAction, CommitProperties, RemoveAction, Transaction
        now = int(time.time() * 1000)
        live = {f.relative: f for f in self.live_files()}
        actions = [AddAction(f.relative, f.size, {"source": f.source, "month": f.month}, f.modified_ms, True, f.stats)
                   for f in adds]
        for relative in removes:
            known = live[relative]
            actions.append(RemoveAction(relative, True, now, known.size, {"source": known.source, "month": known.month}))
        properties = CommitProperties(custom_metadata={"run_id": run_id, **metadata},
                                      app_transactions=[Transaction(APP_PREFIX + run_id, 1, now)])
        self.table.create_write_transaction(actions, mode="append", schema=TABLE_SCHEMA,
                                            partition_by=list(PARTITION_KEYS), commit_properties=properties)
        return self.open().version()

    def history(self, limit: int | None = None) -> list[dict]:
        return self.table.history(limit)

    def vacuum(self, retention_hours: float, dry_run: bool = False) -> list[str]:
        """Remove files superseded more than `retention_hours` ago and files no version names that are older."""
        return self.table.vacuum(retention_hours=int(retention_hours), dry_run=dry_run,
                                 enforce_retention_duration=False, full=True)


def untracked_files(layout: Layout, live: set[str] | None = None) -> list[str]:
    """Parquet files under the table's folder that no commit of the log ever named (relative paths):
    files of killed runs, strays copied in. No reader of the log sees them; only a writer holding the
    run lock may delete them (a running run's files are untracked until its commit).

    The commits' JSON files are read for every path they add; the current version's files are added
    too, since delta-rs removes commit files older than the log retention (30 days) once a checkpoint
    holds them: a live file added by such a commit is never taken for a stray.
    """
    if live is None:
        table = ArticlesTable(layout.out)
        live = {f.relative for f in table.live_files()} if table.exists() else set()
    added: set[str] = set(live)
    for entry in sorted(layout.delta_log.glob("*.json")):
        with open(entry, encoding="utf-8") as handle:
            for line in handle:
                if '"add"' in line or '"remove"' in line:
                    entry = json.loads(line)
                    action = entry.get("add") or entry.get("remove")
                    if action:
                        added.add(unquote(action["path"]))
    found = []
    for path in layout.articles.rglob("*.parquet"):
        relative = path.relative_to(layout.articles).as_posix()
        if relative.startswith(("_", ".")) or "/_" in relative or "/." in relative:
            continue  # _delta_log and hidden files are not data files
        if relative not in added:
            found.append(relative)
    return sorted(found)


def read_data_files(layout: Layout, key: PartitionKey, relatives: list[str] | tuple[str, ...]) -> pa.Table | None:
    """The rows of a partition's current data files, cast to the file schema; None when it has none.
    An unreadable or missing file raises DamagedFile naming it and the command that rebuilds its partition."""
    from jobs.lake.damaged import read_parquet, repair_partition_command
    from schemas.article import conform
    if not relatives:
        return None
    from jobs.errors import DamagedFile
    repair = repair_partition_command(*key)
    tables = []
    for relative in relatives:
        try:
            tables.append(conform(read_parquet(layout.data_file(relative), repair), ARTICLE_FILE_SCHEMA))
        except FileNotFoundError:  # deleted by hand: the version names it, so its rows are lost like a damaged file's
            raise DamagedFile(layout.data_file(relative), "missing, though the table's current version names it",
                              repair) from None
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
