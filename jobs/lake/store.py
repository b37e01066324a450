"""The dataset's plain files: data-file encoding options, the views' file list, rejects and run log. I/O.

Layout: see jobs/lake/paths.py. Reduce tasks write data files straight into the Delta table
(jobs/lake/table.py) with `encode_options`. The rejects file and the run log are single files
derived from the manifest, each replaced whole by a rename (a reader opens the old or the new one).
"""
from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.errors import DamagedFile
from jobs.lake.damaged import read_parquet
from jobs.lake.lock import StagingFolder, remove_abandoned_staging
from jobs.lake.paths import Layout, rejects_file, runs_file, staging_dir, staging_root
from schemas.article import (ARTICLE_FILE_SCHEMA, REJECT_FILE_SCHEMA, RUN_FILE_SCHEMA, TABLES, TEMPLATE_FILE_SCHEMA, conform,
                             dictionary_columns)

ROW_GROUP_ROWS = 10_000
# Files of fewer rows are compressed with snappy, bigger ones with zstd. A file of a few rows costs about
# 1.2 ms of CPU with zstd against 0.87 ms with snappy (zstd sets up a context per column) for 4 % more
# bytes; at 14 rows snappy already costs 17 % more bytes, at 60 rows 29 % (bench/small_parquet.py).
SMALL_FILE_ROWS = 8


def encode_options(rows: int, table_name: str = "articles") -> tuple[int, str, list[str], list[str]]:
    """(row group rows, codec, columns with statistics, dictionary columns) for a file of `rows` rows."""
    statistics, dictionary, compression = _column_options(table_name, rows < SMALL_FILE_ROWS)
    return ROW_GROUP_ROWS, compression, statistics, dictionary


def write_file_list(layout: Layout, version: int, files: list) -> None:
    """The current version's data files for DuckDB's views: a new file `_state/articles_files/<version>.parquet`
    (Layout.articles_lists says why a list is never rewritten); older lists go after a grace period.

    Readers of the views read this list once, when the views file runs, and then only files it names:
    a version's files stay on disk until vacuum, so such a reader sees one version however long it runs.
    """
    table = pa.table({
        "version": pa.array([version] * len(files), pa.int64()),
        "path": pa.array([f.relative for f in files], pa.string()),
        "source": pa.array([f.source for f in files], pa.string()),
        "month": pa.array([f.month for f in files], pa.string()),
        "rows": pa.array([f.rows for f in files], pa.int64()),
        "column_set": pa.array(_columns_of(layout, [f.relative for f in files]), pa.string()),
    })
    if not layout.empty_articles_file.exists():
        layout.empty_articles_file.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(ARTICLE_FILE_SCHEMA.empty_table(), layout.empty_articles_file)
    target = layout.articles_list(version)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    layout.articles_lists.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, temporary)
    os.replace(temporary, target)
    _drop_old_lists(layout, keep=target)


KEEP_LISTS = 3  # the newest lists stay whatever their age
LIST_GRACE_SECONDS = 600  # and any younger than this: a reader picks the newest, then opens it


def _drop_old_lists(layout: Layout, keep: Path) -> None:
    """Remove the lists of older versions (and temporaries of killed writers), except the newest few and the
    recent ones, and the single list file of earlier code. A reader holds a list only between choosing it
    and opening it; its version's data files are what it then reads, and those stay until vacuum."""
    try:
        entries = sorted(os.scandir(layout.articles_lists), key=lambda entry: entry.name)
    except OSError:
        return
    lists = [e for e in entries if e.name.endswith(".parquet") and not e.name.startswith(".")]
    old = [e for e in entries if e.name.startswith(".")] + lists[:-KEEP_LISTS]
    horizon = time.time() - LIST_GRACE_SECONDS
    for entry in old:
        try:
            if entry.path != str(keep) and entry.stat(follow_symlinks=False).st_mtime < horizon:
                os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to remove: the next run tries again
    try:
        os.unlink(layout.legacy_articles_files)
    except OSError:
        pass


def _columns_of(layout: Layout, relatives: list[str]) -> list[str | None]:
    """Each file's column set (schemas.views.columns_fingerprint): from the previous list, else from the
    file's footer (once in a file's life: data files never change). The views turn on union_by_name only
    when some file lacks a column of today's schema (a file written before the column existed)."""
    from schemas.views import columns_fingerprint
    try:
        previous = pq.read_table(layout.current_articles_list(), columns=["path", "column_set"]).to_pydict()
        known = dict(zip(previous["path"], previous["column_set"]))
    except (OSError, KeyError, TypeError, pa.ArrowException):  # TypeError: no list yet
        known = {}
    found = []
    for relative in relatives:
        if known.get(relative) is None:
            try:
                known[relative] = columns_fingerprint(pq.read_schema(layout.data_file(relative)).names)
            except (OSError, pa.ArrowException):
                known[relative] = None  # unreadable: verify names it; the views fall back to union_by_name
        found.append(known[relative])
    return found


def file_list_version(layout: Layout) -> int | None:
    """The version the views' file list describes; None when there is none (or it is unreadable)."""
    current = layout.current_articles_list()
    if current is None:
        return None
    try:
        versions = pq.read_table(current, columns=["version"]).column("version")
    except (OSError, pa.ArrowException):
        return None
    return versions[0].as_py() if len(versions) else -1


def write_staged(table: pa.Table, path: str | Path, table_name: str = "articles", make_folders: bool = True) -> None:
    """Write a whole Parquet file under _staging (a task's output); a retried task overwrites it.

    make_folders=False: fail if the folder is gone (a task of a run that failed and cleaned up).
    Encoded in memory and written with one write(): most partition files are a few KB, and the
    writer's own file output costs a system call per page and column (bench/small_parquet.py).
    """
    path = os.fspath(path)
    schema = _SCHEMAS[table_name]
    table = conform(table, schema)
    statistics, dictionary, compression = _column_options(table_name, table.num_rows < SMALL_FILE_ROWS)
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression=compression, row_group_size=ROW_GROUP_ROWS,
                   write_statistics=statistics, use_dictionary=dictionary)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        handle = open(temporary, "wb")
    except FileNotFoundError:
        if not make_folders:
            raise
        os.makedirs(os.path.dirname(temporary), exist_ok=True)
        handle = open(temporary, "wb")
    with handle:
        handle.write(buffer.getvalue())
    os.replace(temporary, path)


class Store:
    """The driver's side: staging folder of one run, swaps, rejects and run log files."""

    def __init__(self, out_dir: str | Path, run_id: str):
        self.out = Path(out_dir)
        self.staging = staging_dir(self.out, run_id)
        self._held: StagingFolder | None = None

    def hold_staging(self) -> None:
        """Create this run's staging folder and hold it (flock) until `clean_staging`."""
        self._held = StagingFolder(self.staging)

    def _install(self, staged: Path, target: Path) -> None:
        """Rename one staged file over its target, its bytes durable first."""
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)

    def replace_rejects(self, table: pa.Table) -> bool:
        """Swap in the rejects, unless the file already holds exactly these rows. True when written."""
        target = rejects_file(self.out)
        table = conform(table, REJECT_FILE_SCHEMA)
        if target.exists() and _same_rows(target, table):
            return False
        if not target.exists() and table.num_rows == 0:  # no file already means no rejects
            return False
        staged = self.staging / "rejects.parquet"
        write_staged(table, staged, "rejects")
        self._install(staged, target)
        return True

    def replace_templates(self, table: pa.Table) -> bool:
        """Swap in the sources' templates (the manifest's `templates`), unless the file already holds them."""
        target = Layout(self.out).templates_file
        table = conform(table, TEMPLATE_FILE_SCHEMA)
        if target.exists() and _same_rows(target, table, TEMPLATE_FILE_SCHEMA):
            return False
        if not target.exists() and table.num_rows == 0:
            return False
        staged = self.staging / "templates.parquet"
        write_staged(table, staged, "templates")
        self._install(staged, target)
        return True

    def replace_runs(self, table: pa.Table) -> None:
        staged = self.staging / "runs.parquet"
        write_staged(table, staged, "runs")
        self._install(staged, runs_file(self.out))

    def clean_staging(self) -> None:
        """Remove this run's staging folder and any left by killed runs (never a live run's)."""
        if self._held is not None:
            self._held.release()
            self._held = None
        remove_abandoned_staging(staging_root(self.out))


def _same_rows(path: Path, table: pa.Table, schema: pa.Schema = REJECT_FILE_SCHEMA) -> bool:
    try:
        return conform(read_parquet(path), schema).equals(table)
    except DamagedFile:
        return False  # the rejects file is rebuilt whole from the manifest: overwriting it repairs it


_SCHEMAS = {"articles": ARTICLE_FILE_SCHEMA, "rejects": REJECT_FILE_SCHEMA, "runs": RUN_FILE_SCHEMA,
            "templates": TEMPLATE_FILE_SCHEMA}
# Free text: min/max statistics of these prune nothing a reader asks and stored the longest values twice
# in every footer (~3 KB of a 15 KB three-row partition file; bench/small_parquet.py).
_NO_STATISTICS = {"articles": {"title", "text", "original_title", "byline", "extra", "headimg", "thumbnail",
                               "original_url", "republished_from"},
                  "rejects": {"message"}, "templates": {"text"}}
# The bulk of an article's bytes: free text and lists.
LONG_COLUMNS = _NO_STATISTICS["articles"] | {"paragraphs", "template_removed", "categories", "image_urls", "link_urls", "keywords",
                                              "contributors"}


@functools.lru_cache(maxsize=8)
def _column_options(table_name: str, small: bool) -> tuple[list[str], list[str], str]:
    """(columns with min/max statistics: the short scalar ones; dictionary-encoded columns; codec)."""
    schema = _SCHEMAS[table_name]
    skip = _NO_STATISTICS.get(table_name, set())
    return ([f.name for f in schema if not pa.types.is_list(f.type) and f.name not in skip],
            [name for name in dictionary_columns(TABLES[table_name]) if name in schema.names],
            "snappy" if small else "zstd")
