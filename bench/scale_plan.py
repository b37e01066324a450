"""Listing and planning N raw files against a manifest of N rows: the driver's part of a night at scale.

    python bench/scale_plan.py [--files 1000000] [--changed 0.01] [--dir DIR] [--keep]

Creates N empty raw files (no data blocks: inodes only) in DIR/raw, in folders of
1,000 (`s<source>/<month>/<n>.md`), then times, in this process:
  * listing: jobs.run.discover.discover over the raw dir (walk + stat);
  * writing the manifest as the job does: N article outcomes streamed into `pending` 200 at a time, then one commit;
  * planning: plan_ingest (the listing into the manifest's TEMP table, compared there) with nothing
    changed, and after --changed of the files were touched (new mtime), i.e. a night's listing + comparison;
and prints the RSS each step adds at its peak (sampled), manifest bytes, and the per-file figures. A re-run reuses
DIR/raw when it already holds N files (creating 1M files takes minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.lake.manifest import State  # noqa: E402
from jobs.lake.paths import manifest_file  # noqa: E402
from jobs.run.discover import discover  # noqa: E402
from jobs.run.options import RunOptions  # noqa: E402
from jobs.run.plan import plan_ingest  # noqa: E402
from schemas.state import OUTCOME_SCHEMA, FileStatus  # noqa: E402

PER_FOLDER = 1000


def make_raw(raw: Path, files: int) -> float:
    marker = raw / ".files"
    if marker.exists() and marker.read_text() == str(files):
        return 0.0
    shutil.rmtree(raw, ignore_errors=True)
    clock = time.perf_counter()
    for folder in range((files + PER_FOLDER - 1) // PER_FOLDER):
        path = raw / f"s{folder % 100:02d}" / f"m{folder // 100:04d}"
        path.mkdir(parents=True)
        for index in range(min(PER_FOLDER, files - folder * PER_FOLDER)):
            os.close(os.open(path / f"{index:04d}.md", os.O_CREAT | os.O_WRONLY, 0o644))
    marker.write_text(str(files))
    return time.perf_counter() - clock


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssPeak(threading.Thread):
    """Highest RSS of this process while a step runs (sampled every 20 ms)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = rss_mib(), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_mib())


def timed(label: str, results: dict, function, *args):
    before = rss_mib()
    sampler = RssPeak()
    sampler.start()
    clock = time.perf_counter()
    value = function(*args)
    seconds = time.perf_counter() - clock
    sampler.done.set()
    sampler.join()
    results[label] = (seconds, max(sampler.peak, rss_mib()) - before)
    print(f"{label}: {results[label][0]:.2f} s, peak RSS +{results[label][1]:.0f} MiB", file=sys.stderr, flush=True)
    return value


def outcomes(listed) -> pa.Table:
    today = dt.date(2024, 1, 1)
    count = len(listed)
    columns = {
        "raw_path": [f.raw_path for f in listed], "size": [f.size for f in listed],
        "mtime_ns": [f.mtime_ns for f in listed], "sha256": ["0" * 64] * count,
        "status": [FileStatus.ARTICLE.value] * count, "article_id": [f"{i:032x}" for i in range(count)],
        "source": [f.raw_path.split("/", 1)[0] for f in listed], "date": [today] * count,
        "reject_reason": [None] * count, "reject_message": [None] * count, "edge_hashes": [""] * count,
    }
    return pa.Table.from_pydict({name: columns[name] for name in OUTCOME_SCHEMA.names}, schema=OUTCOME_SCHEMA)


def write_manifest(state: State, outcomes: pa.Table, when: dt.datetime) -> None:
    """The job's own path: outcomes streamed into `pending` a map task (200 files) at a time, then one commit."""
    for batch in outcomes.to_batches(max_chunksize=200):
        state.add_pending("bench", pa.Table.from_batches([batch]))
    state.commit_pending("bench", "6", when)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/article-lake-bench/scale-plan"))
    parser.add_argument("--keep", action="store_true", help="Keep the raw files (the manifest is always removed).")
    args = parser.parse_args()
    raw, out = args.dir / "raw", args.dir / "out"
    shutil.rmtree(out, ignore_errors=True)
    results: dict[str, tuple[float, float]] = {}
    created = make_raw(raw, args.files)
    if created:
        print(f"created {args.files} empty files in {created:.1f} s", file=sys.stderr)
    listed = timed("list (discover: walk + stat)", results, lambda: list(discover(str(raw))))
    table = outcomes(listed)
    del listed
    state = State(out)
    when = dt.datetime.now(dt.timezone.utc)
    timed("write the manifest (pending, as map tasks stream it, then the commit)", results, write_manifest, state, table, when)
    del table
    options = RunOptions(raw_dir=raw, out_dir=out)
    plan = timed("plan, nothing changed (list + compare)", results, plan_ingest, options, state)
    assert plan.files_seen == args.files and not plan.to_parse, (plan.files_seen, plan.to_parse)
    step = max(1, round(1 / args.changed)) if args.changed else 0
    touched = 0
    if step:
        stamp = time.time() + 60
        for folder in sorted(raw.iterdir()):
            if folder.is_dir():
                for month in sorted(folder.iterdir()):
                    for path in sorted(month.iterdir())[::step]:
                        os.utime(path, (stamp, stamp))
                        touched += 1
    plan = timed(f"plan, {touched} files touched (list + compare)", results, plan_ingest, options, state)
    assert plan.to_parse == touched, (plan.to_parse, touched)
    state.close()
    manifest_bytes = sum(p.stat().st_size for p in manifest_file(out).parent.glob("manifest.sqlite*"))
    print(f"\n## Planning {args.files:,} raw files against a manifest of {args.files:,} rows\n")
    print("| step | seconds | µs per file | peak RSS growth (MiB) |\n|---|---:|---:|---:|")
    for label, (seconds, mib) in results.items():
        print(f"| {label} | {seconds:.2f} | {1e6 * seconds / args.files:.1f} | {mib:.0f} |")
    print(f"\nmanifest on disk: {manifest_bytes / 1e6:.0f} MB ({manifest_bytes / args.files:.0f} bytes per file); "
          f"process peak RSS {peak_mib():.0f} MiB")
    shutil.rmtree(out, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(raw, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
