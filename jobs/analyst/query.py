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
from urllib.parse import unquote

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from jobs.errors import UsageError
from jobs.lake.table import STATS_COLUMNS, ArticlesTable
from schemas.article import ARTICLE_FILE_SCHEMA, PARTITION_KEYS, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA, TEMPLATE_FILE_SCHEMA
from schemas.views import GLOBS, between_macro_sql

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


def parse_as_of(text: str) -> int | dt.datetime:
    """`--as-of`: a version number, or an ISO date or instant (no zone: UTC)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r}: give a version number (articles history lists them) or an ISO date or"
                         " instant such as 2022-08-07 or 2022-08-07T06:00:00+08:00") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def articles_dataset(out_dir: str | Path, as_of: AsOf = None) -> ds.Dataset:
    """The Delta table at its latest version (or `as_of`: a version number or an instant) as an Arrow
    dataset, columns as the views give them (file columns, then source and month)."""
    table = ArticlesTable(out_dir)
    if not table.exists():
        if as_of is not None:
            raise UsageError(f"--as-of: no table at {table.uri} yet")
        return ds.dataset(table_schemas()["articles"].empty_table())
    delta = _open_as_of(table, as_of) if as_of is not None else table.open()
    return _dataset_of(table, delta)


def _dataset_of(table: ArticlesTable, delta) -> ds.Dataset:
    """The loaded version's files as an Arrow dataset whose fragments carry only what is known of them:
    partition values and the date and published_at ranges of the log's statistics, so a filter on those
    skips files unopened. Not `DeltaTable.to_pyarrow_dataset()`: it adds `column >= null` for every column
    without statistics, and pyarrow then drops every file for a filter on such a column (`WHERE raw_path =
    'x'` found nothing: tests/test_query_pruning.py)."""
    import pyarrow.fs as pafs
    schema = table_schemas()["articles"]
    actions = pa.table(delta.get_add_actions(flatten=True)).to_pylist()
    file_format = ds.ParquetFileFormat()
    filesystem = pafs.SubTreeFileSystem(str(table.layout.articles.resolve()), pafs.LocalFileSystem())
    fragments = [file_format.make_fragment(unquote(a["path"]), filesystem=filesystem, file_size=a["size_bytes"],
                                           partition_expression=_known_of(a)) for a in actions]
    return ds.FileSystemDataset(fragments, schema, file_format, filesystem)


def _known_of(action: dict) -> ds.Expression:
    """What holds for every row of a file: its partition values; each statistics column within [min, max]
    (or null, when the file has nulls there). Timestamps in the log are cut to milliseconds: max + 1 ms."""
    known = ds.field("source") == action["partition.source"]
    month = action.get("partition.month")
    known &= ds.field("month").is_null() if month is None else ds.field("month") == month
    for column in STATS_COLUMNS:
        low, high, nulls = action.get(f"min.{column}"), action.get(f"max.{column}"), action.get(f"null_count.{column}")
        if low is None or high is None or nulls is None:
            continue
        if isinstance(high, dt.datetime):
            high += dt.timedelta(milliseconds=1)
        within = (ds.field(column) >= pa.scalar(low, schema_type(column))) & (ds.field(column) <= pa.scalar(high, schema_type(column)))
        known &= within if nulls == 0 else (ds.field(column).is_null() | within)
    return known


def schema_type(column: str) -> pa.DataType:
    return ARTICLE_FILE_SCHEMA.field(column).type


def _open_as_of(table: ArticlesTable, as_of: int | dt.datetime):
    """The table at an older version, or a one-line UsageError: no such version, an instant before the
    table, or a version whose files vacuum already removed (older than the retention)."""
    from deltalake.exceptions import DeltaError

    from jobs.lake.history import table_history
    versions = table_history(table.layout)
    if isinstance(as_of, dt.datetime) and versions and versions[-1].committed_at and as_of < versions[-1].committed_at:
        raise UsageError(f"--as-of {as_of.isoformat()}: before the table's first version ({versions[-1].committed_at.isoformat()})")
    try:
        delta = table.open(as_of)
    except (DeltaError, ValueError, OSError):
        latest = versions[0].version if versions else "none"
        raise UsageError(f"--as-of {as_of}: no such version of the table (latest: {latest};"
                         " articles history lists them)") from None
    gone = [f.relative for f in table.live_files() if not table.layout.data_file(f.relative).exists()]
    if gone:
        raise UsageError(f"--as-of {as_of}: version {delta.version()} is older than what vacuum kept ({len(gone)} of its"
                         f" files are removed, e.g. {gone[0]}); pick a later version with articles history")
    return delta


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
    connection.execute(between_macro_sql())  # as in schemas/views.sql, so recipes run in both
    for name, value in SANDBOX_SETTINGS:
        connection.execute(f"SET {name} = ?", [value])
    return connection
