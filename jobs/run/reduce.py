"""The reduce phase: each touched partition (source, month) -> one new data file in the table.

Tasks (`reduce_group`, one per group of partitions, on any worker) read a partition's current data
files and the map tasks' staged rows for it, merge them (jobs/run/merge.py), and write the result as
one data file straight into the table's folder under a name unique to the run (no rename: the
commit names it, and a file no commit names does not exist for readers). They never import
deltalake. The driver side (`reduce_partitions`) decides which partitions the run touches and
gathers the results for the commit (jobs/run/commit.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)

from jobs.lake.manifest import State
from jobs.lake.paths import PartitionKey, partition_order
from jobs.lake.table import DataFile
from jobs.run.engine import Engine
from jobs.run.options import EventSink, RunOptions, RunReport
from jobs.run.templates import TemplatePlan, apply_template


def reduce_partitions(options: RunOptions, state: State, engine: Engine, report: RunReport,
                      current: dict[PartitionKey, list[str]], rebuild: dict[PartitionKey, set[str]],
                      emit: EventSink, warn, plan: TemplatePlan | None = None) -> list[PartitionResult]:
    """Run the reduce tasks over every touched partition; the results of those that changed.

    `plan`: the sources' templates; every partition of a source whose template changed is touched too.
    """
    plan = plan or TemplatePlan({})
    run_id = report.run_id
    departures: dict[PartitionKey, list[str]] = {}
    for source, month, raw_path in state.departures(run_id):
        departures.setdefault((source, month), []).append(raw_path)
    touched = (set(state.fragment_partitions(run_id)) | departures.keys() | rebuild.keys()
               | plan.partitions_to_clean(current))
    keys = sorted(touched, key=partition_order)
    emit("merging", {"partitions": len(keys)})

    def tasks() -> Iterator[tuple[int, list[PartitionTask]]]:
        for number, start in enumerate(range(0, len(keys), options.group_partitions)):
            group = []
            for source, month in keys[start:start + options.group_partitions]:
                fragments = state.fragments_of(run_id, source, month)
                keep = rebuild.get((source, month))
                group.append(PartitionTask(source, month, tuple((f, tuple(b)) for f, b in fragments),
                                           tuple(sorted(departures.get((source, month), ()))),
                                           tuple(sorted(keep)) if keep is not None else None,
                                           tuple(current.get((source, month), ())),
                                           plan.keys.get(source, frozenset())))
            yield number, group

    job = ReduceJob(str(Path(options.out_dir).resolve()), run_id)
    changed: list[PartitionResult] = []
    done = 0
    for results in engine.map(partial(reduce_group, job), tasks()):
        for result in results:
            if result.lost_paths:  # rows only an unreadable data file held
                state.add_forgotten(run_id, result.lost_paths)
                warn(result.warning)
            report.duplicates += result.duplicates
            report.rows_recleaned += result.recleaned
            report.articles_written += result.new_rows - result.duplicates
            if result.changed:
                report.partitions_written += 1
                changed.append(result)
                emit("partition_written", {"source": result.source, "month": result.month, "rows": result.rows})
        done += len(results)
        emit("merged", {"done": done, "total": len(keys)})
    return changed


@dataclass(frozen=True)
class PartitionTask:
    source: str
    month: str | None
    fragments: tuple[tuple[str, tuple[int, ...]], ...]  # (fragment file, batch indices)
    replaced: tuple[str, ...]  # raw paths whose earlier rows here give way
    keep_only: tuple[str, ...] | None  # for a rebuild: the only paths whose existing rows survive
    current: tuple[str, ...] = ()  # the partition's data files in the version the run started from
    template: frozenset[str] = frozenset()  # the source's template paragraphs (keys), applied to every row


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
    recleaned: int = 0  # rows kept from before whose template removal changed

    @property
    def changed(self) -> bool:
        return self.added is not None or bool(self.removed)


def reduce_group(job: ReduceJob, numbered: tuple[int, list[PartitionTask]]) -> list[PartitionResult]:
    """Merge a group of partitions: current files + staged fragments -> one new data file each, written
    straight into the table's folder under a name unique to the run (no rename; the commit names it)."""
    from jobs.errors import DamagedFile
    from jobs.lake.damaged import lost_rows_message
    from jobs.lake.paths import Layout
    from jobs.lake.table import read_data_files, write_partition_file
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
            fresh = new.column("raw_path").to_pylist() if new is not None else ()
            merged, recleaned = apply_template(merged, task.template, fresh)
            added_rows = new.num_rows if new is not None else 0
            unchanged = warning is None and ((on_disk is None and merged.num_rows == 0)
                                             or (on_disk is not None and len(task.current) == 1 and merged.equals(on_disk)))
            added = None
            if not unchanged and merged.num_rows:
                added = write_partition_file(layout, merged, task.source, task.month, job.run_id, number, index)
            removed = () if unchanged else task.current
            results.append(PartitionResult(task.source, task.month, added, removed, merged.num_rows, added_rows,
                                           duplicates, lost, warning, recleaned))
            del merged, on_disk, new
            pa.default_memory_pool().release_unused()
    return results


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
