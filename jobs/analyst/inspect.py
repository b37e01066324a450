"""`articles inspect`: the parsed record of one raw file, as JSON-ready data."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from jobs.errors import Rejected, UsageError
from jobs.parse.record import parse_article
from schemas.raw_path import stored_raw_path

DEFAULT_RAW_DIR = Path("data/raw")


def inspect_raw_file(path: str | Path, raw_dir: str | Path | None = None) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} is not a file")
    relative = raw_path_of(path, Path(raw_dir) if raw_dir is not None else DEFAULT_RAW_DIR)
    try:
        record = parse_article(path.read_bytes(), relative)
    except Rejected as rejected:
        return {"raw_path": relative, "rejected": True, "reason": rejected.reason, "message": rejected.message}
    return {key: value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value for key, value in record.as_dict().items()}


def raw_path_of(path: Path, raw_dir: Path) -> str:
    """`raw_path` as a run over `raw_dir` stores it (relative to it, never to the current folder);
    a file outside `raw_dir`: its name, as a run over its own folder would store it."""
    for resolve in (os.path.abspath, os.path.realpath):  # as given first: a symlinked file keeps its own name
        try:
            relative = Path(resolve(path)).relative_to(resolve(raw_dir))
        except ValueError:
            continue
        return stored_raw_path(relative.as_posix())
    return stored_raw_path(path.name)
