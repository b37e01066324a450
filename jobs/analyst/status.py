"""`articles status`: recent runs, rows per source, rejects by reason, size on disk. Read-only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jobs.analyst.query import connect


def dataset_status(out_dir: str | Path, last_runs: int = 5) -> dict[str, Any]:
    out = Path(out_dir)
    connection = connect(out)
    runs = _rows(connection, f"SELECT run_id, command, status, exit_code, started_at::VARCHAR AS started_at, duration_s,"
                             f" files_seen, files_parsed, articles_written, duplicates, rejects, partitions_written"
                             f" FROM runs ORDER BY started_at DESC LIMIT {int(last_runs)}")
    sources = _rows(connection, "SELECT source, count(*) AS rows, min(date)::VARCHAR AS first_date, max(date)::VARCHAR AS last_date,"
                                " count(*) FILTER (WHERE date IS NULL) AS undated FROM articles GROUP BY source ORDER BY source")
    rejects = _rows(connection, "SELECT reason, count(*) AS files FROM rejects GROUP BY reason ORDER BY files DESC, reason")
    totals = connection.execute("SELECT count(*), count(DISTINCT source), min(date)::VARCHAR, max(date)::VARCHAR FROM articles").fetchall()[0]
    return {
        "out_dir": str(out),
        "articles": totals[0],
        "sources": totals[1],
        "first_date": totals[2],
        "last_date": totals[3],
        "rejects": sum(r["files"] for r in rejects),
        "size_bytes": _size_on_disk(out),
        "rows_per_source": sources,
        "rejects_by_reason": rejects,
        "last_runs": runs,
    }


def _rows(connection, sql: str) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _size_on_disk(out: Path) -> int:
    total = 0
    for folder in ("articles", "rejects"):
        for root, _, files in os.walk(out / folder):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total
