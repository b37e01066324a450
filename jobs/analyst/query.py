"""Analyst access: an embedded DuckDB with the dataset's views, sandboxed by DuckDB's own settings.

DuckDB gets no file access at all: `enable_external_access` is off with nothing allowed,
extensions can be neither installed nor loaded, nothing spills to disk, and the configuration
is locked before any SQL of the user runs. The views `articles`, `rejects` and `runs` are Arrow
datasets over the dataset's Parquet files, opened read-only by pyarrow and handed to DuckDB, so
a query can read them but no statement can name, read or write a file. `articles` is the Delta
table's latest version (or the one asked with `as_of`), as delta-rs lists it: a query sees one
version whatever runs commit meanwhile, and filters on `source` and `month` (partition values) and
on `date` and `published_at` (each file's statistics in the log) skip the files that cannot match. An allow-list of directories would not do:
DuckDB lets a query write wherever it may read (`COPY ... TO` a partition file).
"""

from __future__ import annotations

import datetime as dt
import glob
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from jobs.lake.table import ArticlesTable
from schemas.article import ARTICLE_FILE_SCHEMA, PARTITION_KEYS, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA, TEMPLATE_FILE_SCHEMA
from schemas.views import GLOBS

# Partition keys as the views type them: always text.
PARTITION_SCHEMA = pa.schema([("source", pa.string()), ("month", pa.string())])

# Applied in this order; `lock_configuration` last, so that no SET, RESET or PRAGMA can undo them.
SANDBOX_SETTINGS: tuple[tuple[str, object], ...] = (
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
    ("allow_community_extensions", False),
    ("python_enable_replacements", False),  # SQL cannot reach Python objects by name
    ("temp_directory", ""),  # nothing spills to disk (a relative default would write into the cwd)
    ("enable_external_access", False),
    ("lock_configuration", True),
)


def table_schemas() -> dict[str, pa.Schema]:
    """Each view's Arrow schema: every column nullable, so older files missing a column read as NULL."""
    def nullable(schema: pa.Schema) -> pa.Schema:
        return pa.schema([field.with_nullable(True) for field in schema], metadata=schema.metadata)
    return {
        "articles": pa.unify_schemas([nullable(ARTICLE_FILE_SCHEMA), PARTITION_SCHEMA]),
        "rejects": nullable(REJECT_FILE_SCHEMA),
        "runs": nullable(RUN_FILE_SCHEMA),
        "templates": nullable(TEMPLATE_FILE_SCHEMA),
    }


def data_files(out_dir: str | Path) -> dict[str, list[str]]:
    """The files of the single-file tables (rejects, runs), listed with the same globs as schemas/views.sql."""
    root = Path(out_dir)
    return {table: sorted(glob.glob(str(root / pattern), recursive=True)) for table, pattern in GLOBS.items()}


AsOf = int | dt.datetime | None


def articles_dataset(out_dir: str | Path, as_of: AsOf = None) -> ds.Dataset:
    """The Delta table at its latest version (or `as_of`: a version number or an instant) as an Arrow
    dataset, columns as the views give them (file columns, then source and month)."""
    table = ArticlesTable(out_dir)
    if not table.exists():
        return ds.dataset(table_schemas()["articles"].empty_table())
    delta = table.open(as_of)
    dataset = delta.to_pyarrow_dataset()
    return dataset


def open_datasets(out_dir: str | Path, as_of: AsOf = None) -> dict[str, ds.Dataset]:
    """Read-only Arrow datasets for the views; a table with no file yet is empty, not an error."""
    schemas = table_schemas()
    files = data_files(out_dir)
    datasets = {"articles": articles_dataset(out_dir, as_of)}
    for table in GLOBS:
        if not files[table]:
            datasets[table] = ds.dataset(schemas[table].empty_table())
        else:
            datasets[table] = ds.dataset(files[table], schema=schemas[table], format="parquet")
    return datasets


def connect(out_dir: str | Path, as_of: AsOf = None) -> duckdb.DuckDBPyConnection:
    """A sandboxed in-memory DuckDB with the views `articles`, `rejects` and `runs` over `out_dir`."""
    connection = duckdb.connect(":memory:")
    datasets = open_datasets(out_dir, as_of)
    for table, dataset in datasets.items():
        connection.register(f"_{table}" if table == "articles" else table, dataset)
    keys = ", ".join(PARTITION_KEYS)
    connection.execute(f"CREATE VIEW articles AS SELECT * EXCLUDE ({keys}), {keys} FROM _articles")
    for name, value in SANDBOX_SETTINGS:
        connection.execute(f"SET {name} = ?", [value])
    return connection
