"""What `union_by_name = true` costs the DuckDB views over the Delta table's file list, side by side.

The views read the current version's files with `read_parquet([...])`; without `union_by_name` DuckDB
takes the schema from the first file and fails on a file that lacks a column (a file written before the
column existed), with it DuckDB reads every file's footer while binding. Each timing is a fresh
connection that runs the views file and then the query (what `duckdb -init views.sql -c ...` does),
median of 3. Usage (from the repository root):

  PYTHONPATH=.:tests .venv/bin/python bench/views_union_by_name.py [--files 20000] [--days 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb

from helpers_pipeline import generate_corpus, run_ingest
from jobs.lake.table import ArticlesTable
from schemas.views import render_views_file

QUERIES = (
    "SELECT count(*) FROM articles",
    "SELECT source, count(*), sum(char_count) FROM articles GROUP BY 1",
    "SELECT count(*) FROM articles WHERE text LIKE '%数据%'",
    "SELECT count(*) FROM articles WHERE date = DATE '2022-08-02'",
    "SELECT count(*) FROM articles_between('2022-08-02', '2022-08-02')",
)


def timed(views_sql: str, query: str) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        connection = duckdb.connect()
        connection.execute(views_sql)
        connection.execute(query).fetchall()
        times.append(time.perf_counter() - started)
        connection.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=Path("/tmp/article-lake-union-bench"))
    args = parser.parse_args()
    raw, out = args.root / f"raw-{args.files}-{args.days}", args.root / f"out-{args.files}-{args.days}"
    if not out.exists():
        generate_corpus(raw, args.files, days=args.days)
        run_ingest(raw, out)
    files = len(ArticlesTable(out).live_files())
    plain = render_views_file(str(out))
    unioned = plain.replace("hive_partitioning = true, hive_types", "hive_partitioning = true, union_by_name = true, hive_types")
    assert unioned != plain
    print(f"{files} data files, {args.files} articles; seconds, fresh connection + views file + query, median of 3")
    print("| query | views | views + union_by_name | ratio |")
    print("|---|---|---|---|")
    for query in QUERIES:
        a, b = timed(plain, query), timed(unioned, query)
        print(f"| `{query}` | {a:.3f} | {b:.3f} | {b / a:.2f}x |")


if __name__ == "__main__":
    main()
