"""The nightly job and the operator's rebuild: plan, map, reduce, commit.

  plan (driver)     list raw files, compare with the manifest, cut the work into chunks
  map (tasks)       read, hash, parse a chunk; stage its rows by partition under _staging/<run_id>/fragments;
                    return per-file outcomes only, streamed by the driver into the manifest's `pending` table
  reduce (tasks)    per group of touched partitions: current file + fragments -> merge_partition ->
                    a staged partition file; return rows, duplicates, changed or not
  commit (driver)   (1) record in the manifest, durably, which partitions the run will swap (the in-flight
                    record; its paths are the pending outcomes); (2) swap the staged files in, in synced
                    batches; (3) the rejects file; (4) one transaction moves the outcomes into `files` and
                    deletes the in-flight record.
A kill before (1) changed nothing visible: the next run drops the pending rows and redoes the work. A kill
after (1) and before (4) leaves the record; the next run first makes the dataset agree with the manifest
whatever the raw files look like by then (`_recover`): it removes every row of the unfinished run's paths
(and of files sharing an article id with them) from every partition they may be in, and forgets those
paths in the manifest, so they are parsed again as new files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jobs.errors import TooManyRejects, UsageError, domain_error, manifest_damage
from jobs.lake.lock import OutputLock
from jobs.lake.manifest import State
from jobs.lake.out_dir import check_writable_out_dir
from jobs.lake.paths import manifest_file, partition_order, rejects_file, staging_root
from jobs.lake.repair import open_state
from jobs.lake.store import Store, partition_raw_paths, remove_if_empty, write_staged
from jobs.parse import PARSER_VERSION
from jobs.run.engine import Engine, engine_for
from jobs.run.merge import merge_partition
from jobs.run.options import EventSink, RunOptions, RunReport, Selection
from jobs.run.plan import ReprocessPlan, plan_ingest, plan_rebuild, split_present
from jobs.run.work import (Job, PartitionKey, PartitionTask, ReduceJob, WorkItem, map_chunk, read_partition_or_none,
                           reduce_group)
from schemas.state import FileStatus, RunStatus



def ingest(options: RunOptions, on_event: EventSink | None = None) -> RunReport:
    """Parse new and changed raw files and merge them into the dataset."""
    return _run_command("ingest", options, on_event)


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
    return _run_command("reprocess", options, on_event, selection)


def _run_command(command: str, options: RunOptions, on_event: EventSink | None,
                 selection: Selection | None = None) -> RunReport:
    _check_options(options)
    emit = on_event or (lambda name, data: None)
    with _engine(options, emit) as engine:
        _check_workers(engine, options)  # before anything is written
        with OutputLock(options.out_dir, options.wait_seconds):
            notices: list[str] = []
            state = open_state(options.out_dir, notices.append)  # rebuilt from the dataset if missing or damaged
            try:
                run = _Run(options, state, command, emit, engine, notices)
                with run:
                    recovered = run.recover()
                    run.remove_emptied()
                    if command == "ingest":
                        _plan_and_ingest(run, options, state, emit)
                    else:
                        _plan_and_reprocess(run, options, state, emit, selection, recovered)
                return run.report
            finally:
                state.close()


def _plan_and_ingest(run: "_Run", options: RunOptions, state: State, emit: EventSink) -> None:
    run.report.files_seen, work = plan_ingest(options, state, run.warn)
    emit("planned", {"files_seen": run.report.files_seen, "to_parse": len(work)})
    run.execute(work)


def _plan_and_reprocess(run: "_Run", options: RunOptions, state: State, emit: EventSink, selection: Selection,
                        recovered: list[str]) -> None:
    plan = plan_rebuild(options, state, selection)
    run.report.files_seen = len(plan.files) + len(plan.rejects_to_retry)
    work = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in plan.files + plan.rejects_to_retry]
    # Files a killed run left half-done are new again: parse those still there, wherever they go.
    listed = {item.raw_path for item in work}
    present = split_present(options.raw_dir, [p for p in recovered if p not in listed])[0]
    work += [WorkItem(f.raw_path, f.size, f.mtime_ns, None, known=False) for f in present]
    for warning in plan.warnings():
        run.warn(warning)
    history = plan.history(selection.prune)
    rebuild = {key: paths & history for key, paths in plan.partitions.items()}
    forget = plan.forgotten(selection.prune)
    emit("planned", {"partitions": len(plan.partitions), "to_parse": len(work), "pruned": len(forget)})
    run.execute(work, rebuild=rebuild, forget=forget)


class _engine:
    """The run's engine: the one passed in, or one made from the options and stopped at the end."""

    def __init__(self, options: RunOptions, emit: EventSink):
        self.options, self.emit, self.engine = options, emit, options.engine

    def __enter__(self) -> Engine:
        if self.engine is None:
            self.engine = self.owned = engine_for(self.options)
        else:
            self.owned = None
        if getattr(self.engine, "dashboard", None):
            self.emit("engine_started", {"engine": type(self.engine).__name__, "dashboard": self.engine.dashboard})
        return self.engine

    def __exit__(self, *exc_info) -> None:
        if self.owned is not None:
            self.owned.close()


class _Run:
    def __init__(self, options: RunOptions, state: State, command: str, emit: EventSink, engine: Engine,
                 notices: list[str] = ()):
        self.options, self.state, self.emit, self.engine = options, state, emit, engine
        self.started = dt.datetime.now(dt.timezone.utc)
        self.clock = time.monotonic()
        run_id = f"{self.started:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        self.report = RunReport(run_id=run_id, command=command)
        self.store = Store(options.out_dir, run_id)
        self.store.clean_staging()  # leftovers of killed runs (never a live run's: each holds its own)
        self.store.hold_staging()  # ours, until the end: no other run removes it
        state.drop_unmarked()  # outcomes of runs killed before they swapped anything
        state.begin_run(run_id, command, self.started)
        emit("run_started", {"run_id": run_id, "command": command})
        for notice in notices:  # what opening the manifest had to repair
            self.warn(notice)

    def warn(self, message: str) -> None:
        """A named problem that does not stop the run: in the summary and a `warning` event."""
        self.report.warnings.append(message)
        self.emit("warning", {"message": message})

    def __enter__(self) -> "_Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        report = self.report
        if exc_type is None:
            report.status = RunStatus.OK
            parsed = report.files_parsed
            if parsed and report.rejects / parsed > self.options.max_reject_ratio:
                report.status, report.exit_code = RunStatus.TOO_MANY_REJECTS, TooManyRejects.exit_code
        else:
            report.status, report.exit_code = RunStatus.FAILED, 1
        report.duration_s = round(time.monotonic() - self.clock, 3)
        self.store.clean_staging()  # first: a full disk needs this space back to log anything
        try:
            self.state.drop_unmarked()  # a run that failed before swapping leaves nothing in flight
            self.state.finish_run(report.run_id, dt.datetime.now(dt.timezone.utc), report.status, report.exit_code,
                                  report.counts())
            self.store.staging.mkdir(parents=True, exist_ok=True)
            self.store.replace_runs(self.state.runs_table())
        except Exception:
            if exc_type is None:
                raise
            # After a failure nothing here may hide the run's own error (e.g. a second "disk full").
        finally:
            self.store.clean_staging()
            self.emit("run_finished", {"summary": report.summary(), **report.__dict__})
        if exc is not None and isinstance(exc, Exception):
            reported = manifest_damage(exc, manifest_file(self.options.out_dir)) or domain_error(exc)
            if reported is not exc:
                raise reported from exc

    # -- recovery ------------------------------------------------------------
    def recover(self) -> list[str]:
        """Make the dataset agree with the manifest after a run killed between its first swap and its commit."""
        unfinished = self.state.unfinished_runs()
        if not unfinished:
            return []
        paths, partitions = self.state.recovery_set(unfinished)
        self.emit("recovering", {"runs": unfinished, "files": len(paths), "partitions": len(partitions)})
        gone = set(paths)
        staged = []
        for index, (source, date_text) in enumerate(sorted(partitions, key=partition_order)):
            key = (source, _date(date_text))
            if not (partition_raw_paths(self.options.out_dir, *key) & gone):
                continue
            merged, _ = merge_partition(read_partition_or_none(str(self.options.out_dir), key), None, gone)
            target = self.store.partition_path(*key)
            write_staged(merged, self.store.staging / "recovery" / f"{index:06d}.parquet")
            staged.append((self.store.staging / "recovery" / f"{index:06d}.parquet", target))
        self.store.swap(staged)
        if rejects_file(self.options.out_dir).exists():  # the rejects the manifest still stands behind
            rejects = self.state.rejects_table()
            if rejects.num_rows:
                rejects = rejects.filter(pc.invert(pc.is_in(rejects.column("raw_path"),
                                                            value_set=pa.array(paths, pa.string()))))
            self.store.replace_rejects(rejects)
        self.store.sync()
        self.state.finish_recovery(unfinished)
        self.emit("recovered", {"files": len(paths), "partitions_rewritten": len(staged)})
        return paths

    def remove_emptied(self) -> None:
        """Remove zero-row partition files that earlier runs emptied more than `emptied_grace_s` ago."""
        cutoff = self.started - dt.timedelta(seconds=self.options.emptied_grace_s)
        partitions = self.state.emptied_before(cutoff)
        if not partitions:
            return
        removed = sum(remove_if_empty(self.options.out_dir, source, _date(date)) for source, date in partitions)
        self.state.forget_emptied(partitions)
        self.emit("emptied_removed", {"partitions": removed})

    # -- the run -------------------------------------------------------------
    def execute(self, work: list[WorkItem], rebuild: dict[PartitionKey, set[str]] | None = None,
                forget: set[str] | None = None) -> None:
        rebuild, forget = rebuild or {}, forget or set()
        if not (work or rebuild or forget):
            return
        run_id = self.report.run_id
        self.store.staging.mkdir(parents=True, exist_ok=True)  # tasks create their folders in it, never it
        self._map(work)
        if forget:
            self.state.add_forgotten(run_id, sorted(forget))
        statuses, reasons = self.state.outcome_counts(run_id)
        self.report.unchanged = statuses.get(FileStatus.UNCHANGED, 0)
        self.report.files_parsed = sum(statuses.get(s, 0) for s in (FileStatus.ARTICLE, FileStatus.REJECT))
        self.report.rejects = statuses.get(FileStatus.REJECT, 0)
        self.report.rejects_by_reason = {reason: count for reason, count in reasons.items()}

        staged, emptied = self._reduce(rebuild)
        # (1) the in-flight record, before anything is swapped in
        self.state.mark_swapping(run_id, [(s, d.isoformat() if d else None) for (s, d), _ in staged])
        # (2) swap; partitions that lose their last row go last (a kill between batches leaves fewer of them)
        swapped = 0

        def progress(count: int) -> None:
            nonlocal swapped
            swapped += count
            self.emit("partitions_swapped", {"partitions": count, "done": swapped, "total": len(staged)})

        self.store.swap(((Path(path), self.store.partition_path(*key)) for key, path in staged), progress)
        # (3) rejects, (4) the manifest
        self.store.replace_rejects(self.state.rejects_after(run_id, self.started))
        self.store.sync()  # every swap is on disk before the manifest says so
        files = self.state.commit_pending(run_id, PARSER_VERSION, self.started, [(s, _iso(d)) for s, d in emptied])
        self.emit("committed", {"files": files})

    def _map(self, work: list[WorkItem]) -> None:
        run_id = self.report.run_id
        job = Job(str(Path(self.options.raw_dir).resolve()), run_id, self.started, self.options.max_bytes,
                  str((self.store.staging / "fragments").resolve()))
        done = 0
        chunks = enumerate(_chunks(work, self.options.chunk_files))
        for result in self.engine.map(partial(map_chunk, job), chunks):
            fragments = [(s, d, result.fragment, batch, rows) for s, d, batch, rows in result.partitions]
            self.state.add_pending(run_id, result.outcomes, fragments)
            done += result.outcomes.num_rows
            self.emit("parsed", {"done": done, "total": len(work)})

    def _reduce(self, rebuild: dict[PartitionKey, set[str]]) -> tuple[list[tuple[PartitionKey, str]], list[PartitionKey]]:
        """Run the reduce tasks; return (partition, staged file) of every changed partition, emptied ones last."""
        run_id = self.report.run_id
        departures: dict[PartitionKey, list[str]] = {}
        for source, date_text, raw_path in self.state.departures(run_id):
            departures.setdefault((source, _date(date_text)), []).append(raw_path)
        touched = {(s, _date(d)) for s, d in self.state.fragment_partitions(run_id)} | departures.keys() | rebuild.keys()
        keys = sorted(touched, key=partition_order)
        self.emit("merging", {"partitions": len(keys)})

        def tasks() -> Iterator[tuple[int, list[PartitionTask]]]:
            for number, start in enumerate(range(0, len(keys), self.options.group_partitions)):
                group = []
                for source, date in keys[start:start + self.options.group_partitions]:
                    fragments = self.state.fragments_of(run_id, source, date.isoformat() if date else None)
                    keep = rebuild.get((source, date))
                    group.append(PartitionTask(source, date, tuple((f, tuple(b)) for f, b in fragments),
                                               tuple(sorted(departures.get((source, date), ()))),
                                               tuple(sorted(keep)) if keep is not None else None))
                yield number, group

        job = ReduceJob(str(Path(self.options.out_dir).resolve()), str((self.store.staging / "partitions").resolve()))
        changed, emptied = [], []
        done = 0
        for results in self.engine.map(partial(reduce_group, job), tasks()):
            for result in results:
                if result.lost_paths:  # rows only an unreadable partition file held
                    self.state.add_forgotten(run_id, result.lost_paths)
                    self.warn(result.warning)
                self.report.duplicates += result.duplicates
                self.report.articles_written += result.new_rows - result.duplicates
                if result.staged is not None:
                    self.report.partitions_written += 1
                    (changed if result.rows else emptied).append(((result.source, result.date), result.staged))
                    self.emit("partition_written", {"source": result.source, "date": _iso(result.date),
                                                    "rows": result.rows})
            done += len(results)
            self.emit("merged", {"done": done, "total": len(keys)})
        return changed + emptied, [key for key, _ in emptied]


def _check_workers(engine: Engine, options: RunOptions) -> None:
    """Every worker must see the raw dir and write under the out dir (a shared filesystem); else exit 2.

    The probe is a file in OUT/_staging, removed at once; nothing else is written before the check.
    """
    root = staging_root(options.out_dir)
    existed = root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        problems = [p for p in engine.on_every_worker(_worker_sees, str(Path(options.raw_dir).resolve()),
                                                      str(root.resolve())) if p]
    finally:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)
    if problems:
        raise UsageError("every worker must see the raw dir and write the out dir (a shared filesystem): "
                         + "; ".join(sorted(set(problems))))


def _worker_sees(raw_dir: str, staging: str) -> str | None:
    """On a worker: None when it can list the raw dir and write into the staging dir, else why not."""
    import socket
    where = f"worker on {socket.gethostname()} (pid {os.getpid()})"
    try:
        os.listdir(raw_dir)
    except OSError as error:
        return f"{where} cannot read the raw dir {raw_dir}: {error.strerror or error}"
    probe = os.path.join(staging, f".probe-{socket.gethostname()}-{os.getpid()}")
    try:
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as error:
        return f"{where} cannot write the staging dir {staging}: {error.strerror or error}"
    return None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _check_options(options: RunOptions) -> None:
    if not Path(options.raw_dir).is_dir():
        raise UsageError(f"raw dir {options.raw_dir} does not exist or is not a folder")
    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
    if options.engine_name not in ("local", "dask"):
        raise UsageError(f"--engine must be local or dask, not {options.engine_name}")
    check_writable_out_dir(options.out_dir)  # also for a dry run: opening the manifest writes beside it
    if options.scheduler and options.engine_name != "dask":
        raise UsageError("--scheduler needs --engine dask")


def _chunks(items: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
