"""The nightly job and the operator's rebuild: plan, parse, merge, swap, commit.

Order of commits, which is what makes a kill at any instant harmless:
  1. parse into memory / spill files under OUT/_staging/<run_id>/
  2. for each touched partition: merge old rows with new ones, write under
     _staging; every 128 partitions, sync and rename them over the old files
     (each rename is atomic)
  3. rewrite rejects/part-0.parquet the same way
  4. commit every file's outcome to the manifest in one SQLite transaction
A kill before 4 leaves the manifest as it was, so the next run sees the same
files as new or changed and redoes 1-3; merging is idempotent (rows are keyed
by article_id, and a path's earlier rows are replaced), so the result equals
an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jobs.errors import DamagedFile, TooManyRejects, UsageError, domain_error, manifest_damage
from jobs.lake.paths import manifest_file
from jobs.lake.damaged import lost_rows_message
from jobs.lake.lock import OutputLock
from jobs.lake.manifest import State
from jobs.lake.repair import open_state
from jobs.lake.store import SWAP_BATCH, Store
from jobs.parse import PARSER_VERSION
from jobs.parse.frame import REJECT_BATCH_SCHEMA
from jobs.run.engine import local_engine
from jobs.run.merge import merge_partition
from jobs.run.options import EventSink, RunOptions, RunReport, Selection
from jobs.run.plan import ReprocessPlan, plan_ingest, plan_rebuild
from jobs.run.spill import PartitionBuffer, PartitionKey, filter_out_paths
from jobs.run.work import Job, WorkItem, parse_chunk
from schemas.state import OUTCOME_SCHEMA, FileStatus, RunStatus

CHUNK_FILES = 200


def ingest(options: RunOptions, on_event: EventSink | None = None) -> RunReport:
    """Parse new and changed raw files and merge them into the dataset."""
    _check_options(options)
    emit = on_event or (lambda name, data: None)
    with OutputLock(options.out_dir, options.wait_seconds):
        notices: list[str] = []
        state = open_state(options.out_dir, notices.append)  # rebuilt from the dataset if missing or damaged
        try:
            run = _Run(options, state, "ingest", emit, notices)
            run.report.files_seen, work = plan_ingest(options, state, run.warn)
            emit("planned", {"files_seen": run.report.files_seen, "to_parse": len(work)})
            return run.execute(work)
        finally:
            state.close()


def plan_reprocess(options: RunOptions, selection: Selection) -> ReprocessPlan:
    """What `reprocess` would rebuild; reads the manifest only."""
    _check_options(options)
    state = open_state(options.out_dir, lambda message: None, repair=False)  # no lock: never rebuilds
    try:
        return plan_rebuild(options, state, selection)
    finally:
        state.close()


def reprocess(options: RunOptions, selection: Selection, on_event: EventSink | None = None) -> RunReport:
    """Rebuild the selected partitions from the raw files, under the same atomic guarantees."""
    _check_options(options)
    emit = on_event or (lambda name, data: None)
    with OutputLock(options.out_dir, options.wait_seconds):
        notices: list[str] = []
        state = open_state(options.out_dir, notices.append)
        try:
            plan = plan_rebuild(options, state, selection)
            run = _Run(options, state, "reprocess", emit, notices)
            run.report.files_seen = len(plan.files) + len(plan.rejects_to_retry)
            work = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in plan.files + plan.rejects_to_retry]
            for warning in plan.warnings():
                run.warn(warning)
            history = plan.history(selection.prune)
            rebuild = {key: paths & history for key, paths in plan.partitions.items()}
            forget = plan.forgotten(selection.prune)
            emit("planned", {"partitions": len(plan.partitions), "to_parse": len(work), "pruned": len(forget)})
            return run.execute(work, rebuild=rebuild, forget=forget)
        finally:
            state.close()


class _Run:
    def __init__(self, options: RunOptions, state: State, command: str, emit: EventSink, notices: list[str] = ()):
        self.options, self.state, self.emit = options, state, emit
        self.started = dt.datetime.now(dt.timezone.utc)
        self.clock = time.monotonic()
        run_id = f"{self.started:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        self.report = RunReport(run_id=run_id, command=command)
        self.store = Store(options.out_dir, run_id)
        self.store.clean_staging()  # leftovers of a killed run
        self.store.hold_staging()  # ours, until the end: no other run removes it
        state.begin_run(run_id, command, self.started)
        self.lost: set[str] = set()  # rows only an unreadable partition file held: forgotten
        emit("run_started", {"run_id": run_id, "command": command})
        for notice in notices:  # what opening the manifest had to repair
            self.warn(notice)

    def warn(self, message: str) -> None:
        """A named problem that does not stop the run: in the summary and a `warning` event."""
        self.report.warnings.append(message)
        self.emit("warning", {"message": message})

    def execute(self, work: list[WorkItem], rebuild: dict[PartitionKey, set[str]] | None = None,
                forget: set[str] | None = None) -> RunReport:
        rebuild, forget = rebuild or {}, forget or set()
        try:
            if work or rebuild or forget:
                self._parse_merge_commit(work, rebuild, forget)
            self.report.status = RunStatus.OK
            parsed = self.report.files_parsed
            if parsed and self.report.rejects / parsed > self.options.max_reject_ratio:
                self.report.status, self.report.exit_code = RunStatus.TOO_MANY_REJECTS, TooManyRejects.exit_code
        except BaseException as error:
            self.report.status, self.report.exit_code = RunStatus.FAILED, 1
            self.store.discard()  # the run log below must not swap in (or fail on) half the work
            self._finish(failed=True)
            reported = manifest_damage(error, manifest_file(self.options.out_dir)) or domain_error(error)
            if reported is error:
                raise
            raise reported from error
        self._finish(failed=False)
        return self.report

    def _finish(self, failed: bool) -> None:
        """Log the run's end; after a failure, nothing here may hide the run's own error."""
        self.report.duration_s = round(time.monotonic() - self.clock, 3)
        self.store.clean_staging()  # first: a full disk needs this space back to log anything
        try:
            self.state.finish_run(self.report.run_id, dt.datetime.now(dt.timezone.utc), self.report.status,
                                  self.report.exit_code, self.report.counts())
            self.store.replace_runs(self.state.runs_table())
        except Exception:
            if not failed:
                raise
        finally:
            self.store.clean_staging()
            self.store.close()
            self.emit("run_finished", {"summary": self.report.summary(), **self.report.__dict__})

    def _parse_merge_commit(self, work: list[WorkItem], rebuild: dict[PartitionKey, set[str]], forget: set[str]) -> None:
        job = Job(str(self.options.raw_dir), self.report.run_id, self.started, self.options.max_bytes)
        buffer = PartitionBuffer(self.store.staging / "spill", self.options.memory_budget_bytes)
        outcomes, new_rejects = [], []
        done = 0
        engine = self.options.engine or local_engine(self.options.workers)
        try:
            for chunk in engine.map(partial(parse_chunk, job), _chunks(work, CHUNK_FILES)):
                buffer.add(chunk.articles)
                outcomes.append(chunk.outcomes)
                new_rejects.append(chunk.rejects)
                done += chunk.outcomes.num_rows
                self.emit("parsed", {"done": done, "total": len(work)})
        finally:
            if self.options.engine is None:  # ours: stop its workers before the merge
                engine.close()
        outcome_table = pa.concat_tables(outcomes) if outcomes else OUTCOME_SCHEMA.empty_table()
        statuses = Counter(outcome_table.column("status").to_pylist())
        self.report.unchanged = statuses.get(FileStatus.UNCHANGED, 0)
        self.report.files_parsed = outcome_table.num_rows - self.report.unchanged
        self.report.rejects = statuses.get(FileStatus.REJECT, 0)
        reject_table = pa.concat_tables(new_rejects) if new_rejects else REJECT_BATCH_SCHEMA.empty_table()
        self.report.rejects_by_reason = dict(Counter(reject_table.column("reason").to_pylist()))

        superseded = _changed_known_paths(outcome_table, [item.raw_path for item in work if item.known]) | forget
        old_homes = {(s, dt.date.fromisoformat(d)): paths for (s, d), paths in self.state.partitions_of(superseded).items()}
        for key in sorted(buffer.keys() | old_homes.keys() | rebuild.keys()):
            self._merge_partition(key, buffer.pop(key), old_homes.get(key, set()), rebuild.get(key))
            if self.store.staged >= SWAP_BATCH:
                self._swap_staged()
        self._swap_staged()
        if superseded or reject_table.num_rows:
            kept = filter_out_paths(self.state.rejects_table(), superseded)
            rejects = pa.concat_tables([kept.cast(REJECT_BATCH_SCHEMA), reject_table.cast(REJECT_BATCH_SCHEMA)])
            self.store.replace_rejects(rejects.sort_by("raw_path"))
        self.store.sync()  # every swap is on disk before the manifest says so
        self.state.commit_outcomes(outcome_table, self.report.run_id, PARSER_VERSION, self.started, forget | self.lost)
        self.emit("committed", {"files": outcome_table.num_rows})

    def _swap_staged(self) -> None:
        swapped = self.store.flush()
        if swapped:
            self.emit("partitions_swapped", {"partitions": swapped})

    def _merge_partition(self, key: PartitionKey, new_tables: list[pa.Table], old_paths: set[str], keep_only: set[str] | None) -> None:
        source, date = key
        try:
            on_disk, unreadable = self.store.read_partition(source, date), False
        except DamagedFile as damaged:
            if keep_only is None:  # only a rebuild (reprocess) may replace what it cannot read
                raise
            on_disk, unreadable = None, True
            self.lost |= set(keep_only)
            self.warn(lost_rows_message(damaged, set(keep_only)))
        new = pa.concat_tables(new_tables).drop_columns(["source", "date"]) if new_tables else None
        merged, duplicates = merge_partition(on_disk, new, old_paths, keep_only)
        self.report.duplicates += duplicates
        self.report.articles_written += new.num_rows - duplicates if new is not None else 0
        # Compare with the file as it is on disk, not with the filtered rows: a partition that only
        # lost rows (a file moved to another date, a stale row dropped by a rebuild) must be rewritten.
        if not unreadable and ((on_disk is None and merged.num_rows == 0) or (on_disk is not None and merged.equals(on_disk))):
            return
        self.store.replace_partition(source, date, merged)
        self.report.partitions_written += 1
        self.emit("partition_written", {"source": source, "date": date.isoformat(), "rows": merged.num_rows})


def _changed_known_paths(outcomes: pa.Table, known_paths: list[str]) -> set[str]:
    """Files the manifest knew whose content changed: their earlier rows and rejects give way.

    Only known files can have earlier rows, so a first run over 200k new files builds no set of 200k paths.
    """
    if not known_paths:
        return set()
    mask = pc.and_(pc.is_in(outcomes.column("raw_path"), value_set=pa.array(known_paths, pa.string())),
                   pc.not_equal(outcomes.column("status"), FileStatus.UNCHANGED.value))
    return set(outcomes.filter(mask).column("raw_path").to_pylist())


def _check_options(options: RunOptions) -> None:
    if not Path(options.raw_dir).is_dir():
        raise UsageError(f"raw dir {options.raw_dir} does not exist or is not a folder")
    if options.workers < 1:
        raise UsageError("--workers must be at least 1")


def _chunks(items: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
