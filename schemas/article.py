"""Columns of the `articles`, `rejects` and `runs` tables.

Everything that reads or writes the dataset takes its types from here: the
frame builder, the Parquet writer, the DuckDB views, `articles schema` and the
README's schema table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

# Bump when a column is added or changes type; stored in every Parquet file's
# key-value metadata so readers can tell old files from new ones.
SCHEMA_VERSION = 5

# Partition keys of the Delta table, in path order: OUT/articles/source=<s>/month=<YYYY-MM>/part-*.parquet.
# They live in the table's log and the path, not inside the files (the Delta and Hive convention); their
# types (hive_types(), below) are given to every reader so none has to guess. `date` is a column of the files.
PARTITION_KEYS = ("source", "month")

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.string())
# Paragraphs a source's template removed, each with its position among the paragraphs as parsed.
REMOVED_PARAGRAPHS = pa.list_(pa.struct([pa.field("position", pa.int32()), pa.field("text", pa.string())]))


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    added_in: int = 1
    # Dictionary-encode in Parquet: for low-cardinality columns (dictionaries cost time on small files).
    dictionary: bool = False
    # A run-log count that RunReport carries and `runs` stores.
    metric: bool = False

    @property
    def sql_type(self) -> str:
        return arrow_to_sql(self.type)


def arrow_to_sql(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type):
        return f"{arrow_to_sql(arrow_type.value_type)}[]"
    if pa.types.is_struct(arrow_type):
        return "STRUCT(" + ", ".join(f"\"{f.name}\" {arrow_to_sql(f.type)}" for f in arrow_type) + ")"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP WITH TIME ZONE" if arrow_type.tz else "TIMESTAMP"
    return {
        pa.string(): "VARCHAR",
        pa.date32(): "DATE",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }[arrow_type]


ARTICLE_COLUMNS: tuple[Column, ...] = (
    Column("article_id", pa.string(), "Stable id: hash of source, published_at and title; the same article gets the same id on every run and machine.", nullable=False),
    Column("source", pa.string(), "Feed the article came from: front-matter author, else the second category, else the raw path's source folder (partition key).", nullable=False),
    Column("date", pa.date32(), "UTC calendar date of published_at; null for an undated article. Rows of a partition are sorted by date, then published_at, and each file's date range is in the table's statistics."),
    Column("month", pa.string(), "`YYYY-MM` of date (partition key, with source); null for an undated article (folder `month=__HIVE_DEFAULT_PARTITION__`).", added_in=4),
    Column("title", pa.string(), "Title from the front matter, entities decoded, trimmed; null when blank."),
    Column("published_at", UTC_TIMESTAMP, "Publication instant in UTC (naive crawl-time dates are taken as UTC); null when the front matter has no date or `Invalid Date`, or an implausible one (before 1995, after the run) that neither the body nor the raw path restates (see extra)."),
    Column("author", pa.string(), "Front-matter author as written (Markdown links reduced to their text).", dictionary=True),
    Column("category", pa.string(), "First category (e.g. 金融, 新媒体).", dictionary=True),
    Column("channel", pa.string(), "Third category, the feed's channel, when present.", dictionary=True),
    Column("categories", STRING_LIST, "All front-matter categories, in order."),
    Column("text", pa.string(), "Clean body text: paragraphs joined by newlines; empty when the body has no text.", nullable=False),
    Column("paragraphs", STRING_LIST, "Clean body paragraphs in reading order, each non-empty and trimmed.", nullable=False),
    Column("template_removed", REMOVED_PARAGRAPHS, "Paragraphs removed as the source's template (see `templates`), each with its position among the paragraphs as parsed: reinserting them gives the parsed paragraphs back. Empty when none.", nullable=False, added_in=5),
    Column("char_count", pa.int32(), "Number of characters in text.", nullable=False),
    Column("paragraph_count", pa.int32(), "Number of paragraphs.", nullable=False, added_in=2),
    Column("image_count", pa.int32(), "Number of image URLs.", nullable=False, added_in=2),
    Column("image_urls", STRING_LIST, "Body image URLs, proxies unwrapped, duplicates removed, in order; placeholders, tracking pixels and the QR codes and avatars of promo and credit blocks dropped.", nullable=False),
    Column("link_urls", STRING_LIST, "Body link URLs, redirects and trackers unwrapped, duplicates removed, in order.", nullable=False),
    Column("headimg", pa.string(), "Header image URL, proxy unwrapped; null when missing or a placeholder (picsum.photos, guide images, `/undefined`)."),
    Column("thumbnail", pa.string(), "Thumbnail URL, proxy unwrapped; null when missing or a placeholder (picsum.photos, guide images, `/undefined`)."),
    Column("original_title", pa.string(), "Original title lifted from a `原标题：` line (新浪财经).", added_in=2),
    Column("byline", pa.string(), "Author or reporter: the 新浪财经 reporter line, else the author named by a credit or repost line (`作者 | X`, `By X`, `文：X`) that the boilerplate layer removed.", added_in=2),
    Column("republished_from", pa.string(), "Original outlet or account of a reposted article, lifted from a repost notice (`本文来自微信公众号：X`, `来源：X`, `Originally published at X`); null when none.", added_in=3),
    Column("original_url", pa.string(), "URL of the original article, lifted from a repost notice (`原文链接：URL`, `Originally published at URL`); null when none.", added_in=3),
    Column("editor", pa.string(), "Responsible editor from a `责任编辑：` line (新浪财经).", added_in=2),
    Column("keywords", STRING_LIST, "Keywords from the feed's keyword comment (新浪财经); empty when none.", nullable=False, added_in=2),
    Column("contributors", STRING_LIST, "Contributor names from a credit line (IT 之家 tougao); empty when none.", nullable=False, added_in=2),
    Column("raw_path", pa.string(), "Path of the raw file relative to the raw dir, '/'-separated.", nullable=False),
    Column("raw_sha256", pa.string(), "SHA-256 of the raw file's bytes (hex).", nullable=False),
    Column("encoding", pa.string(), "Text encoding the raw file was decoded with (utf-8, utf-8-sig, gb18030, ...).", nullable=False, dictionary=True),
    Column("ingested_at", UTC_TIMESTAMP, "When this row was parsed (UTC).", nullable=False),
    Column("parser_version", pa.string(), "Version of the extraction code that produced the row.", nullable=False, dictionary=True),
    Column("run_id", pa.string(), "Id of the run that wrote the row.", nullable=False, dictionary=True),
    Column("extra", pa.string(), "Front-matter keys not modelled above, as a JSON object string."),
)

REJECT_COLUMNS: tuple[Column, ...] = (
    Column("raw_path", pa.string(), "Path of the rejected raw file relative to the raw dir.", nullable=False),
    Column("reason", pa.string(), "Why it was rejected; one of the documented reasons (see REJECT_REASONS).", nullable=False, dictionary=True),
    Column("message", pa.string(), "Human-readable detail.", nullable=False),
    Column("raw_sha256", pa.string(), "SHA-256 of the bytes read; null when the file could not be read."),
    Column("size", pa.int64(), "File size in bytes; null when unknown."),
    Column("run_id", pa.string(), "Id of the run that rejected it.", nullable=False, dictionary=True),
    Column("rejected_at", UTC_TIMESTAMP, "When it was rejected (UTC).", nullable=False),
)

RUN_COLUMNS: tuple[Column, ...] = (
    Column("run_id", pa.string(), "Run id (UTC start time plus pid).", nullable=False),
    Column("command", pa.string(), "ingest or reprocess.", nullable=False, dictionary=True),
    Column("started_at", UTC_TIMESTAMP, "Start (UTC).", nullable=False),
    Column("finished_at", UTC_TIMESTAMP, "End (UTC); null while running or if killed."),
    Column("status", pa.string(), "One of the run statuses (see RunStatus): running, ok, failed, too_many_rejects, abandoned.", nullable=False, dictionary=True),
    Column("exit_code", pa.int32(), "Exit code of the run; null while running."),
    Column("files_seen", pa.int64(), "Raw files listed.", metric=True),
    Column("files_parsed", pa.int64(), "Raw files parsed this run (new, changed or selected).", metric=True),
    Column("articles_written", pa.int64(), "Article rows written this run.", metric=True),
    Column("duplicates", pa.int64(), "Files whose article lost to another file with the same article_id.", metric=True),
    Column("rejects", pa.int64(), "Files rejected this run.", metric=True),
    Column("partitions_written", pa.int64(), "Partitions rewritten this run.", metric=True),
    Column("duration_s", pa.float64(), "Wall time in seconds.", metric=True),
)

TEMPLATE_COLUMNS: tuple[Column, ...] = (
    Column("source", pa.string(), "Source whose template the paragraph is.", nullable=False),
    Column("paragraph_key", pa.string(), "Hash of the paragraph normalised (NFKC, whitespace collapsed, case folded).", nullable=False),
    Column("text", pa.string(), "The paragraph, as written in one of the articles.", nullable=False),
    Column("articles", pa.int64(), "How many of the source's current articles have it among their first or last 5 paragraphs.", nullable=False),
    Column("source_articles", pa.int64(), "The source's current articles.", nullable=False),
    Column("first_seen", pa.date32(), "Earliest date of an article having it at an edge."),
    Column("last_seen", pa.date32(), "Latest date of an article having it at an edge."),
)


class RejectReason(StrEnum):
    """Why a raw file gave a reject row instead of an article (`rejects.reason`, `files.reject_reason`)."""

    EMPTY_FILE = "empty_file"
    BINARY = "binary"
    DECODE_ERROR = "decode_error"
    TOO_LARGE = "too_large"
    READ_ERROR = "read_error"
    NO_FRONT_MATTER = "no_front_matter"
    BAD_FRONT_MATTER = "bad_front_matter"
    MISSING_DATE = "missing_date"
    BAD_DATE = "bad_date"
    BAD_SOURCE = "bad_source"
    PARSE_ERROR = "parse_error"
    TOO_COMPLEX = "too_complex"


# What each reject reason means (the README's table).
REJECT_REASONS: dict[RejectReason, str] = {
    RejectReason.EMPTY_FILE: "The file has no bytes (or only whitespace).",
    RejectReason.BINARY: "The bytes look like binary data (NUL bytes or mostly control characters).",
    RejectReason.DECODE_ERROR: "No supported text encoding decodes the bytes.",
    RejectReason.TOO_LARGE: "The file is larger than --max-bytes.",
    RejectReason.READ_ERROR: "The file could not be read (deleted, permission, symlink loop, dangling symlink).",
    RejectReason.NO_FRONT_MATTER: "The file has no front matter block.",
    RejectReason.BAD_FRONT_MATTER: "The front matter is not valid YAML/TOML, is not a mapping, or uses forbidden tags or aliases.",
    RejectReason.MISSING_DATE: "The front matter has no date (older parser versions only: an undated article is now kept with a null date).",
    RejectReason.BAD_DATE: "The date says something that cannot be read as a date (a missing date or `Invalid Date` is not rejected).",
    RejectReason.BAD_SOURCE: "No usable source name (empty, too long to be a partition folder, or `__HIVE_DEFAULT_PARTITION__`, which reads back as NULL).",
    RejectReason.PARSE_ERROR: "The parser failed on the file: it raised (out of memory under the worker's limit, too deep recursion, a parser error), or its worker process died while parsing it (killed by a signal, e.g. the OOM killer); every other file of its chunk is still parsed.",
    RejectReason.TOO_COMPLEX: "The body has more table rows or deeper element nesting than the parser's budget (jobs/parse/screen.py), or its parse outlasted the per-file time limit.",
}


def arrow_schema(columns: tuple[Column, ...], drop: tuple[str, ...] = ()) -> pa.Schema:
    fields = [pa.field(c.name, c.type, nullable=c.nullable) for c in columns if c.name not in drop]
    return pa.schema(fields, metadata={"article_lake.schema_version": str(SCHEMA_VERSION)})


def hive_types() -> dict[str, str]:
    """SQL type of each partition key, from its column: what readers pass as `hive_types`."""
    by_name = {c.name: c for c in ARTICLE_COLUMNS}
    return {key: by_name[key].sql_type for key in PARTITION_KEYS}


def dictionary_columns(columns: tuple[Column, ...]) -> tuple[str, ...]:
    return tuple(c.name for c in columns if c.dictionary)


# What each articles Parquet file holds: every column but the partition keys.
ARTICLE_FILE_SCHEMA = arrow_schema(ARTICLE_COLUMNS, drop=PARTITION_KEYS)
REJECT_FILE_SCHEMA = arrow_schema(REJECT_COLUMNS)
RUN_FILE_SCHEMA = arrow_schema(RUN_COLUMNS)
TEMPLATE_FILE_SCHEMA = arrow_schema(TEMPLATE_COLUMNS)

TABLES: dict[str, tuple[Column, ...]] = {
    "articles": ARTICLE_COLUMNS,
    "rejects": REJECT_COLUMNS,
    "runs": RUN_COLUMNS,
    "templates": TEMPLATE_COLUMNS,
}


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast to `schema`, adding missing columns as typed nulls (older files)."""
    if table.schema.equals(schema, check_metadata=False):
        return table.replace_schema_metadata(schema.metadata)  # the common case: nothing to cast
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            arrays.append(column if column.type == field.type else column.cast(field.type))
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
