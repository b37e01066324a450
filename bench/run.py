"""End-to-end benchmark of `articles ingest` / `reprocess` against the parse floor.

    python bench/run.py --files N [--workdir DIR] [--skip-gen] [--seed S] [--floor-runs K]

On one corpus of N generated files (bench/make_corpus.py), in one run, side by
side (the machine is noisy: compare the ratios, not absolute numbers):
  * the parse floor (bench/floor.py) in its own process, before and after the ingests;
  * `articles ingest --workers 1` and `--workers <all cores>`, each into a fresh out dir;
  * a no-op rerun of the all-cores ingest;
  * `articles reprocess --from D1 --to D2 --yes` for one month (the first to the last day), checking by the data files
    that only that day's part files changed.
Every command runs as a subprocess; its peak RSS comes from wait4() (largest
single process of its tree) and from sampling the summed PSS of the whole tree
(main + forkserver + workers) every 0.2 s. Results: a Markdown report on stdout
and DIR/results-N.json; earlier results-*.json in DIR are compared for RSS scaling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
PYTHON = sys.executable
ARTICLES = str(Path(PYTHON).parent / "articles")
MIB = 1024 * 1024


# -- measuring a subprocess ------------------------------------------------------
class TreeSampler(threading.Thread):
    """Peak summed PSS (and RSS) of a process and all its descendants, sampled."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.peak_driver_pss = 0  # the process started (the driver), alone
        self.peak_processes = 0
        self.cpu_ticks: dict[int, int] = {}  # last utime+stime seen per process of the tree
        self.stop = threading.Event()

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the whole tree (workers included), as last sampled."""
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _descendants(self.pid)
            pss = rss = 0
            for pid in pids:
                pss_kib, rss_kib = _memory_kib(pid)
                if pid == self.pid:
                    self.peak_driver_pss = max(self.peak_driver_pss, pss_kib * 1024)
                pss += pss_kib
                rss += rss_kib
                ticks = _cpu_ticks(pid)
                if ticks is not None:
                    self.cpu_ticks[pid] = ticks
            self.peak_pss = max(self.peak_pss, pss * 1024)
            self.peak_rss = max(self.peak_rss, rss * 1024)
            self.peak_processes = max(self.peak_processes, len(pids))
            self.stop.wait(self.interval)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _memory_kib(pid: int) -> tuple[int, int]:
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


ENV = dict(os.environ)


def use_code(code: Path | None) -> str:
    """Run the jobs package from `code` (a tree with jobs/ and schemas/), not the editable install.

    PYTHONPATH comes before the editable finder, and forkserver workers inherit it. The live tree
    may be mid-edit by others; a snapshot (git archive HEAD | tar -x -C DIR) gives stable numbers.
    """
    if code is None:
        code = PROJECT
    else:
        ENV["PYTHONPATH"] = str(code.resolve())
    try:
        head = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "jobs"], capture_output=True, text=True)
        if head.returncode == 0:
            return f"{code} @ {head.stdout.strip()}{' + uncommitted changes in jobs/' if dirty.stdout.strip() else ''}"
    except OSError:
        pass
    marker = code / "HEAD"  # written next to a snapshot: git rev-parse --short HEAD > DIR/HEAD
    return f"{code} (snapshot of {marker.read_text().strip()})" if marker.is_file() else f"{code} (not a git checkout)"


def measure(name: str, cmd: list[str], logs: Path, cwd: Path | None = None) -> dict:
    """Run cmd; wall time, user+sys CPU, peak RSS of its largest process (wait4), peak tree PSS (sampled)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        load_before = os.getloadavg()[0]  # other work on the machine (1-minute load average)
        clock = time.perf_counter()
        # cwd is the logs folder, never the project: Python 3.11's forkserver imports its preload
        # (jobs.run.work) with '' (the cwd) first on sys.path, so from the project folder the
        # workers would run the live jobs/ even when PYTHONPATH points at a snapshot.
        process = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd or logs, env=ENV)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - clock
        sampler.stop.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "name": name, "cmd": shlex.join(cmd), "exit": process.returncode, "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "tree_pss_mib": round(sampler.peak_pss / MIB, 1), "tree_rss_mib": round(sampler.peak_rss / MIB, 1),
        "driver_pss_mib": round(sampler.peak_driver_pss / MIB, 1),
        "processes": sampler.peak_processes, "tree_cpu_s": round(sampler.cpu_s, 2),
        "cores_busy": round(sampler.cpu_s / wall, 2), "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
        "stdout": out_path.read_text("utf-8", "replace").strip(), "stderr_path": str(err_path),
    }
    if process.returncode != 0:
        tail = err_path.read_text("utf-8", "replace")[-3000:]
        raise SystemExit(f"{name} failed (exit {process.returncode}): {result['cmd']}\n{tail}")
    return result


def phases(err_path: str) -> dict:
    """Seconds per phase from the --log-json events of one run."""
    stamps, first_partition = {}, None
    for line in open(err_path, encoding="utf-8"):
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        ts = dt.datetime.fromisoformat(event["ts"]).timestamp()
        if event["event"] == "partition_written" and first_partition is None:
            first_partition = ts
        stamps[event["event"]] = ts  # the last of each kind
    def span(a, b):
        return round(stamps[b] - stamps[a], 2) if a in stamps and b in stamps else None
    result = {"discover_plan_s": span("run_started", "planned"), "parse_s": span("planned", "parsed"),
              "merge_write_s": span("parsed", "committed"), "finish_s": span("committed", "run_finished")}
    if result["merge_write_s"] is None and "committed" in stamps:  # nothing parsed
        result["merge_write_s"] = span("planned", "committed")
    return result


# -- the dataset -------------------------------------------------------------
def part_files(out: Path) -> dict[str, int]:
    base = out / "articles"
    found = {}
    for folder, _, files in os.walk(base):
        for name in files:
            if name.endswith(".parquet"):
                path = os.path.join(folder, name)
                found[os.path.relpath(path, base)] = os.stat(path).st_mtime_ns
    return found


def dataset_size(out: Path) -> dict:
    import pyarrow.parquet as pq
    articles_bytes = rows = 0
    for relative in part_files(out):
        path = out / "articles" / relative
        articles_bytes += path.stat().st_size
        rows += pq.ParquetFile(path).metadata.num_rows
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"rows": rows, "articles_bytes": articles_bytes, "total_bytes": total,
            "bytes_per_article": round(articles_bytes / rows, 1) if rows else None,
            "total_bytes_per_article": round(total / rows, 1) if rows else None}


def pick_month(parts: dict[str, int]) -> str:
    """The month with the most data files (ties: the earliest): the table's partitions are (source, month)."""
    counts: dict[str, int] = {}
    for relative in parts:
        match = re.search(r"month=(\d{4}-\d{2})", relative)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return min(counts, key=lambda m: (-counts[m], m))


def month_days(month: str) -> tuple[str, str]:
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first.isoformat(), last.isoformat()


def warm_cache(raw: Path) -> tuple[int, int]:
    files = size = 0
    for folder, dirs, names in os.walk(raw):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue  # .corpus.json: not an article, discover() skips it too
            with open(os.path.join(folder, name), "rb") as handle:
                size += len(handle.read())
            files += 1
    return files, size


# -- the run -----------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/article-lake-bench"))
    parser.add_argument("--skip-gen", action="store_true", help="Use the corpus already in WORKDIR.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--floor-runs", type=int, default=2, help="Floor runs (split before/after the ingests).")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="'All cores' worker count.")
    parser.add_argument("--keep", action="store_true", help="Keep the out dirs.")
    parser.add_argument("--engine", choices=["local", "dask", "both"], default="both",
                        help="dask/both: also ingest with --engine dask (a LocalCluster of --workers processes).")
    parser.add_argument("--code", type=Path, help="Run jobs/ from this tree (PYTHONPATH) instead of the live project.")
    args = parser.parse_args(argv)

    work = args.workdir.resolve()
    raw = work / f"raw-{args.files}-s{args.seed}"
    logs = work / f"logs-{args.files}"
    shutil.rmtree(logs, ignore_errors=True)
    results: dict = {"files": args.files, "seed": args.seed, "workers": args.workers, "cores": os.cpu_count(),
                     "when": dt.datetime.now().isoformat(timespec="seconds"), "runs": {}, "code": use_code(args.code)}
    runs = results["runs"]

    gen_cmd = [PYTHON, str(BENCH / "make_corpus.py"), str(raw), str(args.files), "--seed", str(args.seed)]
    if not args.skip_gen:
        runs["generate"] = measure("generate", gen_cmd, logs)
        _say(f"generate: {runs['generate']['wall_s']}s")
    elif not raw.is_dir():
        raise SystemExit(f"--skip-gen: {raw} does not exist")
    files, size = warm_cache(raw)
    results["corpus"] = {"dir": str(raw), "files": files, "bytes": size}
    _say(f"corpus: {files} files, {size / 1e6:.1f} MB (page cache warmed)")

    floor_cmd = [PYTHON, str(BENCH / "floor.py"), str(raw)]
    floors = []
    before = (args.floor_runs + 1) // 2

    def run_floor(index: int) -> None:
        result = measure(f"floor-{index}", floor_cmd, logs)
        result.update(json.loads(result["stdout"]))
        floors.append(result)
        _say(f"floor {index}: {result['files_per_s']} files/s, max RSS {result['max_rss_mib']} MiB")

    for index in range(before):
        run_floor(index)

    out1, outn = work / "out-w1", work / f"out-w{args.workers}"
    results["out_dirs"] = [str(out1), str(outn)]
    results["cwd"] = str(logs)
    common = ["--raw-dir", str(raw), "--log-json"]
    ingest1 = [ARTICLES, "ingest", *common, "--out-dir", str(out1), "--workers", "1"]
    ingestn = [ARTICLES, "ingest", *common, "--out-dir", str(outn), "--workers", str(args.workers)]
    for name, cmd, out in (("ingest-w1", ingest1, out1), (f"ingest-w{args.workers}", ingestn, outn)):
        shutil.rmtree(out, ignore_errors=True)
        runs[name] = result = measure(name, cmd, logs)
        result["phases"] = phases(result["stderr_path"])
        result["files_per_s"] = round(files / result["wall_s"], 1)
        _say(f"{name}: {result['wall_s']}s, {result['files_per_s']} files/s, phases {result['phases']}, "
             f"max RSS {result['max_rss_mib']} MiB, tree PSS {result['tree_pss_mib']} MiB")

    if args.engine in ("dask", "both"):
        outd = work / "out-dask"
        shutil.rmtree(outd, ignore_errors=True)
        name = f"ingest-dask-w{args.workers}"
        runs[name] = result = measure(name, [ARTICLES, "ingest", *common, "--out-dir", str(outd), "--workers",
                                             str(args.workers), "--engine", "dask"], logs)
        result["phases"] = phases(result["stderr_path"])
        result["files_per_s"] = round(files / result["wall_s"], 1)
        result["vs_local"] = round(result["wall_s"] / runs[f"ingest-w{args.workers}"]["wall_s"], 3)
        _say(f"{name}: {result['wall_s']}s ({result['vs_local']}x the local time), tree PSS {result['tree_pss_mib']} MiB")
        shutil.rmtree(outd, ignore_errors=True)

    for index in range(before, args.floor_runs):
        run_floor(index)

    runs["noop"] = noop = measure("noop", ingestn, logs)
    noop["phases"] = phases(noop["stderr_path"])
    full = runs[f"ingest-w{args.workers}"]
    noop["pct_of_full"] = round(100 * noop["wall_s"] / full["wall_s"], 2)
    _say(f"no-op rerun: {noop['wall_s']}s = {noop['pct_of_full']}% of the full run")

    results["dataset"] = dataset_size(outn)
    before_parts = part_files(outn)
    day = pick_month(before_parts)  # a date range is rebuilt by whole months: reprocess one month
    reprocess = [ARTICLES, "reprocess", "--raw-dir", str(raw), "--out-dir", str(outn), "--from", month_days(day)[0],
                 "--to", month_days(day)[1],
                 "--yes", "--log-json", "--workers", str(args.workers)]
    time.sleep(0.05)  # mtimes: make any rewrite visible even on coarse clocks
    runs["reprocess-day"] = rep = measure("reprocess-day", reprocess, logs)
    rep["phases"] = phases(rep["stderr_path"])
    after_parts = part_files(outn)
    changed = {p for p in before_parts.keys() | after_parts.keys() if before_parts.get(p) != after_parts.get(p)}
    # New data files appear beside the superseded ones (kept until vacuum): count both sides by month.
    of_day = {p for p in before_parts.keys() | after_parts.keys() if f"/month={day}/" in f"/{p}"}
    rep.update(day=day, partitions_total=len(before_parts), partitions_of_day=len(of_day), changed=len(changed),
               changed_of_day=len(changed & of_day), changed_elsewhere=sorted(changed - of_day)[:20],
               only_that_day=not (changed - of_day), pct_of_full=round(100 * rep["wall_s"] / full["wall_s"], 2))
    _say(f"reprocess {day}: {rep['wall_s']}s, changed {len(changed)} part files, {len(of_day)} of that day, "
         f"elsewhere: {len(changed - of_day)}")

    best_floor = max(floors, key=lambda r: r["files_per_s"])
    results["floor"] = {"runs": floors, "best_files_per_s": best_floor["files_per_s"],
                        "max_rss_mib": max(r["max_rss_mib"] for r in floors)}
    results["ratio_all_cores_to_floor"] = round(full["files_per_s"] / best_floor["files_per_s"], 3)
    results["ratio_all_cores_to_w1"] = round(full["files_per_s"] / runs["ingest-w1"]["files_per_s"], 3)

    if not args.keep:
        shutil.rmtree(out1, ignore_errors=True)
        shutil.rmtree(outn, ignore_errors=True)
    path = work / f"results-{args.files}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(report(results, _others(work, args.files, results["code"])))
    return 0


def _others(work: Path, files: int, code: str) -> list[dict]:
    found = []
    for path in sorted(work.glob("results-*.json")):  # earlier runs of the same code, other sizes
        data = json.loads(path.read_text())
        if data["files"] != files and data.get("code") == code:
            found.append(data)
    return found


def _say(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def report(r: dict, others: list[dict]) -> str:
    runs, w = r["runs"], r["workers"]
    full, one, noop, rep = runs[f"ingest-w{w}"], runs["ingest-w1"], runs["noop"], runs["reprocess-day"]
    floor = r["floor"]
    lines = [f"## article-lake benchmark: {r['files']} files ({r['corpus']['bytes'] / 1e6:.1f} MB raw), "
             f"{r['cores']} cores, {r['when']}", "", f"code: {r['code']}", "",
             "| run | wall s | files/s | vs floor | CPU s, whole tree (sampled) | cores busy (CPU ÷ wall) | load avg before | peak RSS, largest process (MiB) | peak PSS, whole tree (MiB) | phases (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for f in floor["runs"]:
        lines.append(f"| parse floor ({f['name']}) | {f['wall_s']} (loop {f['seconds']}) | {f['files_per_s']} | 1.00 | "
                     f"{f['cpu_s']} | | {f.get('load_before', '')} | {f['max_rss_mib']} | {f['tree_pss_mib']} | |")
    dask = runs.get(f"ingest-dask-w{w}")
    for name, res in (("ingest --workers 1", one), (f"ingest --workers {w}", full),
                      *([(f"ingest --engine dask --workers {w}", dask)] if dask else []), ("no-op rerun", noop),
                      (f"reprocess {rep['day']}", rep)):
        fps = res.get("files_per_s", "")
        vs = f"{fps / floor['best_files_per_s']:.2f}" if fps else ""
        ph = ", ".join(f"{k[:-2]} {v}" for k, v in res.get("phases", {}).items() if v is not None)
        lines.append(f"| {name} | {res['wall_s']} | {fps} | {vs} | {res.get('tree_cpu_s', res['cpu_s'])} | "
                     f"{res.get('cores_busy', '')} | {res.get('load_before', '')} | {res['max_rss_mib']} | {res['tree_pss_mib']} | {ph} |")
    d = r["dataset"]
    lines += ["", f"* ingest summary (all cores): `{full['stdout']}`",
              f"* output: {d['rows']} rows, articles/ {d['articles_bytes'] / 1e6:.1f} MB = **{d['bytes_per_article']} bytes/article** "
              f"(whole out dir incl. manifest: {d['total_bytes_per_article']} bytes/article)",
              f"* speed-up {w} workers vs 1: {r['ratio_all_cores_to_w1']}x",
              f"* reprocess {rep['day']}: {rep['partitions_of_day']} of {rep['partitions_total']} partitions are that day's; "
              f"{rep['changed']} part files changed, {rep['changed_of_day']} of them that day's, elsewhere: {rep['changed_elsewhere'] or 'none'}",
              "", "### Targets", "", "| target | measured | met |", "|---|---|---|"]
    ratio = r["ratio_all_cores_to_floor"]
    lines.append(f"| ingest (local, all cores) >= 0.7x parse floor | {ratio}x ({full['files_per_s']} vs {floor['best_files_per_s']} files/s) | {_yes(ratio >= 0.7)} |")
    if dask:
        lines.append(f"| dask LocalCluster {w} workers <= 1.5x local time | {dask['vs_local']}x ({dask['wall_s']}s vs {full['wall_s']}s); tree PSS {dask['tree_pss_mib']} MiB | {_yes(dask['vs_local'] <= 1.5)} |")
    peak = full["tree_pss_mib"]
    lines.append(f"| peak memory of driver + all workers <= 512 MiB (local) | tree PSS {peak} MiB (driver alone {full.get('driver_pss_mib')} MiB, largest process {full['max_rss_mib']} MiB) | {_yes(peak <= 512)} |")
    for other in others:
        o_peak = other["runs"][f"ingest-w{other['workers']}"]["tree_pss_mib"]
        small, big = (other, r) if other["files"] < r["files"] else (r, other)
        s_peak, b_peak = (o_peak, peak) if small is other else (peak, o_peak)
        lines.append(f"| RSS at {big['files']} <= 1.2x at {small['files']} | {b_peak} / {s_peak} = {b_peak / s_peak:.2f}x | {_yes(b_peak <= 1.2 * s_peak)} |")
    lines.append(f"| no-op rerun <= 5% of full run (target at 200k) | {noop['pct_of_full']}% ({noop['wall_s']}s / {full['wall_s']}s) | {_yes(noop['pct_of_full'] <= 5)} |")
    lines.append(f"| reprocess of one month touches only that month | {rep['changed']} changed, {len(rep['changed_elsewhere'])} elsewhere | {_yes(rep['only_that_day'] and rep['changed'] > 0)} |")
    lines += ["", "### Commands", "", "```"]
    if "PYTHONPATH" in ENV:
        lines.append(f"export PYTHONPATH={shlex.quote(ENV['PYTHONPATH'])}")
    lines.append(f"mkdir -p {shlex.quote(r['cwd'])} && cd {shlex.quote(r['cwd'])}   # not the project folder: the forkserver imports jobs/ from the cwd")
    lines.append(runs["generate"]["cmd"] if "generate" in runs else f"# corpus: {shlex.join([PYTHON, str(BENCH / 'make_corpus.py'), r['corpus']['dir'], str(r['files']), '--seed', str(r['seed'])])}")
    lines += [floor["runs"][0]["cmd"], f"rm -rf {shlex.quote(r['out_dirs'][0])} && {one['cmd']}",
              f"rm -rf {shlex.quote(r['out_dirs'][1])} && {full['cmd']}", *([dask["cmd"]] if dask else []), f"{noop['cmd']}   # no-op rerun", rep["cmd"], "```"]
    return "\n".join(lines)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


if __name__ == "__main__":
    sys.exit(main())
