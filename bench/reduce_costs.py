"""Where a run's CPU goes, step by step, for the map and reduce tasks (one process, CPU time).

    python bench/reduce_costs.py RAW_DIR [--files 5000] [--chunk 200] [--group 64] [--dir DIR]

Runs the real task functions of jobs/run/map.py and reduce.py in this process, on the first
--files raw files: parse_chunk, then map_chunk (parse + staging fragments; the
difference is the staging), then the reduce side split into its steps, per
group of --group partitions in (source, month) order as the driver makes them:
reading the fragments, reading the partition's current data files, merge_partition,
write_data_file. CPU time (time.process_time), not wall time: steadier on a shared
machine. Prints CPU ms per file and per partition for each step, and the same
merge done through Polars (the former merge_partition) for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.lake.paths import Layout  # noqa: E402
from jobs.lake.store import encode_options  # noqa: E402
from jobs.lake.table import file_stats, read_data_files, write_data_file  # noqa: E402
from jobs.run.map import Job, WorkItem, map_chunk, parse_chunk  # noqa: E402
from jobs.run.merge import merge_partition  # noqa: E402
from jobs.run.reduce import PartitionTask, _read_fragments  # noqa: E402
from schemas.article import ARTICLE_FILE_SCHEMA, conform  # noqa: E402


def list_items(raw_dir: Path, files: int) -> list[WorkItem]:
    items = []
    for folder, dirs, names in os.walk(raw_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(".md") and len(items) < files:
                path = os.path.join(folder, name)
                stat = os.stat(path)
                items.append(WorkItem(os.path.relpath(path, raw_dir), stat.st_size, stat.st_mtime_ns, None))
    return items


def polars_merge(new):
    """The former merge_partition for a partition with no file yet (Polars round trip)."""
    import polars as pl
    frame = pl.from_arrow(conform(new, ARTICLE_FILE_SCHEMA))
    if frame["article_id"].n_unique() != frame.height:
        frame = frame.sort(["article_id", "raw_path"]).unique(subset="article_id", keep="first", maintain_order=True)
    return conform(frame.sort(["published_at", "article_id"], nulls_last=True).to_arrow(), ARTICLE_FILE_SCHEMA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--group", type=int, default=64)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/article-lake-bench/reduce-costs"))
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)  # the run's staging folder: tasks make only their own folders in it
    items = list_items(args.raw_dir.resolve(), args.files)
    chunks = [items[i:i + args.chunk] for i in range(0, len(items), args.chunk)]
    job = Job(str(args.raw_dir.resolve()), "bench", dt.datetime.now(dt.timezone.utc), 8 << 20,
              str(args.dir / "fragments"))
    cpu: dict[str, float] = {}

    def timed(name, function, *a):
        clock = time.process_time()
        result = function(*a)
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - clock
        return result

    for chunk in chunks:
        timed("parse_chunk", parse_chunk, job, chunk)
    results = [timed("map_chunk (parse + stage fragments)", map_chunk, job, (n, c)) for n, c in enumerate(chunks)]

    where: dict[tuple, list] = {}
    for result in results:
        for source, date, batch, _rows in result.partitions:
            where.setdefault((source, date), []).append((result.fragment, batch))
    keys = sorted(where, key=lambda k: (k[0], k[1] is not None, str(k[1] or "")))
    tasks = []
    for source, date in keys:
        by_file: dict[str, list[int]] = {}
        for fragment, batch in where[(source, date)]:
            by_file.setdefault(fragment, []).append(batch)
        tasks.append(PartitionTask(source, date, tuple((f, tuple(b)) for f, b in sorted(by_file.items())), (), None))
    groups = [tasks[i:i + args.group] for i in range(0, len(tasks), args.group)]
    opens = sum(len({f for t in g for f, _ in t.fragments}) for g in groups)
    layout = Layout(args.dir / "out")
    for number, group in enumerate(groups):
        news = timed("read fragments (one open per file and group)", _read_fragments, group)
        for index, (task, new) in enumerate(zip(group, news)):
            # A first run: the partition has no current data file (read_data_files of none).
            existing = timed("read current data files", read_data_files, layout, (task.source, task.month), task.current)
            merged, _ = timed("merge_partition (Arrow)", merge_partition, existing, new, ())
            timed("(for comparison: the same merge through Polars)", polars_merge, new)
            path = layout.data_file(layout.data_file_relative(task.source, task.month, "bench", number, index))
            timed("write_data_file (Parquet, fsynced) + file_stats", lambda: (
                write_data_file(merged, str(path), *encode_options(merged.num_rows)), file_stats(merged)))
    shutil.rmtree(args.dir, ignore_errors=True)

    rows = sum(r for result in results for *_, r in result.partitions)
    print(f"{len(items)} files, {len(chunks)} map tasks, {len(tasks)} partitions ({rows / len(tasks):.1f} rows each), "
          f"{len(groups)} reduce groups, {opens} fragment file opens\n")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"Arrow pool now {pa.total_allocated_bytes() / 2**20:.0f} MiB allocated, peak {pa.default_memory_pool().max_memory() / 2**20:.0f} MiB\n")
    print("| step | CPU s | CPU ms per file | CPU ms per partition |\n|---|---:|---:|---:|")
    staging = cpu["map_chunk (parse + stage fragments)"] - cpu["parse_chunk"]
    rows_out = [("parse_chunk", cpu["parse_chunk"]), ("staging fragments (map_chunk - parse_chunk)", staging)]
    rows_out += [(k, v) for k, v in cpu.items() if k not in ("parse_chunk", "map_chunk (parse + stage fragments)")]
    for name, seconds in rows_out:
        print(f"| {name} | {seconds:.2f} | {1000 * seconds / len(items):.3f} | {1000 * seconds / len(tasks):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
