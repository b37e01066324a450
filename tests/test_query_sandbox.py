"""`articles query` reads the views and nothing else, and writes nothing but its --output file.

Every attempt the issue lists (and more) must exit 2 and leave every byte under the out dir as it was.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from helpers_cli import invoke
from helpers_pipeline import sample_lake, cli_command, cli_env, write_raw
from jobs.analyst.query import connect

from paths import REPO


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under root: relative path -> sha256 of the bytes ('dir' for folders)."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        found[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def ingested_out_dir(tmp_path_factory):
    """The out dir of data/raw plus one reject, ingested once for the module."""
    root = tmp_path_factory.mktemp("sandbox")
    raw, out = sample_lake(root)
    return out


def a_partition_file(out: Path) -> Path:
    return sorted(out.glob("articles/*/*/part-*.parquet"))[0]


ATTEMPTS = {
    "log_query_path onto the manifest": "SET log_query_path = '{out}/_state/manifest.sqlite'",
    "log_query_path onto a partition file": "SET log_query_path = '{part}'",
    "log_query_path then a query": "SET log_query_path = '{out}/_state/q.log'; SELECT count(*) FROM articles",
    "PRAGMA profiling_output": "PRAGMA profiling_output = '{out}/_state/manifest.sqlite'",
    "profiling to a file": "PRAGMA enable_profiling = 'json'; PRAGMA profiling_output = '{part}'; SELECT 1",
    "SET profiling_output": "SET profiling_output = '{out}/profile.json'",
    "enable_logging to a file": "CALL enable_logging(storage = 'file', storage_path = '{out}/_state')",
    "enable_logging, then a query": "CALL enable_logging(storage = 'file', storage_path = '{out}'); SELECT count(*) FROM articles",
    "read_csv /etc/passwd": "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
    "read_blob of the manifest": "SELECT * FROM read_blob('{out}/_state/manifest.sqlite')",
    "read_parquet over https (no extension install)": "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "read_parquet of a dataset file directly": "SELECT * FROM read_parquet('{part}')",
    "sniff_csv": "SELECT * FROM sniff_csv('/etc/passwd')",
    "glob outside": "SELECT * FROM glob('/etc/*')",
    "glob of the dataset": "SELECT * FROM glob('{out}/**')",
    "COPY into a partition": "COPY (SELECT * FROM articles) TO '{part}' (FORMAT parquet, USE_TMP_FILE false)",
    "COPY a new partition": "COPY (SELECT * FROM articles) TO '{out}/articles/source=x/month=2022-01/evil.parquet' (FORMAT parquet)",
    "COPY outside": "COPY (SELECT 1) TO '{elsewhere}/x.csv'",
    "COPY after a SELECT": "SELECT 1; COPY (SELECT 1) TO '{out}/x.csv'",
    "COPY FROM": "CREATE TABLE t (line VARCHAR); COPY t FROM '/etc/passwd'",
    "EXPORT DATABASE": "EXPORT DATABASE '{out}/export'",
    "ATTACH the manifest": "ATTACH '{out}/_state/manifest.sqlite' AS m (TYPE sqlite)",
    "ATTACH a new database": "ATTACH '{out}/new.duckdb' AS n",
    "sqlite_scan of the manifest": "SELECT * FROM sqlite_scan('{out}/_state/manifest.sqlite', 'files')",
    "INSTALL": "INSTALL sqlite",
    "LOAD": "LOAD sqlite",
    "FORCE INSTALL from a URL": "FORCE INSTALL httpfs FROM 'http://localhost:1/'",
    "SET enable_external_access": "SET enable_external_access = true",
    "RESET enable_external_access": "RESET enable_external_access",
    "SET lock_configuration": "SET lock_configuration = false",
    "RESET lock_configuration": "RESET lock_configuration",
    "SET GLOBAL lock_configuration": "SET GLOBAL lock_configuration = false",
    "allowed_directories": "SET allowed_directories = ['/']",
    "autoinstall": "SET autoinstall_known_extensions = true",
    "temp_directory into the dataset": "SET temp_directory = '{out}/_state'",
    "secret_directory": "SET secret_directory = '{out}'",
    "persistent secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "python replacement scan": "SELECT * FROM os",
}


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_every_escape_attempt_exits_2_and_changes_no_byte(ingested_out_dir, attempt, tmp_path):
    before = tree(ingested_out_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sql = ATTEMPTS[attempt].format(out=ingested_out_dir, part=a_partition_file(ingested_out_dir), elsewhere=elsewhere)
    result = invoke("query", "--out-dir", str(ingested_out_dir), sql)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert tree(ingested_out_dir) == before
    assert list(elsewhere.iterdir()) == []


def test_refusals_say_what_is_allowed(ingested_out_dir):
    result = invoke("query", "--out-dir", str(ingested_out_dir), "SELECT * FROM read_csv('/etc/passwd')")
    assert result.exit_code == 2
    assert "not allowed" in result.output and "--output" in result.output


def test_a_subprocess_with_its_own_home_installs_nothing_and_writes_nothing(ingested_out_dir, tmp_path):
    """The real command: no extension is installed (or fetched), nothing lands in HOME or the cwd."""
    import subprocess
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    before = tree(ingested_out_dir)
    env = cli_env() | {"HOME": str(home)}
    for sql in ("SELECT * FROM read_parquet('https://example.com/x.parquet')", "INSTALL httpfs",
                f"ATTACH '{ingested_out_dir}/_state/manifest.sqlite' AS m (TYPE sqlite)",
                "SELECT count(*) FROM articles ORDER BY 1"):  # a plain query spills nothing either
        done = subprocess.run(cli_command("query", "--out-dir", str(ingested_out_dir), sql), cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 2), done.stderr
        assert "Traceback" not in done.stderr
    assert tree(ingested_out_dir) == before
    assert list(home.rglob("*")) == [] and list(cwd.rglob("*")) == []


# -- --output ------------------------------------------------------------------

@pytest.mark.parametrize("where", ["a partition file", "a new file in a partition", "the state folder", "the out dir itself"])
def test_output_inside_the_dataset_is_refused(ingested_out_dir, where):
    target = {
        "a partition file": a_partition_file(ingested_out_dir),
        "a new file in a partition": a_partition_file(ingested_out_dir).parent / "part-1.parquet",
        "the state folder": ingested_out_dir / "_state" / "result.csv",
        "the out dir itself": ingested_out_dir,
    }[where]
    before = tree(ingested_out_dir)
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--format", "parquet", "--output", str(target), "SELECT * FROM articles")
    assert result.exit_code == 2, result.output
    assert "inside the dataset" in result.output
    assert tree(ingested_out_dir) == before


def test_output_through_a_symlink_into_the_dataset_is_refused(ingested_out_dir, tmp_path):
    link = tmp_path / "innocent"
    link.symlink_to(ingested_out_dir / "articles")
    before = tree(ingested_out_dir)
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--format", "parquet", "--output", str(link / "x.parquet"),
                    "SELECT * FROM articles")
    assert result.exit_code == 2 and "inside the dataset" in result.output
    file_link = tmp_path / "result.parquet"
    file_link.symlink_to(a_partition_file(ingested_out_dir))
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--format", "parquet", "--output", str(file_link), "SELECT 1 AS x")
    assert result.exit_code == 2 and "inside the dataset" in result.output
    assert tree(ingested_out_dir) == before


def test_output_that_is_a_hard_link_to_a_partition_file_is_replaced_not_written_through(ingested_out_dir, tmp_path):
    part = a_partition_file(ingested_out_dir)
    link = tmp_path / "result.csv"
    os.link(part, link)
    before = tree(ingested_out_dir)
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--format", "csv", "--output", str(link), "SELECT 42 AS answer")
    assert result.exit_code == 0, result.output
    assert link.read_text() == "answer\n42\n"
    assert tree(ingested_out_dir) == before


@pytest.mark.parametrize("output_format", ["parquet", "csv", "json", "table"])
def test_output_outside_the_dataset_is_written(ingested_out_dir, tmp_path, output_format):
    target = tmp_path / f"result.{output_format}"
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--format", output_format, "--output", str(target),
                    "SELECT source, count(*) AS n FROM articles GROUP BY source")
    assert result.exit_code == 0, result.output
    if output_format == "parquet":
        expected = duckdb.connect().execute(
            f"SELECT count(DISTINCT source) FROM read_parquet('{ingested_out_dir}/articles/**/*.parquet', hive_partitioning = true)").fetchone()[0]
        assert duckdb.connect().execute(f"SELECT count(*), sum(n) FROM read_parquet('{target}')").fetchone() == (expected, 26)
    else:
        assert target.read_text(encoding="utf-8").strip()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


def test_output_in_a_missing_folder_is_a_usage_error(ingested_out_dir, tmp_path):
    result = invoke("query", "--out-dir", str(ingested_out_dir), "--output", str(tmp_path / "no" / "such.csv"), "SELECT 1")
    assert result.exit_code == 2 and "does not exist" in result.output


# -- what still works ------------------------------------------------------------

def test_the_views_read_the_whole_dataset_and_the_session_stays_usable(ingested_out_dir):
    connection = connect(ingested_out_dir)
    assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] == 26
    assert connection.execute("SELECT count(*) FROM rejects").fetchone()[0] == 1
    assert connection.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    # in-memory work is fine: variables, temporary tables, macros
    connection.execute("SET VARIABLE n = 3; CREATE TABLE t AS SELECT * FROM articles LIMIT getvariable('n')")
    assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 3
    with pytest.raises(duckdb.Error):
        connection.execute("SET enable_external_access = true")


def test_status_still_works(ingested_out_dir):
    result = invoke("status", "--out-dir", str(ingested_out_dir))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("26 articles")


def test_the_sandbox_views_equal_the_views_file(ingested_out_dir):
    """Same columns, types and rows as schemas/views.sql gives an unrestricted DuckDB."""
    from schemas.views import render_views_file
    plain = duckdb.connect()
    plain.execute(render_views_file(str(ingested_out_dir)))
    sandbox = connect(ingested_out_dir)
    for table in ("articles", "rejects", "runs"):
        assert sandbox.execute(f"DESCRIBE {table}").fetchall() == plain.execute(f"DESCRIBE {table}").fetchall()
        order = "raw_path" if table != "runs" else "run_id"
        query = f"SELECT * EXCLUDE ({'size' if table == 'rejects' else order}) FROM {table} ORDER BY {order}"
        assert sandbox.execute(query).fetchall() == plain.execute(query).fetchall()


def test_percent_encoded_sources_read_back_as_themselves(tmp_path):
    from helpers_pipeline import article_text
    raw, out = tmp_path / "raw", tmp_path / "out"
    names = ["a/b", "50% off", "x=y", "C:\\dir", "中文 空格", "#tag?"]
    for index, name in enumerate(names):
        write_raw(raw, f"s/{index}.md", article_text(f"标题{index}", "2022-08-01 10:00:00", author=name))
    assert invoke("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1").exit_code == 0
    found = [row[0] for row in connect(out).execute("SELECT source FROM articles ORDER BY source").fetchall()]
    assert found == sorted(names)


def test_repository_root_is_not_needed(ingested_out_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert connect(ingested_out_dir).execute("SELECT count(*) FROM articles").fetchone()[0] == 26
    assert REPO.is_dir()
