"""Analyst access: an embedded DuckDB with the dataset's views, sandboxed by DuckDB's own settings.

DuckDB gets no file access at all: `enable_external_access` is off with nothing allowed,
extensions can be neither installed nor loaded, nothing spills to disk, and the configuration
is locked before any SQL of the user runs. The views `articles`, `rejects` and `runs` are Arrow
datasets over the dataset's Parquet files, opened read-only by pyarrow and handed to DuckDB, so
a query can read them (with partition pruning: filters on `source` and `date` reach the scan)
but no statement can name, read or write a file. An allow-list of directories would not do:
DuckDB lets a query write wherever it may read (`COPY ... TO` a partition file).
"""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from schemas.article import ARTICLE_FILE_SCHEMA, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA
from schemas.views import GLOBS

# Partition keys as the views type them: `source` is always text, `date` a DATE.
PARTITION_SCHEMA = pa.schema([("source", pa.string()), ("date", pa.date32())])

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
    }


def data_files(out_dir: str | Path) -> dict[str, list[str]]:
    """The files each view reads, listed with the same globs as schemas/views.sql."""
    root = Path(out_dir)
    return {table: sorted(glob.glob(str(root / pattern), recursive=True)) for table, pattern in GLOBS.items()}


def open_datasets(out_dir: str | Path) -> dict[str, ds.Dataset]:
    """Read-only Arrow datasets for the views; a table with no file yet is empty, not an error."""
    schemas = table_schemas()
    files = data_files(out_dir)
    datasets = {}
    for table, schema in schemas.items():
        if not files[table]:
            datasets[table] = ds.dataset(schema.empty_table())
        elif table == "articles":
            partitioning = ds.partitioning(PARTITION_SCHEMA, flavor="hive")  # decodes %XX, like DuckDB and Polars
            datasets[table] = ds.dataset(files[table], schema=schema, format="parquet", partitioning=partitioning,
                                         partition_base_dir=str(Path(out_dir) / "articles"))
        else:
            datasets[table] = ds.dataset(files[table], schema=schema, format="parquet")
    return datasets


def connect(out_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A sandboxed in-memory DuckDB with the views `articles`, `rejects` and `runs` over `out_dir`."""
    connection = duckdb.connect(":memory:")
    for name, value in SANDBOX_SETTINGS:
        connection.execute(f"SET {name} = ?", [value])
    for table, dataset in open_datasets(out_dir).items():
        connection.register(table, dataset)
    return connection
