"""The nightly job and the operator's rebuild: recover, plan, map, reduce, commit.

  recover (driver)  roll forward or drop the outcomes a killed run left pending (jobs/run/recover.py)
  plan (driver)     list raw files, compare with the manifest (jobs/run/plan.py)
  map (tasks)       read, hash, parse chunks of files; stage their rows by partition (jobs/run/map.py)
  reduce (tasks)    per group of touched partitions (source, month): current files + fragments ->
                    merge_partition -> one new data file each, written into the table (jobs/run/reduce.py)
  commit (driver)   one Delta transaction, the rejects file, the manifest (jobs/run/commit.py)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from jobs.errors import TooManyRejects, UsageError, domain_error, manifest_damage
from jobs.lake.lock import OutputLock
from jobs.lake.manifest import State
from jobs.lake.out_dir import check_writable_out_dir
from jobs.lake.paths import Layout, staging_root
from jobs.lake.repair import open_state
from jobs.lake.store import Store
from jobs.lake.table import ArticlesTable
from jobs.run.commit import commit_run
from jobs.run.engine import Engine, engine_for
from jobs.run.events import with_kill_point
from jobs.run.map import map_files
from jobs.run.migrate import migrate_if_needed
from jobs.run.options import EventSink, RunOptions, RunReport, Selection
from jobs.run.plan import ReprocessPreview, plan_ingest, plan_rebuild
from jobs.run.recover import recover
from jobs.run.reduce import reduce_partitions
from jobs.run.templates import plan_templates, seed_edges_from_table
from jobs.run.vacuum import vacuum_table
from jobs.run.map import WorkItem
from jobs.lake.paths import PartitionKey
from schemas.state import FileStatus, RunStatus


def ingest(options: RunOptions, on_event: EventSink | None = None) -> RunReport:
    """Parse new and changed raw files and merge them into the dataset."""
    return _run_command("ingest", options, on_event)


def plan_reprocess(options: RunOptions, selection: Selection) -> ReprocessPreview:
    """What `reprocess` would rebuild; reads the manifest only."""
    _check_options(options)
    _check_selection(selection)
    # A running run's manifest and partitions are half-way: say it is locked (exit 3) rather than
    # preview what it is changing. A shared lock: dry runs never wait for each other.
    with OutputLock(options.out_dir, options.wait_seconds, shared=True):
        state = open_state(options.out_dir, lambda message: None, repair=False)  # never rebuilds
        try:
            return plan_rebuild(options, state, selection).preview(selection.prune)
        finally:
            state.close()


def reprocess(options: RunOptions, selection: Selection, on_event: EventSink | None = None) -> RunReport:
    """Rebuild the selected partitions from the raw files, under the same atomic guarantees."""
    _check_selection(selection)
    return _run_command("reprocess", options, on_event, selection)


def _run_command(command: str, options: RunOptions, on_event: EventSink | None,
                 selection: Selection | None = None) -> RunReport:
    _check_options(options)
    try:
        return _locked_run(command, options, with_kill_point(on_event or (lambda name, data: None)), selection)
    except Exception as error:  # before or after the run proper (the manifest opened, recovery): a full disk, once
        reported = domain_error(error, options.out_dir)
        if reported is not error:
            raise reported from error
        raise


def _locked_run(command: str, options: RunOptions, emit: EventSink, selection: Selection | None) -> RunReport:
    with _engine(options, emit) as engine:
        _check_workers(engine, options)  # before anything is written
        with OutputLock(options.out_dir, options.wait_seconds):
            notices: list[str] = []
            migrate_if_needed(options.out_dir, emit)  # a dataset of the day-partitioned layout, once
            state = open_state(options.out_dir, notices.append)  # rebuilt from the dataset if missing or damaged
            try:
                run = _Run(options, state, command, emit, engine, notices)
                with run:
                    recover(run.table, state, run.store, emit)
                    if state.edges_missing():  # rows written without their edges (migrated, manifest rebuilt)
                        emit("edges_seeded", {"edges": seed_edges_from_table(state, run.table)})
                    run.relearn_all = state.relearn_pending()
                    if command == "ingest":
                        _plan_and_ingest(run, options, state, emit)
                    else:
                        _plan_and_reprocess(run, options, state, emit, selection)
                    run.vacuum()
                return run.report
            finally:
                state.close()


def _plan_and_ingest(run: "_Run", options: RunOptions, state: State, emit: EventSink) -> None:
    plan = plan_ingest(options, state, run.warn)
    run.report.files_seen = plan.files_seen
    run.report.unchanged = plan.files_seen - plan.to_parse  # same size and mtime: not even read
    emit("planned", {"files_seen": plan.files_seen, "to_parse": plan.to_parse})
    run.execute(plan.work(), plan.to_parse)


def _plan_and_reprocess(run: "_Run", options: RunOptions, state: State, emit: EventSink,
                        selection: Selection) -> None:
    plan = plan_rebuild(options, state, selection)
    run.report.files_seen = len(plan.files) + len(plan.rejects_to_retry)
    work = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in plan.files + plan.rejects_to_retry]
    for warning in plan.warnings():
        run.warn(warning)
    history = plan.history(selection.prune)
    rebuild = {key: paths & history for key, paths in plan.partitions.items()}
    forget = plan.forgotten(selection.prune)
    emit("planned", {"partitions": len(plan.partitions), "to_parse": len(work), "pruned": len(forget)})
    run.execute(work, len(work), rebuild=rebuild, forget=forget)


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
    """One run: its id, staging folder, report and the handles the phases share."""

    def __init__(self, options: RunOptions, state: State, command: str, emit: EventSink, engine: Engine,
                 notices: list[str] = ()):
        self.options, self.state, self.emit, self.engine = options, state, emit, engine
        self.started = dt.datetime.now(dt.timezone.utc)
        self.clock = time.monotonic()
        run_id = f"{self.started:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        self.report = RunReport(run_id=run_id, command=command)
        self.relearn_all = False  # every source's template to learn again (edges seeded from the rows)
        self.table = ArticlesTable(options.out_dir)
        self.table.open()  # created empty on a new dataset
        self.store = Store(options.out_dir, run_id)
        self.store.clean_staging()  # leftovers of killed runs (never a live run's: each holds its own)
        self.store.hold_staging()  # ours, until the end: no other run removes it
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
            if exc_type is not None:
                recover(self.table, self.state, self.store, self.emit)  # a failed run: its commit happened or not
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
            reported = manifest_damage(exc, Layout(self.options.out_dir).manifest) or domain_error(exc, self.options.out_dir)
            if reported is not exc:
                raise reported from exc

    def execute(self, work: Iterable[WorkItem], to_parse: int, rebuild: dict[PartitionKey, set[str]] | None = None,
                forget: set[str] | None = None) -> None:
        rebuild, forget = rebuild or {}, forget or set()
        if not (to_parse or rebuild or forget or self.relearn_all):
            return
        run_id = self.report.run_id
        self.store.staging.mkdir(parents=True, exist_ok=True)  # tasks create their folders in it, never it
        map_files(work, to_parse, self.options, self.state, self.engine, run_id, self.started,
                  self.store.staging / "fragments", self.emit)
        if forget:
            self.state.add_forgotten(run_id, sorted(forget))
        statuses, reasons = self.state.outcome_counts(run_id)
        self.report.unchanged += statuses.get(FileStatus.UNCHANGED, 0)  # read, and the same bytes
        self.report.files_parsed = sum(statuses.get(s, 0) for s in (FileStatus.ARTICLE, FileStatus.REJECT))
        self.report.rejects = statuses.get(FileStatus.REJECT, 0)
        self.report.rejects_by_reason = {reason: count for reason, count in reasons.items()}
        plan = plan_templates(self.state, run_id, every_source=self.relearn_all)
        self.report.templates_changed = {source: list(sizes) for source, sizes in sorted(plan.changed.items())}
        changed = reduce_partitions(self.options, self.state, self.engine, self.report,
                                    self.table.files_by_partition(), rebuild, self.emit, self.warn, plan)
        if plan.changed:
            self.emit("templates_changed", {"sources": self.report.templates_changed, "rows": self.report.rows_recleaned})
        commit_run(self.table, self.state, self.store, self.report, self.started, changed, self.emit, self.relearn_all)

    def vacuum(self) -> None:
        removed = vacuum_table(self.table, self.options.retention_hours)
        if removed:
            self.emit("vacuumed", {"files": len(removed)})


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


def _check_options(options: RunOptions) -> None:
    if not Path(options.raw_dir).is_dir():
        raise UsageError(f"raw dir {options.raw_dir} does not exist or is not a folder")
    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
    if options.max_bytes < 1:
        raise UsageError(f"--max-bytes must be at least 1, not {options.max_bytes}")
    if options.max_reject_ratio < 0:
        raise UsageError(f"--max-reject-ratio must be 0 or more, not {options.max_reject_ratio}")
    if options.engine_name not in ("local", "dask"):
        raise UsageError(f"--engine must be local or dask, not {options.engine_name}")
    check_writable_out_dir(options.out_dir)  # also for a dry run: opening the manifest writes beside it
    if options.scheduler and options.engine_name != "dask":
        raise UsageError("--scheduler needs --engine dask")


def _check_selection(selection: Selection) -> None:
    if selection.date_from and selection.date_to and selection.date_from > selection.date_to:
        raise UsageError(f"--from {selection.date_from} is after --to {selection.date_to}: nothing could match")

