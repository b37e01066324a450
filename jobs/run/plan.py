"""What a run will do: which raw files to parse, which partitions to rebuild. Reads only (the manifest's
TEMP tables aside).

`ingest` looks at new and changed files (size and mtime first; the content
hash then decides, in the worker). `reprocess` selects partitions from the
manifest by date, source or parser version.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jobs.errors import DamagedFile, manifest_damage
from jobs.lake.damaged import row_count
from jobs.lake.manifest import State
from jobs.lake.paths import (Layout, PartitionKey, dataset_folders, describe_partition, manifest_file, month_of,
                             partition_key, partition_order)
from jobs.lake.table import ArticlesTable
from jobs.parse import PARSER_VERSION
from jobs.run.discover import RawFile, UnlistedFolder, discover
from jobs.run.options import RunOptions, Selection
from jobs.run.map import WorkItem
from schemas.raw_path import raw_file_path

Warn = Callable[[str], None]


@dataclass
class ReprocessPlan:
    partitions: dict[PartitionKey, set[str]]  # partition -> raw paths whose articles live there
    files: list[RawFile]  # present on disk, to reparse
    missing: list[str]  # gone from disk: kept as history, or dropped with --prune
    rejects_to_retry: list[RawFile]
    rows: int
    # Could not be stat'ed for another reason than absence (a folder without permission): not
    # deleted, so their rows are kept, even with --prune.
    unreachable: list[str] = field(default_factory=list)
    damaged: list[PartitionKey] = field(default_factory=list)  # partition files whose footer is unreadable
    rows_by_partition: dict[PartitionKey, int] = field(default_factory=dict)  # rows each partition file holds now
    rejects_gone: list[str] = field(default_factory=list)  # --all: rejects whose raw file is gone (dropped with --prune)

    def history(self, prune: bool) -> set[str]:
        """Raw paths whose existing rows survive the rebuild (they cannot be reparsed)."""
        return set(self.unreachable) | (set() if prune else set(self.missing))

    def forgotten(self, prune: bool) -> set[str]:
        """Raw paths the manifest forgets (--prune: really gone, not merely unreachable)."""
        return set(self.missing) | set(self.rejects_gone) if prune else set()

    def preview(self, prune: bool) -> "ReprocessPreview":
        """What `reprocess` without --yes shows: typed, partitions in the order the run takes them."""
        rows_of = self.rows_by_partition
        planned = tuple(PlannedPartition(source, month, len(paths), rows_of.get((source, month), 0))
                        for (source, month), paths in sorted(self.partitions.items(),
                                                            key=lambda item: partition_order(item[0])))
        damaged = tuple(p for p in planned if (p.source, p.month) in set(self.damaged))
        return ReprocessPreview(planned, damaged, files_to_reparse=len(self.files), rows_to_replace=self.rows,
                                missing_files=len(self.missing), unreachable_files=len(self.unreachable),
                                rejects_to_retry=len(self.rejects_to_retry), prune=prune)

    def warnings(self) -> list[str]:
        found = []
        if self.unreachable:
            found.append(f"{len(self.unreachable)} raw files could not be reached (not deleted: their rows are kept):"
                         f" {', '.join(self.unreachable[:5])}{' ...' if len(self.unreachable) > 5 else ''}")
        return found


@dataclass(frozen=True, slots=True)
class PlannedPartition:
    """One partition `reprocess` would rebuild."""
    source: str
    month: str | None  # None: the undated partition
    raw_files: int  # raw files whose rows live there now
    rows: int  # rows its file holds now (0 when unreadable or absent)

    def describe(self) -> str:
        return describe_partition(self.source, self.month)


@dataclass(frozen=True, slots=True)
class ReprocessPreview:
    """`reprocess` without --yes: what the run would do. Partitions sorted by `partition_order`."""
    partitions: tuple[PlannedPartition, ...]
    damaged: tuple[PlannedPartition, ...]  # unreadable files: rebuilt from the raw files alone
    files_to_reparse: int
    rows_to_replace: int
    missing_files: int  # raw files gone from disk
    unreachable_files: int  # raw files that could not be stat'ed (kept)
    rejects_to_retry: int
    prune: bool

    def lines(self, limit: int = 50) -> list[str]:
        kept = "their rows would be dropped" if self.prune else "their rows are kept"
        found = [f"would rebuild {len(self.partitions)} partitions: reparse {self.files_to_reparse} files, "
                 f"replace {self.rows_to_replace} rows; {self.missing_files} raw files are gone ({kept}); "
                 f"{self.rejects_to_retry} rejects retried. Add --yes to do it."]
        if self.unreachable_files:
            found.append(f"  {self.unreachable_files} raw files could not be reached: their rows are kept")
        found += [f"  unreadable, rebuilt from the raw files alone: {p.describe()}" for p in self.damaged]
        found += [f"  {p.describe()}" for p in self.partitions[:limit]]
        if len(self.partitions) > limit:
            found.append(f"  ... and {len(self.partitions) - limit} more")
        return found


@dataclass(frozen=True)
class IngestPlan:
    """What an ingest looks at. The listing and the work stay in the manifest's TEMP tables (State.plan_work):
    the driver holds neither, whatever the raw dir's size; `work()` reads them back a page at a time."""
    state: State
    files_seen: int  # files listed
    to_parse: int  # files to look at (new, changed, retried, or an orphaned sibling)

    def work(self) -> Iterator[WorkItem]:
        for raw_path, size, mtime_ns, sha, known, read_error in self.state.planned_work():
            yield WorkItem(raw_path, size, mtime_ns, sha, known, read_error)


def plan_ingest(options: RunOptions, state: State, warn: Warn | None = None) -> IngestPlan:
    """List the raw dir into the manifest's TEMP listing and choose the files to look at (State.plan_work).

    A folder that cannot be listed is a warning through `warn`; its files keep their rows.
    """
    unlisted: list[UnlistedFolder] = []
    listing = discover(str(options.raw_dir), options.globs, unlisted, never_raw_input(options))
    with _manifest_read(options):
        files_seen = state.list_raw_files((f.raw_path, f.size, f.mtime_ns) for f in listing)
        to_parse = state.plan_work(PARSER_VERSION)
        if unlisted and warn is not None:
            for folder in unlisted:
                warn(_unlisted_warning(folder, state))
    return IngestPlan(state, files_seen, to_parse)


def never_raw_input(options: RunOptions) -> tuple[str, ...]:
    """Folders discovery must not enter: the out dir when it lies inside the raw dir, or, when it is the
    raw dir itself, the folders a run writes there. The dataset is never its own input."""
    try:
        same = os.path.samefile(options.raw_dir, options.out_dir)
    except OSError:
        same = False
    folders = dataset_folders(options.out_dir) if same else (Path(options.out_dir),)
    return tuple(str(folder) for folder in folders)


def _unlisted_warning(folder: UnlistedFolder, state: State) -> str:
    kept = state.known_under(f"{folder.relative_dir}/" if folder.relative_dir else "")
    return f"{folder.describe()}: its files were not looked at; the {kept} of them the dataset knows keep their rows"


def plan_rebuild(options: RunOptions, state: State, selection: Selection) -> ReprocessPlan:
    everything = selection.everything
    stale_partitions: set[PartitionKey] = set()
    by_partition: dict[PartitionKey, set[str]] = {}
    with _manifest_read(options):
        article_files = list(state.article_files())
    for raw_path, source, date_text, version in article_files:
        key = partition_key(source, date_text)
        if not everything and not _in_selection(key, selection):
            continue
        by_partition.setdefault(key, set()).add(raw_path)
        if selection.parser_older_than and _version_key(version) < _version_key(selection.parser_older_than):
            stale_partitions.add(key)
    if selection.parser_older_than and not everything:
        by_partition = {k: v for k, v in by_partition.items() if k in stale_partitions}
    paths = sorted(p for ps in by_partition.values() for p in ps)
    present, missing, unreachable = split_present(options.raw_dir, paths)
    retry, rejects_gone = split_present(options.raw_dir, state.reject_paths())[:2] if everything else ([], [])
    rows_by_partition, damaged = {}, []
    current = ArticlesTable(options.out_dir).files_by_partition() if ArticlesTable(options.out_dir).exists() else {}
    for key in by_partition:
        try:
            rows_by_partition[key] = _partition_rows(options.out_dir, key, current.get(key, []))
        except DamagedFile:
            damaged.append(key)  # rebuilt from the raw files alone
    return ReprocessPlan(by_partition, present, missing, retry, sum(rows_by_partition.values()), unreachable,
                         sorted(damaged, key=partition_order), rows_by_partition, rejects_gone)


@contextmanager
def _manifest_read(options: RunOptions):
    """A manifest damaged where the opening check could not see it: an error naming the file."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        damage = manifest_damage(error, manifest_file(options.out_dir))
        if damage is None:
            raise
        raise damage from error


def _in_selection(key: PartitionKey, selection: Selection) -> bool:
    """A partition (source, month) is selected when its month meets the date range: a date range is
    rebuilt by whole months, the smallest unit the table replaces."""
    source, month = key
    if selection.sources and source not in selection.sources:
        return False
    if month is None:  # an undated article is in no date range
        return not (selection.date_from or selection.date_to)
    if selection.date_from and month < month_of(selection.date_from):
        return False
    if selection.date_to and month > month_of(selection.date_to):
        return False
    return True


def _version_key(version: str) -> tuple:
    """'3.10' > '3.9'; a non-numeric part sorts after numbers instead of failing to compare with them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


_ABSENT = (errno.ENOENT, errno.ENOTDIR)


def split_present(raw_dir: Path, paths: Iterable[str]) -> tuple[list[RawFile], list[str], list[str]]:
    """(present, missing, unreachable). Missing means absent for certain (ENOENT); any other failure
    to stat (a folder without permission) is unreachable, never taken for a deletion."""
    present, missing, unreachable = [], [], []
    for raw_path in paths:
        path = raw_file_path(raw_dir, raw_path)
        try:
            stat = os.stat(path)
            present.append(RawFile(raw_path, stat.st_size, stat.st_mtime_ns))
            continue
        except OSError:
            pass
        try:
            os.lstat(path)
            present.append(RawFile(raw_path, -1, -1))  # the name is there (a broken link): a read_error reject
        except OSError as error:
            (missing if error.errno in _ABSENT else unreachable).append(raw_path)
    return present, missing, unreachable


def _partition_rows(out_dir: Path, key: PartitionKey, files: list[str]) -> int:
    """Rows of a partition's current data files, read from their footers (an unreadable one: DamagedFile)."""
    from jobs.lake.damaged import repair_partition_command
    layout = Layout(out_dir)
    total = 0
    for relative in files:
        try:
            total += row_count(layout.data_file(relative), repair_partition_command(*key))
        except FileNotFoundError:  # named by the version but deleted: as unreadable, rebuilt from the raw files
            raise DamagedFile(layout.data_file(relative), "missing", repair_partition_command(*key)) from None
    return total
