"""Every path and folder name of the dataset, in one place. Pure.

  OUT/articles/source=<s>/date=<YYYY-MM-DD>/part-0.parquet   one file per partition
  OUT/rejects/part-0.parquet                                 every current reject
  OUT/_state/manifest.sqlite, runs.parquet, lock             manifest, run log, lock
  OUT/_staging/<run_id>/                                     temporary files (outside every glob)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas.hive import HIVE_NULL, encode_value

PART_FILE = "part-0.parquet"
ARTICLES_DIR = "articles"
REJECTS_DIR = "rejects"
STATE_DIR = "_state"
STAGING_DIR = "_staging"


def partition_dir(source: str, date: dt.date | None) -> str:
    """Relative folder of a partition, e.g. `source=新浪财经/date=2021-08-19`; undated: `date=__HIVE_DEFAULT_PARTITION__`."""
    return f"source={encode_value(source)}/date={date.isoformat() if date is not None else HIVE_NULL}"


def partition_order(key: tuple[str, dt.date | str | None]) -> tuple:
    """Sort key of a partition (source, date): by source, the undated partition (None) first, then
    by date; the date may be a date or its ISO text (they sort alike)."""
    source, date = key
    return (source, date is not None, str(date) if date is not None else "")


def partition_key(source: str, date_text: str | None) -> tuple[str, dt.date | None]:
    """A partition's key from the manifest's spelling (source, ISO date text or NULL for undated)."""
    return source, dt.date.fromisoformat(date_text) if date_text else None


def describe_partition(source: str, date: dt.date | None) -> str:
    """A partition for people (plans, messages): `source=新浪财经 date=2021-08-19`, `... date=(undated)`."""
    return f"source={source} date={date.isoformat() if date is not None else '(undated)'}"


def partition_file(out_dir: str | Path, source: str, date: dt.date | None) -> Path:
    """Where a partition's one file lives."""
    return Path(out_dir) / ARTICLES_DIR / partition_dir(source, date) / PART_FILE


def articles_root(out_dir: str | Path) -> Path:
    return Path(out_dir) / ARTICLES_DIR


def rejects_file(out_dir: str | Path) -> Path:
    return Path(out_dir) / REJECTS_DIR / PART_FILE


def state_dir(out_dir: str | Path) -> Path:
    return Path(out_dir) / STATE_DIR


def manifest_file(out_dir: str | Path) -> Path:
    return state_dir(out_dir) / "manifest.sqlite"


def runs_file(out_dir: str | Path) -> Path:
    return state_dir(out_dir) / "runs.parquet"


def lock_file(out_dir: str | Path) -> Path:
    return state_dir(out_dir) / "lock"


def dataset_folders(out_dir: str | Path) -> tuple[Path, ...]:
    """Every folder a run writes under the out dir."""
    out = Path(out_dir)
    return tuple(out / name for name in (ARTICLES_DIR, REJECTS_DIR, STATE_DIR, STAGING_DIR))


def staging_root(out_dir: str | Path) -> Path:
    return Path(out_dir) / STAGING_DIR


def staging_dir(out_dir: str | Path, run_id: str) -> Path:
    return staging_root(out_dir) / run_id
