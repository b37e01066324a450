"""What a run is asked to do (options, selection) and what it reports back. Pure data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jobs.run.discover import DEFAULT_GLOBS
from jobs.run.engine import Engine, EngineName, default_workers
from jobs.run.limits import DEFAULT_FILE_SECONDS, DEFAULT_WORKER_MEMORY
from schemas.state import RUN_METRICS, RunStatus

EventSink = Callable[[str, dict], None]


@dataclass
class RunOptions:
    raw_dir: Path = Path("data/raw")
    out_dir: Path = Path("data/parquet")
    globs: tuple[str, ...] = DEFAULT_GLOBS
    workers: int = field(default_factory=default_workers)
    max_bytes: int = 8 * 1024 * 1024
    max_reject_ratio: float = 0.5
    wait_seconds: float = 0.0
    # Where tasks run: "local" (a process pool of `workers`) or "dask" (the cluster at `scheduler`, or a
    # LocalCluster of `workers` processes started and stopped by the run).
    engine_name: EngineName = EngineName.local
    scheduler: str | None = None
    # An engine object to use instead (tests, embedding); the run neither starts nor stops it.
    engine: Engine | None = None
    # Each run (and `articles vacuum`) removes data files superseded more than this long ago, and files no
    # version names (killed runs', strays) older than this: a reader holding an older version has this long.
    retention_hours: float = 168.0
    chunk_files: int = 200  # files per map task
    # Bounds per worker (jobs/run/limits.py): address space of a local pool worker in bytes (None: no
    # cap), and parse time per file in seconds (0: no limit); what exceeds them becomes a reject.
    worker_memory: int | None = DEFAULT_WORKER_MEMORY
    file_seconds: float = DEFAULT_FILE_SECONDS
    group_partitions: int = 64  # partitions per reduce task


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
    rows_recleaned: int = 0  # rows kept from earlier runs cleaned again because their source's template changed
    templates_changed: dict[str, list[int]] = field(default_factory=dict)  # source -> [paragraphs before, after]
    duration_s: float = 0.0
    status: RunStatus = RunStatus.RUNNING
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)  # named problems that did not stop the run

    def summary(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.rejects_by_reason.items()))
        return (f"{self.command} {self.status}: {self.files_seen} files seen, {self.files_parsed} parsed, "
                f"{self.articles_written} articles written, {self.duplicates} duplicates, {self.rejects} rejects"
                f"{' (' + reasons + ')' if reasons else ''}, {self.partitions_written} partitions written"
                + (f", {len(self.templates_changed)} source templates changed ({self.rows_recleaned} rows cleaned again)"
                   if self.templates_changed else "")
                + f" in {self.duration_s:.2f}s"
                + "".join(f"; warning: {w}" for w in self.warnings))

    def counts(self) -> dict[str, float]:
        """The run log's metric columns (schemas.article.RUN_COLUMNS), by name."""
        return {name: getattr(self, name) for name in RUN_METRICS}


@dataclass(frozen=True)
class Selection:
    """What `reprocess` rebuilds. Filters combine with AND; `everything` selects all."""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    parser_older_than: str | None = None
    everything: bool = False
    prune: bool = False
