"""A chunk of raw files -> columnar results. The unit of work a worker runs.

Reads each file (the only I/O here), hashes it, parses it, and returns Arrow
tables: article rows, reject rows and one outcome row per file for the
manifest. A file whose hash matches what the manifest already holds is
reported `unchanged` and not parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)

from jobs.parse import PARSER_VERSION
from jobs.errors import Rejected
from jobs.lake.paths import PartitionKey, month_of, partition_order
from jobs.lake.table import DataFile
from jobs.parse.frame import REJECT_BATCH_SCHEMA, RunStamp, article_table, to_table
from jobs.parse.record import parse_article
from schemas.article import RejectReason
from schemas.raw_path import raw_file_path
from schemas.state import OUTCOME_SCHEMA, FileStatus



@dataclass(frozen=True, slots=True)
class WorkItem:
    raw_path: str
    size: int
    mtime_ns: int
    known_sha256: str | None  # hash from the manifest; equal content is not reparsed
    known: bool = True  # in the manifest: its earlier row or reject must be superseded
    known_read_error: str | None = None  # its last outcome was this read_error: the same again is unchanged


@dataclass(frozen=True)
class Job:
    raw_dir: str
    run_id: str
    started_at: dt.datetime
    max_bytes: int
    fragments_dir: str = ""  # where map tasks stage their rows (_staging/<run_id>/fragments)


@dataclass
class ParsedChunk:
    articles: pa.Table
    rejects: pa.Table
    outcomes: pa.Table


def parse_chunk(job: Job, items: list[WorkItem]) -> ParsedChunk:
    articles, rejects, outcomes = [], [], []
    for item in items:
        outcome = {"raw_path": item.raw_path, "size": item.size, "mtime_ns": item.mtime_ns}
        try:
            try:
                data = _read(raw_file_path(job.raw_dir, item.raw_path), item, job.max_bytes)
            except FileNotFoundError:
                if item.known_sha256 is not None:  # gone since listing: like any vanished file, keep its history
                    outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value, "sha256": item.known_sha256})
                    continue
                raise Rejected(RejectReason.READ_ERROR, "FileNotFoundError: deleted between listing and reading") from None
            outcome["sha256"] = sha = hashlib.sha256(data).hexdigest()
            if sha == item.known_sha256:
                outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value})
                continue
            record = parse_article(data, item.raw_path, sha)
        except Rejected as rejected:
            if rejected.reason == RejectReason.READ_ERROR and rejected.message == item.known_read_error:
                outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value})  # retried, same failure
                continue
            sha = outcome.get("sha256")
            rejects.append({
                "raw_path": item.raw_path, "reason": rejected.reason, "message": rejected.message,
                "raw_sha256": sha, "size": item.size if item.size >= 0 else None,
                "run_id": job.run_id, "rejected_at": job.started_at,
            })
            outcomes.append(outcome | {"status": FileStatus.REJECT.value, "reject_reason": rejected.reason, "reject_message": rejected.message})
            continue
        articles.append(record)
        outcomes.append(outcome | {"status": FileStatus.ARTICLE.value, "article_id": record.article_id, "source": record.source, "date": record.date})
    return ParsedChunk(
        article_table(articles, RunStamp(ingested_at=job.started_at, parser_version=PARSER_VERSION, run_id=job.run_id)),
        to_table(rejects, REJECT_BATCH_SCHEMA),
        to_table(outcomes, OUTCOME_SCHEMA),
    )


def _read(path: str, item: WorkItem, max_bytes: int) -> bytes:
    if item.size < 0:
        raise Rejected(RejectReason.READ_ERROR, _describe_unstatable(path))
    if item.size > max_bytes:
        raise Rejected(RejectReason.TOO_LARGE, f"{item.size} bytes > --max-bytes {max_bytes}")
    try:
        # O_NONBLOCK: opening a FIFO that nobody writes to must not hang the run; fstat then refuses it.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise Rejected(RejectReason.READ_ERROR, f"not a regular file ({_kind(mode)})")
            data = handle.read(item.size + 1)  # not max_bytes + 1: that allocates 8 MiB per file
            if len(data) > item.size:  # grew since it was listed
                data += handle.read(max_bytes + 1 - len(data))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise Rejected(RejectReason.READ_ERROR, f"{type(error).__name__}: {error.strerror or error}") from None
    if len(data) > max_bytes:  # grew since it was listed
        raise Rejected(RejectReason.TOO_LARGE, f"more than --max-bytes {max_bytes} bytes")
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _describe_unstatable(path: str) -> str:
    try:
        os.stat(path)
    except OSError as error:
        if os.path.islink(path):
            kind = "symlink loop" if error.errno == 40 else "dangling symlink"
            return f"{kind}: {error.strerror}"
        return f"cannot stat: {error.strerror}"
    return "file changed while listing"


# -- map and reduce tasks ------------------------------------------------------
# A task is a top-level function of picklable arguments, safe to run twice (an engine may retry it
# on another worker): its only effects are whole files under the run's staging folder, each written
# to a temporary name and renamed, so a retry overwrites and never appends.



@dataclass
class MapResult:
    """What a map task returns to the driver: no article rows, only where they were staged."""
    outcomes: pa.Table  # one row per file (for the manifest): small
    fragment: str | None  # Arrow IPC file of this chunk's article rows, one record batch per partition
    partitions: list[tuple[str, str | None, int, int]]  # (source, month, batch index, rows)


def map_chunk(job: Job, numbered: tuple[int, list[WorkItem]]) -> MapResult:
    """Read, hash and parse one chunk of files; stage its article rows grouped by partition."""
    number, items = numbered
    parsed = parse_chunk(job, items)
    outcomes = parsed.outcomes
    if parsed.articles.num_rows == 0:
        return MapResult(outcomes, None, [])
    table = parsed.articles
    keys = [(source, month_of(date)) for source, date in zip(table.column("source").to_pylist(),
                                                             table.column("date").to_pylist())]
    order = sorted(range(len(keys)), key=lambda i: partition_order(keys[i]))
    grouped = table.take(pa.array(order, pa.int64())).drop_columns(["source"])
    fragment = os.path.join(job.fragments_dir, f"{number:07d}.arrow")
    _make_task_folder(job.fragments_dir)
    partitions = []
    temporary = f"{fragment}.{os.getpid()}.tmp"
    with pa.ipc.new_file(temporary, grouped.schema) as writer:
        start = 0
        for index in range(1, len(order) + 1):
            if index == len(order) or keys[order[index]] != keys[order[start]]:
                writer.write_batch(grouped.slice(start, index - start).combine_chunks().to_batches()[0])
                source, month = keys[order[start]]
                partitions.append((source, month, len(partitions), index - start))
                start = index
    os.replace(temporary, fragment)
    return MapResult(outcomes, fragment, partitions)


@dataclass(frozen=True)
class PartitionTask:
    source: str
    month: str | None
    fragments: tuple[tuple[str, tuple[int, ...]], ...]  # (fragment file, batch indices)
    replaced: tuple[str, ...]  # raw paths whose earlier rows here give way
    keep_only: tuple[str, ...] | None  # for a rebuild: the only paths whose existing rows survive
    current: tuple[str, ...] = ()  # the partition's data files in the version the run started from


@dataclass(frozen=True)
class ReduceJob:
    out_dir: str
    run_id: str


@dataclass
class PartitionResult:
    source: str
    month: str | None
    added: DataFile | None  # the partition's new data file; None when unchanged or emptied
    removed: tuple[str, ...]  # the files it replaces (all of the partition's current files when it changed)
    rows: int
    new_rows: int
    duplicates: int
    lost_paths: tuple[str, ...] = ()  # a rebuild of an unreadable file: history rows it could not keep
    warning: str | None = None

    @property
    def changed(self) -> bool:
        return self.added is not None or bool(self.removed)


def reduce_group(job: ReduceJob, numbered: tuple[int, list[PartitionTask]]) -> list[PartitionResult]:
    """Merge a group of partitions: current files + staged fragments -> one new data file each, written
    straight into the table's folder under a name unique to the run (no rename; the commit names it)."""
    from jobs.errors import DamagedFile
    from jobs.lake.damaged import lost_rows_message
    from jobs.lake.paths import Layout
    from jobs.lake.store import encode_options
    from jobs.lake.table import DataFile, file_stats, read_data_files, write_data_file
    from jobs.run.merge import merge_partition

    number, tasks = numbered
    layout = Layout(job.out_dir)
    results = []
    for start, stop in _slices(tasks):
        news = _read_fragments(tasks[start:stop])
        for index in range(start, stop):
            task, new = tasks[index], news[index - start]
            news[index - start] = None  # its rows are not needed once its file is written
            keep_only = set(task.keep_only) if task.keep_only is not None else None
            lost, warning = (), None
            try:
                on_disk = read_data_files(layout, (task.source, task.month), task.current)
            except DamagedFile as damaged:
                if keep_only is None:  # only a rebuild (reprocess) may replace what it cannot read
                    raise
                on_disk, lost, warning = None, tuple(sorted(keep_only)), lost_rows_message(damaged, keep_only)
            merged, duplicates = merge_partition(on_disk, new, task.replaced, keep_only)
            added_rows = new.num_rows if new is not None else 0
            unchanged = warning is None and ((on_disk is None and merged.num_rows == 0)
                                             or (on_disk is not None and len(task.current) == 1 and merged.equals(on_disk)))
            added = None
            if not unchanged and merged.num_rows:
                relative = layout.data_file_relative(task.source, task.month, job.run_id, number, index)
                size, modified = write_data_file(merged, str(layout.data_file(relative)), *encode_options(merged.num_rows))
                added = DataFile(relative, task.source, task.month, size, merged.num_rows, file_stats(merged), modified)
            removed = () if unchanged else task.current
            results.append(PartitionResult(task.source, task.month, added, removed, merged.num_rows, added_rows,
                                           duplicates, lost, warning))
    return results


def _make_task_folder(path: str) -> None:
    """Create a task's folder in the run's staging folder, which the driver made; never the run's folder
    itself: a task still running after its run failed and removed its staging must not bring it back."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass


READ_BATCHES = 512  # staged record batches read at once by a reduce task (about one row each on a first run)


def _slices(tasks: list[PartitionTask]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive tasks with at most READ_BATCHES fragment batches (at least one task each).

    Bounds a reduce task's memory by rows read at once, not by partitions per group: at 200,000
    files a group of 64 partitions holds ~1,500 rows, and each row is held about three times
    (read, merged, encoded) until its partition is written.
    """
    start, batches = 0, 0
    for index, task in enumerate(tasks):
        count = sum(len(b) for _, b in task.fragments)
        if index > start and batches + count > READ_BATCHES:
            yield start, index
            start, batches = index, 0
        batches += count
    if start < len(tasks):
        yield start, len(tasks)


def _read_fragments(tasks: list[PartitionTask]) -> list[pa.Table | None]:
    """Each task's staged rows; every fragment file is opened once for the whole group.

    Memory-mapped: a batch only touches its own pages, and its buffers keep the mapping
    alive after the file is closed (Arrow unmaps when the last buffer goes), so no file
    descriptor stays open however many fragment files a group reads.
    """
    wanted: dict[str, list[tuple[int, int]]] = {}
    for position, task in enumerate(tasks):
        for path, batches in task.fragments:
            wanted.setdefault(path, []).extend((position, batch) for batch in batches)
    found: list[list[pa.RecordBatch]] = [[] for _ in tasks]
    for path in sorted(wanted):
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_file(source)
            for position, batch in wanted[path]:
                found[position].append(reader.get_batch(batch))
    return [pa.Table.from_batches(batches).combine_chunks() if batches else None for batches in found]


