"""Every command's help, machine-readable output (--log-json, --json) and the query formats."""

from __future__ import annotations


import csv
import datetime as dt
from pathlib import Path
import io
import json

import duckdb
import pytest

from helpers_cli import invoke
from helpers_pipeline import sample_lake, copy_samples, run_cli
from jobs.cli import app

COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)


@pytest.fixture(scope="module")
def raw_and_ingested_out(tmp_path_factory):
    """(raw dir, out dir): data/raw plus one reject, ingested once for the module."""
    root = tmp_path_factory.mktemp("lake")
    raw, out = sample_lake(root)
    return raw, out


def test_every_command_is_listed():
    assert COMMANDS == ["history", "ingest", "inspect", "migrate", "query", "report", "reprocess", "review", "schema", "status",
                        "vacuum", "verify", "views"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout and "Example: articles " + command in result.stdout
    done = run_cli(command, "--help")
    assert done.returncode == 0 and "Example: articles " + command in done.stdout


def test_top_level_help_lists_every_command():
    done = run_cli("--help")
    assert done.returncode == 0
    assert all(command in done.stdout for command in COMMANDS)


def test_log_json_prints_json_lines_and_one_summary_line_on_stdout(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    done = run_cli("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", "--log-json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    names = [event["event"] for event in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert {"planned", "parsed", "partition_written", "committed"} <= set(names)
    assert all("ts" in event for event in events)
    assert events[-1]["status"] == "ok" and events[-1]["articles_written"] == 26
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0] == events[-1]["summary"]
    assert lines[0].startswith("ingest ok: 26 files seen, 26 parsed, 26 articles written")


def test_status_json_is_exactly_one_object(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    result = invoke("status", "--out-dir", str(out), "--json", "--as-of", "2022-08-31")  # "now" fixed: two calls agree
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    info = json.loads(result.stdout)
    assert isinstance(info, dict)
    assert (info["articles"], info["rejects"]) == (26, 1)
    assert info["rejects_by_reason"] == [{"reason": "no_front_matter", "files": 1}]
    assert info["last_runs"][0]["status"] == "ok"
    assert json.loads(run_cli("status", "--out-dir", str(out), "--json", "--as-of", "2022-08-31").stdout) == info


def test_schema_json_is_exactly_one_object():
    result = invoke("schema", "--json")
    assert result.exit_code == 0 and result.stdout.count("\n") == 1
    info = json.loads(result.stdout)
    assert set(info["tables"]) == {"articles", "rejects", "runs", "templates"}
    assert info["partition_keys"] == ["source", "month"]


QUERY = "SELECT raw_path, source, date, categories FROM articles ORDER BY raw_path LIMIT 3"


def test_query_csv(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    result = invoke("query", "--out-dir", str(out), "--format", "csv", QUERY)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["raw_path", "source", "date", "categories"] and len(rows) == 4


def test_query_json(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    result = invoke("query", "--out-dir", str(out), "--format", "json", QUERY)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and isinstance(rows[0]["categories"], list) and len(rows[0]["date"]) == 10


def test_query_table(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    result = invoke("query", "--out-dir", str(out), QUERY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "| raw_path | source | date | categories |" and len(lines) == 5


def test_query_parquet(raw_and_ingested_out, tmp_path):
    raw, out = raw_and_ingested_out
    target = tmp_path / "result.parquet"
    result = invoke("query", "--out-dir", str(out), "--format", "parquet", "--output", str(target), QUERY)
    assert result.exit_code == 0, result.output
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall() == [(3,)]
    assert invoke("query", "--out-dir", str(out), "--format", "parquet", QUERY).exit_code == 2  # needs --output


def test_query_views_rejects_and_runs(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    result = invoke("query", "--out-dir", str(out), "--format", "json",
                    "SELECT (SELECT count(*) FROM rejects) AS rejects, (SELECT count(*) FROM runs) AS runs")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"rejects": 1, "runs": 1}]


@pytest.mark.parametrize("statement", [
    "COPY (SELECT * FROM articles) TO '{out}/articles/source=x/date=2022-01-01/evil.parquet' (FORMAT parquet)",
    "ATTACH '{out}/_state/manifest.sqlite' AS m",
    "EXPORT DATABASE '{out}/export'",
    "SELECT 1; COPY (SELECT 1) TO '{out}/x.csv'",
])
def test_query_never_writes_files(raw_and_ingested_out, statement):
    raw, out = raw_and_ingested_out
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = invoke("query", "--out-dir", str(out), statement.format(out=out))
    assert result.exit_code == 2
    assert "not allowed" in result.output
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_query_interactive_prompt_answers_and_quits(raw_and_ingested_out, monkeypatch):
    raw, out = raw_and_ingested_out
    from jobs.analyst import output as query_output
    answers = iter(["select count(*) AS n from articles", "copy (select 1) to 'x.csv'", ".quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    query_output.interactive(out)
    assert any(line.startswith("| n |") for line in printed)
    assert any("not allowed" in line for line in printed)


def test_progress_bar_on_a_terminal_and_none_otherwise(tmp_path):
    import os
    import pty
    import subprocess

    from helpers_pipeline import REPO, cli_command, cli_env

    raw = tmp_path / "raw"
    copy_samples(raw)

    def run(out: str, on_terminal: bool) -> str:
        if not on_terminal:
            return subprocess.run(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / out), "--workers", "1"),
                                  cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=120).stderr
        leader, follower = pty.openpty()
        env = cli_env() | {"COLUMNS": "100", "TERM": "xterm"}
        process = subprocess.Popen(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / out), "--workers", "1"),
                                   cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert process.wait(timeout=120) == 0
        os.close(leader)
        return b"".join(chunks).decode("utf-8", "replace")

    assert "parsing" in run("tty", on_terminal=True)
    assert run("pipe", on_terminal=False) == ""


def _live_paths(out: Path) -> list[str]:
    from jobs.lake.table import ArticlesTable
    return [str(out / "articles" / f.relative) for f in ArticlesTable(out).live_files()]


def _damaged_copy(out: Path, tmp_path: Path, by_source: bool) -> tuple[Path, str, dt.date]:
    """A copy of the dataset whose live data files that cannot hold the chosen (source, day) are junk:
    another source's (when `by_source`) or a date range without the day. The copy, source and day."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from jobs.lake.table import ArticlesTable

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    source, day = duckdb.connect().execute(  # the busiest day, and one of its sources
        f"WITH a AS (FROM read_parquet({_live_paths(copy)!r}, hive_partitioning = true,"
        " hive_types = {'source': 'VARCHAR', 'month': 'VARCHAR'}) WHERE date IS NOT NULL)"
        " SELECT source, date FROM a WHERE date = (SELECT date FROM a GROUP BY date ORDER BY count(*) DESC, date LIMIT 1)"
        " ORDER BY source LIMIT 1").fetchone()
    live = ArticlesTable(copy).live_files()
    assert len(live) > 10
    kept = 0
    for file in live:
        path = copy / "articles" / file.relative
        low, high = (v.as_py() for v in pc.min_max(pq.read_table(path, columns=["date"]).column("date")).values())
        if (by_source and file.source != source) or low is None or not (low <= day <= high):
            path.write_bytes(b"not parquet")
        else:
            kept += 1
    assert 1 <= kept < len(live) / 2
    return copy, source, day


def test_a_query_for_one_source_and_day_opens_only_that_partition_file(raw_and_ingested_out, tmp_path):
    # The sandbox hands DuckDB the Delta table as an Arrow dataset; filters on source and date reach the
    # scan, which skips files by partition values and by each file's date range in the log before opening
    # any: with every other data file damaged, it still answers.
    raw, out = raw_and_ingested_out
    copy, source, day = _damaged_copy(out, tmp_path, by_source=True)
    query = f"SELECT title FROM articles WHERE source = '{source}' AND date = DATE '{day}'"
    result = invoke("query", "--out-dir", str(copy), "--format", "json", query)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) >= 1
    explained = invoke("query", "--out-dir", str(copy), "EXPLAIN ANALYZE " + query)
    assert explained.exit_code == 0 and "Filters:" in explained.stdout
    assert invoke("query", "--out-dir", str(copy), "SELECT count(*) FROM articles").exit_code == 1  # the damaged ones do fail


def test_a_filter_on_date_alone_opens_only_the_files_whose_date_range_holds_it(raw_and_ingested_out, tmp_path):
    # No source, no month in the query: the log's per-file date statistics alone keep the scan off the
    # files of other months, and off files of the same month whose dates do not reach the day.
    raw, out = raw_and_ingested_out
    copy, source, day = _damaged_copy(out, tmp_path, by_source=False)
    expected = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet({_live_paths(out)!r}) WHERE date = DATE '{day}'").fetchone()[0]
    result = invoke("query", "--out-dir", str(copy), "--format", "json",
                    f"SELECT count(*) AS n FROM articles WHERE date = DATE '{day}'")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": expected}] and expected >= 2
    assert invoke("query", "--out-dir", str(copy), "SELECT count(*) FROM articles").exit_code == 1

