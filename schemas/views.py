"""The DuckDB views `articles`, `rejects` and `runs`, rendered from the schema.

`schemas/views.sql` is this module's output for the default dataset root; a
test fails if the two drift. `articles query` renders it for its --out-dir.
"""

from __future__ import annotations

from pathlib import Path

from schemas.article import TABLES, hive_types

DEFAULT_ROOT = "data/parquet"
GLOBS = {
    "articles": "articles/**/*.parquet",
    "rejects": "rejects/*.parquet",
    "runs": "_state/runs.parquet",
}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_sql(table: str, root: str = DEFAULT_ROOT) -> str:
    path = _sql_string(f"{root.rstrip('/')}/{GLOBS[table]}")
    if table == "articles":
        types = ", ".join(f"'{key}': '{sql_type}'" for key, sql_type in hive_types().items())
        return (f"CREATE OR REPLACE VIEW articles AS SELECT * FROM read_parquet({path}, hive_partitioning = true,\n"
                f"    hive_types = {{{types}}}, union_by_name = true);")
    return f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({path}, union_by_name = true);"


def empty_view_sql(table: str) -> str:
    """A typed, empty stand-in when the dataset has no file for the table yet."""
    columns = ", ".join(f"CAST(NULL AS {c.sql_type}) AS \"{c.name}\"" for c in TABLES[table])
    return f"CREATE OR REPLACE VIEW {table} AS SELECT {columns} WHERE false;"


def render_views_file(root: str = DEFAULT_ROOT) -> str:
    header = (
        "-- article-lake views, generated from schemas/article.py by schemas/views.py (do not edit).\n"
        "-- From the repository root: duckdb -init schemas/views.sql\n"
        "-- `source` is always text and `date` a DATE, whatever the folder names look like.\n"
    )
    return header + "\n".join(view_sql(t, root) for t in GLOBS) + "\n"


VIEWS_FILE = Path(__file__).with_name("views.sql")
