"""What one partition file costs to write, per Parquet codec and option.

    python bench/small_parquet.py RAW_DIR [--files 3000] [--rounds 5] [--by date|week|month|source] [--dir DIR]

Parses the first --files raw files of RAW_DIR (jobs.run.map.parse_chunk), cuts
the rows into partitions the way an ingest does (--by date: source and date,
a few rows each on a generated corpus; --by week, month: bigger ones; --by
source: one big partition per source), merges each (merge_partition), then writes every partition as its own
file the way the reduce does (encoded in memory, one write), with
each option in turn, interleaved over --rounds rounds. The machine is shared:
the best round of each option is reported, in CPU time (process time).
Prints per option: CPU ms per file, bytes per file and per row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.lake.store import LONG_COLUMNS, ROW_GROUP_ROWS, _column_options  # noqa: E402
from jobs.run.merge import merge_partition  # noqa: E402
from jobs.run.map import Job, parse_chunk  # noqa: E402
from reduce_costs import list_items  # noqa: E402  (bench/ is on sys.path: a sibling script)
from schemas.article import ARTICLE_FILE_SCHEMA  # noqa: E402


def partitions(raw_dir: Path, files: int, by: str) -> list[pa.Table]:
    items = list_items(raw_dir, files)
    job = Job(str(raw_dir), "bench", dt.datetime.now(dt.timezone.utc), 8 << 20)
    table = parse_chunk(job, items).articles
    sources, dates = table.column("source").to_pylist(), table.column("date").to_pylist()
    rows: dict = {}
    keys = {"date": zip(sources, dates), "week": ((s, d and d.isocalendar()[:2]) for s, d in zip(sources, dates)),
            "month": ((s, d and (d.year, d.month)) for s, d in zip(sources, dates)), "source": sources}[by]
    for index, key in enumerate(keys):
        rows.setdefault(key, []).append(index)
    body = table.drop_columns(["source", "date"])
    return [merge_partition(None, body.take(indices), ())[0] for indices in rows.values()]


def write(table: pa.Table, path: str, **options) -> None:
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, row_group_size=ROW_GROUP_ROWS, **options)
    with open(path + ".tmp", "wb") as handle:
        handle.write(buffer.getvalue())
    os.replace(path + ".tmp", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--by", choices=["date", "week", "month", "source"], default="date")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/article-lake-bench/small-parquet"))
    args = parser.parse_args()
    tables = partitions(args.raw_dir, args.files, args.by)
    rows = sum(t.num_rows for t in tables)
    print(f"{len(tables)} partitions, {rows} rows ({rows / len(tables):.1f} rows per partition)")
    every_scalar = [f.name for f in ARTICLE_FILE_SCHEMA if not pa.types.is_list(f.type)]
    short_statistics, dictionary, _ = _column_options("articles", False)
    long_only = {name: ("zstd" if name in LONG_COLUMNS else "none") for name in ARTICLE_FILE_SCHEMA.names}
    options = {
        "zstd; statistics on every scalar column (before)": dict(compression="zstd", write_statistics=every_scalar),
        "zstd; statistics on short columns": dict(compression="zstd", write_statistics=short_statistics),
        "snappy; statistics on short columns": dict(compression="snappy", write_statistics=short_statistics),
        "zstd on long columns, none on short; statistics on short": dict(compression=long_only,
                                                                         write_statistics=short_statistics),
        "none; statistics on short columns": dict(compression="none", write_statistics=short_statistics),
    }
    best: dict[str, float] = {}
    size: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, extra in options.items():
            shutil.rmtree(args.dir, ignore_errors=True)
            args.dir.mkdir(parents=True)
            clock = time.process_time()  # CPU time: steadier than wall time on a shared machine
            for index, table in enumerate(tables):
                write(table, str(args.dir / f"{index}.parquet"), use_dictionary=dictionary, **extra)
            seconds = time.process_time() - clock
            best[name] = min(best.get(name, seconds), seconds)
            size[name] = sum(f.stat().st_size for f in args.dir.iterdir())
    shutil.rmtree(args.dir, ignore_errors=True)
    print(f"\n| option | CPU ms per file (best of {args.rounds}) | bytes per file | bytes per row |\n|---|---:|---:|---:|")
    for name in options:
        print(f"| {name} | {1000 * best[name] / len(tables):.3f} | {size[name] // len(tables)} | {size[name] // rows} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
