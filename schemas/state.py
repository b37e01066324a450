"""The tables of the run's own state: the manifest of raw files, the run log, and their statuses.

Declared like the article columns; the SQLite DDL (jobs/lake/manifest.py), the
per-file outcomes workers return (jobs/run/work.py), RunReport's counts and the
README's tables are generated from here.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

from schemas.article import RUN_COLUMNS, Column, arrow_schema


class FileStatus(StrEnum):
    """What became of one raw file in a run (`files.status` in the manifest; outcomes)."""

    ARTICLE = "article"
    REJECT = "reject"
    UNCHANGED = "unchanged"  # same bytes as last time: not parsed, not stored (outcomes only)


class RunStatus(StrEnum):
    """How a run ended (`runs.status`)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    TOO_MANY_REJECTS = "too_many_rejects"
    ABANDONED = "abandoned"


FILE_STATUS_MEANINGS: dict[FileStatus, str] = {
    FileStatus.ARTICLE: "The file gave an article row.",
    FileStatus.REJECT: "The file gave a reject row (see the reject reasons).",
    FileStatus.UNCHANGED: "Same bytes as the manifest holds: not parsed again (a run's outcome only; never stored).",
}

RUN_STATUS_MEANINGS: dict[RunStatus, str] = {
    RunStatus.RUNNING: "The run is in progress (or was killed and no run has started since).",
    RunStatus.OK: "Finished; exit code 0.",
    RunStatus.FAILED: "Stopped by an error; exit code 1. Nothing of it was committed to the manifest.",
    RunStatus.TOO_MANY_REJECTS: "Finished and committed, but rejected more than --max-reject-ratio; exit code 4.",
    RunStatus.ABANDONED: "Was `running` when a later run started: it was killed. The later run redid its work.",
}

# Manifest: one row per raw file the dataset knows (an article or a reject).
MANIFEST_COLUMNS: tuple[Column, ...] = (
    Column("raw_path", pa.string(), "Path of the raw file relative to the raw dir (primary key).", nullable=False),
    Column("size", pa.int64(), "File size in bytes when last looked at (-1: could not be stat'ed).", nullable=False),
    Column("mtime_ns", pa.int64(), "Modification time (ns) when last looked at.", nullable=False),
    Column("sha256", pa.string(), "SHA-256 of the bytes last parsed; null when they could not be read."),
    Column("status", pa.string(), "article or reject (see FileStatus).", nullable=False),
    Column("article_id", pa.string(), "The article's id, when status is article."),
    Column("source", pa.string(), "Partition source of the article row, when status is article."),
    Column("date", pa.date32(), "Partition date of the article row, when status is article."),
    Column("reject_reason", pa.string(), "Reject reason, when status is reject."),
    Column("reject_message", pa.string(), "Reject detail, when status is reject."),
    Column("parser_version", pa.string(), "Parser version that produced the outcome.", nullable=False),
    Column("run_id", pa.string(), "Run that recorded the outcome.", nullable=False),
    Column("updated_at", pa.string(), "When the outcome was recorded (ISO 8601, UTC).", nullable=False),
    Column("edge_hashes", pa.string(), "The article's short edge paragraphs, for its source's template: the hash of each"
           " one's text as written (`edge_texts`), space-separated; empty when it has none; null for a reject, and"
           " for an article whose edges are not known yet (seeded from its row by the next run)."),
)
MANIFEST_KEY = "raw_path"
# Set by the run that records an outcome, not by the worker that computes it.
RUN_LEVEL_MANIFEST_COLUMNS = ("parser_version", "run_id", "updated_at")

# One row per raw file looked at in a run, as workers return it: the manifest row less run-level columns.
OUTCOME_SCHEMA = arrow_schema(MANIFEST_COLUMNS, drop=RUN_LEVEL_MANIFEST_COLUMNS)

# In flight: what a run is doing (jobs/lake/manifest.py). `pending` streams each file's outcome in as map
# tasks finish (the driver keeps none of it in memory); `fragments` indexes the map tasks' staged rows by
# partition (and `pending_edge_texts` holds the texts of its articles' edges, below). They belong to one run
# until the run's Delta commit is in the table's log and the final manifest transaction moves `pending` into
# `files`: a later run finds them and rolls the run forward
# (its commit is in the log) or drops them (it is not), see jobs/run/recover.py.
PENDING_FORGET = "forget"  # a pending status: a pruned path whose manifest row and rows go
PENDING_COLUMNS: tuple[Column, ...] = (
    Column("run_id", pa.string(), "Run the outcome belongs to.", nullable=False),
    *(c for c in MANIFEST_COLUMNS if c.name not in RUN_LEVEL_MANIFEST_COLUMNS),
)
FRAGMENT_COLUMNS: tuple[Column, ...] = (
    Column("run_id", pa.string(), "Run that staged the rows.", nullable=False),
    Column("source", pa.string(), "Partition source.", nullable=False),
    Column("month", pa.string(), "Partition month, YYYY-MM (null: undated articles)."),
    Column("fragment", pa.string(), "Staged Arrow IPC file of one map task.", nullable=False),
    Column("batch", pa.int64(), "Record batch of the partition's rows in that file.", nullable=False),
    Column("rows", pa.int64(), "Rows in that batch.", nullable=False),
)

# A source's template is learned from the short paragraphs at the edges of its articles (jobs/parse/templates.py):
# each article's `files` row lists them (`edge_hashes`, replaced with its outcome), and `edge_texts` holds each
# spelling once per source (its paragraph key and text), so the manifest stores a paragraph shared by thousands
# of articles once. A run's new spellings wait in `pending_edge_texts` (one row per spelling per run) and move in
# at its manifest commit, which also deletes the spellings no current article of a changed source has any more.
# A spelling (not the key) is what an article names: the template's text is the smallest spelling a current
# article has, and only spellings can tell when one goes. `templates` is what they make.
EDGE_TEXT_COLUMNS: tuple[Column, ...] = (
    Column("source", pa.string(), "The source whose articles have the paragraph at an edge.", nullable=False),
    Column("text_hash", pa.string(), "Hash of the paragraph as written (what `files.edge_hashes` lists).", nullable=False),
    Column("key", pa.string(), "Hash of the normalised paragraph (jobs/parse/templates.py paragraph_key).", nullable=False),
    Column("text", pa.string(), "The paragraph as written.", nullable=False),
)
PENDING_EDGE_TEXT_COLUMNS: tuple[Column, ...] = (
    Column("run_id", pa.string(), "Run that parsed the articles.", nullable=False),
    *EDGE_TEXT_COLUMNS,
)
STORED_TEMPLATE_COLUMNS: tuple[Column, ...] = (
    Column("source", pa.string(), "Source.", nullable=False),
    Column("key", pa.string(), "Hash of the normalised paragraph.", nullable=False),
    Column("text", pa.string(), "The paragraph as written (the smallest spelling).", nullable=False),
    Column("articles", pa.int64(), "Current articles having it at an edge.", nullable=False),
    Column("source_articles", pa.int64(), "Current articles of the source.", nullable=False),
    Column("first_seen", pa.string(), "Earliest date of those articles (ISO)."),
    Column("last_seen", pa.string(), "Latest date of those articles (ISO)."),
)

RUN_KEY = "run_id"
RUN_METRICS: tuple[str, ...] = tuple(c.name for c in RUN_COLUMNS if c.metric)


def _sqlite_type(column: Column) -> str:
    if pa.types.is_integer(column.type):
        return "INTEGER"
    if pa.types.is_floating(column.type):
        return "REAL"
    return "TEXT"  # strings, and dates and timestamps as ISO 8601 text


def sqlite_table(name: str, columns: tuple[Column, ...], key: str, checks: dict[str, tuple[str, ...]] | None = None,
                 primary_key: tuple[str, ...] = ()) -> str:
    """CREATE TABLE for `columns`: NOT NULL from the schema, the key, CHECKs for closed value sets.

    A composite `primary_key` makes a WITHOUT ROWID table: the rows are stored in the key's b-tree, once."""
    checks = checks or {}
    lines = []
    for column in columns:
        line = f"    {column.name} {_sqlite_type(column)}"
        if column.name == key:
            line += " PRIMARY KEY"
        elif not column.nullable:
            line += " NOT NULL"
        if column.name in checks:
            line += f" CHECK ({column.name} IN ({', '.join(repr(v) for v in checks[column.name])}))"
        lines.append(line)
    if primary_key:
        lines.append(f"    PRIMARY KEY ({', '.join(primary_key)})")
    suffix = " WITHOUT ROWID" if primary_key else ""
    return f"CREATE TABLE IF NOT EXISTS {name} (\n" + ",\n".join(lines) + f"\n){suffix};"


MANIFEST_DDL = "\n".join([
    sqlite_table("files", MANIFEST_COLUMNS, MANIFEST_KEY,
                 {"status": (FileStatus.ARTICLE.value, FileStatus.REJECT.value)}),
    "CREATE INDEX IF NOT EXISTS files_article_id ON files (article_id);",
    "CREATE INDEX IF NOT EXISTS files_partition ON files (source, date);",
    sqlite_table("runs", RUN_COLUMNS, RUN_KEY),
    sqlite_table("pending", PENDING_COLUMNS, ""),
    "CREATE INDEX IF NOT EXISTS pending_run ON pending (run_id, raw_path);",
    sqlite_table("fragments", FRAGMENT_COLUMNS, ""),
    "CREATE INDEX IF NOT EXISTS fragments_partition ON fragments (run_id, source, month);",
    sqlite_table("edge_texts", EDGE_TEXT_COLUMNS, "", primary_key=("source", "text_hash")),
    sqlite_table("pending_edge_texts", PENDING_EDGE_TEXT_COLUMNS, "", primary_key=("run_id", "source", "text_hash")),
    sqlite_table("templates", STORED_TEMPLATE_COLUMNS, ""),
    "CREATE INDEX IF NOT EXISTS templates_source ON templates (source);",
])
# Tables of the layout before the Delta table, dropped on opening (they hold nothing once no run is in flight,
# and the first run of the Delta layout starts only after the migration of a dataset with none in flight).
LEGACY_STATE_DDL = """
DROP TABLE IF EXISTS inflight_partitions;
DROP TABLE IF EXISTS emptied_partitions;
"""
# The edge paragraphs stored one row per article and paragraph (before `edge_hashes` and `edge_texts`): dropped on
# opening, so the articles' edges are missing and the next run seeds them from the table's rows (after recovery,
# which rolls a run in flight forward without them or drops it). Columns added since, for manifests made before.
LEGACY_EDGE_TABLES = ("pending_edges", "edges")
ADDED_COLUMNS: dict[str, tuple[Column, ...]] = {
    "files": tuple(c for c in MANIFEST_COLUMNS if c.name == "edge_hashes"),
    "pending": tuple(c for c in PENDING_COLUMNS if c.name == "edge_hashes"),
}


def add_column(table: str, column: Column) -> str:
    """ALTER TABLE adding a nullable column (last, as the DDL above has it)."""
    return f"ALTER TABLE {table} ADD COLUMN {column.name} {_sqlite_type(column)}"
