"""The DuckDB views `articles`, `rejects` and `runs`, rendered from the schema.

`schemas/views.sql` is this module's output for the default dataset root; a
test fails if the two drift. `articles views --out-dir DIR` renders it for DIR.
(`articles query` does not use it: its sandboxed DuckDB reads no file itself.)
"""

from __future__ import annotations

from pathlib import Path

from schemas.article import PARTITION_KEYS, TABLES, hive_types

DEFAULT_ROOT = "data/parquet"
GLOBS = {
    "articles": "articles/**/*.parquet",
    "rejects": "rejects/*.parquet",
    "runs": "_state/runs.parquet",
}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


ROOT_VARIABLE = "article_lake_root"


def _files_sql(table: str) -> str:
    """The table's files under the root held in ROOT_VARIABLE, read with the right options."""
    path = f"getvariable('{ROOT_VARIABLE}') || '/{GLOBS[table]}'"
    if table == "articles":
        types = ", ".join(f"'{key}': '{sql_type}'" for key, sql_type in hive_types().items())
        keys = ", ".join(PARTITION_KEYS)  # last, in this order (DuckDB alone would sort them by name)
        return (f"SELECT * EXCLUDE ({keys}), {keys} FROM read_parquet({path}, hive_partitioning = true, "
                f"hive_types = {{{types}}}, union_by_name = true)")
    return f"SELECT * FROM read_parquet({path}, union_by_name = true)"


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
        "-- `source` is always text and `date` a DATE, whatever the folder names look like. A table with no\n"
        "-- file yet (no rejects, no runs, an empty dataset) is an empty view; read this file again once it has one.\n"
    )
    return header + set_root + "\n".join(view_sql(t) for t in GLOBS) + "\n"


VIEWS_FILE = Path(__file__).with_name("views.sql")
