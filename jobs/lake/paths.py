"""Every name on disk, built and parsed in one place: `Layout`. Pure (no I/O).

  OUT/articles/                                            the Delta table (delta-rs): data files + _delta_log/
  OUT/articles/source=<s>/month=<YYYY-MM>/part-<run_id>-<task>-<n>.parquet
                                                           one data file per partition and run that changed it
  OUT/rejects/part-0.parquet                               every current reject (one file, replaced whole)
  OUT/templates/part-0.parquet                             every source's learned template (one file, replaced whole)
  OUT/_state/manifest.sqlite, runs.parquet, lock           manifest, run log, lock
  OUT/_state/articles_files/<version>.parquet              each version's data files (for DuckDB's views; the newest is current)
  OUT/_staging/<run_id>/                                   a run's map fragments (outside every table)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from schemas.hive import HIVE_NULL, encode_value

ARTICLES_DIR = "articles"
REJECTS_DIR = "rejects"
TEMPLATES_DIR = "templates"
STATE_DIR = "_state"
STAGING_DIR = "_staging"
REJECTS_FILE = "part-0.parquet"
LEGACY_PART_FILE = "part-0.parquet"  # the one file of a source/date partition before the Delta table

# A partition is (source, month): month is "YYYY-MM", None for undated articles.
PartitionKey = tuple[str, "str | None"]

_DATA_FILE = re.compile(r"^part-(?P<run_id>[^/]+?)-(?P<task>\d{6})-(?P<index>\d{4})\.parquet$")


def month_of(date: dt.date | str | None) -> str | None:
    """The partition month of a date (or its ISO text): 'YYYY-MM'; None for undated."""
    if date is None:
        return None
    return (date.isoformat() if isinstance(date, dt.date) else str(date))[:7]


def partition_order(key: tuple[str, str | dt.date | None]) -> tuple:
    """Sort key of a partition (source, month): by source, the undated partition (None) first, then by
    month. Map, reduce, the commit, recovery, reprocess's preview and verify all use this one order."""
    source, month = key
    return (source, month is not None, str(month) if month is not None else "")


def partition_dir(source: str, month: str | None) -> str:
    """Relative folder of a partition in the table, e.g. `source=新浪财经/month=2021-08`."""
    return f"source={encode_value(source)}/month={month if month is not None else HIVE_NULL}"


def partition_key(source: str, date_text: str | None) -> PartitionKey:
    """A partition's key from the manifest's spelling (source, ISO date text or NULL for undated)."""
    return source, month_of(date_text)


def describe_partition(source: str, month: str | None) -> str:
    """A partition for people (plans, messages): `source=新浪财经 month=2021-08`, `... month=(undated)`."""
    return f"source={source} month={month if month is not None else '(undated)'}"


def data_file_name(run_id: str, task: int, index: int) -> str:
    """A data file's name: unique per run, reduce task and partition (a retried task writes the same name)."""
    return f"part-{run_id}-{task:06d}-{index:04d}.parquet"


def run_of_data_file(name: str) -> str | None:
    """The run that wrote a data file, from its name; None for a name no run writes."""
    match = _DATA_FILE.match(name)
    return match.group("run_id") if match else None


@dataclass(frozen=True)
class Layout:
    """The dataset's folders and files under one output folder."""

    out: Path

    def __init__(self, out_dir: str | Path):
        object.__setattr__(self, "out", Path(out_dir))

    @property
    def articles(self) -> Path:
        return self.out / ARTICLES_DIR

    @property
    def delta_log(self) -> Path:
        return self.articles / "_delta_log"

    def data_file(self, relative: str) -> Path:
        return self.articles / relative

    def data_file_relative(self, source: str, month: str | None, run_id: str, task: int, index: int) -> str:
        return f"{partition_dir(source, month)}/{data_file_name(run_id, task, index)}"

    @property
    def rejects_file(self) -> Path:
        return self.out / REJECTS_DIR / REJECTS_FILE

    @property
    def templates_file(self) -> Path:
        return self.out / TEMPLATES_DIR / REJECTS_FILE

    @property
    def state(self) -> Path:
        return self.out / STATE_DIR

    @property
    def manifest(self) -> Path:
        return self.state / "manifest.sqlite"

    @property
    def runs_file(self) -> Path:
        return self.state / "runs.parquet"

    @property
    def lock(self) -> Path:
        return self.state / "lock"

    @property
    def articles_lists(self) -> Path:
        """The views' file lists, one file per table version, never rewritten once there.

        DuckDB opens a Parquet path more than once per read (footer, then data), so a list replaced in place,
        even by an atomic rename, can be read half old and half new ("Prefetch registered for bytes outside
        file", "TProtocolException: Invalid data"); a new version is a new name instead.
        """
        return self.state / "articles_files"

    def articles_list(self, version: int) -> Path:
        """The list of `version`'s data files, relative to `articles/` (zero-padded: the newest sorts last)."""
        return self.articles_lists / f"{version:020d}.parquet"

    def current_articles_list(self) -> Path | None:
        """The newest list (the one the views read), or None."""
        try:
            names = sorted(n for n in os.listdir(self.articles_lists) if n.endswith(".parquet") and not n.startswith("."))
        except OSError:
            return None
        return self.articles_lists / names[-1] if names else None

    @property
    def legacy_articles_files(self) -> Path:
        """The single list file earlier code replaced in place; removed by the next list written."""
        return self.state / "articles_files.parquet"

    @property
    def empty_articles_file(self) -> Path:
        """A zero-row data file the views read when the table has no file (read_parquet needs one)."""
        return self.state / "empty" / "source=_" / "month=_" / "empty.parquet"

    @property
    def damaged(self) -> Path:
        return self.state / "damaged"

    @property
    def staging_root(self) -> Path:
        return self.out / STAGING_DIR

    def staging(self, run_id: str) -> Path:
        return self.staging_root / run_id

    def legacy_partition_files(self) -> list[Path]:
        """Data files of the layout before the Delta table (source=<s>/date=<d>/part-0.parquet)."""
        return sorted(self.articles.glob(f"source=*/date=*/{LEGACY_PART_FILE}"))


def dataset_folders(out_dir: str | Path) -> tuple[Path, ...]:
    """Every folder a run writes under the out dir (never read as raw input)."""
    out = Path(out_dir)
    return tuple(out / name for name in (ARTICLES_DIR, REJECTS_DIR, TEMPLATES_DIR, STATE_DIR, STAGING_DIR))


# Module-level spellings kept for the callers that hold only an out dir.
def rejects_file(out_dir: str | Path) -> Path:
    return Layout(out_dir).rejects_file


def manifest_file(out_dir: str | Path) -> Path:
    return Layout(out_dir).manifest


def runs_file(out_dir: str | Path) -> Path:
    return Layout(out_dir).runs_file


def lock_file(out_dir: str | Path) -> Path:
    return Layout(out_dir).lock


def staging_root(out_dir: str | Path) -> Path:
    return Layout(out_dir).staging_root


def staging_dir(out_dir: str | Path, run_id: str) -> Path:
    return Layout(out_dir).staging(run_id)
