"""Docs never drift: README schema table, views.sql, command docstrings and README recipes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from helpers_cli import invoke
from jobs.cli import app
from jobs.run.pipeline import RunOptions, ingest
from jobs.analyst.query import connect
from schemas.docs import schema_markdown
from schemas.views import VIEWS_FILE, render_views_file

from paths import REPO as ROOT
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _between(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0].strip()


def test_readme_schema_table_is_generated_from_the_schema():
    assert _between(README, "schema") == schema_markdown().strip()


def test_views_sql_file_is_generated_from_the_schema():
    assert VIEWS_FILE.read_text(encoding="utf-8") == render_views_file()


def test_every_command_has_help_and_a_docstring_with_an_example():
    commands = [c.callback for c in app.registered_commands]
    assert {c.__name__ for c in commands} >= {"ingest", "reprocess", "status", "query", "schema", "report", "inspect"}
    for command in commands:
        assert command.__doc__ and "Example: articles " in command.__doc__, command.__name__
        result = invoke(command.__name__, "--help")
        assert result.exit_code == 0, result.output
        assert command.__doc__.strip().splitlines()[0][:30] in " ".join(result.output.split())


def test_readme_first_command_ingests_the_shipped_sample_into_several_sources_and_dates(sample_dataset: Path):
    counts = connect(sample_dataset).execute(
        "SELECT count(*), count(DISTINCT source), count(DISTINCT date) FROM articles").fetchall()[0]
    assert counts[0] >= 10 and counts[1] >= 5 and counts[2] >= 5


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lake")
    ingest(RunOptions(raw_dir=ROOT / "data" / "raw", out_dir=out, workers=1))
    return out


SQL_RECIPES = re.findall(r"```sql\n(-- recipe: [^\n]+\n.*?)```", README, flags=re.S)


def test_readme_has_the_recipes_the_issue_asks_for():
    names = " | ".join(r.splitlines()[0] for r in SQL_RECIPES)
    for wanted in ("per source per day", "newest 20", "full-text", "char_count", "no text", "rejects by reason", "image hosts"):
        assert wanted in names


@pytest.mark.parametrize("recipe", SQL_RECIPES, ids=[r.splitlines()[0][11:] for r in SQL_RECIPES])
def test_readme_sql_recipe_runs_through_the_query_command(recipe: str, sample_dataset: Path):
    result = invoke("query", "--out-dir", sample_dataset, "--format", "csv", "--", recipe)
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) >= 1


def test_readme_recipes_answer_correctly_on_the_sample(sample_dataset: Path):
    connection = connect(sample_dataset)
    by_name = {r.splitlines()[0][len("-- recipe: "):]: r for r in SQL_RECIPES}
    per_day = connection.sql(by_name["articles per source per day"]).fetchall()
    assert sum(row[2] for row in per_day) == connection.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    empty = connection.sql(by_name["articles with no text (image-only posts)"]).fetchall()
    assert empty and all(row[2] >= 1 for row in empty)
    hosts = dict(connection.sql(by_name["top image hosts"]).fetchall())
    assert hosts and not any("zfour" in host for host in hosts)


def test_readme_duckdb_and_polars_snippets_run_verbatim(sample_dataset: Path, tmp_path: Path, monkeypatch):
    # They are written for the repository root: give them a data/parquet of their own.
    shutil.copytree(sample_dataset, tmp_path / "data" / "parquet")
    monkeypatch.chdir(tmp_path)
    duckdb_snippet = re.search(r"```sql\n(-- the views, as .*?)```", README, flags=re.S).group(1)
    import duckdb
    rows = duckdb.sql(duckdb_snippet).fetchall()
    assert rows and all(isinstance(source, str) for source, _ in rows)
    polars_snippet = re.search(r"```python\n(import polars as pl.*?)```", README, flags=re.S).group(1)
    namespace: dict = {}
    exec(polars_snippet, namespace)  # noqa: S102 - the README's own example
    assert namespace["articles"].collect_schema()["date"] == pl.Date
