"""The manifest's size and commit time of code trees, side by side in one run on the same raw files.

    python bench/manifest_size.py --raw-dir RAW TREE [TREE ...] [--workdir DIR] [--workers K] [--rounds R]

Each TREE holds jobs/ and schemas/ (a snapshot: git archive REV jobs schemas | tar -x -C TREE). Per round, each
tree in turn runs `articles ingest --workers K --log-json` (a fresh subprocess, PYTHONPATH=TREE, a fresh out dir
WORKDIR/out-<tree>). Per ingest: the wall time (run_started to run_finished), the manifest commit (the span
from `rejects_written` to `committed`, which is the manifest transaction and the export of the templates),
`du -sb` of the out dir and of _state, and the manifest's page count, free pages and bytes per table and index
(SQLite's dbstat). Then, in a fresh process of the same tree on that manifest, learning every source's
template as committed (`State.templates_after(None, every source, threshold)`: the old tree's SQL over per-row
edges, the new tree's count of edge_hashes): seconds and the growth of the process's peak RSS. The load
average before and after each ingest is kept: compare only quiet rounds. Prints a Markdown table (median over
the rounds); WORKDIR/manifest-size.json keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path


def ingest(tree: Path, raw: Path, out: Path, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(tree)}
    load_before = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-m", "jobs.cli", "ingest", "--raw-dir", str(raw), "--out-dir", str(out),
                           "--workers", str(workers), "--log-json"], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: exit {done.returncode}\n{done.stderr[-2000:]}")
    events = {}
    for line in done.stderr.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            events.setdefault(event["event"], dt.datetime.fromisoformat(event["ts"]))
    manifest = out / "_state" / "manifest.sqlite"
    db = sqlite3.connect(manifest)
    try:
        pages, free = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA freelist_count").fetchone()[0]
        objects = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    finally:
        db.close()
    return {
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "wall_s": (events["run_finished"] - events["run_started"]).total_seconds(),
        "commit_s": (events["committed"] - events["rejects_written"]).total_seconds(),
        "out_bytes": du(out), "state_bytes": du(out / "_state"), "manifest_bytes": manifest.stat().st_size,
        "pages": pages, "free_pages": free, "objects": objects,
    }


_LEARN = r"""
import json, resource, sys, time
from jobs.lake.manifest import State
from jobs.run.templates import threshold
state = State(sys.argv[1])
sources = state.article_sources()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clock = time.perf_counter()
learned = state.templates_after(None, sources, threshold)
seconds = time.perf_counter() - clock
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"learn_s": seconds, "learn_rss_kib": grown, "template_keys": sum(map(len, learned.values()))}))
"""


def learn(tree: Path, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", _LEARN, str(out)], cwd=tree, env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", type=Path, nargs="+")
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/article-lake-bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict]] = {str(tree): [] for tree in args.trees}
    for round_ in range(args.rounds):
        for tree in args.trees:
            out = args.workdir / f"out-{tree.name}"
            figures = ingest(tree.resolve(), args.raw_dir.resolve(), out, args.workers)
            figures |= learn(tree.resolve(), out)
            results[str(tree)].append(figures)
            print(f"round {round_ + 1} {tree.name}: commit {figures['commit_s']:.2f} s, wall {figures['wall_s']:.1f} s,"
                  f" manifest {figures['manifest_bytes']:,} B, learn {figures['learn_s']:.2f} s, load {figures['load_before']:.1f}/{figures['load_after']:.1f}",
                  file=sys.stderr)
    (args.workdir / "manifest-size.json").write_text(json.dumps(results, indent=1))
    print("| tree | ingest wall, s | manifest commit, s | out dir, bytes | _state, bytes | manifest: pages / free |"
          " biggest tables and indexes, bytes | learn every template, s / peak RSS growth, KiB | load before/after |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---|")
    for tree, runs in results.items():
        last = runs[-1]
        biggest = ", ".join(f"{name} {size:,}" for name, size in sorted(last["objects"].items(), key=lambda kv: -kv[1])[:3])
        loads = " ".join(f"{r['load_before']:.1f}/{r['load_after']:.1f}" for r in runs)
        print(f"| {Path(tree).name} | {statistics.median(r['wall_s'] for r in runs):.1f}"
              f" | {statistics.median(r['commit_s'] for r in runs):.2f} | {last['out_bytes']:,} | {last['state_bytes']:,}"
              f" | {last['pages']:,} / {last['free_pages']:,} | {biggest}"
              f" | {statistics.median(r['learn_s'] for r in runs):.2f} / {last['learn_rss_kib']:,} | {loads} |")


if __name__ == "__main__":
    main()
