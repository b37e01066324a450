"""A map task's parse, side by side for two code trees: jobs.run.map.parse_chunk per file.

    python bench/parse_chunk.py RAW_DIR --code NEW --against OLD [--rounds R] [--chunk N]

parse_chunk is what a worker does per chunk of files: read, hash, parse_article, and build the
article, reject and outcome Arrow tables. Each round runs one fresh process per tree (order
alternating); each times every file of RAW_DIR in chunks of --chunk files, three passes, CPU
time, and keeps its best pass. The table gives the median over rounds and the ratio NEW / OLD.
Both trees must have the same parse_chunk(Job, [WorkItem]) signature (true since the map/reduce
rewrite).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def child(raw_dir: Path, chunk: int) -> dict:
    import datetime as dt

    try:  # the map task's module: jobs.run.map now, jobs.run.work in trees before the Delta table
        from jobs.run.map import Job, WorkItem, parse_chunk
    except ImportError:
        from jobs.run.work import Job, WorkItem, parse_chunk

    sys.path.insert(0, str(BENCH))
    from floor import list_files

    items = []
    for path in list_files(str(raw_dir)):
        info = os.stat(path)
        items.append(WorkItem(os.path.relpath(path, raw_dir), info.st_size, info.st_mtime_ns, None, known=False))
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    job = Job(str(raw_dir), "bench", dt.datetime.now(dt.timezone.utc), 8 * 1024 * 1024)
    for piece in chunks[:2]:  # warm up imports and regex caches
        parse_chunk(job, piece)
    best, rows = float("inf"), 0
    for _ in range(3):
        start = time.process_time()
        rows = sum(parse_chunk(job, piece).articles.num_rows for piece in chunks)
        best = min(best, time.process_time() - start)
    return {"files": len(items), "articles": rows, "cpu_s": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--code", type=Path, default=BENCH.parent)
    parser.add_argument("--against", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(args.code.resolve()))
        print(json.dumps(child(args.raw_dir, args.chunk)))
        return 0

    new, old = args.code.resolve(), args.against.resolve()

    def run(tree: Path) -> dict:
        command = [sys.executable, str(Path(__file__).resolve()), str(args.raw_dir), "--code", str(tree),
                   "--against", str(old), "--chunk", str(args.chunk), "--child"]
        return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    runs: dict[Path, list[dict]] = {new: [], old: []}
    for round_ in range(args.rounds):
        for tree in ((old, new) if round_ % 2 == 0 else (new, old)):
            runs[tree].append(run(tree))
    files = runs[new][0]["files"]
    print(f"## parse_chunk side by side: {files} files of {args.raw_dir}, chunks of {args.chunk}; {args.rounds} rounds, "
          "one process per tree per round (order alternating), CPU time, best of 3 passes; medians over rounds\n")
    print("| code | articles | CPU s | us/file | files/s |")
    print("|---|---:|---:|---:|---:|")
    median = {tree: statistics.median(r["cpu_s"] for r in rs) for tree, rs in runs.items()}
    for label, tree in (("old", old), ("new", new)):
        print(f"| {label}: {tree} | {runs[tree][0]['articles']} | {median[tree]:.3f} | {median[tree] / files * 1e6:.0f} | "
              f"{files / median[tree]:.0f} |")
    per_round = [a["cpu_s"] / b["cpu_s"] for a, b in zip(runs[new], runs[old])]
    print(f"\n**new / old = {median[new] / median[old]:.3f}x** (per round: {', '.join(f'{r:.3f}' for r in per_round)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
