"""The dataset on disk: read a partition, swap in a new one atomically. I/O.

Layout under OUT:
  articles/source=<s>/date=<d>/part-0.parquet   one file per partition
  rejects/part-0.parquet                        every current reject
  _state/                                       manifest, run log, lock, runs.parquet
  _staging/<run_id>/                            temporary files (outside every glob)
A new file is written under _staging, then renamed over the old one: readers
see the old file or the new one, never a partial file. Partition files are
staged in batches: one os.sync() makes a whole batch durable before its
renames (an fsync per file and per folder cost more than writing the files),
and `sync()` makes the renames durable before the manifest commits.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.errors import DamagedFile
from jobs.lake.damaged import read_parquet, repair_partition_command
from jobs.lake.lock import StagingFolder, remove_abandoned_staging
from jobs.lake.paths import articles_root, partition_file, rejects_file, runs_file, staging_dir, staging_root
from schemas.article import ARTICLE_FILE_SCHEMA, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA, TABLES, conform, dictionary_columns

ROW_GROUP_ROWS = 50_000
WRITER_THREADS = 2
MAX_PENDING_WRITES = 16
SWAP_BATCH = 128  # staged partition files per os.sync() (the caller flushes)


class Store:
    def __init__(self, out_dir: str | Path, run_id: str):
        self.out = Path(out_dir)
        self.staging = staging_dir(self.out, run_id)
        self._counter = 0
        self._staged: list[tuple[Path, Path]] = []
        self._writer = ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="parquet-writer")
        self._writes: list[Future] = []
        self._held: StagingFolder | None = None

    def hold_staging(self) -> None:
        """Create this run's staging folder and hold it (flock) until `clean_staging`."""
        self._held = StagingFolder(self.staging)

    def partition_path(self, source: str, date: dt.date) -> Path:
        return partition_file(self.out, source, date)

    def read_partition(self, source: str, date: dt.date) -> pa.Table | None:
        path = self.partition_path(source, date)
        if not path.exists():
            return None
        return conform(read_parquet(path, repair_partition_command(source, date)), ARTICLE_FILE_SCHEMA)

    def replace_partition(self, source: str, date: dt.date, table: pa.Table) -> None:
        """Stage `table` (already merged and sorted) for this partition; an empty table removes it.

        Staged files are swapped in by `flush()`, at the latest.
        """
        target = self.partition_path(source, date)
        if table.num_rows == 0:
            self.flush()  # keep swaps in order: earlier staged writes land before this removal
            _remove_file_and_empty_dirs(target, stop=articles_root(self.out))
            return
        self._stage(target, conform(table, ARTICLE_FILE_SCHEMA), "articles")

    def replace_rejects(self, table: pa.Table) -> None:
        """Swap in the rejects, unless the file already holds exactly these rows (then nothing is written)."""
        target = rejects_file(self.out)
        table = conform(table, REJECT_FILE_SCHEMA)
        if target.exists() and _same_rows(target, table):
            return
        if not target.exists() and table.num_rows == 0:  # no file already means no rejects
            return
        self._stage(target, table, "rejects")
        self.flush()

    def replace_runs(self, table: pa.Table) -> None:
        self._stage(runs_file(self.out), conform(table, RUN_FILE_SCHEMA), "runs")
        self.flush()

    def _stage(self, target: Path, table: pa.Table, table_name: str) -> None:
        """Write `table` to a temporary file, on a writer thread: the Parquet encoder releases the GIL,
        so the next partition is merged while this one is written."""
        self.staging.mkdir(parents=True, exist_ok=True)
        self._counter += 1
        temporary = self.staging / f"{self._counter}.parquet.tmp"
        if len(self._writes) >= MAX_PENDING_WRITES:  # bound the tables held in memory
            self._writes.pop(0).result()
        self._writes.append(self._writer.submit(_write_parquet, table, temporary, table_name))
        self._staged.append((temporary, target))

    @property
    def staged(self) -> int:
        return len(self._staged)

    def flush(self) -> int:
        """Make the staged files durable, then rename each over its target; return how many."""
        for write in self._writes:
            write.result()  # re-raises a failed write here, before anything is renamed
        self._writes.clear()
        if not self._staged:
            return 0
        os.sync()
        for temporary, target in self._staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        swapped = len(self._staged)
        self._staged.clear()
        return swapped

    def sync(self) -> None:
        """Make every rename so far durable (call before committing the manifest)."""
        self.flush()
        os.sync()

    def discard(self) -> None:
        """Forget what is staged and not yet swapped (a failed run): nothing more is renamed."""
        for write in self._writes:
            write.cancel()
        wait(self._writes)
        self._writes.clear()
        self._staged.clear()

    def clean_staging(self) -> None:
        """Remove this run's staging folder and any left by killed runs (never a live run's)."""
        self.discard()
        if self._held is not None:
            self._held.release()
            self._held = None
        remove_abandoned_staging(staging_root(self.out))

    def close(self) -> None:
        self._writer.shutdown(wait=True)



def _same_rows(path: Path, table: pa.Table) -> bool:
    try:
        return conform(read_parquet(path), REJECT_FILE_SCHEMA).equals(table)
    except DamagedFile:
        return False  # the rejects file is rebuilt whole from the manifest: overwriting it repairs it


def _write_parquet(table: pa.Table, path: Path, table_name: str) -> None:
    statistics, dictionary = _column_options(table.schema, table_name)
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS,
                   write_statistics=statistics, use_dictionary=dictionary)


@functools.lru_cache(maxsize=8)
def _column_options(schema: pa.Schema, table_name: str) -> tuple[list[str], list[str]]:
    """(columns with min/max statistics: the scalar ones; dictionary-encoded columns), once per schema."""
    return ([f.name for f in schema if not pa.types.is_list(f.type)],
            [name for name in dictionary_columns(TABLES[table_name]) if name in schema.names])


def _remove_file_and_empty_dirs(path: Path, stop: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    parent = path.parent
    while parent != stop and parent.is_relative_to(stop):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
