"""Analyst access: an embedded DuckDB with the dataset's views. Read-only on the dataset."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb

from schemas.views import GLOBS, empty_view_sql, view_sql


def connect(out_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with `articles`, `rejects` and `runs` views over `out_dir`."""
    connection = duckdb.connect(":memory:")
    root = str(Path(out_dir))
    for table, pattern in GLOBS.items():
        has_files = bool(glob.glob(str(Path(root) / pattern), recursive=True))
        connection.execute(view_sql(table, root) if has_files else empty_view_sql(table))
    return connection
