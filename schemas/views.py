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
FILE_LISTS = "_state/articles_files"  # one list per table version (jobs/lake/paths.py Layout.articles_lists)
EMPTY_ARTICLES_FILE = "_state/empty/source=_/month=_/empty.parquet"


def columns_fingerprint(names) -> str:
    """A short name for a data file's set of columns: the file list records it per file, so the views
    know, without opening any file, whether every file has today's columns."""
    import hashlib
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:12]


def current_fingerprint() -> str:
    from schemas.article import ARTICLE_FILE_SCHEMA
    return columns_fingerprint(ARTICLE_FILE_SCHEMA.names)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


ROOT_VARIABLE = "article_lake_root"


def _files_sql(table: str) -> str:
    """The table's files under the root held in ROOT_VARIABLE, read with the right options."""
    if table == "articles":
        types = ", ".join(f"'{key}': '{sql_type}'" for key, sql_type in hive_types().items())
        keys = ", ".join(PARTITION_KEYS)  # last, in this order (DuckDB alone would sort them by name)
        # union_by_name reads every file's footer while binding (3-4x slower on 542 files:
        # bench/views_union_by_name.py), so only when a file lacks a column of today's schema.
        union = "getvariable('article_lake_articles_union')"
        return (f"SELECT * EXCLUDE ({keys}), {keys} FROM read_parquet(getvariable('article_lake_articles_files'),"
                f" hive_partitioning = true, union_by_name = {union}, hive_types = {{{types}}})")
    path = f"getvariable('{ROOT_VARIABLE}') || '/{GLOBS[table]}'"
    return f"SELECT * FROM read_parquet({path}, union_by_name = true)"


def _file_list_sql() -> str:
    """Two statements: the current version's data files, read once into a variable (a snapshot for the session).

    The list always holds one zero-row file, so that a table with no data file yet is an empty view.
    """
    root = f"getvariable('{ROOT_VARIABLE}')"
    chosen = "getvariable('article_lake_list_file')"
    listed = (f"SELECT list_concat(list({root} || '/articles/' || path ORDER BY path), [{root} || '/{EMPTY_ARTICLES_FILE}'])"
              f" FROM read_parquet({chosen})")
    union = (f"SELECT coalesce(bool_or(column_set IS DISTINCT FROM {_sql_string(current_fingerprint())}), false)"
             f" FROM (SELECT NULL::VARCHAR AS column_set WHERE false UNION ALL BY NAME SELECT * FROM read_parquet({chosen}))")
    # The newest list by name (zero-padded versions); a list is never rewritten, so both reads see one file.
    return (f"SET VARIABLE article_lake_list_file = (SELECT max(file) FROM glob({root} || '/{FILE_LISTS}/*.parquet'));\n"
            f"SET VARIABLE article_lake_articles_list = CASE WHEN getvariable('article_lake_list_file') IS NOT NULL\n"
            f"    THEN {_sql_string(listed)}\n"
            f"    ELSE 'SELECT NULL::VARCHAR[]' END;\n"
            f"SET VARIABLE article_lake_articles_files = (FROM query(getvariable('article_lake_articles_list')));\n"
            f"SET VARIABLE article_lake_articles_union = CASE WHEN getvariable('article_lake_articles_files') IS NOT NULL\n"
            f"    THEN {_sql_string(union)} ELSE 'SELECT false' END;\n"
            f"SET VARIABLE article_lake_articles_union = (FROM query(getvariable('article_lake_articles_union')));")


def empty_view_sql(table: str) -> str:
    """A typed, empty stand-in for a table with no file yet (columns in the order the files give them)."""
    columns = [c for c in TABLES[table] if c.name not in PARTITION_KEYS] + [c for c in TABLES[table] if c.name in PARTITION_KEYS]
    typed = ", ".join(f"CAST(NULL AS {c.sql_type}) AS \"{c.name}\"" for c in columns)
    return f"SELECT {typed} WHERE false"


MISSING_LIST_MESSAGE = ("article-lake: _state/articles_files/ (the lists of the table's current files that these views"
                        " read) is missing: any run writes it again (articles ingest, a no-op when nothing changed),"
                        " or read articles/ with delta_scan or Polars scan_delta")


def missing_list_view_sql() -> str:
    """A view of the right columns that fails, naming the repair, when queried: the table is there but its
    file list is not (a dataset copied without _state). Silently empty would be a wrong answer."""
    return empty_view_sql("articles").replace("WHERE false", f"WHERE error({_sql_string(MISSING_LIST_MESSAGE)})")


def between_macro_sql() -> str:
    """`articles_between(date_from, date_to)`: the articles of a date range, reading only the files of
    the months the range touches. DuckDB prunes files by the `month` folder of a constant predicate,
    never by a `date` predicate alone (it opens every file's footer to read its statistics)."""
    return ("CREATE OR REPLACE MACRO articles_between(date_from, date_to) AS TABLE\n"
            "    SELECT * FROM articles\n"
            "    WHERE month BETWEEN strftime(CAST(date_from AS DATE), '%Y-%m') AND strftime(CAST(date_to AS DATE), '%Y-%m')\n"
            "      AND date BETWEEN CAST(date_from AS DATE) AND CAST(date_to AS DATE);")


def view_sql(table: str) -> str:
    """Two statements: choose, once, between the files and the empty stand-in; define the view on the choice.

    read_parquet fails on a pattern that matches nothing (a dataset with no rejects yet, no runs yet, or
    no files at all), so the choice is made with glob() when the views file is read, and the view runs
    it through query(). Works in DuckDB 1.x (the CLI) and 2.x.
    """
    choice = f"article_lake_{table}"
    if table == "articles":
        log = f"getvariable('{ROOT_VARIABLE}') || '/articles/_delta_log/*.json'"
        return (_file_list_sql() + "\n"
                f"SET VARIABLE {choice} = CASE WHEN getvariable('article_lake_articles_files') IS NOT NULL\n"
                f"    THEN {_sql_string(_files_sql(table))}\n"
                f"    WHEN (SELECT count(*) FROM glob({log})) > 0\n"
                f"    THEN {_sql_string(missing_list_view_sql())}\n"
                f"    ELSE {_sql_string(empty_view_sql(table))} END;\n"
                f"CREATE OR REPLACE VIEW {table} AS FROM query(getvariable('{choice}'));\n"
                + between_macro_sql())
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
        "-- `articles` reads the Delta table's current version, as listed in _state/articles_files/ (its newest) when\n"
        "-- this file runs: the session keeps seeing that version (its files stay until vacuum); read this file\n"
        "-- again for a newer one. `source` and `month` are always text. A table with no file yet (no rejects,\n"
        "-- no runs, an empty dataset) is an empty view. A filter on `month` (or on `source`) skips files;\n"
        "-- one on `date` alone opens every file's footer: for a date range use articles_between(from, to).\n"
    )
    return header + set_root + "\n".join(view_sql(t) for t in TABLES_IN_VIEWS) + "\n"


VIEWS_FILE = Path(__file__).with_name("views.sql")
