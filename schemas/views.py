"""The DuckDB views `articles`, `rejects`, `runs` and `templates`, rendered from the schema.

`schemas/views.sql` is this module's output for the default dataset root; a
test fails if the two drift. `articles views --out-dir DIR` renders it for DIR.
(`articles query` does not use it: its sandboxed DuckDB reads no file itself.)
"""

from __future__ import annotations

from pathlib import Path

from schemas.article import PARTITION_KEYS, TABLES, hive_types

DEFAULT_ROOT = "data/parquet"
GLOBS = {
    "rejects": "rejects/*.parquet",
    "runs": "_state/runs.parquet",
    "templates": "templates/*.parquet",
}
TABLES_IN_VIEWS = ("articles", "rejects", "runs", "templates")
# The articles table is a Delta table: its views read the current version's file list, never a glob
# (a glob also lists files of older versions until vacuum). Written by every commit (jobs/lake/store.py).
FILE_LIST = "_state/articles_files.parquet"
EMPTY_ARTICLES_FILE = "_state/empty/source=_/month=_/empty.parquet"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


ROOT_VARIABLE = "article_lake_root"


def _files_sql(table: str) -> str:
    """The table's files under the root held in ROOT_VARIABLE, read with the right options."""
    if table == "articles":
        types = ", ".join(f"'{key}': '{sql_type}'" for key, sql_type in hive_types().items())
        keys = ", ".join(PARTITION_KEYS)  # last, in this order (DuckDB alone would sort them by name)
        return (f"SELECT * EXCLUDE ({keys}), {keys} FROM read_parquet(getvariable('article_lake_articles_files'),"
                f" hive_partitioning = true, hive_types = {{{types}}})")
    path = f"getvariable('{ROOT_VARIABLE}') || '/{GLOBS[table]}'"
    return f"SELECT * FROM read_parquet({path}, union_by_name = true)"


def _file_list_sql() -> str:
    """Two statements: the current version's data files, read once into a variable (a snapshot for the session).

    The list always holds one zero-row file, so that a table with no data file yet is an empty view.
    """
    root = f"getvariable('{ROOT_VARIABLE}')"
    listed = (f"SELECT list_concat(list({root} || '/articles/' || path ORDER BY path), [{root} || '/{EMPTY_ARTICLES_FILE}'])"
              f" FROM read_parquet({root} || '/{FILE_LIST}')")
    return (f"SET VARIABLE article_lake_articles_list = CASE WHEN (SELECT count(*) FROM glob({root} || '/{FILE_LIST}')) > 0\n"
            f"    THEN {_sql_string(listed)}\n"
            f"    ELSE 'SELECT NULL::VARCHAR[]' END;\n"
            f"SET VARIABLE article_lake_articles_files = (FROM query(getvariable('article_lake_articles_list')));")


def empty_view_sql(table: str) -> str:
    """A typed, empty stand-in for a table with no file yet (columns in the order the files give them)."""
    columns = [c for c in TABLES[table] if c.name not in PARTITION_KEYS] + [c for c in TABLES[table] if c.name in PARTITION_KEYS]
    typed = ", ".join(f"CAST(NULL AS {c.sql_type}) AS \"{c.name}\"" for c in columns)
    return f"SELECT {typed} WHERE false"


def view_sql(table: str) -> str:
    """Two statements: choose, once, between the files and the empty stand-in; define the view on the choice.

    read_parquet fails on a pattern that matches nothing (a dataset with no rejects yet, no runs yet, or
    no files at all), so the choice is made with glob() when the views file is read, and the view runs
    it through query(). Works in DuckDB 1.x (the CLI) and 2.x.
    """
    choice = f"article_lake_{table}"
    if table == "articles":
        return (_file_list_sql() + "\n"
                f"SET VARIABLE {choice} = CASE WHEN getvariable('article_lake_articles_files') IS NOT NULL\n"
                f"    THEN {_sql_string(_files_sql(table))}\n"
                f"    ELSE {_sql_string(empty_view_sql(table))} END;\n"
                f"CREATE OR REPLACE VIEW {table} AS FROM query(getvariable('{choice}'));")
    return (f"SET VARIABLE {choice} = CASE WHEN (SELECT count(*) FROM glob(getvariable('{ROOT_VARIABLE}') || '/{GLOBS[table]}')) > 0\n"
            f"    THEN {_sql_string(_files_sql(table))}\n"
            f"    ELSE {_sql_string(empty_view_sql(table))} END;\n"
            f"CREATE OR REPLACE VIEW {table} AS FROM query(getvariable('{choice}'));")


def render_views_file(root: str | None = None) -> str:
    """The views file. Without `root`, the dataset root is the variable article_lake_root if set, else data/parquet."""
    if root is None:
        where = (f"-- The dataset root: `{ROOT_VARIABLE}` if set before (SET VARIABLE {ROOT_VARIABLE} = '/srv/lake/parquet';),\n"
                 f"-- else {DEFAULT_ROOT} under the current folder. From the repository root: duckdb -init schemas/views.sql\n")
        set_root = f"SET VARIABLE {ROOT_VARIABLE} = coalesce(getvariable('{ROOT_VARIABLE}'), {_sql_string(DEFAULT_ROOT)});\n"
    else:
        where = f"-- For the dataset at {root} (made by `articles views --out-dir`).\n"
        set_root = f"SET VARIABLE {ROOT_VARIABLE} = {_sql_string(root.rstrip('/') or '/')};\n"
    header = (
        "-- article-lake views, generated from schemas/article.py by schemas/views.py (do not edit).\n"
        + where +
        "-- `articles` reads the Delta table's current version, as listed in _state/articles_files.parquet when\n"
        "-- this file runs: the session keeps seeing that version (its files stay until vacuum); read this file\n"
        "-- again for a newer one. `source` and `month` are always text. A table with no file yet (no rejects,\n"
        "-- no runs, an empty dataset) is an empty view.\n"
    )
    return header + set_root + "\n".join(view_sql(t) for t in TABLES_IN_VIEWS) + "\n"


VIEWS_FILE = Path(__file__).with_name("views.sql")
