"""The nightly job and the operator's rebuild: plan, parse, merge, swap, commit.

Order of commits, which is what makes a kill at any instant harmless:
  1. parse into memory / spill files under OUT/_staging/<run_id>/
  2. for each touched partition: merge old rows with new ones, write under
     _staging, rename over the old file (atomic per partition)
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jobs import PARSER_VERSION
from jobs.discover import DEFAULT_GLOBS, RawFile, discover
from jobs.errors import UsageError
from jobs.executor import default_workers, run_chunks
from jobs.lock import OutputLock
from jobs.parse_batch import OUTCOME_SCHEMA, Job, WorkItem
from jobs.spill import PartitionBuffer, PartitionKey, filter_out_paths
from jobs.state import State
from jobs.store import SWAP_BATCH, Store
from jobs.frame import REJECT_BATCH_SCHEMA

EventSink = Callable[[str, dict], None]
CHUNK_FILES = 200


@dataclass
class RunOptions:
    raw_dir: Path = Path("data/raw")
    out_dir: Path = Path("data/parquet")
    globs: tuple[str, ...] = DEFAULT_GLOBS
    workers: int = field(default_factory=default_workers)
    max_bytes: int = 8 * 1024 * 1024
    max_reject_ratio: float = 0.5
    wait_seconds: float = 0.0
    memory_budget_bytes: int = 64 * 1024 * 1024  # parsed rows held before spilling to _staging


@dataclass
class RunReport:
    run_id: str
    command: str
    files_seen: int = 0
    files_parsed: int = 0
    unchanged: int = 0
    articles_written: int = 0
    duplicates: int = 0
    rejects: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    partitions_written: int = 0
    duration_s: float = 0.0
    status: str = "running"
    exit_code: int = 0

    def summary(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.rejects_by_reason.items()))
        return (f"{self.command} {self.status}: {self.files_seen} files seen, {self.files_parsed} parsed, "
                f"{self.articles_written} articles written, {self.duplicates} duplicates, {self.rejects} rejects"
                f"{' (' + reasons + ')' if reasons else ''}, {self.partitions_written} partitions written in {self.duration_s:.2f}s")

    def counts(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("files_seen", "files_parsed", "articles_written", "duplicates", "rejects", "partitions_written", "duration_s")}


@dataclass(frozen=True)
class Selection:
    """What `reprocess` rebuilds. Filters combine with AND; `everything` selects all."""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    parser_older_than: str | None = None
    everything: bool = False
    prune: bool = False


@dataclass
class ReprocessPlan:
    partitions: dict[PartitionKey, set[str]]  # partition -> raw paths whose articles live there
    files: list[RawFile]  # present on disk, to reparse
    missing: list[str]  # gone from disk: kept as history, or dropped with --prune
    rejects_to_retry: list[RawFile]
    rows: int

    @property
    def is_empty(self) -> bool:
        return not self.partitions and not self.rejects_to_retry


def ingest(options: RunOptions, on_event: EventSink | None = None) -> RunReport:
    """Parse new and changed raw files and merge them into the dataset."""
    _check_dirs(options, need_raw=True)
    emit = on_event or (lambda name, data: None)
    with OutputLock(options.out_dir, options.wait_seconds):
        state = State(options.out_dir)
        try:
            run = _Run(options, state, "ingest", emit)
            run.report.files_seen, work = _plan_ingest(options, state)
            emit("planned", {"files_seen": run.report.files_seen, "to_parse": len(work)})
            return run.execute(work)
        finally:
            state.close()


def plan_reprocess(options: RunOptions, selection: Selection) -> ReprocessPlan:
    """What `reprocess` would rebuild; reads the manifest only."""
    _check_dirs(options, need_raw=True)
    state = State(options.out_dir)
    try:
        return _plan(options, state, selection)
    finally:
        state.close()


def reprocess(options: RunOptions, selection: Selection, on_event: EventSink | None = None) -> RunReport:
    """Rebuild the selected partitions from the raw files, under the same atomic guarantees."""
    _check_dirs(options, need_raw=True)
    emit = on_event or (lambda name, data: None)
    with OutputLock(options.out_dir, options.wait_seconds):
        state = State(options.out_dir)
        try:
            plan = _plan(options, state, selection)
            run = _Run(options, state, "reprocess", emit)
            run.report.files_seen = len(plan.files) + len(plan.rejects_to_retry)
            work = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in plan.files + plan.rejects_to_retry]
            history = set() if selection.prune else set(plan.missing)
            rebuild = {key: paths & history for key, paths in plan.partitions.items()}
            forget = set(plan.missing) if selection.prune else set()
            emit("planned", {"partitions": len(plan.partitions), "to_parse": len(work), "pruned": len(forget)})
            return run.execute(work, rebuild=rebuild, forget=forget)
        finally:
            state.close()


class _Run:
    def __init__(self, options: RunOptions, state: State, command: str, emit: EventSink):
        self.options, self.state, self.emit = options, state, emit
        self.started = dt.datetime.now(dt.timezone.utc)
        self.clock = time.monotonic()
        run_id = f"{self.started:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        self.report = RunReport(run_id=run_id, command=command)
        self.store = Store(options.out_dir, run_id)
        self.store.clean_staging()  # leftovers of a killed run
        state.begin_run(run_id, command, self.started)
        emit("run_started", {"run_id": run_id, "command": command})

    def execute(self, work: list[WorkItem], rebuild: dict[PartitionKey, set[str]] | None = None,
                forget: set[str] | None = None) -> RunReport:
        rebuild, forget = rebuild or {}, forget or set()
        try:
            if work or rebuild or forget:
                self._parse_merge_commit(work, rebuild, forget)
            self.report.status = "ok"
            parsed = self.report.files_parsed
            if parsed and self.report.rejects / parsed > self.options.max_reject_ratio:
                self.report.status, self.report.exit_code = "too_many_rejects", 4
        except BaseException:
            self.report.status, self.report.exit_code = "failed", 1
            raise
        finally:
            self.report.duration_s = round(time.monotonic() - self.clock, 3)
            self.state.finish_run(self.report.run_id, dt.datetime.now(dt.timezone.utc), self.report.status,
                                  self.report.exit_code, self.report.counts())
            self.store.replace_runs(self.state.runs_table())
            self.store.clean_staging()
            self.emit("run_finished", {"summary": self.report.summary(), **self.report.__dict__})
        return self.report

    def _parse_merge_commit(self, work: list[WorkItem], rebuild: dict[PartitionKey, set[str]], forget: set[str]) -> None:
        job = Job(str(self.options.raw_dir), self.report.run_id, self.started, self.options.max_bytes)
        buffer = PartitionBuffer(self.store.staging / "spill", self.options.memory_budget_bytes)
        outcomes, new_rejects = [], []
        done = 0
        for chunk in run_chunks(job, _chunks(work, CHUNK_FILES), self.options.workers):
            buffer.add(chunk.articles)
            outcomes.append(chunk.outcomes)
            new_rejects.append(chunk.rejects)
            done += chunk.outcomes.num_rows
            self.emit("parsed", {"done": done, "total": len(work)})
        outcome_table = pa.concat_tables(outcomes) if outcomes else OUTCOME_SCHEMA.empty_table()
        statuses = Counter(outcome_table.column("status").to_pylist())
        changed = {p for p, s in zip(outcome_table.column("raw_path").to_pylist(), outcome_table.column("status").to_pylist()) if s != "unchanged"}
        self.report.files_parsed = len(changed)
        self.report.unchanged = statuses.get("unchanged", 0)
        self.report.rejects = statuses.get("reject", 0)
        reject_table = pa.concat_tables(new_rejects) if new_rejects else REJECT_BATCH_SCHEMA.empty_table()
        self.report.rejects_by_reason = dict(Counter(reject_table.column("reason").to_pylist()))

        superseded = changed | forget
        old_homes = {(s, dt.date.fromisoformat(d)): paths for (s, d), paths in self.state.partitions_of(superseded).items()}
        for key in sorted(buffer.keys() | old_homes.keys() | rebuild.keys()):
            self._merge_partition(key, buffer.pop(key), old_homes.get(key, set()), rebuild.get(key))
            if self.store.staged >= SWAP_BATCH:
                self._swap_staged()
        self._swap_staged()
        if superseded:
            kept = filter_out_paths(self.state.rejects_table(), superseded)
            rejects = pa.concat_tables([kept.cast(REJECT_BATCH_SCHEMA), reject_table.cast(REJECT_BATCH_SCHEMA)])
            self.store.replace_rejects(rejects.sort_by("raw_path"))
        self.store.sync()  # every swap is on disk before the manifest says so
        self.state.commit_outcomes(outcome_table, self.report.run_id, PARSER_VERSION, self.started, forget)
        self.emit("committed", {"files": outcome_table.num_rows})

    def _swap_staged(self) -> None:
        swapped = self.store.flush()
        if swapped:
            self.emit("partitions_swapped", {"partitions": swapped})

    def _merge_partition(self, key: PartitionKey, new_tables: list[pa.Table], old_paths: set[str], keep_only: set[str] | None) -> None:
        source, date = key
        on_disk = existing = self.store.read_partition(source, date)
        new = pa.concat_tables(new_tables).drop_columns(["source", "date"]) if new_tables else None
        parts = []
        if existing is not None:
            if keep_only is not None:  # rebuild: only history rows of vanished files survive
                existing = existing.filter(pc.is_in(existing.column("raw_path"), value_set=pa.array(sorted(keep_only), pa.string())))
            else:
                replaced = old_paths | (set(new.column("raw_path").to_pylist()) if new is not None else set())
                existing = filter_out_paths(existing, replaced)
            parts.append(existing)
        if new is not None:
            parts.append(new.cast(existing.schema) if existing is not None else new)
        merged, duplicates = deduplicate(pa.concat_tables(parts)) if parts else (None, 0)
        self.report.duplicates += duplicates
        self.report.articles_written += new.num_rows - duplicates if new is not None else 0
        # Compare with the file as it is on disk, not with the filtered rows: a partition that only
        # lost rows (a file moved to another date, a stale row dropped by a rebuild) must be rewritten.
        if merged is None or (on_disk is not None and merged.equals(on_disk)):
            return
        self.store.replace_partition(source, date, merged)
        self.report.partitions_written += 1
        self.emit("partition_written", {"source": source, "date": date.isoformat(), "rows": merged.num_rows})


def deduplicate(table: pa.Table) -> tuple[pa.Table, int]:
    """One row per article_id: the smallest raw_path wins (order-independent). Sorted by published_at."""
    if table.num_rows == 0:
        return table, 0
    unique = table
    if pc.count_distinct(table.column("article_id")).as_py() != table.num_rows:
        ordered = table.sort_by([("article_id", "ascending"), ("raw_path", "ascending")])
        ids = ordered.column("article_id")
        first = pa.concat_arrays([pa.array([True]), pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).combine_chunks()])
        unique = ordered.filter(first)
    order = pc.sort_indices(unique, sort_keys=[("published_at", "ascending"), ("article_id", "ascending")])
    if not order.equals(pa.array(range(len(order)), order.type)):  # already in order: skip the copy
        unique = unique.take(order)
    return unique, table.num_rows - unique.num_rows


def _plan_ingest(options: RunOptions, state: State) -> tuple[int, list[WorkItem]]:
    """(files listed, files to look at). The listing and the manifest copy are freed on return."""
    files = list(discover(str(options.raw_dir), options.globs))
    known = state.known_files()
    work = [WorkItem(f.raw_path, f.size, f.mtime_ns, _reusable_sha(known.get(f.raw_path)))
            for f in files if _needs_look(known.get(f.raw_path), f)]
    del known
    work += _orphaned_siblings(state, work, files)
    return len(files), work


def _needs_look(known, f: RawFile) -> bool:
    if known is None or (known.size, known.mtime_ns) != (f.size, f.mtime_ns):
        return True
    return known.status == "reject" and known.parser_version != PARSER_VERSION


def _reusable_sha(known) -> str | None:
    """Same bytes as last time need no parse: unless it was a reject from an older parser."""
    if known is None or (known.status == "reject" and known.parser_version != PARSER_VERSION):
        return None
    return known.sha256


def _orphaned_siblings(state: State, work: list[WorkItem], files: list[RawFile]) -> list[WorkItem]:
    """Files sharing an article_id with a changing file: reparse them, one may become the new winner."""
    if not work:
        return []
    changing = {item.raw_path for item in work}
    old_ids = set(state.article_ids_of(changing).values())
    candidates = [p for p in state.paths_with_article_ids(old_ids) if p not in changing]
    if not candidates:
        return []
    listed = {f.raw_path: f for f in files}
    return [WorkItem(p, listed[p].size, listed[p].mtime_ns, None) for p in sorted(candidates) if p in listed]


def _plan(options: RunOptions, state: State, selection: Selection) -> ReprocessPlan:
    everything = selection.everything
    stale_partitions: set[PartitionKey] = set()
    by_partition: dict[PartitionKey, set[str]] = {}
    for raw_path, source, date_text, version in state.article_files():
        key = (source, dt.date.fromisoformat(date_text))
        if not everything and not _in_selection(key, selection):
            continue
        by_partition.setdefault(key, set()).add(raw_path)
        if selection.parser_older_than and _version_key(version) < _version_key(selection.parser_older_than):
            stale_partitions.add(key)
    if selection.parser_older_than and not everything:
        by_partition = {k: v for k, v in by_partition.items() if k in stale_partitions}
    paths = sorted(p for ps in by_partition.values() for p in ps)
    present, missing = _split_present(options.raw_dir, paths)
    retry = _split_present(options.raw_dir, state.reject_paths())[0] if everything else []
    rows = sum(_partition_rows(options.out_dir, key) for key in by_partition)
    return ReprocessPlan(by_partition, present, missing, retry, rows)


def _in_selection(key: PartitionKey, selection: Selection) -> bool:
    source, date = key
    if selection.sources and source not in selection.sources:
        return False
    if selection.date_from and date < selection.date_from:
        return False
    if selection.date_to and date > selection.date_to:
        return False
    return True


def _version_key(version: str) -> tuple:
    """'3.10' > '3.9'; a non-numeric part sorts after numbers instead of failing to compare with them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


def _split_present(raw_dir: Path, paths: Iterable[str]) -> tuple[list[RawFile], list[str]]:
    present, missing = [], []
    for raw_path in paths:
        try:
            stat = os.stat(os.path.join(raw_dir, raw_path))
            present.append(RawFile(raw_path, stat.st_size, stat.st_mtime_ns))
        except OSError:
            if os.path.lexists(os.path.join(raw_dir, raw_path)):
                present.append(RawFile(raw_path, -1, -1))  # becomes a read_error reject, not history
            else:
                missing.append(raw_path)
    return present, missing


def _partition_rows(out_dir: Path, key: PartitionKey) -> int:
    import pyarrow.parquet as pq
    path = Store(out_dir, "plan").partition_path(*key)
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


def _chunks(items: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _check_dirs(options: RunOptions, need_raw: bool) -> None:
    if need_raw and not Path(options.raw_dir).is_dir():
        raise UsageError(f"raw dir {options.raw_dir} does not exist or is not a folder")
    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
