"""Reading a dataset file that may be damaged (truncated, bad bytes): the error names the file. I/O.

Every failure to read a Parquet file of the dataset becomes `DamagedFile`, with the path and,
for a partition, the command that rebuilds it from the raw files.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.errors import DamagedFile


def repair_partition_command(source: str, month: str | None) -> str:
    """The command that rebuilds one partition, a source's month (the undated one: every partition of its source)."""
    days = ""
    if month:
        first = dt.date.fromisoformat(f"{month}-01")
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        days = f" --from {first.isoformat()} --to {last.isoformat()}"
    return (f"articles reprocess --source {_quote(source)}{days} --yes"
            " (with this run's --raw-dir and --out-dir)")


def _quote(value: str) -> str:
    """Shell quoting only where needed: a Chinese source name stays as it is."""
    return shlex.quote(value) if re.search(r"[^\w@%+=:,./-]", value) else value


def read_parquet(path: Path, repair: str | None = None, **read_options) -> pa.Table:
    """pq.read_table, but an unreadable file raises DamagedFile naming it (and how to repair it)."""
    try:
        return pq.read_table(path, **read_options)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DamagedFile(path, _first_line(error), repair) from error


def row_count(path: Path, repair: str | None = None) -> int:
    """Rows of a Parquet file from its footer; DamagedFile when the footer cannot be read."""
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DamagedFile(path, _first_line(error), repair) from error


def lost_rows_message(damaged: DamagedFile, vanished_paths: set[str]) -> str:
    """What rebuilding an unreadable partition from the raw files could not bring back."""
    message = f"partition file {damaged.path} could not be read ({damaged.detail}): rebuilt from the raw files"
    if vanished_paths:
        shown = ", ".join(sorted(vanished_paths)[:5]) + (" ..." if len(vanished_paths) > 5 else "")
        message += (f"; the rows of {len(vanished_paths)} raw files that could not be reparsed (gone or unreachable)"
                    f" were only in that file and are lost ({shown})")
    return message


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
