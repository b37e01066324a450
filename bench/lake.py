"""The Delta lake against the code before it (issue 17, point 9), side by side in one run on the same files.

    python bench/lake.py --files N --against OLD [--code NEW] [--workdir DIR] [--workers K]
                         [--queries] [--row-groups 10000,1000,250] [--rounds 3]

OLD and NEW are trees with jobs/ and schemas/ (a snapshot: git archive c07289c jobs schemas | tar -x -C OLD);
NEW defaults to this project. The corpus is WORKDIR/raw-N-s1 (bench/make_corpus.py DIR N; made when
missing). In one run, each command a fresh subprocess with a working directory outside the project:
  * the parse floor (bench/floor.py) before and after the ingests; the best run counts;
  * `articles ingest --workers K` into a fresh out dir with OLD, then NEW; then a no-op rerun of each;
    wall time, CPU and peak PSS/RSS of the whole process tree (bench/run.py's sampler);
  * bytes on disk per article: NEW the table's current files (from the Delta log) plus `_delta_log/`;
    OLD every file under `articles/`; and each whole out dir;
  * --queries: five queries in DuckDB, each a fresh process, median of --rounds, through
    `articles views` (NEW's lake), through OLD's views (OLD's lake), and over the same rows copied by
    DuckDB (`COPY ... (FORMAT parquet, PARTITION_BY (source, date))`, the old layout) read with a plain
    hive glob; a query's time includes running the views file (it reads the file list);
  * --row-groups: NEW's current files rewritten with each row-group size (same codec, statistics and
    dictionary options) and read through read_parquet(list): the date-filter and full-scan queries.
Prints a Markdown report; WORKDIR/lake-N.json keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402  (bench/run.py: measure(), phases(), warm_cache())

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
PYTHON = sys.executable
ARTICLES = str(Path(PYTHON).parent / "articles")

QUERIES = {  # name -> SQL over a relation `articles`; {day} and {source} filled in from the data
    "count(*)": "SELECT count(*) FROM articles",
    "group by source": "SELECT source, count(*), sum(char_count) FROM articles GROUP BY source ORDER BY source",
    "one source, one day": "SELECT title, published_at FROM articles WHERE source = '{source}' AND date = DATE '{day}'",
    "one day, all sources": "SELECT source, count(*) FROM articles WHERE date = DATE '{day}' GROUP BY source ORDER BY source",
    "text LIKE": "SELECT count(*) FROM articles WHERE text LIKE '%数据%'",
}
ROW_GROUP_QUERIES = ("count(*)", "one day, all sources", "one source, one day", "text LIKE")

# One timed query in a fresh process: setup (the views file, or nothing) + the query, from connect to rows.
_TIMED = r"""
import json, sys, time
import duckdb
setup, sql = json.loads(sys.argv[1])
clock = time.perf_counter()
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
if setup:
    connection.execute(setup)
rows = connection.execute(sql).fetchall()
print(json.dumps({"s": time.perf_counter() - clock, "rows": len(rows), "first": str(rows[0]) if rows else None}))
"""


def with_code(code: Path | None) -> None:
    """Subprocesses from now on run jobs/ from `code` (None: this project's editable install)."""
    if code is None:
        bench_run.ENV.pop("PYTHONPATH", None)
    else:
        bench_run.ENV["PYTHONPATH"] = str(code.resolve())


def describe(code: Path | None) -> str:
    saved = bench_run.ENV.get("PYTHONPATH")
    text = bench_run.use_code(code)
    if code is None and saved is not None:
        bench_run.ENV["PYTHONPATH"] = saved
    return text


# -- bytes -------------------------------------------------------------------------
def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def delta_current_files(out: Path) -> list[Path]:
    import pyarrow as pa
    from urllib.parse import unquote
    from deltalake import DeltaTable
    actions = pa.table(DeltaTable(str(out / "articles")).get_add_actions(flatten=True))
    return [out / "articles" / unquote(relative) for relative in actions.column("path").to_pylist()]


def sizes(out: Path, delta: bool) -> dict:
    import pyarrow.parquet as pq
    if delta:
        files = delta_current_files(out)
        log = tree_bytes(out / "articles" / "_delta_log")
    else:
        files = sorted((out / "articles").rglob("*.parquet"))
        log = 0
    data = sum(f.stat().st_size for f in files)
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    row_groups = [pq.ParquetFile(f).metadata.num_row_groups for f in files]
    return {"rows": rows, "files": len(files), "row_groups": sum(row_groups), "data_bytes": data, "log_bytes": log,
            "table_bytes_per_article": round((data + log) / rows, 1), "out_dir_bytes": tree_bytes(out),
            "out_dir_bytes_per_article": round(tree_bytes(out) / rows, 1), "rows_per_file": round(rows / len(files), 1)}


# -- queries -----------------------------------------------------------------------
def views_sql(out: Path, code: Path | None) -> str:
    """`articles views --out-dir OUT` of a tree (OLD has the same command)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    return subprocess.run([ARTICLES, "views", "--out-dir", str(out)], env=env, check=True, capture_output=True,
                          text=True, cwd="/tmp").stdout


def timed(setup: str, sql: str) -> dict:
    done = subprocess.run([PYTHON, "-c", _TIMED, json.dumps([setup, sql])], capture_output=True, text=True, cwd="/tmp")
    if done.returncode != 0:
        raise SystemExit(f"query failed: {sql}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pick_day_and_source(setup: str) -> tuple[str, str]:
    import duckdb
    connection = duckdb.connect()
    connection.execute(setup)
    day, = connection.execute("SELECT date FROM articles WHERE date IS NOT NULL GROUP BY date "
                              "ORDER BY count(*) DESC, date LIMIT 1").fetchone()
    source, = connection.execute(f"SELECT source FROM articles WHERE date = DATE '{day}' GROUP BY source "
                                 "ORDER BY count(*) DESC, source LIMIT 1").fetchone()
    return str(day), source


def copy_old_layout(setup: str, target: Path) -> str:
    """The same rows as DuckDB writes them partitioned by source and date; returns the plain hive-glob setup."""
    import duckdb
    done = target.with_name(target.name + ".done")  # a finished copy of the same lake is reused (--reuse)
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        connection = duckdb.connect()
        connection.execute(setup)
        connection.execute(f"COPY (SELECT * EXCLUDE (month) FROM articles) TO '{target}' "
                           "(FORMAT parquet, PARTITION_BY (source, date))")
        done.touch()
    return f"CREATE VIEW articles AS SELECT * FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true)"


def run_queries(readers: dict[str, str], day: str, source: str, rounds: int, names=tuple(QUERIES)) -> dict:
    """{query: {reader: {median_s, runs, rows}}}; rounds interleave the readers."""
    results: dict = {}
    for name in names:
        sql = QUERIES[name].format(day=day, source=source.replace("'", "''"))
        per_reader: dict[str, list] = {reader: [] for reader in readers}
        for _ in range(rounds):
            for reader, setup in readers.items():
                per_reader[reader].append(timed(setup, sql))
        results[name] = {reader: {"median_s": round(statistics.median(r["s"] for r in runs), 3),
                                  "runs": [round(r["s"], 3) for r in runs], "rows": runs[0]["rows"], "first": runs[0]["first"]}
                         for reader, runs in per_reader.items()}
        bench_run._say(f"query {name}: " + ", ".join(f"{k} {v['median_s']}s" for k, v in results[name].items()))
    return results


def rewrite_row_groups(files: list[Path], articles: Path, target: Path, row_group_rows: int, code: Path | None) -> str:
    """Copies of the current files with another row-group size (NEW's encode options otherwise)."""
    script = r"""
import json, os, sys
import pyarrow.parquet as pq
from jobs.lake.store import encode_options
from jobs.lake.table import write_data_file
files, articles, target, row_group_rows = json.loads(sys.argv[1])
for path in files:
    table = pq.read_table(path, partitioning=None)
    _, codec, statistics, dictionary = encode_options(table.num_rows)
    write_data_file(table, os.path.join(target, os.path.relpath(path, articles)), row_group_rows, codec, statistics, dictionary)
"""
    shutil.rmtree(target, ignore_errors=True)
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    subprocess.run([PYTHON, "-c", script, json.dumps([[str(f) for f in files], str(articles), str(target), row_group_rows])],
                   env=env, check=True, cwd="/tmp")
    listed = ", ".join(f"'{target / f.relative_to(articles)}'" for f in files)
    return (f"CREATE VIEW articles AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true, "
            "hive_types = {'source': 'VARCHAR', 'month': 'VARCHAR'})")


# -- the run -----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--against", type=Path, required=True, help="The tree before the change (jobs/, schemas/).")
    parser.add_argument("--code", type=Path, help="The tree measured (default: this project).")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/article-lake-bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--queries", action="store_true", help="Time the five DuckDB queries (issue 17's figures are at 200k).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--row-groups", default="", help="Comma-separated row-group sizes to compare (e.g. 10000,1000,250).")
    parser.add_argument("--reuse", action="store_true", help="Keep existing out dirs: skip the ingests (queries only).")
    args = parser.parse_args(argv)

    work = args.workdir.resolve()
    raw = work / f"raw-{args.files}-s{args.seed}"
    logs = work / f"lake-logs-{args.files}"
    logs.mkdir(parents=True, exist_ok=True)
    if not raw.is_dir():
        subprocess.run([PYTHON, str(BENCH / "make_corpus.py"), str(raw), str(args.files), "--seed", str(args.seed)], check=True)
    trees = {"before": args.against, "now": args.code}
    r: dict = {"files": args.files, "workers": args.workers, "when": dt.datetime.now().isoformat(timespec="seconds"),
               "code": {label: describe(code) for label, code in trees.items()}, "runs": {}, "commands": []}
    files, size = bench_run.warm_cache(raw)
    r["corpus"] = {"dir": str(raw), "files": files, "bytes": size}
    bench_run._say(f"corpus: {files} files, {size / 1e6:.1f} MB")
    outs = {label: work / f"lake-out-{label}-{args.files}" for label in trees}

    floor_cmd = [PYTHON, str(BENCH / "floor.py"), str(raw)]
    floors = []

    def floor(index: int) -> None:
        with_code(None)
        result = bench_run.measure(f"floor-{index}", floor_cmd, logs)
        result.update(json.loads(result["stdout"]))
        floors.append(result)
        bench_run._say(f"floor {index}: {result['files_per_s']} files/s")

    if not args.reuse:
        floor(0)
        for step in ("ingest", "noop"):
            for label, code in trees.items():
                with_code(code)
                if step == "ingest":
                    shutil.rmtree(outs[label], ignore_errors=True)
                    (work / f"lake-copy-{args.files}.done").unlink(missing_ok=True)  # a new lake: copy it again
                cmd = [ARTICLES, "ingest", "--raw-dir", str(raw), "--out-dir", str(outs[label]), "--workers",
                       str(args.workers), "--log-json"]
                result = bench_run.measure(f"{step}-{label}", cmd, logs)
                result["phases"] = bench_run.phases(result["stderr_path"])
                result["files_per_s"] = round(files / result["wall_s"], 1)
                r["runs"][f"{step}-{label}"] = result
                r["commands"].append((f"PYTHONPATH={code} " if code else "") + result["cmd"])
                bench_run._say(f"{step} {label}: {result['wall_s']}s, tree PSS {result['tree_pss_mib']} MiB, "
                               f"phases {result['phases']}")
            if step == "ingest":
                floor(1)
        best = max(f["files_per_s"] for f in floors)
        floor_cpu = min(f["cpu_s"] for f in floors)
        r["floor"] = {"files_per_s": [f["files_per_s"] for f in floors], "best": best, "cmd": floors[0]["cmd"],
                      "cpu_s": [f["cpu_s"] for f in floors]}
        for label in trees:
            ingest, noop = r["runs"][f"ingest-{label}"], r["runs"][f"noop-{label}"]
            ingest["vs_floor"] = round(ingest["files_per_s"] / best, 3)
            # What the run would reach with its cores to itself: the floor's CPU against the tree's CPU
            # spread over the workers (a shared machine stretches wall times, much less CPU times).
            ingest["vs_floor_cpu"] = round(floor_cpu / (ingest["tree_cpu_s"] / args.workers), 3)
            noop["pct_of_full"] = round(100 * noop["wall_s"] / ingest["wall_s"], 2)
    with_code(None)
    r["sizes"] = {label: sizes(outs[label], delta=(label == "now")) for label in trees}
    bench_run._say(f"sizes: {r['sizes']}")

    if args.queries or args.row_groups:
        setups = {label: views_sql(outs[label], code) for label, code in trees.items()}
        day, source = pick_day_and_source(setups["now"])
        r["day"], r["source"] = day, source
    if args.queries:
        copy_dir = work / f"lake-copy-{args.files}"
        bench_run._say("copying the rows by source and date with DuckDB")
        plain = copy_old_layout(setups["now"], copy_dir)
        r["copy"] = {"files": sum(1 for _ in copy_dir.rglob("*.parquet")), "bytes": tree_bytes(copy_dir)}
        readers = {"views (now)": setups["now"], "plain glob, by source and date": plain, "views (before)": setups["before"]}
        r["queries"] = run_queries(readers, day, source, args.rounds)
        for name, by in r["queries"].items():
            first = {k: v["first"] for k, v in by.items()}
            if len(set(first.values())) != 1 and name != "one source, one day":
                bench_run._say(f"WARNING: {name} answers differ: {first}")
    if args.row_groups:
        articles = outs["now"] / "articles"
        current = delta_current_files(outs["now"])
        readers = {}
        r["row_groups"] = {}
        for size_ in (int(s) for s in args.row_groups.split(",")):
            target = work / f"lake-rg{size_}-{args.files}"
            readers[f"row groups of {size_}"] = rewrite_row_groups(current, articles, target, size_, args.code)
            r["row_groups"][size_] = {"bytes": tree_bytes(target)}
        r["row_group_queries"] = run_queries(readers, day, source, args.rounds, ROW_GROUP_QUERIES)
    (work / f"lake-{args.files}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False, default=str))
    print(report(r, args))
    return 0


def report(r: dict, args) -> str:
    lines = [f"## bench/lake.py: {r['files']} files ({r['corpus']['bytes'] / 1e6:.1f} MB raw), {r['workers']} workers, {r['when']}",
             "", f"before: {r['code']['before']}", f"now: {r['code']['now']}", ""]
    runs = r["runs"]
    if runs:
        b, n = (runs["ingest-before"], runs["noop-before"]), (runs["ingest-now"], runs["noop-now"])
        lines += [f"parse floor, files/s: {r['floor']['files_per_s']} (before and after the ingests; the best counts)", "",
                  "| | before | now | target |", "|---|---:|---:|---|",
                  f"| ingest, s (files/s) | {b[0]['wall_s']} ({b[0]['files_per_s']}) | {n[0]['wall_s']} ({n[0]['files_per_s']}) | |",
                  f"| ingest ÷ parse floor, wall (files/s ÷ the best floor's) | {b[0]['vs_floor']}× | **{n[0]['vs_floor']}×** | ≥ 0.6× at 200k: {_met(n[0]['vs_floor'] >= 0.6)} |",
                  f"| ingest ÷ parse floor, CPU (floor CPU s ÷ (tree CPU s ÷ {r['workers']} workers); floor CPU {min(r['floor']['cpu_s'])} s) | {b[0]['vs_floor_cpu']}× | **{n[0]['vs_floor_cpu']}×** | |",
                  f"| phases: plan / parse / merge+write+commit / finish, s | {_phases(b[0])} | {_phases(n[0])} | |",
                  f"| CPU of the whole tree, s (cores busy; load avg before) | {b[0]['tree_cpu_s']} ({b[0]['cores_busy']}; {b[0]['load_before']}) | {n[0]['tree_cpu_s']} ({n[0]['cores_busy']}; {n[0]['load_before']}) | |",
                  f"| peak PSS of the whole tree, MiB (peak RSS summed) | {b[0]['tree_pss_mib']} ({b[0]['tree_rss_mib']}) | {n[0]['tree_pss_mib']} ({n[0]['tree_rss_mib']}) | ≤ 512: {_met(n[0]['tree_pss_mib'] <= 512)} |",
                  f"| no-op rerun, s (% of the full run) | {b[1]['wall_s']} ({b[1]['pct_of_full']} %) | {n[1]['wall_s']} ({n[1]['pct_of_full']} %) | ≤ 5 %: {_met(n[1]['pct_of_full'] <= 5)} |"]
    s = r["sizes"]
    b, n = s["before"], s["now"]
    ratio = n["table_bytes_per_article"] / b["table_bytes_per_article"]
    lines += [f"| data files (rows per file; row groups) | {b['files']} ({b['rows_per_file']}; {b['row_groups']}) | {n['files']} ({n['rows_per_file']}; {n['row_groups']}) | |",
              f"| bytes per article: articles/ (now: current files + `_delta_log/`) | {b['table_bytes_per_article']} | {n['table_bytes_per_article']} ({ratio:.3f} of before) | ≤ 1/3: {_met(ratio <= 1 / 3)} |",
              f"| bytes per article, whole out dir | {b['out_dir_bytes_per_article']} | {n['out_dir_bytes_per_article']} | |"]
    if "queries" in r:
        lines += ["", f"DuckDB {_duckdb_version()}, each query a fresh process (running the views file included), median of {args.rounds}; "
                  f"day {r['day']}, source {r['source']}; the copy by source and date: {r['copy']['files']} files, {r['copy']['bytes'] / 1e6:.1f} MB", "",
                  "| query | `articles views` (now), s | plain hive glob over the copy by (source, date), s | speed-up | `articles views` (before), s | ≥ 5× |",
                  "|---|---:|---:|---:|---:|---|"]
        for name, by in r["queries"].items():
            now, plain, old = by["views (now)"]["median_s"], by["plain glob, by source and date"]["median_s"], by["views (before)"]["median_s"]
            lines.append(f"| `{QUERIES[name].format(day=r['day'], source=r['source'])}` | {now} | {plain} | {plain / now:.1f}× | {old} | {_met(plain / now >= 5)} |")
    if "row_group_queries" in r:
        sizes_ = list(r["row_groups"])
        lines += ["", f"Row-group size (NEW's current files rewritten; read_parquet(list), fresh process, median of {args.rounds}):", "",
                  "| query | " + " | ".join(f"{k} rows, s" for k in sizes_) + " |", "|---|" + "---:|" * len(sizes_),
                  "| bytes on disk, MB | " + " | ".join(f"{r['row_groups'][k]['bytes'] / 1e6:.1f}" for k in sizes_) + " |"]
        for name, by in r["row_group_queries"].items():
            lines.append(f"| {name} | " + " | ".join(str(by[f'row groups of {k}']['median_s']) for k in sizes_) + " |")
    lines += ["", "```", " ".join([shlex.quote(a) for a in [PYTHON, *sys.argv]]), *[f"# {c}" for c in r["commands"]], "```"]
    return "\n".join(lines)


def _phases(run: dict) -> str:
    p = run["phases"]
    return " / ".join(str(p.get(k)) for k in ("discover_plan_s", "parse_s", "merge_write_s", "finish_s"))


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _duckdb_version() -> str:
    import duckdb
    return duckdb.__version__


if __name__ == "__main__":
    sys.exit(main())
