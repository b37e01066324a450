"""Is this out dir usable? Checked before anything is opened, so a wrong path is one clear line, not a traceback.

Writers (ingest, reprocess) need a folder they can write, or a path where one can be made.
Readers (status, verify, query, views) need a dataset: a folder holding at least one of the
dataset's own folders. A mistyped path must not read as an empty dataset.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.errors import UsageError
from jobs.lake.paths import ARTICLES_DIR, REJECTS_DIR, STATE_DIR

DATASET_MARKERS = (STATE_DIR, ARTICLES_DIR, REJECTS_DIR)


def check_writable_out_dir(out_dir: str | Path) -> None:
    """UsageError unless `out_dir` is a writable folder, or can be made in a writable one."""
    out = Path(out_dir)
    existing = out
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is" if existing == out else f"is inside {existing}, which is"
        raise UsageError(f"--out-dir {out} {what} a file, not a folder; give a folder (it is made if missing)")
    if _read_only_filesystem(existing):
        raise UsageError(f"--out-dir {out}: {existing} is on a read-only file system; give a writable folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out-dir {out}: no permission to write in {existing}")


def require_dataset(out_dir: str | Path) -> None:
    """UsageError unless `out_dir` holds a dataset (what `articles ingest --out-dir` makes)."""
    out = Path(out_dir)
    if not out.exists():
        raise UsageError(f"no dataset at {out}: the folder does not exist (run `articles ingest --out-dir {out}` first)")
    if not out.is_dir():
        raise UsageError(f"no dataset at {out}: it is a file, not a folder")
    if not any((out / name).is_dir() for name in DATASET_MARKERS):
        raise UsageError(f"no dataset at {out}: it holds none of {', '.join(DATASET_MARKERS)} "
                         f"(run `articles ingest --out-dir {out}` first)")


def _read_only_filesystem(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
