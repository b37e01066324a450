"""One-off comparison: `articles query`'s sandbox (Arrow datasets) against views.sql (read_parquet).

Each timing includes opening the views. Usage (from the repository root):
  PYTHONPATH=.:tests .venv/bin/python bench/query_paths.py [--files 20000] [--root /tmp/article-lake-query-bench]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from helpers_pipeline import generate_corpus, run_ingest
from jobs.analyst.query import connect
from schemas.views import render_views_file

QUERIES = (
    "SELECT count(*) FROM articles",
    "SELECT source, count(*), sum(char_count) FROM articles GROUP BY 1",
    "SELECT count(*) FROM articles WHERE text LIKE '%数据%'",
    "SELECT title FROM articles WHERE source = '36kr' AND date = DATE '2022-08-02'",
)


def views_file_connection(out: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(render_views_file(str(out)))
    return connection


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--root", type=Path, default=Path("/tmp/article-lake-query-bench"))
    args = parser.parse_args()
    raw, out = args.root / f"raw-{args.files}", args.root / f"out-{args.files}"
    if not out.exists():
        generate_corpus(raw, args.files, days=365)
        run_ingest(raw, out, workers=1)
    print(f"{len(list(out.glob('articles/*/*/*.parquet')))} partition files")
    for round_ in (1, 2):
        for name, open_views in (("sandbox (arrow)", connect), ("views.sql (read_parquet)", views_file_connection)):
            for sql in QUERIES:
                start = time.perf_counter()
                open_views(out).execute(sql).fetchall()
                print(f"round {round_}  {name:26} {time.perf_counter() - start:6.2f}s  {sql}")


if __name__ == "__main__":
    main()
