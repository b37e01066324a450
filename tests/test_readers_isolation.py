"""Snapshot isolation for every supported reader, tested with real readers looping in other processes
while ingests, reprocesses and runs killed with SIGKILL at random moments write the table.

Readers: `articles query` (a subprocess per query), stock DuckDB through the `articles views` file (the
CLI, and Python keeping one session for several queries), and Polars `scan_delta` pinned to one
`version=` for several queries. Each query reports (rows, distinct article_id). Afterwards every count
seen must be the row count of some committed version, with no article twice, and no query may fail.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers_pipeline import cli_command, cli_env, generate_corpus, write_raw, article_text
from paths import REPO

pytestmark = pytest.mark.slow

COUNT_SQL = "SELECT count(*), count(DISTINCT article_id) FROM articles"

READER = textwrap.dedent('''
    import json, os, subprocess, sys, time, traceback
    kind, out, views, log, stop, duckdb_cli, articles = sys.argv[1:8]
    sql = "SELECT count(*), count(DISTINCT article_id) FROM articles"

    def record(found, error=None):
        with open(log, "a") as handle:
            handle.write(json.dumps({"kind": kind, "found": found, "error": error}) + "\\n")

    def once():
        if kind == "articles-query":
            done = subprocess.run(json.loads(articles) + ["query", "--out-dir", out, "--format", "csv", sql],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode:
                raise RuntimeError(done.stdout + done.stderr)
            return [[int(v) for v in done.stdout.splitlines()[1].split(",")]]
        if kind == "duckdb-cli":
            done = subprocess.run([duckdb_cli, "-csv", "-noheader", "-init", views, "-c", sql],
                                  capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            if done.returncode or "Error" in done.stdout + done.stderr:
                raise RuntimeError(done.stdout + done.stderr)
            return [[int(v) for v in done.stdout.strip().splitlines()[-1].split(",")]]
        if kind == "duckdb-python":
            import duckdb
            connection = duckdb.connect()
            connection.execute(open(views, encoding="utf-8").read())
            found = []
            for _ in range(3):  # one session: the same version however long it runs
                found.append(list(connection.execute(sql).fetchone()))
                time.sleep(0.05)
            return found
        if kind == "polars":
            import polars as pl
            from deltalake import DeltaTable
            version = DeltaTable(out + "/articles").version()
            found = []
            for _ in range(3):
                frame = pl.scan_delta(out + "/articles", version=version).select("article_id").collect()
                found.append([frame.height, frame["article_id"].n_unique()])
                time.sleep(0.05)
            return found
        raise ValueError(kind)

    while not os.path.exists(stop):
        try:
            record(once())
        except Exception:
            record(None, traceback.format_exc(limit=3))
        time.sleep(0.02)
''')


def duckdb_cli() -> str:
    import shutil
    found = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if not found:
        pytest.skip("the DuckDB CLI is not installed")
    return found


def run(*args: str, kill_after: float | None = None) -> int | None:
    """A real `articles` process; with kill_after, SIGKILLed after that many seconds if still running."""
    process = subprocess.Popen(cli_command(*args), cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    if kill_after is None:
        return process.wait(timeout=300)
    try:
        return process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def committed_row_counts(out: Path) -> dict[int, int]:
    """version -> rows, for every version of the table."""
    from deltalake import DeltaTable
    import pyarrow as pa
    table = DeltaTable(str(out / "articles"))
    counts = {}
    for version in range(table.version() + 1):
        table.load_as_version(version)
        actions = pa.table(table.get_add_actions(flatten=True))
        counts[version] = sum(actions.column("num_records").to_pylist()) if actions.num_rows else 0
    return counts


def test_readers_see_one_committed_version_during_ingests_reprocesses_and_kills(tmp_path):
    rng = random.Random(17)
    raw, out = tmp_path / "raw", tmp_path / "out"
    paths = generate_corpus(raw, 400, days=90, salt="隔离")
    assert run("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "2") == 0
    views = tmp_path / "views.sql"
    views.write_text(subprocess.run(cli_command("views", "--out-dir", str(out)), cwd=REPO, env=cli_env(),
                                    capture_output=True, text=True, check=True).stdout, encoding="utf-8")
    log, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    articles = json.dumps(cli_command())
    readers = [subprocess.Popen([sys.executable, str(script), kind, str(out), str(views), str(log), str(stop),
                                 duckdb_cli(), articles], cwd=REPO, env=cli_env())
               for kind in ("articles-query", "duckdb-cli", "duckdb-python", "polars")]
    try:
        for step in range(8):
            # Change the raw files: edit, add and delete some, so each run replaces and adds partitions.
            for path in rng.sample(paths, 20):
                if (raw / path).exists():
                    write_raw(raw, path, article_text(f"改 {step} {path}", f"2022-{rng.randint(6, 8):02d}-{rng.randint(1, 28):02d} 10:00:00",
                                                      author=f"源{rng.randint(0, 5)}"))
            for index in range(10):
                write_raw(raw, f"new/{step}-{index}.md", article_text(f"新 {step} {index}", f"2022-07-{index + 1:02d} 09:00:00", author="新源"))
            for path in rng.sample(paths, 3):
                (raw / path).unlink(missing_ok=True)
            command = ["reprocess", "--source", "新源", "--yes"] if step % 3 == 2 else ["ingest"]
            killed = run(*command, "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "2",
                         kill_after=rng.uniform(0.3, 4.0) if step % 2 else None)
            assert killed in (None, 0), f"step {step}: {command} exited {killed}"
        assert run("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "2") == 0
        time.sleep(2)  # the readers see the last version too
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=180)

    reads = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    errors = [r for r in reads if r["error"]]
    assert not errors, errors[:3]
    counts = committed_row_counts(out)
    valid = set(counts.values())
    seen = [tuple(found) for r in reads for found in r["found"]]
    kinds = {r["kind"] for r in reads}
    assert kinds == {"articles-query", "duckdb-cli", "duckdb-python", "polars"}, kinds
    assert all(rows == distinct for rows, distinct in seen), [s for s in seen if s[0] != s[1]][:5]
    assert {rows for rows, _ in seen} <= valid, ({rows for rows, _ in seen} - valid, counts)
    assert len({rows for rows, _ in seen}) >= 2  # the readers did overlap the writes
    for r in reads:  # within one session or one pinned version, one count
        assert len({tuple(found) for found in r["found"]}) == 1, r
