"""Records -> Arrow tables cast to the one schema. Pure.

Every batch, even an empty one, gets exactly the schema's types, so no file
ever holds a Null-typed column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from schemas.article import ARTICLE_COLUMNS, REJECT_COLUMNS, arrow_schema

# In memory, between workers and the writer, the partition keys travel as columns.
ARTICLE_BATCH_SCHEMA = arrow_schema(ARTICLE_COLUMNS)
REJECT_BATCH_SCHEMA = arrow_schema(REJECT_COLUMNS)


def to_table(records: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    columns = {name: [record.get(name) for record in records] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


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
