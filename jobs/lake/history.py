"""The articles table's versions, as its Delta log records them: who committed each and what it changed. Reads.

Each commit file `_delta_log/<version>.json` holds one JSON action per line: `commitInfo` (time, operation
and the custom metadata a run adds: run_id, command, ...), `add` (a data file, its statistics holding
numRecords) and `remove` (a data file no longer in the table). Rows removed are the numRecords of the
removed files, known from the commit that added them. A version's time is its commit file's
modification time, which is what delta-rs's time travel (`query --as-of INSTANT`) goes by. Commit files older than a checkpoint may have been
cleaned up (delta-rs keeps them 30 days): their versions are not listed, and rows of a file added there
and removed later are unknown (None).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import asdict, dataclass
from urllib.parse import unquote

from jobs.lake.paths import Layout

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# commitInfo keys that are delta-rs's own, not our metadata.
_DELTA_KEYS = {"timestamp", "operation", "operationParameters", "engineInfo", "clientVersion", "readVersion",
               "isBlindAppend", "operationMetrics", "userMetadata"}


@dataclass(frozen=True)
class VersionChange:
    """One version of the table and what its commit changed."""

    version: int
    committed_at: dt.datetime | None
    operation: str | None
    run_id: str | None
    command: str | None
    files_added: int
    rows_added: int
    files_removed: int
    rows_removed: int | None  # None: a removed file's rows are unknown (its commit file was cleaned up)
    metadata: dict  # the rest of the run's metadata (parser_version, files_parsed, ...)

    def as_dict(self) -> dict:
        found = asdict(self)
        found["committed_at"] = self.committed_at.isoformat() if self.committed_at else None
        return found


def table_history(layout: Layout, limit: int | None = None) -> list[VersionChange]:
    """The table's versions, newest first (at most `limit`); empty when there is no table."""
    entries = sorted(layout.delta_log.glob("[0-9]*.json")) if layout.delta_log.is_dir() else []
    rows_of: dict[str, int | None] = {}
    changes = []
    for entry in entries:
        change = _read_commit(int(entry.stem), entry.read_text(encoding="utf-8"), rows_of)
        # The commit file's modification time is what delta-rs travels by (`query --as-of INSTANT`).
        written = _EPOCH + dt.timedelta(milliseconds=entry.stat().st_mtime_ns // 1_000_000)  # exact, no float
        changes.append(dataclasses.replace(change, committed_at=written))
    changes.reverse()
    return changes[:limit] if limit is not None else changes


def _read_commit(version: int, text: str, rows_of: dict[str, int | None]) -> VersionChange:
    info: dict = {}
    added = removed = rows_added = 0
    rows_removed: int | None = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        if "commitInfo" in action:
            info = action["commitInfo"]
        elif "add" in action:
            rows = _num_records(action["add"].get("stats"))
            rows_of[unquote(action["add"]["path"])] = rows
            added += 1
            rows_added += rows or 0
        elif "remove" in action:
            rows = rows_of.pop(unquote(action["remove"]["path"]), None)
            removed += 1
            rows_removed = None if rows is None or rows_removed is None else rows_removed + rows
    stamp = info.get("timestamp")
    return VersionChange(
        version=version,
        committed_at=dt.datetime.fromtimestamp(stamp / 1000, dt.timezone.utc) if stamp is not None else None,
        operation=info.get("operation"), run_id=info.get("run_id"), command=info.get("command"),
        files_added=added, rows_added=rows_added, files_removed=removed, rows_removed=rows_removed,
        metadata={k: v for k, v in info.items() if k not in _DELTA_KEYS and k not in ("run_id", "command")})


def _num_records(stats: str | None) -> int | None:
    if not stats:
        return None
    return json.loads(stats).get("numRecords")


def history_lines(changes: list[VersionChange]) -> list[str]:
    """A plain table for the terminal: one line per version, newest first."""
    header = ("version", "committed at (UTC)", "run id", "command", "files +", "rows +", "files -", "rows -")
    rows = [header]
    for c in changes:
        when = c.committed_at.strftime("%Y-%m-%d %H:%M:%S") if c.committed_at else "?"
        command = c.command or (c.operation or "").lower() or "?"
        rows.append((str(c.version), when, c.run_id or "-", command, str(c.files_added), str(c.rows_added),
                     str(c.files_removed), "?" if c.rows_removed is None else str(c.rows_removed)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) if i < 4 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
            for row in rows]
