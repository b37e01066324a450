"""`articles inspect`: the parsed record of one raw file, as JSON-ready data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jobs.errors import Rejected, UsageError
from jobs.parse.record import parse_article


def inspect_raw_file(path: str | Path, raw_dir: str | Path | None = None) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} is not a file")
    relative = path.resolve().relative_to(Path(raw_dir).resolve()).as_posix() if raw_dir else path.as_posix()
    try:
        record = parse_article(path.read_bytes(), relative)
    except Rejected as rejected:
        return {"raw_path": relative, "rejected": True, "reason": rejected.reason, "message": rejected.message}
    return {key: value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value for key, value in record.as_dict().items()}
