"""The dataset on disk: read a partition, swap in a new one atomically. I/O.

Layout under OUT:
  articles/source=<s>/date=<d>/part-0.parquet   one file per partition
  rejects/part-0.parquet                        every current reject
  _state/                                       manifest, run log, lock, runs.parquet
  _staging/<run_id>/                            temporary files (outside every glob)
A new file is written and fsynced under _staging, then renamed over the old
one: readers see the old file or the new one, never a partial file.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.frame import conform
from jobs.partitions import partition_dir
from schemas.article import ARTICLE_FILE_SCHEMA, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA

PART_FILE = "part-0.parquet"
ROW_GROUP_ROWS = 50_000


class Store:
    def __init__(self, out_dir: str | Path, run_id: str):
        self.out = Path(out_dir)
        self.staging = self.out / "_staging" / run_id
        self._counter = 0

    def partition_path(self, source: str, date: dt.date) -> Path:
        return self.out / "articles" / partition_dir(source, date) / PART_FILE

    def read_partition(self, source: str, date: dt.date) -> pa.Table | None:
        path = self.partition_path(source, date)
        if not path.exists():
            return None
        return conform(pq.read_table(path), ARTICLE_FILE_SCHEMA)

    def replace_partition(self, source: str, date: dt.date, table: pa.Table) -> None:
        """Swap in `table` (already merged and sorted); an empty table removes the partition."""
        target = self.partition_path(source, date)
        if table.num_rows == 0:
            _remove_file_and_empty_dirs(target, stop=self.out / "articles")
            return
        self._swap(target, conform(table, ARTICLE_FILE_SCHEMA))

    def replace_rejects(self, table: pa.Table) -> None:
        """Swap in the rejects, unless the file already holds exactly these rows (then nothing is written)."""
        target = self.out / "rejects" / PART_FILE
        table = conform(table, REJECT_FILE_SCHEMA)
        if target.exists() and conform(pq.read_table(target), REJECT_FILE_SCHEMA).equals(table):
            return
        self._swap(target, table)

    def replace_runs(self, table: pa.Table) -> None:
        self._swap(self.out / "_state" / "runs.parquet", conform(table, RUN_FILE_SCHEMA))

    def _swap(self, target: Path, table: pa.Table) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        self._counter += 1
        temporary = self.staging / f"{self._counter}.parquet.tmp"
        pq.write_table(table, temporary, compression="zstd", row_group_size=ROW_GROUP_ROWS,
                       write_statistics=True, use_dictionary=["category", "channel", "author", "encoding", "parser_version", "run_id", "reason"])
        _fsync_file(temporary)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)
        _fsync_dir(target.parent)

    def clean_staging(self) -> None:
        """Remove this run's staging folder and any left by killed runs."""
        shutil.rmtree(self.out / "_staging", ignore_errors=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
