"""On-demand upkeep of a dataset, each under the run lock: `articles vacuum` and `articles migrate`. I/O.

The same steps run inside every ingest and reprocess (jobs/run/pipeline.py); these let an operator run
them alone, e.g. a vacuum with a shorter retention after a large reprocess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobs.errors import UsageError
from jobs.lake.lock import OutputLock
from jobs.lake.table import ArticlesTable
from jobs.run.migrate import migrate_if_needed
from jobs.run.options import EventSink
from jobs.run.vacuum import vacuum_table


@dataclass(frozen=True)
class VacuumResult:
    removed: list[str]  # data files, relative to articles/
    retention_hours: float
    dry_run: bool

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        head = (f"vacuum {verb} {len(self.removed)} data files (superseded more than {self.retention_hours:g} h ago,"
                f" or named by no version)")
        return [head] + [f"  {path}" for path in self.removed]


def vacuum_dataset(out_dir: Path, retention_hours: float, dry_run: bool = False, wait_seconds: float = 0.0) -> VacuumResult:
    """Remove the table's files no reader within the retention may need; a dry run only lists them."""
    if retention_hours < 0:
        raise UsageError(f"--retention must be 0 or more hours, not {retention_hours:g}")
    _require_dataset(out_dir)
    with OutputLock(out_dir, wait_seconds, shared=dry_run):
        removed = vacuum_table(ArticlesTable(out_dir), retention_hours, dry_run=dry_run)
    return VacuumResult(sorted(removed), retention_hours, dry_run)


def migrate_dataset(out_dir: Path, emit: EventSink, wait_seconds: float = 0.0) -> str:
    """Convert a dataset of the source/date layout into the Delta table; one line saying what was done."""
    _require_dataset(out_dir)
    with OutputLock(out_dir, wait_seconds):
        counts = migrate_if_needed(out_dir, emit)
    if counts is None:
        return f"nothing to migrate: {out_dir} holds no file of the source/date layout"
    if not counts.get("files"):
        return "migration already committed: the leftover files of the source/date layout were removed"
    return (f"migrated {counts['files']} files of the source/date layout ({counts['rows']} rows) into"
            f" {counts['partitions']} source/month partitions"
            + (f"; {counts['forgotten']} raw files of a killed run will be parsed again" if counts.get("forgotten") else ""))


def _require_dataset(out_dir: Path) -> None:
    if not Path(out_dir).is_dir():
        raise UsageError(f"no dataset at {out_dir}")
