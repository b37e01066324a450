"""The dataset on disk: read a partition, write staged files, swap them in atomically. I/O.

Layout under OUT:
  articles/source=<s>/date=<d>/part-0.parquet   one file per partition
  rejects/part-0.parquet                        every current reject
  _state/                                       manifest, run log, lock, runs.parquet
  _staging/<run_id>/                            temporary files (outside every glob)
Tasks (on any worker) write whole files under _staging with `write_staged`; the
driver alone swaps them in with `swap`: one os.sync() makes a batch of staged
files durable, then each is renamed over its target, so a reader opening the
path gets the old file or the new one, never a partial file. A partition that
loses its last row becomes a zero-row file, never a deleted one: a reader that
has listed it can still open it (see README, "What readers see").
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.errors import DamagedFile
from jobs.lake.damaged import read_parquet, repair_partition_command
from jobs.lake.lock import StagingFolder, remove_abandoned_staging
from jobs.lake.paths import partition_file, rejects_file, runs_file, staging_dir, staging_root
from schemas.article import ARTICLE_FILE_SCHEMA, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA, TABLES, conform, dictionary_columns

ROW_GROUP_ROWS = 50_000
# Files of fewer rows are compressed with snappy, bigger ones with zstd. A file of a few rows costs about
# 1.2 ms of CPU with zstd against 0.87 ms with snappy (zstd sets up a context per column) for 4 % more
# bytes; at 14 rows snappy already costs 17 % more bytes, at 60 rows 29 % (bench/small_parquet.py).
SMALL_FILE_ROWS = 8
SWAP_BATCH = 128  # staged files per os.sync() and batch of renames


def read_partition(out_dir: str | Path, source: str, date: dt.date | None) -> pa.Table | None:
    """A partition's rows as on disk, or None when it has no file."""
    path = partition_file(out_dir, source, date)
    if not path.exists():
        return None
    return conform(read_parquet(path, repair_partition_command(source, date)), ARTICLE_FILE_SCHEMA)


def partition_raw_paths(out_dir: str | Path, source: str, date: dt.date | None) -> set[str]:
    """The raw_path column of a partition file (recovery reads only this column)."""
    path = partition_file(out_dir, source, date)
    if not path.exists():
        return set()
    table = read_parquet(path, repair_partition_command(source, date), columns=["raw_path"])
    return set(table.column("raw_path").to_pylist())


def remove_if_empty(out_dir: str | Path, source: str, date: dt.date | None) -> bool:
    """Delete a partition's file if it holds no row (and its folders if they end up empty); True if deleted.

    A partition refilled since it was emptied keeps its file; an unreadable one is left to `verify`.
    """
    path = partition_file(out_dir, source, date)
    try:
        if pq.read_metadata(path).num_rows:
            return False
    except (OSError, pa.ArrowException):  # gone already, or damaged: not ours to delete
        return False
    path.unlink()
    for folder in (path.parent, path.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            break
    return True


def write_staged(table: pa.Table, path: str | Path, table_name: str = "articles", make_folders: bool = True) -> None:
    """Write a whole Parquet file under _staging (a task's output); a retried task overwrites it.

    make_folders=False: fail if the folder is gone (a task of a run that failed and cleaned up).
    Encoded in memory and written with one write(): most partition files are a few KB, and the
    writer's own file output costs a system call per page and column (bench/small_parquet.py).
    """
    path = os.fspath(path)
    schema = _SCHEMAS[table_name]
    table = conform(table, schema)
    statistics, dictionary, compression = _column_options(table_name, table.num_rows < SMALL_FILE_ROWS)
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression=compression, row_group_size=ROW_GROUP_ROWS,
                   write_statistics=statistics, use_dictionary=dictionary)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        handle = open(temporary, "wb")
    except FileNotFoundError:
        if not make_folders:
            raise
        os.makedirs(os.path.dirname(temporary), exist_ok=True)
        handle = open(temporary, "wb")
    with handle:
        handle.write(buffer.getvalue())
    os.replace(temporary, path)


class Store:
    """The driver's side: staging folder of one run, swaps, rejects and run log files."""

    def __init__(self, out_dir: str | Path, run_id: str):
        self.out = Path(out_dir)
        self.staging = staging_dir(self.out, run_id)
        self._held: StagingFolder | None = None

    def hold_staging(self) -> None:
        """Create this run's staging folder and hold it (flock) until `clean_staging`."""
        self._held = StagingFolder(self.staging)

    def partition_path(self, source: str, date: dt.date | None) -> Path:
        return partition_file(self.out, source, date)

    def swap(self, staged: Iterable[tuple[Path, Path]], on_batch: Callable[[int], None] | None = None) -> int:
        """Rename staged files over their targets, SWAP_BATCH at a time, each batch made durable first."""
        batch: list[tuple[Path, Path]] = []
        done = 0
        for pair in staged:
            batch.append(pair)
            if len(batch) >= SWAP_BATCH:
                done += self._swap_batch(batch, on_batch)
        if batch:
            done += self._swap_batch(batch, on_batch)
        return done

    def _swap_batch(self, batch: list[tuple[Path, Path]], on_batch: Callable[[int], None] | None) -> int:
        os.sync()  # the staged bytes are on disk before any rename makes them visible
        for temporary, target in batch:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        count = len(batch)
        batch.clear()
        if on_batch:
            on_batch(count)
        return count

    def replace_rejects(self, table: pa.Table) -> bool:
        """Swap in the rejects, unless the file already holds exactly these rows. True when written."""
        target = rejects_file(self.out)
        table = conform(table, REJECT_FILE_SCHEMA)
        if target.exists() and _same_rows(target, table):
            return False
        if not target.exists() and table.num_rows == 0:  # no file already means no rejects
            return False
        staged = self.staging / "rejects.parquet"
        write_staged(table, staged, "rejects")
        self.swap([(staged, target)])
        return True

    def replace_runs(self, table: pa.Table) -> None:
        staged = self.staging / "runs.parquet"
        write_staged(table, staged, "runs")
        self.swap([(staged, runs_file(self.out))])

    def sync(self) -> None:
        """Make every rename so far durable (call before committing the manifest)."""
        os.sync()

    def clean_staging(self) -> None:
        """Remove this run's staging folder and any left by killed runs (never a live run's)."""
        if self._held is not None:
            self._held.release()
            self._held = None
        remove_abandoned_staging(staging_root(self.out))


def _same_rows(path: Path, table: pa.Table) -> bool:
    try:
        return conform(read_parquet(path), REJECT_FILE_SCHEMA).equals(table)
    except DamagedFile:
        return False  # the rejects file is rebuilt whole from the manifest: overwriting it repairs it


_SCHEMAS = {"articles": ARTICLE_FILE_SCHEMA, "rejects": REJECT_FILE_SCHEMA, "runs": RUN_FILE_SCHEMA}
# Free text: min/max statistics of these prune nothing a reader asks and stored the longest values twice
# in every footer (~3 KB of a 15 KB three-row partition file; bench/small_parquet.py).
_NO_STATISTICS = {"articles": {"title", "text", "original_title", "byline", "extra", "headimg", "thumbnail",
                               "original_url", "republished_from"},
                  "rejects": {"message"}}
# The bulk of an article's bytes: free text and lists.
LONG_COLUMNS = _NO_STATISTICS["articles"] | {"paragraphs", "categories", "image_urls", "link_urls", "keywords",
                                              "contributors"}


@functools.lru_cache(maxsize=8)
def _column_options(table_name: str, small: bool) -> tuple[list[str], list[str], str]:
    """(columns with min/max statistics: the short scalar ones; dictionary-encoded columns; codec)."""
    schema = _SCHEMAS[table_name]
    skip = _NO_STATISTICS.get(table_name, set())
    return ([f.name for f in schema if not pa.types.is_list(f.type) and f.name not in skip],
            [name for name in dictionary_columns(TABLES[table_name]) if name in schema.names],
            "snappy" if small else "zstd")
