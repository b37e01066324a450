"""schemas/views.sql opens on every state of a dataset, in the DuckDB CLI and in Python, for any out dir."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from jobs.lake.paths import Layout
from helpers_cli import invoke
from helpers_pipeline import copy_samples, write_raw
from schemas.views import VIEWS_FILE

COUNT_SQL = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM rejects), (SELECT count(*) FROM runs)"
STATES = ["empty", "no runs yet", "no rejects", "only rejects", "articles and rejects"]


def make_state(root: Path, state: str) -> Path:
    """An out dir in the given state (for 'empty', a folder that does not even exist)."""
    raw, out = root / "raw", root / "out"
    if state == "empty":
        return out
    if state in ("no runs yet", "no rejects", "articles and rejects"):
        copy_samples(raw)
    if state in ("only rejects", "articles and rejects"):
        write_raw(raw, "bad/no_front_matter.md", "no front matter\n")
    result = invoke("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", "--max-reject-ratio", "1")
    assert result.exit_code == 0, result.output
    if state == "no runs yet":  # e.g. a dataset copied without its run log
        (out / "_state" / "runs.parquet").unlink()
    return out


def current_article_files(out: Path) -> list[str]:
    """The current version's data files, as the log names them (paths under a root of any name)."""
    from jobs.lake.table import ArticlesTable
    table = ArticlesTable(out)
    return [str(out / "articles" / f.relative) for f in table.live_files()] if table.exists() else []


def expected_counts(out: Path) -> tuple[int, int, int]:
    """Rows of the table's current version (from its log), of the rejects and of the run log."""
    def rows(paths) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return (rows(current_article_files(out)), rows(out.glob("rejects/*.parquet")), rows(out.glob("_state/runs.parquet")))


@pytest.fixture(scope="module", params=STATES)
def out_dir_in_state(request, tmp_path_factory) -> Path:
    """An out dir in one of STATES (for 'empty', a path that does not exist)."""
    return make_state(tmp_path_factory.mktemp("views"), request.param)


def test_each_state_is_what_its_name_says(out_dir_in_state):
    articles, rejects, runs = expected_counts(out_dir_in_state)
    assert (articles > 0, rejects > 0, runs > 0) in {
        (False, False, False), (True, False, False), (True, False, True), (False, True, True), (True, True, True)}


def python_counts(views_sql: str, root: Path | None = None) -> tuple:
    connection = duckdb.connect()
    if root is not None:
        connection.execute("SET VARIABLE article_lake_root = ?", [str(root)])
    connection.execute(views_sql)
    return connection.execute(COUNT_SQL).fetchone()


def test_python_opens_the_views_file_with_a_root_variable(out_dir_in_state):
    assert python_counts(VIEWS_FILE.read_text(encoding="utf-8"), out_dir_in_state) == expected_counts(out_dir_in_state)


def test_python_opens_the_views_file_from_a_folder_holding_data_parquet(out_dir_in_state, tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    if out_dir_in_state.exists():
        (tmp_path / "data" / "parquet").symlink_to(out_dir_in_state)
    monkeypatch.chdir(tmp_path)
    assert python_counts(VIEWS_FILE.read_text(encoding="utf-8")) == expected_counts(out_dir_in_state)


def test_articles_views_prints_a_file_bound_to_its_out_dir(out_dir_in_state, tmp_path, monkeypatch):
    result = invoke("views", "--out-dir", str(out_dir_in_state))
    if not out_dir_in_state.exists():  # a mistyped out dir is refused, never views of an empty dataset
        assert result.exit_code == 2 and "no dataset at" in result.output
        return
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)  # any folder
    assert python_counts(result.stdout) == expected_counts(out_dir_in_state)
    assert str(out_dir_in_state.resolve()) in result.stdout


def test_the_views_read_columns_of_the_schema_with_source_text_and_date_a_date(out_dir_in_state):
    from schemas.article import TABLES
    connection = duckdb.connect()
    connection.execute("SET VARIABLE article_lake_root = ?", [str(out_dir_in_state)])
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    for table, columns in TABLES.items():
        described = {name: kind for name, kind, *_ in connection.execute(f"DESCRIBE {table}").fetchall()}
        assert set(described) == {c.name for c in columns}
        assert all(described[c.name] == c.sql_type for c in columns), table


def test_a_root_with_a_quote_in_its_name(tmp_path):
    out = make_state(tmp_path / "it's here", "articles and rejects")
    result = invoke("views", "--out-dir", str(out))
    assert python_counts(result.stdout) == expected_counts(out)


# -- the DuckDB CLI -----------------------------------------------------------------

def duckdb_cli() -> str:
    found = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if not found:
        pytest.skip("the DuckDB CLI is not installed (pip install duckdb-cli)")
    return found


def cli_counts(*args: str, cwd: Path) -> tuple:
    done = subprocess.run([duckdb_cli(), "-csv", "-noheader", *args, "-c", COUNT_SQL], cwd=cwd,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Error" not in done.stdout + done.stderr
    return tuple(int(v) for v in done.stdout.strip().splitlines()[-1].split(","))


def test_cli_init_from_a_folder_holding_data_parquet(out_dir_in_state, tmp_path):
    (tmp_path / "data").mkdir()
    if out_dir_in_state.exists():
        (tmp_path / "data" / "parquet").symlink_to(out_dir_in_state)
    assert cli_counts("-init", str(VIEWS_FILE), cwd=tmp_path) == expected_counts(out_dir_in_state)


def test_cli_with_the_root_set_first(out_dir_in_state, tmp_path):
    args = ("-cmd", f"SET VARIABLE article_lake_root = '{out_dir_in_state}'", "-cmd", f".read {VIEWS_FILE}")
    assert cli_counts(*args, cwd=tmp_path) == expected_counts(out_dir_in_state)


def test_cli_init_with_the_file_articles_views_prints(out_dir_in_state, tmp_path):
    if not out_dir_in_state.exists():
        pytest.skip("`articles views` refuses an out dir holding no dataset (the test above)")
    views = tmp_path / "views.sql"
    views.write_text(invoke("views", "--out-dir", str(out_dir_in_state)).stdout, encoding="utf-8")
    assert cli_counts("-init", str(views), cwd=tmp_path) == expected_counts(out_dir_in_state)


def _explain_cli(views: Path, sql: str, cwd: Path) -> str:
    done = subprocess.run([duckdb_cli(), "-init", str(views), "-c", "EXPLAIN ANALYZE " + sql],
                          cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_cli_prunes_partitions_through_the_views(tmp_path):
    out = make_state(tmp_path, "no rejects")
    views = tmp_path / "views.sql"
    views.write_text(invoke("views", "--out-dir", str(out)).stdout, encoding="utf-8")
    files = current_article_files(out)
    part = Path(files[0])
    source, month = part.parent.parent.name.removeprefix("source="), part.parent.name.removeprefix("month=")
    total = len(files) + 1  # and the list's one empty file, which keeps an empty table readable
    one_partition = _explain_cli(views, f"SELECT title FROM articles WHERE source = '{source}' AND month = '{month}'", tmp_path)
    assert f"Scanning Files: 1/{total}" in one_partition, one_partition


def test_articles_between_reads_only_the_months_of_its_range_and_a_date_filter_alone_reads_all(tmp_path):
    # What the README says of the views: `month` prunes files, `date` alone only row groups.
    out = make_state(tmp_path, "no rejects")
    views = tmp_path / "views.sql"
    views.write_text(invoke("views", "--out-dir", str(out)).stdout, encoding="utf-8")
    connection = duckdb.connect()
    connection.execute(views.read_text(encoding="utf-8"))
    day, month, in_month = connection.execute(
        "SELECT max(date), strftime(max(date), '%Y-%m'), count(DISTINCT source) FILTER (WHERE month = strftime(DATE '2022-07-30', '%Y-%m'))"
        " FROM articles WHERE month = '2022-07'").fetchone()
    files_of_month = connection.execute("SELECT count(*) FROM read_parquet(?) WHERE month = ?",
                                        [str(Layout(out).current_articles_list()), month]).fetchone()[0]
    total = len(current_article_files(out)) + 1
    assert 1 <= files_of_month < total - 1
    expected = connection.execute("SELECT count(*) FROM articles WHERE date = ?", [day]).fetchone()[0]
    assert connection.execute("SELECT count(*) FROM articles_between(?, ?)", [day, day]).fetchone()[0] == expected
    between = _explain_cli(views, f"SELECT count(*) FROM articles_between('{day}', '{day}')", tmp_path)
    assert f"Scanning Files: {files_of_month}/{total}" in between, between
    date_alone = _explain_cli(views, f"SELECT count(*) FROM articles WHERE date = DATE '{day}'", tmp_path)
    assert f"Total Files Read: {total}" in date_alone, date_alone
    del in_month


def test_a_dataset_copied_without_its_state_names_the_repair_instead_of_reading_empty(tmp_path):
    out = make_state(tmp_path, "no rejects")
    copy = tmp_path / "copy"
    shutil.copytree(out / "articles", copy / "articles")
    connection = duckdb.connect()
    connection.execute("SET VARIABLE article_lake_root = ?", [str(copy)])
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    assert connection.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    with pytest.raises(duckdb.Error, match="articles_files/ .* is missing: any run writes it again"):
        connection.execute("SELECT count(*) FROM articles").fetchone()
    assert {name for name, *_ in connection.execute("DESCRIBE articles").fetchall()} >= {"article_id", "date", "month"}
    assert invoke("ingest", "--raw-dir", str(tmp_path / "raw"), "--out-dir", str(copy), "--workers", "1").exit_code == 0
    connection.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] == expected_counts(out)[0]
