"""Records -> Arrow tables cast to the one schema. Pure.

Every batch, even an empty one, gets exactly the schema's types, so no file
ever holds a Null-typed column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from schemas.article import ARTICLE_COLUMNS, REJECT_COLUMNS, arrow_schema

# Columns neither parsed nor stamped: derived when rows are grouped by partition (month = month_of(date)),
# kept in the table's log and paths, never in a record or a data file.
DERIVED_FIELDS: tuple[str, ...] = ("month",)
# In memory, between workers and the writer, the partition key source travels as a column.
ARTICLE_BATCH_SCHEMA = arrow_schema(ARTICLE_COLUMNS, drop=DERIVED_FIELDS)
REJECT_BATCH_SCHEMA = arrow_schema(REJECT_COLUMNS)

if TYPE_CHECKING:  # the parser itself is not imported with the tables: a run's driver never parses
    from jobs.parse.record import ArticleRecord


@dataclass(frozen=True, slots=True)
class RunStamp:
    """The article columns a run sets, the same on every row it writes (the parse leaves them out)."""

    ingested_at: dt.datetime
    parser_version: str
    run_id: str


RUN_STAMP_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RunStamp))
# Columns the reduce sets when it applies the source's template (jobs/run/templates.py): a parse removes nothing.
TEMPLATE_FIELDS: tuple[str, ...] = ("template_removed",)


def article_table(records: Sequence[ArticleRecord], stamp: RunStamp) -> pa.Table:
    """One row per record, stamped with the run's columns. A schema column that is neither a record
    field nor a stamp field raises AttributeError: it never becomes a column of nulls."""
    columns: dict[str, list[Any]] = {}
    for name in ARTICLE_BATCH_SCHEMA.names:
        if name in RUN_STAMP_FIELDS:
            columns[name] = [getattr(stamp, name)] * len(records)
        elif name in TEMPLATE_FIELDS:
            columns[name] = [[] for _ in records]
        else:
            value_of = attrgetter(name)
            columns[name] = [value_of(record) for record in records]
    return pa.Table.from_pydict(columns, schema=ARTICLE_BATCH_SCHEMA)


def to_table(records: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows given as dicts (rejects, per-file outcomes): a key a row leaves out is null."""
    columns = {name: [record.get(name) for record in records] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
