"""Vacuum: remove the data files no reader may need any more. Run at the end of every run, and by
`articles vacuum`, always under the run lock.

Removed: files no commit ever added (a killed run's, a stray copied in) at once, and files superseded
(by a later version) more than the retention ago. A reader
holding an older version keeps its files for that long (pyarrow, DuckDB and Polars all fail on a file
vacuumed under them: PITFALLS.md).
"""

from __future__ import annotations

from jobs.lake.table import ArticlesTable, untracked_files


def vacuum_table(table: ArticlesTable, retention_hours: float, dry_run: bool = False) -> list[str]:
    """The files removed (or, dry, that would be): files no commit ever added (a killed run's, a stray)
    at once, whatever their age (the caller holds the run lock, so no run is writing); superseded
    files once older than the retention (delta-rs's vacuum)."""
    if not table.exists():
        return []
    untracked = untracked_files(table.layout)
    if not dry_run:
        for relative in untracked:
            table.layout.data_file(relative).unlink(missing_ok=True)
    return untracked + table.vacuum(retention_hours, dry_run=dry_run)
